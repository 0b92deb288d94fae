// decide, spec by spec: given a node's events, when a command arrives, then events or a refusal.
import { describe, test } from "node:test"
import {
  active, adopted, available, deadline, deployId, deploying, enrolled, given, imageWritten, inMaintenance, manageable,
  nodeId, otherDeployId, spec, target, thenEvents, thenRefused, waitingCallBack, when,
} from "./scenario.ts"

describe("invalid transitions", () => {
  test("are refused in Ironic's words, naming the action, the node and its state", () => {
    thenRefused(when(given(...available), { type: "Provision", verb: "provide" }), {
      code: "InvalidTransition", nodeId, action: "provide", state: "available",
      message: `The requested action "provide" can not be performed on node "${nodeId}" while it is in state "available".`,
    })
  })

  test("name the user's verb, not the table's (undeploy is the table's delete)", () => {
    thenRefused(when(given(...manageable), { type: "Provision", verb: "undeploy" }), {
      code: "InvalidTransition", action: "undeploy", state: "manageable",
      message: `The requested action "undeploy" can not be performed on node "${nodeId}" while it is in state "manageable".`,
    })
  })

  test("cover the conductor's steps too: nothing to complete on an enrolled node", () => {
    thenRefused(when(given(enrolled), { type: "Complete" }), { code: "InvalidTransition", action: "done", state: "enroll" })
    thenRefused(when(given(enrolled), { type: "Fail", error: "boom" }), { code: "InvalidTransition", action: "fail", state: "enroll" })
  })

  test("a command for a node that was never enrolled is NotFound", () => {
    thenRefused(when(given(), { type: "Provision", verb: "manage" }), { code: "NotFound", nodeId, state: "absent" })
  })

  test("a deleted node is gone, and its id can not be enrolled again", () => {
    const deleted = given(enrolled, { type: "NodeDeleted", data: {} })
    thenRefused(when(deleted, { type: "Provision", verb: "manage" }), { code: "NotFound", state: "absent" })
    thenRefused(when(deleted, { type: "Enroll", nodeId, name: null, driver: "ipmi", driverInfo: {}, properties: {}, instanceInfo: {}, extra: {} }), {
      code: "AlreadyExists", action: "enroll",
    })
  })
})

describe("maintenance", () => {
  test("refuses verbs that would drive the hardware", () => {
    for (const verb of ["provide", "clean", "inspect"] as const) {
      thenRefused(when(given(...manageable, inMaintenance), { type: "Provision", verb }), {
        code: "Conflict", action: verb, state: "manageable", message: new RegExp(`${nodeId} is in maintenance`),
      })
    }
    thenRefused(when(given(...available, inMaintenance), { type: "Deploy", spec: spec(), rebuild: false }), {
      code: "Conflict", action: "deploy", state: "available",
    })
  })

  test("still lets an operator adopt or undeploy", () => {
    thenEvents(when(given(...manageable, inMaintenance), { type: "Provision", verb: "adopt" }), { type: "AdoptRequested", data: {} })
    thenEvents(when(given(...active, inMaintenance), { type: "Provision", verb: "undeploy" }), { type: "UndeployRequested", data: {} })
  })

  test("once cleared, the same verb goes through", () => {
    const cleared = given(...manageable, inMaintenance, { type: "MaintenanceCleared", data: {} })
    thenEvents(when(cleared, { type: "Provision", verb: "provide" }), { type: "ProvideRequested", data: {} })
  })

  test("is what lets an active node be deleted", () => {
    thenRefused(when(given(...active), { type: "Delete" }), { code: "Conflict", action: "delete", state: "active" })
    thenEvents(when(given(...active, inMaintenance), { type: "Delete" }), { type: "NodeDeleted", data: {} })
  })
})

describe("deploy preconditions", () => {
  test("preserve_ephemeral is refused on a first deploy", () => {
    thenRefused(when(given(...available), { type: "Deploy", spec: spec({ preserveEphemeral: true }), rebuild: false }), {
      code: "InvalidInput", action: "deploy", message: "preserve_ephemeral applies only to a rebuild of a deployed node.",
    })
  })

  test("preserve_ephemeral is refused on a plain deploy, even of a node that had one", () => {
    const failed = given(...deploying, { type: "DeployFailed", data: { error: "no call-back" } })
    thenRefused(when(failed, { type: "Deploy", spec: spec({ preserveEphemeral: true }), rebuild: false }), {
      code: "InvalidInput", action: "deploy", state: "deploy failed",
    })
  })

  test("preserve_ephemeral is refused on a rebuild of a node that was adopted, not deployed", () => {
    thenRefused(when(given(...adopted), { type: "Deploy", spec: spec({ preserveEphemeral: true }), rebuild: true }), {
      code: "InvalidInput", action: "rebuild", state: "active",
    })
  })

  test("preserve_ephemeral is kept on a rebuild of a deployed node", () => {
    const rebuild = spec({ deployId: otherDeployId, preserveEphemeral: true })
    thenEvents(when(given(...active), { type: "Deploy", spec: rebuild, rebuild: true }), {
      type: "DeployRequested", data: { ...rebuild, rebuild: true },
    })
  })

  test("a partition image needs a root partition of at least 1 GiB", () => {
    thenRefused(when(given(...available), { type: "Deploy", spec: spec({ rootGb: 0 as never }), rebuild: false }), {
      code: "InvalidInput", message: "A partition image needs root_gb of at least 1.",
    })
  })

  test("deploy goes from available, not from manageable", () => {
    thenRefused(when(given(...manageable), { type: "Deploy", spec: spec(), rebuild: false }), {
      code: "InvalidTransition", action: "deploy", state: "manageable",
    })
  })
})

describe("the ramdisk's call-back", () => {
  test("with the running deploy's id, while waiting, is accepted once", () => {
    thenEvents(when(given(...waitingCallBack), { type: "AcceptIscsi", deployId, target }), {
      type: "IscsiReady", data: { deployId, target },
    })
  })

  test("naming another deploy is refused", () => {
    thenRefused(when(given(...waitingCallBack), { type: "AcceptIscsi", deployId: otherDeployId, target }), {
      code: "CallbackRefused", action: "pass_deploy_info", state: "wait call-back",
      message: `The call-back names deploy ${otherDeployId}, but the running deploy is ${deployId}.`,
    })
  })

  test("with a key already used is refused, even back in wait call-back", () => {
    const usedOnce = given(...waitingCallBack, { type: "IscsiReady", data: { deployId, target } },
      { type: "CallbackAwaited", data: { deadline } })
    thenRefused(when(usedOnce, { type: "AcceptIscsi", deployId, target }), {
      code: "CallbackRefused", state: "wait call-back", message: "The deploy key was already used.",
    })
  })

  test("when the node is not waiting is refused", () => {
    thenRefused(when(given(...deploying), { type: "AcceptIscsi", deployId, target }), {
      code: "CallbackRefused", state: "deploying", message: /is not waiting for a deploy call-back/,
    })
    thenRefused(when(given(...active), { type: "AcceptIscsi", deployId, target }), { code: "CallbackRefused", state: "active" })
  })

  test("without an iSCSI target does not resume a deploy", () => {
    thenRefused(when(given(...waitingCallBack), { type: "AcceptCallback", data: {} }), {
      code: "CallbackRefused", action: "call-back", message: "A deploy call-back must carry the iSCSI target.",
    })
  })
})

describe("DeployDone", () => {
  test("is refused until the image is written", () => {
    thenRefused(when(given(...deploying), { type: "Complete" }), {
      code: "Conflict", action: "done", state: "deploying", message: `The image of node ${nodeId} has not been written yet.`,
    })
  })

  test("follows ImageWritten of the running deploy", () => {
    thenEvents(when(given(...deploying, ...imageWritten), { type: "Complete" }), { type: "DeployDone", data: { deployId } })
  })

  test("an image written for another deploy is not recorded", () => {
    const asked = given(...deploying, { type: "ImageWriteRequested", data: { step: "write-image", deployId } })
    thenRefused(when(asked, {
      type: "RecordHardware",
      result: { type: "ImageWritten", data: { step: "write-image", durationMs: 5, deployId: otherDeployId, bytesWritten: 1 as never, rootUuid: null, diskId: null } },
    }), { code: "Conflict", action: "ImageWritten" })
  })
})

describe("a wait that times out", () => {
  const waiting = given(...waitingCallBack)

  test("is refused before its deadline", () => {
    thenRefused(when(waiting, { type: "TimeOutWait", now: "2030-01-01T00:29:59.999Z" }), {
      code: "Conflict", action: "time out", state: "wait call-back", message: `The wait of node ${nodeId} runs until ${deadline}.`,
    })
  })

  test("fails the deploy at and after its deadline", () => {
    for (const now of [deadline, "2030-01-01T02:00:00.000Z"]) {
      thenEvents(when(waiting, { type: "TimeOutWait", now }), { type: "WaitTimedOut", data: { deadline } })
    }
  })

  test("is refused when the node is not waiting", () => {
    thenRefused(when(given(...deploying), { type: "TimeOutWait", now: "2031-01-01T00:00:00.000Z" }), {
      code: "Conflict", action: "time out", state: "deploying",
    })
  })
})

describe("hardware steps", () => {
  const powerOn = { type: "PowerOnRequested", data: { step: "power-on" } } as const
  const bootPxe = { type: "BootDeviceRequested", data: { step: "boot", device: "pxe", persistent: false } } as const
  const node = given(...available)

  test("a result with no request waiting for it is refused", () => {
    thenRefused(when(node, { type: "RecordHardware", result: { type: "DiskWiped", data: { step: "wipe", durationMs: 3 } } }), {
      code: "Conflict", action: "DiskWiped", message: "No step wipe is waiting for a result.",
    })
  })

  test("a result of the wrong kind for its request is refused", () => {
    thenRefused(when(given(...available, bootPxe), {
      type: "RecordHardware", result: { type: "PowerStateChanged", data: { step: "boot", durationMs: 3, powerState: "power on" } },
    }), { code: "InvalidInput", message: "Step boot (BootDeviceRequested) can not end with PowerStateChanged." })
  })

  test("the matching result closes the step", () => {
    const result = { type: "BootDeviceSet", data: { step: "boot", durationMs: 3, warning: null } } as const
    thenEvents(when(given(...available, bootPxe), { type: "RecordHardware", result }), result)
  })

  test("a step key already waiting is refused", () => {
    thenRefused(when(given(...available, bootPxe), { type: "RequestHardware", request: { ...bootPxe, data: { ...bootPxe.data, device: "disk" } } }), {
      code: "Conflict", action: "BootDeviceRequested", message: "Step boot was already requested.",
    })
  })

  test("two power actions at once are refused; other actions may run beside one", () => {
    const powering = given(...available, powerOn)
    thenRefused(when(powering, { type: "RequestHardware", request: { type: "RebootRequested", data: { step: "reboot" } } }), {
      code: "Conflict", action: "RebootRequested", message: `Node ${nodeId} is busy with another power action.`,
    })
    thenEvents(when(powering, { type: "RequestHardware", request: bootPxe }), bootPxe)
    thenEvents(when(given(...available, bootPxe), { type: "RequestHardware", request: powerOn }), powerOn)
  })

  test("once the first power action has its result, the next may start", () => {
    const done = given(...available, powerOn, { type: "PowerStateChanged", data: { step: "power-on", durationMs: 900, powerState: "power on" } })
    const reboot = { type: "RebootRequested", data: { step: "reboot" } } as const
    thenEvents(when(done, { type: "RequestHardware", request: reboot }), reboot)
  })
})

describe("conductor leases", () => {
  const leased = given(...deploying, { type: "LeaseAcquired", data: { holder: "conductor-a", expiresAt: "2030-01-01T01:00:00.000Z" } })
  const step = { type: "RequestHardware", request: { type: "PowerOnRequested", data: { step: "power-on" } } } as const

  test("the holder records its steps while the lease runs", () => {
    thenEvents(when(leased, { type: "AsConductor", holder: "conductor-a", now: "2030-01-01T00:10:00.000Z", command: step }), step.request)
  })

  test("another conductor, or the holder after expiry, is refused", () => {
    thenRefused(when(leased, { type: "AsConductor", holder: "conductor-b", now: "2030-01-01T00:10:00.000Z", command: step }), {
      code: "Conflict", action: "RequestHardware",
    })
    thenRefused(when(leased, { type: "AsConductor", holder: "conductor-a", now: "2030-01-01T01:00:00.000Z", command: step }), {
      code: "Conflict",
    })
  })

  test("another conductor takes the lease only once it has expired", () => {
    const take = (now: string) => when(leased, { type: "AcquireLease", holder: "conductor-b", now, expiresAt: "2030-01-01T02:00:00.000Z" })
    thenRefused(take("2030-01-01T00:59:59.000Z"), { code: "Conflict", action: "acquire lease" })
    thenEvents(take("2030-01-01T01:00:00.000Z"), { type: "LeaseAcquired", data: { holder: "conductor-b", expiresAt: "2030-01-01T02:00:00.000Z" } })
  })
})
