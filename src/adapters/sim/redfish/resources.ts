// The Redfish resources the emulator serves, as JSON bodies (DMTF schema names and shapes, the
// subset sushy and Ironic read): service root, systems, BIOS and its settings object, managers
// with virtual media, session service, update service with its firmware inventory, tasks.
import { biosAllowable, bootEnabled, bootModes, bootTargets, resetTypes, type SystemState } from "./system.ts"

export const ROOT = "/redfish/v1"
const ref = (path: string) => ({ "@odata.id": path })
export const systemPath = (id: string) => `${ROOT}/Systems/${id}`
export const managerPath = (id: string) => `${ROOT}/Managers/${id}`

export const collection = (path: string, type: string, name: string, members: ReadonlyArray<string>) => ({
  "@odata.id": path, "@odata.type": `#${type}.${type}`, Name: name,
  Members: members.map(ref), "Members@odata.count": members.length,
})

export const serviceRoot = (uuid: string) => ({
  "@odata.id": `${ROOT}/`, "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot", Id: "RootService",
  Name: "ironledger Redfish BMC emulator", RedfishVersion: "1.6.0", UUID: uuid,
  Systems: ref(`${ROOT}/Systems`), Managers: ref(`${ROOT}/Managers`),
  SessionService: ref(`${ROOT}/SessionService`), UpdateService: ref(`${ROOT}/UpdateService`),
  Registries: ref(`${ROOT}/Registries`),
  Links: { Sessions: ref(`${ROOT}/SessionService/Sessions`) },
})

export const system = async (s: SystemState) => {
  const path = systemPath(s.machine.id)
  return {
    "@odata.id": path, "@odata.type": "#ComputerSystem.v1_10_0.ComputerSystem",
    Id: s.machine.id, Name: s.machine.name, UUID: s.machine.uuid, SystemType: "Physical",
    Manufacturer: "ironledger", Model: "Emulated server", SerialNumber: s.machine.id,
    PowerState: await s.machine.power(),
    IndicatorLED: s.indicatorLed,
    BiosVersion: s.firmware.get("BIOS")?.version,
    Status: { State: "Enabled", Health: "OK" },
    ProcessorSummary: { Count: 2, Model: "Emulated CPU" },
    MemorySummary: { TotalSystemMemoryGiB: 2 },
    Boot: {
      BootSourceOverrideEnabled: s.boot.enabled, BootSourceOverrideTarget: s.boot.target,
      BootSourceOverrideMode: s.boot.mode,
      "BootSourceOverrideEnabled@Redfish.AllowableValues": bootEnabled,
      "BootSourceOverrideTarget@Redfish.AllowableValues": bootTargets,
      "BootSourceOverrideMode@Redfish.AllowableValues": bootModes,
    },
    Bios: ref(`${path}/Bios`),
    Links: { ManagedBy: [ref(managerPath(s.machine.id))] },
    Actions: {
      "#ComputerSystem.Reset": {
        target: `${path}/Actions/ComputerSystem.Reset`, "ResetType@Redfish.AllowableValues": resetTypes,
      },
    },
  }
}

export const bios = (s: SystemState) => {
  const path = `${systemPath(s.machine.id)}/Bios`
  return {
    "@odata.id": path, "@odata.type": "#Bios.v1_1_0.Bios", Id: "BIOS", Name: "BIOS Configuration Current Settings",
    AttributeRegistry: "BiosAttributeRegistry.v1_0_0", Attributes: s.bios,
    "@Redfish.Settings": {
      "@odata.type": "#Settings.v1_3_0.Settings", SettingsObject: ref(`${path}/Settings`),
      SupportedApplyTimes: ["OnReset"],
    },
    Actions: {
      "#Bios.ResetBios": { target: `${path}/Actions/Bios.ResetBios` },
      "#Bios.ChangePassword": { target: `${path}/Actions/Bios.ChangePassword` },
    },
  }
}

export const biosSettings = (s: SystemState) => ({
  "@odata.id": `${systemPath(s.machine.id)}/Bios/Settings`, "@odata.type": "#Bios.v1_1_0.Bios",
  Id: "Settings", Name: "BIOS Configuration Pending Settings",
  AttributeRegistry: "BiosAttributeRegistry.v1_0_0", Attributes: s.biosPending,
})

export const manager = (s: SystemState) => {
  const path = managerPath(s.machine.id)
  return {
    "@odata.id": path, "@odata.type": "#Manager.v1_5_0.Manager", Id: s.machine.id, Name: `BMC of ${s.machine.name}`,
    ManagerType: "BMC", FirmwareVersion: s.firmware.get("BMC")?.version, Status: { State: "Enabled", Health: "OK" },
    VirtualMedia: ref(`${path}/VirtualMedia`),
    Links: { ManagerForServers: [ref(systemPath(s.machine.id))] },
  }
}

export const virtualMedia = (s: SystemState) => {
  const path = `${managerPath(s.machine.id)}/VirtualMedia/Cd`
  return {
    "@odata.id": path, "@odata.type": "#VirtualMedia.v1_3_0.VirtualMedia", Id: "Cd", Name: "Virtual CD",
    MediaTypes: ["CD", "DVD"], Image: s.media.image, Inserted: s.media.inserted, WriteProtected: true,
    ConnectedVia: s.media.inserted ? "URI" : "NotConnected",
    Actions: {
      "#VirtualMedia.InsertMedia": { target: `${path}/Actions/VirtualMedia.InsertMedia` },
      "#VirtualMedia.EjectMedia": { target: `${path}/Actions/VirtualMedia.EjectMedia` },
    },
  }
}

export const sessionService = () => ({
  "@odata.id": `${ROOT}/SessionService`, "@odata.type": "#SessionService.v1_1_6.SessionService",
  Id: "SessionService", Name: "Session Service", ServiceEnabled: true, SessionTimeout: 1800,
  Sessions: ref(`${ROOT}/SessionService/Sessions`),
})

export const session = (id: string, user: string) => ({
  "@odata.id": `${ROOT}/SessionService/Sessions/${id}`, "@odata.type": "#Session.v1_1_0.Session",
  Id: id, Name: `Session of ${user}`, UserName: user,
})

export const updateService = () => ({
  "@odata.id": `${ROOT}/UpdateService`, "@odata.type": "#UpdateService.v1_2_0.UpdateService",
  Id: "UpdateService", Name: "Update Service", ServiceEnabled: true,
  FirmwareInventory: ref(`${ROOT}/UpdateService/FirmwareInventory`),
  Actions: {
    "#UpdateService.SimpleUpdate": {
      target: `${ROOT}/UpdateService/Actions/UpdateService.SimpleUpdate`,
      "TransferProtocol@Redfish.AllowableValues": ["HTTP", "HTTPS"],
    },
  },
})

/** Firmware inventory ids are "<system>-<component>": each emulated server has its own BMC. */
export const firmwareItem = (systemId: string, c: { id: string; name: string; version: string; staged: string | null }) => ({
  "@odata.id": `${ROOT}/UpdateService/FirmwareInventory/${systemId}-${c.id}`,
  "@odata.type": "#SoftwareInventory.v1_2_0.SoftwareInventory",
  Id: `${systemId}-${c.id}`, Name: c.name, Version: c.version, Updateable: true,
  Status: { State: c.staged === null ? "Enabled" : "StandbyOffline", Health: "OK" },
  RelatedItem: [ref(systemPath(systemId))],
})

export const task = (id: string, state: "Running" | "Completed" | "Exception", message: string) => ({
  "@odata.id": `${ROOT}/TaskService/Tasks/${id}`, "@odata.type": "#Task.v1_4_0.Task", Id: id, Name: "Firmware update",
  TaskState: state, TaskStatus: state === "Exception" ? "Critical" : "OK", PercentComplete: state === "Running" ? 50 : 100,
  Messages: [{ MessageId: state === "Exception" ? "Base.1.8.GeneralError" : "Base.1.8.Success", Message: message }],
})

export const redfishError = (message: string, code = "Base.1.8.GeneralError") => ({
  error: { code, message, "@Message.ExtendedInfo": [{ MessageId: code, Message: message }] },
})

const registryName = "BiosAttributeRegistry.v1_0_0"
export const registriesPath = `${ROOT}/Registries`

/** The registry file (where it is) and the registry itself, as DMTF's AttributeRegistry schema has them. */
export const registryFile = () => ({
  "@odata.id": `${registriesPath}/${registryName}`, "@odata.type": "#MessageRegistryFile.v1_1_0.MessageRegistryFile",
  Id: registryName, Name: "BIOS Attribute Registry File", Registry: registryName,
  Location: [{ Language: "en", Uri: `${registriesPath}/${registryName}/Registry` }],
})

export const biosAttributeRegistry = () => ({
  "@odata.type": "#AttributeRegistry.v1_3_0.AttributeRegistry", Id: registryName, Name: "BIOS Attribute Registry",
  Language: "en", RegistryVersion: "1.0.0", OwningEntity: "ironledger",
  RegistryEntries: {
    Attributes: Object.entries(biosAllowable).map(([name, values]) => ({
      AttributeName: name, DisplayName: name, Type: "Enumeration", Value: values.map((v) => ({ ValueName: v, ValueDisplayName: v })),
      ReadOnly: false, ResetRequired: true, IsSystemUniqueProperty: false,
    })),
  },
})
