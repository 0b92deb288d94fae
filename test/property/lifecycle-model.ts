// A small, independent model of one node for the model-based test: what each command should do,
// written from the rules (Ironic's table in lifecycle.ts, read edge by edge) and not from decide.ts.
import {
  transitions, hardwareDeviceOf,
  type DomainErrorCode, type Uuid, type Driver, type HardwareRequest, type NodeCommand, type PowerState, type ProvisionState, type QueuedAction,
  type Verb,
} from "../../src/domain/index.ts"

export interface NodeModel {
  /** Revision of the stream's last event: -1 while it is empty. */
  readonly revision: number
  readonly deleted: boolean
  readonly state: ProvisionState
  readonly driver: Driver
  readonly maintenance: boolean
  readonly ports: ReadonlyMap<string, string>
  readonly deploy: { readonly deployId: Uuid; readonly imageWritten: boolean; readonly callbackUsed: boolean } | null
  readonly waitDeadline: string | null
  readonly pending: ReadonlyMap<string, HardwareRequest>
  readonly power: PowerState | null
  readonly lease: { readonly holder: string; readonly expiresAt: string } | null
  /** The running clean was asked for by a user in manageable: it ends back in manageable. */
  readonly manualClean: boolean
  /** The cleaning ramdisk's key, once issued; `used` once its call-back was accepted. */
  readonly cleaningRamdisk: { readonly used: boolean } | null
  /** Requests waiting behind the running action, oldest first. */
  readonly queue: ReadonlyArray<{ readonly actionId: string; readonly action: QueuedAction }>
  /** The serial console is on: connections may be recorded. */
  readonly console: boolean
  /** Pending steps the ramdisk runs (in-band clean steps): they end with the cleaning. */
  readonly inBand: ReadonlySet<string>
}

export const emptyModel: NodeModel = {
  revision: -1, deleted: false, state: "enroll", driver: "fake-hardware", maintenance: false, ports: new Map(),
  deploy: null, waitDeadline: null, pending: new Map(), power: null, lease: null, manualClean: false, cleaningRamdisk: null, queue: [],
  console: false,
  inBand: new Set(),
}

export type Outcome =
  /** `count`: how many events, when more than one. */
  | { readonly kind: "accepted"; readonly emits: boolean; readonly count?: number; readonly next: NodeModel }
  | { readonly kind: "refused"; readonly code: DomainErrorCode; readonly action: string; readonly state: ProvisionState | "absent" }

/** The table, looked up edge by edge. */
export const edge = (from: ProvisionState, verb: Verb): ProvisionState | undefined =>
  transitions.find((t) => t.from === from && t.verb === verb)?.to

const deletable: ReadonlyArray<ProvisionState> = ["enroll", "manageable", "available", "adopt failed", "inspect failed", "clean failed"]
const waits: ReadonlyArray<ProvisionState> = ["wait call-back", "clean wait", "inspect wait", "rescue wait"]
const verbOfUser = {
  manage: "manage", provide: "provide", clean: "clean", inspect: "inspect", adopt: "adopt",
  undeploy: "delete", rescue: "rescue", unrescue: "unrescue", abort: "abort",
} as const
const hardwareVerbsInMaintenance = new Set(["provide", "clean", "inspect", "rescue", "unrescue"])

/** Which device each request and result is about (the domain's catalogue of hardware steps). */
const deviceOf: Record<string, string> = hardwareDeviceOf

const accept = (next: NodeModel): Outcome => ({ kind: "accepted", emits: true, next: { ...next, revision: next.revision + 1 } })
const noop = (m: NodeModel): Outcome => ({ kind: "accepted", emits: false, next: m })
const refuse = (m: NodeModel, code: DomainErrorCode, action: string): Outcome => ({ kind: "refused", code, action, state: m.state })
/** A move along the table; any move ends a wait and its deadline, and one out of cleaning its in-band steps. */
const moveTo = (m: NodeModel, to: ProvisionState): NodeModel => {
  if (to === "cleaning" || to === "clean wait" || m.inBand.size === 0) return { ...m, state: to, waitDeadline: null }
  const pending = new Map([...m.pending].filter(([step]) => !m.inBand.has(step)))
  return { ...m, state: to, waitDeadline: null, pending, inBand: new Set() }
}
const along = (m: NodeModel, verb: Verb, action: string, then: (moved: NodeModel) => NodeModel = (x) => x): Outcome => {
  const to = edge(m.state, verb)
  return to === undefined ? refuse(m, "InvalidTransition", action) : accept(then(moveTo(m, to)))
}

// The queue's rules (ADR 0050), written from the ADR: what runs, where it will end, what waits.

/** Where each state in which the conductor works (or waits for a ramdisk) ends when all goes well. */
const endsIn: Partial<Record<ProvisionState, ProvisionState>> = {
  verifying: "manageable", inspecting: "manageable", "inspect wait": "manageable", adopting: "active",
  deploying: "active", "wait call-back": "active", unrescuing: "active", rescuing: "rescue", "rescue wait": "rescue",
  cleaning: "available", "clean wait": "available", deleting: "available",
}
export const maxQueue = 32
const busy = (m: NodeModel) => endsIn[m.state] !== undefined || m.pending.size > 0
const commandFor = (actionId: string, a: QueuedAction): NodeCommand =>
  a.kind === "power" ? { type: "RequestHardware", request: { type: a.request, data: { step: `${actionId}:power` } } }
    : a.kind === "provision" ? { type: "Provision", verb: a.verb } : { type: "Deploy", spec: a.spec, rebuild: a.rebuild }
const powerNames = { PowerOnRequested: "power on", PowerOffRequested: "power off", RebootRequested: "reboot", SoftPowerOffRequested: "soft power off" }
const nameOf = (a: QueuedAction) => (a.kind === "power" ? powerNames[a.request] : a.kind === "provision" ? a.verb : a.rebuild ? "rebuild" : "deploy")

/** The node once what runs now has ended well. */
const settled = (m: NodeModel): NodeModel => {
  const to = m.manualClean && (m.state === "cleaning" || m.state === "clean wait") ? "manageable" : endsIn[m.state]
  const done = { ...m, pending: new Map<string, HardwareRequest>() }
  return to === undefined ? done : { ...done, state: to, waitDeadline: null, deploy: m.state === "deleting" ? null : m.deploy }
}

/** The node once the running action and every queued one have ended well (one refused by then changes nothing). */
const projection = (m: NodeModel): NodeModel =>
  m.queue.reduce((at, q) => {
    const o = predict(at, commandFor(q.actionId, q.action))
    return o.kind === "accepted" ? settled(o.next) : at
  }, settled(m))

/** `n` events; `next` with `base`'s revision moved on by as many. */
const acceptN = (base: NodeModel, next: NodeModel, n: number): Outcome =>
  ({ kind: "accepted", emits: true, count: n, next: { ...next, revision: base.revision + n } })

/** An accepted outcome that also drops every queued action. */
const dropping = (m: NodeModel, o: Outcome): Outcome =>
  o.kind !== "accepted" || m.queue.length === 0 ? o : acceptN(m, { ...o.next, queue: [] }, (o.emits ? (o.count ?? 1) : 0) + m.queue.length)

export const predict = (m: NodeModel, c: NodeCommand): Outcome => {
  if (c.type === "Enroll") {
    return m.revision >= 0 ? refuse(m, "AlreadyExists", "enroll") : accept({ ...emptyModel, driver: c.driver })
  }
  if (c.type === "Discover") {
    // A new node in enroll with a port per MAC, in one append: its record, the mark, the inventory, the ports.
    if (m.revision >= 0) return refuse(m, "AlreadyExists", "discover")
    return acceptN(m, { ...emptyModel, driver: c.driver, ports: new Map(c.ports.map((q) => [q.portId, q.mac])) }, 3 + c.ports.length)
  }
  if (m.revision < 0 || m.deleted) return { kind: "refused", code: "NotFound", action: c.type, state: "absent" }
  switch (c.type) {
    case "Update": {
      const driver = c.changes.driver ?? m.driver
      if (driver !== m.driver && !m.maintenance && !["enroll", "manageable", "available"].includes(m.state)) {
        return refuse(m, "Conflict", "update")
      }
      return Object.keys(c.changes).length === 0 ? noop(m) : accept({ ...m, driver })
    }
    case "Delete":
      return deletable.includes(m.state) || m.maintenance ? dropping(m, accept({ ...m, deleted: true })) : refuse(m, "Conflict", "delete")
    case "AddPort":
      if (m.ports.has(c.portId) || [...m.ports.values()].includes(c.mac)) return refuse(m, "AlreadyExists", "add port")
      return accept({ ...m, ports: new Map([...m.ports, [c.portId, c.mac]]) })
    case "RemovePort": {
      if (!m.ports.has(c.portId)) return refuse(m, "NotFound", "remove port")
      const ports = new Map(m.ports)
      ports.delete(c.portId)
      return accept({ ...m, ports })
    }
    case "UpdatePort": case "AttachVif": case "DetachVif": case "AssignAllocation": case "RemoveAllocation":
    case "UpdateAllocation": case "AddTrait": case "RemoveTrait": case "RecordFault": case "ClearFault": case "RecordNetworkEvent": case "RecordIndicator":
    case "CreatePortgroup": case "UpdatePortgroup": case "DeletePortgroup": case "RequestNmi": case "RecordNmi":
    case "CreateVolumeConnector": case "UpdateVolumeConnector": case "DeleteVolumeConnector":
    case "CreateVolumeTarget": case "UpdateVolumeTarget": case "DeleteVolumeTarget":
      // Port settings and VIFs do not touch the lifecycle; test/unit/domain/port-record.test.ts covers them.
      throw new Error(`the lifecycle model does not generate ${c.type}`)
    case "SetMaintenance":
      if (c.on) return accept({ ...m, maintenance: true })
      return m.maintenance ? accept({ ...m, maintenance: false }) : noop(m)
    case "Provision": {
      const o = provision(m, c.verb)
      // Abort drops the queue, whether or not the running action could be aborted.
      if (c.verb !== "abort" || m.queue.length === 0) return o
      return o.kind === "accepted" ? dropping(m, o) : acceptN(m, { ...m, queue: [] }, m.queue.length)
    }
    case "Request": {
      const command = commandFor(c.actionId, c.action)
      if (m.queue.length === 0) {
        if (!busy(m)) return predict(m, command)
        if (c.action.kind !== "power" && waits.includes(m.state)) {
          const now = predict(m, command)
          if (now.kind === "accepted") return now
        }
      }
      const then = predict(projection(m), command)
      if (then.kind === "refused") return { ...then, code: then.code === "InvalidTransition" ? "InvalidTransition" : "InvalidInput" }
      if (m.queue.length >= maxQueue) return refuse(m, "QueueFull", nameOf(c.action))
      return accept({ ...m, queue: [...m.queue, { actionId: c.actionId, action: c.action }] })
    }
    case "StartQueued": {
      const head = m.queue[0]
      if (head === undefined || busy(m)) return refuse(m, "Conflict", "start queued")
      const o = predict(m, commandFor(head.actionId, head.action))
      // Refused now (maintenance came, ...): it and everything behind it are dropped.
      if (o.kind === "refused") return acceptN(m, { ...m, queue: [] }, m.queue.length)
      return acceptN(m, { ...o.next, queue: m.queue.slice(1) }, 2)
    }
    case "Deploy": {
      const action = c.rebuild ? "rebuild" : "deploy"
      if (m.maintenance) return refuse(m, "Conflict", action)
      if (c.spec.imageKind === "partition" && c.spec.rootGb < 1) return refuse(m, "InvalidInput", action)
      if (c.spec.preserveEphemeral && !(c.rebuild && m.deploy !== null)) return refuse(m, "InvalidInput", action)
      return along(m, action, action, (x) => ({
        ...x, cleaningRamdisk: null, deploy: { deployId: c.spec.deployId, imageWritten: false, callbackUsed: false },
      }))
    }
    case "AwaitCallback":
      return along(m, "wait", "wait", (x) => ({ ...x, waitDeadline: c.deadline }))
    case "AcceptIscsi": {
      const d = m.deploy
      if (m.state !== "wait call-back" || d === null || d.deployId !== c.deployId || d.callbackUsed) {
        return refuse(m, "CallbackRefused", "pass_deploy_info")
      }
      return along(m, "resume", "pass_deploy_info", (x) => ({ ...x, deploy: { ...d, callbackUsed: true } }))
    }
    case "AcceptCallback":
      if (m.state === "wait call-back") return refuse(m, "CallbackRefused", "call-back")
      return along(m, "resume", "call-back")
    case "RejectCallback":
      return accept(m)
    case "IssueRamdiskKey":
      // Cleaning, inspection and rescue boot the ramdisk with a key of their own.
      // A new key does not give an inspection that has its inventory a second one (taken once per inspection).
      if (m.state === "inspecting") return accept({ ...m, cleaningRamdisk: { used: m.cleaningRamdisk?.used ?? false } })
      return m.state === "cleaning" || m.state === "rescuing" ? accept({ ...m, cleaningRamdisk: { used: false } }) : refuse(m, "InvalidTransition", "issue ramdisk key")
    case "AcceptInventory": {
      // Taken once per inspection, while it waits; a port for each MAC the node has not got (ADR 0058).
      if (m.state !== "inspect wait" || m.cleaningRamdisk === null || m.cleaningRamdisk.used) return refuse(m, "CallbackRefused", "inventory")
      const ports = new Map(m.ports)
      for (const p of c.newPorts) if (!ports.has(p.portId) && ![...ports.values()].includes(p.mac)) ports.set(p.portId, p.mac)
      const moved = moveTo({ ...m, cleaningRamdisk: { used: true }, ports }, edge(m.state, "resume")!)
      // One more event when inspection rules came with it (ADR 0142).
      return acceptN(m, moved, 1 + ports.size - m.ports.size + (c.rules === undefined ? 0 : 1))
    }
    case "AcceptRescueReady":
      // The rescue ramdisk's login is up: taken while the rescue waits for it (ADR 0095).
      if (m.state !== "rescue wait" || m.cleaningRamdisk === null) return refuse(m, "CallbackRefused", "rescue ready")
      return along(m, "resume", "rescue ready")
    case "AcceptCleaningIscsi":
      if (m.state !== "clean wait" || m.cleaningRamdisk === null || m.cleaningRamdisk.used) return refuse(m, "CallbackRefused", "pass_deploy_info")
      return along(m, "resume", "pass_deploy_info", (x) => ({ ...x, cleaningRamdisk: { used: true } }))
    case "TimeOutWait":
      if (!waits.includes(m.state) || m.waitDeadline === null || Date.parse(c.now) < Date.parse(m.waitDeadline)) {
        return refuse(m, "Conflict", "time out")
      }
      return dropping(m, along(m, "fail", "time out"))
    case "Complete": {
      // A tear-down that finishes goes on to cleaning: the table's "clean" out of deleting.
      const verb = m.state === "deleting" ? "clean" : m.state === "cleaning" && m.manualClean ? "manage" : "done"
      if (edge(m.state, verb) === undefined) return refuse(m, "InvalidTransition", "done")
      if (m.state === "deploying" && !m.deploy?.imageWritten) return refuse(m, "Conflict", "done")
      return along(m, verb, "done", (x) => (m.state === "deleting" ? { ...x, deploy: null } : x))
    }
    case "Fail":
      return dropping(m, along(m, "fail", "fail"))
    case "RequestHardware": {
      const { type, data } = c.request
      const busyPower = deviceOf[type] === "power" && [...m.pending.values()].some((a) => deviceOf[a] === "power")
      if (m.pending.has(data.step) || busyPower) return refuse(m, "Conflict", type)
      const inBand = c.request.type === "CleanStepRequested" && c.request.data.where === "in-band" ? new Set([...m.inBand, data.step]) : m.inBand
      return accept({ ...m, pending: new Map([...m.pending, [data.step, type]]), inBand })
    }
    case "RecordHardware": {
      const { type, data } = c.result
      const asked = m.pending.get(data.step)
      if (asked === undefined) return refuse(m, "Conflict", type)
      if (deviceOf[asked] !== deviceOf[type]) return refuse(m, "InvalidInput", type)
      if (type === "ImageWritten" && data.deployId !== m.deploy?.deployId) return refuse(m, "Conflict", type)
      const pending = new Map(m.pending)
      pending.delete(data.step)
      const deploy = type === "ImageWritten" && m.deploy ? { ...m.deploy, imageWritten: true } : m.deploy
      const power = type === "PowerStateChanged" ? data.powerState : m.power
      const inBand = new Set([...m.inBand].filter((k) => k !== data.step))
      const recorded = { ...m, pending, deploy, power, inBand }
      // A clean step's outcome (the ramdisk's, for an in-band one) ends the clean wait it ran in.
      const isStepOutcome = type === "CleanStepDone" || type === "CleanStepFailed"
      if (isStepOutcome && m.state === "clean wait") return accept(moveTo(recorded, "cleaning"))
      // A failure outside an operation (a user's power action) drops what was queued behind it.
      const failedAlone = type.endsWith("Failed") && endsIn[m.state] === undefined
      const o = accept(recorded)
      return failedAlone ? dropping(m, o) : o
    }
    case "ObservePower":
      return c.powerState === m.power ? noop(m) : accept({ ...m, power: c.powerState })
    case "AcquireLease": {
      const l = m.lease
      if (l !== null && l.holder !== c.holder && Date.parse(l.expiresAt) > Date.parse(c.now)) return refuse(m, "Conflict", "acquire lease")
      return accept({ ...m, lease: { holder: c.holder, expiresAt: c.expiresAt } })
    }
    case "ReleaseLease":
      return m.lease?.holder === c.holder ? accept({ ...m, lease: null }) : noop(m)
    case "CacheBiosSettings": case "CacheFirmwareComponents":
      // What the BMC reported is recorded in any state; nothing the model tracks changes.
      return accept(m)
    case "SetConsole":
      return c.on === m.console ? noop(m) : accept({ ...m, console: c.on })
    case "OpenConsoleConnection":
      return m.console ? accept(m) : refuse(m, "Conflict", "console connect")
    case "CloseConsoleConnection":
      return accept(m)
    case "AsConductor":
      // Only the holder of a running lease may record a conductor's step; then the step decides.
      if (m.lease?.holder !== c.holder || Date.parse(m.lease.expiresAt) <= Date.parse(c.now)) return refuse(m, "Conflict", c.command.type)
      return predict(m, c.command)
    default:
      throw new Error(`the model does not know ${(c satisfies never as NodeCommand).type}`)
  }
}

/** What the model expects of `command` when `rival` is appended by another writer in the middle of it. */
export const predictRace = (model: NodeModel, rival: NodeCommand, command: NodeCommand): { expected: Outcome; final: NodeModel } => {
  const alone = predict(model, command)
  const rivalOutcome = predict(model, rival)
  const afterRival = rivalOutcome.kind === "accepted" ? rivalOutcome.next : model
  // Nothing to append: the command is done before the rival writes.
  if (alone.kind !== "accepted" || !alone.emits) return { expected: alone, final: afterRival }
  // The command appends, so the rival lands first and the command is decided again on its result.
  const expected = predict(afterRival, command)
  return { expected, final: expected.kind === "accepted" ? expected.next : afterRival }
}

/** A user's provision verb, as it is decided when it acts at once. */
const provision = (m: NodeModel, verb: Extract<NodeCommand, { type: "Provision" }>["verb"]): Outcome => {
  // Users do not take edges out of states where the conductor is at work.
  if (m.state.endsWith("ing")) return refuse(m, "InvalidTransition", verb)
  if (m.maintenance && hardwareVerbsInMaintenance.has(verb)) return refuse(m, "Conflict", verb)
  return along(m, verbOfUser[verb], verb, (x) => ({ ...x, manualClean: verb === "clean", cleaningRamdisk: null }))
}
