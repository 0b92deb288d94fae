// Which boot mode a node deploys in: instance_info first, then the capability, BIOS when neither says.
import { test } from "node:test"
import assert from "node:assert/strict"
import * as E from "fp-ts/lib/Either.js"
import { bootModeOf } from "../../../src/domain/boot-mode.ts"

const of = (instanceInfo: Record<string, unknown>, properties: Record<string, unknown>) => bootModeOf({ instanceInfo, properties })

test("boot mode: instance_info/deploy_boot_mode, then properties.capabilities, then bios", () => {
  assert.deepEqual(of({}, {}), E.right("bios"))
  assert.deepEqual(of({}, { capabilities: "boot_mode:uefi" }), E.right("uefi"))
  assert.deepEqual(of({}, { capabilities: "secure_boot:false, boot_mode:uefi,boot_option:local" }), E.right("uefi"))
  assert.deepEqual(of({}, { capabilities: { boot_mode: "uefi" } }), E.right("uefi"))
  assert.deepEqual(of({ deploy_boot_mode: "bios" }, { capabilities: "boot_mode:uefi" }), E.right("bios"))
  assert.deepEqual(of({ deploy_boot_mode: "uefi" }, {}), E.right("uefi"))
})

test("boot mode: anything but bios or uefi is refused with where it came from", () => {
  const bad = of({}, { capabilities: "boot_mode:efi" })
  assert.ok(E.isLeft(bad) && /the boot_mode capability is "efi"/.test(bad.left))
  const worse = of({ deploy_boot_mode: "UEFI" }, {})
  assert.ok(E.isLeft(worse) && /instance_info\/deploy_boot_mode is "UEFI"/.test(worse.left))
})
