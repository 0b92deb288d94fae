// A simulated machine's rescue hash (ADR 0136): only a crypt SHA-512 hash is kept, in a file only
// its owner reads when the rack is shared; power off forgets it; a console sees it without echoing.
import { test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { hashRescuePassword } from "../../../src/application/rescue/password.ts"
import { makeRescueShadows } from "../../../src/adapters/sim/rescue-shadow.ts"
import { simSerialLine } from "../../../src/adapters/sim/console.ts"

const node = "4a1d7e52-0c3b-4f4e-9a55-2f3b8c0d1e6f"

test("a shared rack keeps the hash in an owner-only file that every process given the dir reads; clear forgets it", () => {
  const dir = mkdtempSync(join(tmpdir(), "rescue-shadow-"))
  try {
    const hash = hashRescuePassword("pw")
    const a = makeRescueShadows(dir), b = makeRescueShadows(dir)
    assert.throws(() => a.set(node, "pw"), /crypt SHA-512/)
    assert.throws(() => a.set("../etc/passwd", hash), /not a node UUID/)
    a.set(node, hash)
    assert.equal(b.hashOf(node), hash)
    assert.equal(statSync(join(dir, "rescue-shadow", node)).mode & 0o777, 0o600)
    b.clear(node)
    assert.equal(a.hashOf(node), null)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("the console logs root in with the password only while the hash is set, and never echoes it", async () => {
  const shadows = makeRescueShadows()
  const line = simSerialLine("m-1", { shadows, nodeId: node })
  let shown = ""
  line.onData((c) => { shown += c.toString("latin1") })
  await new Promise((r) => setTimeout(r, 5))
  assert.match(shown, /m-1 login: $/)
  shadows.set(node, hashRescuePassword("open sesame"))
  assert.match(shown, /ironledger-rescue login: $/)
  line.write(Buffer.from("root\ropen sesame\r"))
  assert.match(shown, /Password: \r\n~ # $/)
  assert.ok(!shown.includes("open sesame"))
  shadows.clear(node)
  line.write(Buffer.from("id\r"))
  assert.match(shown, /m-1 login: id\r\nLogin incorrect\r\n\r\nm-1 login: $/)
  line.close()
})
