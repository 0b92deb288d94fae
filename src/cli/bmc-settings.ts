// The vendor-neutral BMC settings people type (address, port, user, password) and the driver_info
// keys a hardware type's power interface names for them (ipmi_address, redfish_username, ...),
// found by the keys' own names. `certify` flags and the CSV's bmc_* columns both go through here.

export type BmcSetting = "address" | "port" | "username" | "password"

const patterns: Record<BmcSetting, RegExp> = {
  address: /address$/, port: /_port$/, username: /username$/, password: /password$/,
}

/** The driver_info key for a setting among a hardware type's property names, if it has one. */
export const bmcKey = (propertyNames: ReadonlyArray<string>, setting: BmcSetting): string | undefined =>
  propertyNames.find((n) => patterns[setting].test(n))
