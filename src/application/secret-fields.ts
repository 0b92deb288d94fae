// Which driver_info fields are secrets: sealed before they are logged, masked when shown. The
// interfaces declare theirs; anything else whose name or value looks like a credential is sealed
// too, so a vendor's unusual key (bmc_pass, snmp_community) never lands in the log in clear.

const secretName = /(passw|pass$|_pass_|secret|private_key|_key$|token|community|credential)/i
/** A URL that carries a user and a password: scheme://user:pass@host */
const credentialUrl = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:[^/@\s]*@/i

export const looksSecret = (name: string, value: unknown): boolean =>
  secretName.test(name) || (typeof value === "string" && credentialUrl.test(value))

export const MASK = "******"

/** driver_info as shown to people and clients: sealed values become the mask. */
export const maskDriverInfo = (info: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const shown: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(info)) shown[k] = v !== null && typeof v === "object" ? MASK : v
  return shown
}
