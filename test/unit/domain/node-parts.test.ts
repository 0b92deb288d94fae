// decide for port groups, volume connectors and targets, and Smart NIC ports (ADR 0105).
import { describe, test } from "node:test"
import type { Mac, NodeEvent, NonNegativeInt, Uuid } from "../../../src/domain/index.ts"
import { available, enrolled, given, mac, thenEvents, thenRefused, when } from "./scenario.ts"

const groupId = "00000003-0001-4000-8000-000000000001" as Uuid
const portId = "00000003-0001-4000-8000-000000000011" as Uuid
const targetId = "00000003-0003-4000-8000-000000000001" as Uuid
const fields = { address: null, name: "bond0", mode: "active-backup", properties: {}, standalonePortsSupported: true, extra: {} }
const grouped: ReadonlyArray<NodeEvent> = [
  enrolled,
  { type: "PortgroupCreated", data: { portgroupId: groupId, fields } },
  { type: "PortAdded", data: { portId, mac } },
  { type: "PortUpdated", data: { portId, changes: { portgroupId: groupId } } },
]
const target = { volumeType: "iscsi", volumeId: "vol-1", bootIndex: 0 as NonNegativeInt, properties: {}, extra: {} }

describe("port groups", () => {
  test("a group with ports is not deleted; once empty it is", () => {
    thenRefused(when(given(...grouped), { type: "DeletePortgroup", portgroupId: groupId }), { code: "InvalidInput", message: /contains ports/ })
    const emptied = given(...grouped, { type: "PortUpdated", data: { portId, changes: { portgroupId: null } } })
    thenEvents(when(emptied, { type: "DeletePortgroup", portgroupId: groupId }), { type: "PortgroupDeleted", data: { portgroupId: groupId } })
  })

  test("a port joins only a group of its own node; a port created in a group is added and set in one append", () => {
    const other = "00000003-0001-4000-8000-0000000000ff" as Uuid
    thenRefused(when(given(...grouped), { type: "UpdatePort", portId, changes: { portgroupId: other } }), { code: "InvalidInput", message: /same node/ })
    const second = "00000003-0001-4000-8000-000000000012" as Uuid
    const mac2 = "52:54:00:12:34:57" as Mac
    thenEvents(when(given(...grouped), { type: "AddPort", portId: second, mac: mac2, settings: { portgroupId: groupId } }),
      { type: "PortAdded", data: { portId: second, mac: mac2 } }, { type: "PortUpdated", data: { portId: second, changes: { portgroupId: groupId } } })
  })

  test("a Smart NIC port needs port_id and hostname in its local_link_connection", () => {
    thenRefused(when(given(...grouped), { type: "UpdatePort", portId, changes: { isSmartnic: true } }), { code: "InvalidInput", message: /port_id and hostname/ })
    thenEvents(when(given(...grouped), { type: "UpdatePort", portId, changes: { isSmartnic: true, localLinkConnection: { port_id: "p", hostname: "h" } } }),
      { type: "PortUpdated", data: { portId, changes: { isSmartnic: true, localLinkConnection: { port_id: "p", hostname: "h" } } } })
  })
})

describe("volume targets", () => {
  const withTarget = [...available, { type: "VolumeTargetCreated", data: { targetId, fields: target } }] as ReadonlyArray<NodeEvent>

  test("a boot index is unique per node", () => {
    const other = "00000003-0003-4000-8000-000000000002" as Uuid
    thenRefused(when(given(...withTarget), { type: "CreateVolumeTarget", uuid: other, fields: { ...target, volumeId: "vol-2" } }), { code: "AlreadyExists", message: /boot index '0'/ })
  })

  test("change only while the node is off; an available node's target is not deleted while its power is unknown", () => {
    thenRefused(when(given(...withTarget), { type: "UpdateVolumeTarget", uuid: targetId, changes: { volumeId: "vol-9" } }), { code: "Conflict", message: /power state "None"; power it off first/ })
    thenRefused(when(given(...withTarget), { type: "DeleteVolumeTarget", uuid: targetId }), { code: "Conflict" })
    const off = given(...withTarget, { type: "PowerStateObserved", data: { powerState: "power off" } })
    thenEvents(when(off, { type: "UpdateVolumeTarget", uuid: targetId, changes: { volumeId: "vol-9" } }),
      { type: "VolumeTargetUpdated", data: { targetId, changes: { volumeId: "vol-9" } } })
  })
})
