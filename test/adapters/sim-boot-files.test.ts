// The simulated machines' TFTP tree on disk: nothing is made until it is used, so machines closed
// (and their folder removed) before any boot config never see their folder made again afterwards.
import { after, test } from "node:test"
import assert from "node:assert/strict"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { makeSimFileTree } from "../../src/adapters/sim/boot-files.ts"
import type { Uuid } from "../../src/domain/values.ts"

const dir = mkdtempSync(join(tmpdir(), "ironledger-sim-tree-"))
after(() => rmSync(dir, { recursive: true, force: true }))

test("the tree's directories are made by its first use, not when it is created", async () => {
  const root = join(dir, "tftp")
  const tree = makeSimFileTree(root)
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(existsSync(root), false, "nothing made before the first use")
  const node = "00000000-0000-4000-8000-000000000001" as Uuid
  await tree.writeConfig(node, "default deploy\n")
  assert.equal(await tree.readConfig(node), "default deploy\n")
  assert.equal(existsSync(join(root, "pxelinux.cfg")), true, "pxelinux.cfg made by the first use")
})
