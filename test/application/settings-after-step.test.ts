// Which finished steps make the conductor read the BMC's BIOS settings and firmware versions again:
// only the reboot after a BIOS or firmware cleaning step, when what was pending takes effect.
import { test } from "node:test"
import assert from "node:assert/strict"
import { changesReportedSettings } from "../../src/application/cleaning/settings-after-step.ts"

test("the reboot after a BIOS or firmware step is read after; the step itself and other steps are not", () => {
  assert.equal(changesReportedSettings("op-1:clean-step:0:bios.apply_configuration:reboot"), true)
  assert.equal(changesReportedSettings("op-1:clean-step:3:bios.factory_reset:reboot"), true)
  assert.equal(changesReportedSettings("op-1:clean-step:1:firmware.update:reboot"), true)
  // Pending until the reboot: the BMC still reports the old values.
  assert.equal(changesReportedSettings("op-1:clean-step:0:bios.apply_configuration"), false)
  assert.equal(changesReportedSettings("op-1:clean-step:0:deploy.erase_devices"), false)
  assert.equal(changesReportedSettings("op-1:clean-step:0:raid.create_configuration:reboot"), false)
  assert.equal(changesReportedSettings("op-1:deploy:reboot"), false)
})
