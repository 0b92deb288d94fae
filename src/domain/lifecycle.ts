// The provision state machine, as data. Tests, docs and decide/evolve all read this one table.
// States and verbs follow Ironic's (ironic/common/states.py) so API clients see familiar values.

export const provisionStates = [
  "enroll", "verifying", "manageable", "available",
  "deploying", "wait call-back", "deploy failed", "active",
  "deleting", "cleaning", "clean wait", "clean failed",
  "inspecting", "inspect wait", "inspect failed",
  "adopting", "adopt failed",
  "rescuing", "rescue wait", "rescue", "rescue failed", "unrescuing", "unrescue failed",
  "error",
] as const
export type ProvisionState = (typeof provisionStates)[number]

export const verbs = [
  "manage", "provide", "clean", "inspect", "adopt", "deploy", "rebuild", "delete",
  "rescue", "unrescue", "done", "fail", "wait", "resume", "abort",
] as const
export type Verb = (typeof verbs)[number]

export interface Transition {
  readonly from: ProvisionState
  readonly verb: Verb
  readonly to: ProvisionState
}

const t = (from: ProvisionState, verb: Verb, to: ProvisionState): Transition => ({ from, verb, to })

export const transitions: ReadonlyArray<Transition> = [
  t("enroll", "manage", "verifying"),
  t("verifying", "done", "manageable"),
  t("verifying", "fail", "enroll"),
  t("manageable", "provide", "cleaning"),
  t("manageable", "clean", "cleaning"),
  t("manageable", "inspect", "inspecting"),
  t("manageable", "adopt", "adopting"),
  t("cleaning", "done", "available"),
  t("cleaning", "manage", "manageable"),
  t("cleaning", "wait", "clean wait"),
  t("cleaning", "fail", "clean failed"),
  t("clean wait", "resume", "cleaning"),
  t("clean wait", "fail", "clean failed"),
  t("clean wait", "abort", "clean failed"),
  t("clean failed", "manage", "manageable"),
  t("available", "deploy", "deploying"),
  t("available", "manage", "manageable"),
  t("deploying", "wait", "wait call-back"),
  t("deploying", "done", "active"),
  t("deploying", "fail", "deploy failed"),
  t("wait call-back", "resume", "deploying"),
  t("wait call-back", "fail", "deploy failed"),
  t("wait call-back", "abort", "deploy failed"),
  t("wait call-back", "delete", "deleting"),
  t("deploy failed", "rebuild", "deploying"),
  t("deploy failed", "deploy", "deploying"),
  t("deploy failed", "delete", "deleting"),
  t("active", "rebuild", "deploying"),
  t("active", "delete", "deleting"),
  t("active", "rescue", "rescuing"),
  t("deleting", "clean", "cleaning"),
  t("deleting", "fail", "error"),
  t("error", "rebuild", "deploying"),
  t("error", "delete", "deleting"),
  t("inspecting", "done", "manageable"),
  t("inspecting", "wait", "inspect wait"),
  t("inspecting", "fail", "inspect failed"),
  t("inspect wait", "done", "manageable"),
  t("inspect wait", "resume", "inspecting"),
  t("inspect wait", "fail", "inspect failed"),
  t("inspect wait", "abort", "inspect failed"),
  t("inspect failed", "manage", "manageable"),
  t("inspect failed", "inspect", "inspecting"),
  t("adopting", "done", "active"),
  t("adopting", "fail", "adopt failed"),
  t("adopt failed", "adopt", "adopting"),
  t("adopt failed", "manage", "manageable"),
  t("rescuing", "done", "rescue"),
  t("rescuing", "wait", "rescue wait"),
  t("rescuing", "fail", "rescue failed"),
  t("rescue wait", "resume", "rescuing"),
  t("rescue wait", "fail", "rescue failed"),
  t("rescue wait", "abort", "rescue failed"),
  t("rescue wait", "delete", "deleting"),
  ...(["rescue", "rescue failed", "unrescue failed"] as const).flatMap((s) => [
    t(s, "rescue", "rescuing"),
    t(s, "unrescue", "unrescuing"),
    t(s, "delete", "deleting"),
  ]),
  t("unrescuing", "done", "active"),
  t("unrescuing", "fail", "unrescue failed"),
]

const index = new Map(transitions.map((tr) => [`${tr.from}|${tr.verb}`, tr.to]))

/** Where `verb` leads from `from`, or undefined when the table has no such edge. */
export const next = (from: ProvisionState, verb: Verb): ProvisionState | undefined =>
  index.get(`${from}|${verb}`)

export const stableStates: ReadonlyArray<ProvisionState> = [
  "enroll", "manageable", "available", "active", "error", "rescue",
]
export const isStable = (s: ProvisionState): boolean => stableStates.includes(s)

export const waitStates: ReadonlyArray<ProvisionState> = [
  "wait call-back", "clean wait", "inspect wait", "rescue wait",
]

/** The stable state an unstable one is heading for (Ironic's target_provision_state). */
export const targetOf = (s: ProvisionState): ProvisionState | null => {
  switch (s) {
    case "verifying": case "inspecting": case "inspect wait": return "manageable"
    case "deploying": case "wait call-back": case "adopting": case "unrescuing": return "active"
    case "cleaning": case "clean wait": case "deleting": return "available"
    case "rescuing": case "rescue wait": return "rescue"
    default: return null
  }
}

/** States in which a node record may be deleted (Ironic: DELETE_ALLOWED_STATES). */
export const deletableStates: ReadonlyArray<ProvisionState> = [
  "enroll", "manageable", "available", "adopt failed", "inspect failed", "clean failed",
]

export const powerStates = ["power on", "power off", "rebooting", "soft power off", "soft rebooting"] as const
export type PowerState = (typeof powerStates)[number]
