// For power sync tests: a registry with one hardware type, `driver`, whose BMC answers power status
// through `status` (the fake hardware's other interfaces), and idle, managed nodes of that type.
import { randomUUID } from "node:crypto"
import * as Effect from "effect/Effect"
import { notSupported } from "../../src/adapters/common/declared.ts"
import { fakeHardware } from "../../src/adapters/fake/index.ts"
import type { PowerInterface } from "../../src/application/hardware/interfaces.ts"
import { makeRegistry } from "../../src/application/hardware/registry.ts"
import { initialState, type Driver, type NodeState, type Uuid } from "../../src/domain/index.ts"

export const registryWithBmc = (driver: string, status: PowerInterface["status"]) => {
  const power: PowerInterface = {
    slot: "power", name: `${driver}-bmc`, description: "test", properties: [], status,
    powerOn: () => Effect.void, powerOff: () => Effect.void, softPowerOff: () => Effect.void, reboot: () => Effect.void,
  }
  const fake = fakeHardware.hardwareTypes[0]!
  return makeRegistry([notSupported, fakeHardware, {
    hardwareTypes: [{ name: driver, description: "test", interfaces: { ...fake.interfaces, power: [power.name] } }],
    interfaces: [power],
  }])
}

/** A manageable node, powered off, of hardware type `driver`. */
export const idleNode = (name: string, driver: string): NodeState => ({
  ...initialState(randomUUID() as Uuid), revision: 2, name, driver: driver as Driver, provisionState: "manageable", powerState: "power off",
})
