// How the ipmitool adapter talks to BMCs: program, session flags, bounds, pacing and retries.
// Every bound below is finite, so no power operation can hang a conductor.
import { availableParallelism } from "node:os"

export interface IpmitoolConfig {
  /** The ipmitool program; default "ipmitool" from PATH. */
  readonly ipmitoolPath: string
  /** `-C`: 3 (SHA1 auth/integrity, AES) is the common default; without it ipmitool spends ~10 s discovering. */
  readonly cipherSuite: number
  /** `-N`: seconds ipmitool waits for the first answer of a session; it adds 1 s per retry. */
  readonly sessionTimeoutSec: number
  /** `-R`: attempts ipmitool makes before reporting that the BMC did not answer. */
  readonly sessionRetries: number
  /** Hard limit on one ipmitool run; the process is SIGKILLed when it is reached. */
  readonly invocationTimeoutMs: number
  /** Bound on one whole command (all retries and backoff included, queueing for the BMC excluded). */
  readonly commandTimeoutMs: number
  /** Retries of answers a busy BMC gives ("Node busy", ...): at most this many, exponential backoff. */
  readonly busyRetries: number
  readonly busyBackoffMs: number
  /** Pause between two commands to one BMC when its BmcAccess does not say otherwise. */
  readonly defaultMinCommandIntervalMs: number
  /** After power on/off, status is polled until the chassis reports the new state, within this bound. */
  readonly powerStateTimeoutMs: number
  readonly powerPollMs: number
  /** How long a soft (ACPI) power off may take before it is reported as failed. */
  readonly softOffTimeoutMs: number
  /**
   * ipmitool processes running at once, over all BMCs (ADR 0120): a fleet-wide burst (power sync,
   * many deploys) queues here instead of forking hundreds of processes on a few cores. Default: 4 per core.
   */
  readonly maxConcurrentProcesses: number
}

/**
 * How long ipmitool itself takes to give up on a BMC that never answers, in ms. Measured with
 * ipmitool 1.8.19 against a silent loopback port: (-N 1 -R 1) 2 s, (-N 1 -R 2) 6 s, (-N 1 -R 3) 12 s,
 * (-N 2 -R 1) 4 s: each attempt waits N + its index seconds, and the lanplus session start goes
 * through that twice.
 */
export const ipmitoolNoAnswerMs = (sessionTimeoutSec: number, sessionRetries: number): number => {
  let seconds = 0
  for (let attempt = 0; attempt < sessionRetries; attempt++) seconds += sessionTimeoutSec + attempt
  return 2 * seconds * 1000
}

/** Head room over ipmitool's own bound for process start-up and a loaded machine. */
const KILL_SLACK_MS = 2000

export const ipmitoolConfig = (overrides: Partial<IpmitoolConfig> = {}): IpmitoolConfig => {
  const sessionTimeoutSec = overrides.sessionTimeoutSec ?? 1
  const sessionRetries = overrides.sessionRetries ?? 2
  const invocationTimeoutMs = overrides.invocationTimeoutMs
    ?? ipmitoolNoAnswerMs(sessionTimeoutSec, sessionRetries) + KILL_SLACK_MS
  const busyRetries = overrides.busyRetries ?? 3
  const busyBackoffMs = overrides.busyBackoffMs ?? 250
  const config: IpmitoolConfig = {
    ipmitoolPath: "ipmitool",
    cipherSuite: 3,
    powerStateTimeoutMs: 30_000,
    powerPollMs: 250,
    softOffTimeoutMs: 120_000,
    // Production BMCs choke on bursts; Ironic's default is 5 s, 1 s is enough for current ones.
    defaultMinCommandIntervalMs: 1000,
    // Four per core: past that, ipmitool runs on a loaded host overrun their timeout (ADR 0120).
    maxConcurrentProcesses: 4 * availableParallelism(),
    ...overrides,
    sessionTimeoutSec,
    sessionRetries,
    invocationTimeoutMs,
    busyRetries,
    busyBackoffMs,
    // Every attempt may run to its kill, plus the backoff between attempts (base * 2^i).
    commandTimeoutMs: overrides.commandTimeoutMs
      ?? (busyRetries + 1) * invocationTimeoutMs + busyBackoffMs * (2 ** busyRetries - 1),
  }
  const positive = ["sessionTimeoutSec", "sessionRetries", "invocationTimeoutMs", "commandTimeoutMs", "powerPollMs", "maxConcurrentProcesses"] as const
  for (const key of positive) {
    if (!(Number.isInteger(config[key]) && config[key] > 0)) throw new RangeError(`ipmitool config: ${key} must be a positive integer, got ${config[key]}`)
  }
  return config
}
