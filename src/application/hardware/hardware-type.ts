// A hardware type (Ironic's `driver`): which interfaces a node of it may use in each slot, the
// first one being the default. Vendors bring hardware types and interfaces; the service enables them.
import type { Driver, InterfaceSlot } from "../../domain/index.ts"
import type { AnyInterface } from "./interfaces.ts"

export interface HardwareType {
  readonly name: Driver
  readonly description: string
  /** Supported interfaces per slot, in order of preference: the first enabled one is the default. */
  readonly interfaces: { readonly [S in InterfaceSlot]: ReadonlyArray<string> }
}

/** What a vendor folder registers: its hardware types and the interfaces they (and others) use. */
export interface Vendor {
  readonly hardwareTypes: ReadonlyArray<HardwareType>
  readonly interfaces: ReadonlyArray<AnyInterface>
}
