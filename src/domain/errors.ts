// Why the aggregate refused a command. Every error names the node, the action and the state.
import type { ProvisionState } from "./lifecycle.ts"

export type DomainErrorCode =
  | "InvalidTransition" // the table has no such edge from the current state
  | "InvalidInput" // the command's values are out of bounds
  | "NotFound" // no such node (never enrolled, or deleted)
  | "AlreadyExists" // enrolling a node id twice, or a duplicate port
  | "Conflict" // a precondition other than the state (maintenance, pending hardware step)
  | "CallbackRefused" // a ramdisk call-back that does not match the running deploy
  | "QueueFull" // the node's action queue is at its bound: try again later

export interface DomainError {
  readonly _tag: "DomainError"
  readonly code: DomainErrorCode
  readonly nodeId: string
  readonly action: string
  readonly state: ProvisionState | "absent"
  readonly message: string
}

export const domainError = (
  code: DomainErrorCode,
  nodeId: string,
  action: string,
  state: ProvisionState | "absent",
  message: string,
): DomainError => ({ _tag: "DomainError", code, nodeId, action, state, message })

/** Ironic's wording, which API clients and operators already recognise. */
export const invalidTransition = (nodeId: string, action: string, state: ProvisionState): DomainError =>
  domainError(
    "InvalidTransition", nodeId, action, state,
    `The requested action "${action}" can not be performed on node "${nodeId}" while it is in state "${state}".`,
  )
