// Which driver_info fields are secrets: sealed before they are logged, masked when shown.
import type { DriverInfo } from "../domain/index.ts"

const secretName = /(password|secret|private_key|_key$|token)/i

export const isSecretField = (name: string): boolean => secretName.test(name)

export const MASK = "******"

/** driver_info as shown to people and clients: sealed values become the mask. */
export const maskDriverInfo = (info: DriverInfo): Record<string, unknown> => {
  const shown: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(info)) shown[k] = v !== null && typeof v === "object" ? MASK : v
  return shown
}
