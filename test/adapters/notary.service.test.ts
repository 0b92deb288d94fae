// The service runs the notary: while it runs, and once more as it stops, the log gets signed
// checkpoints, and the file then verifies offline with the public key alone; its history can be
// filtered offline.
import { after, test } from "node:test"
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import { generateKeyPairSync } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startService } from "../../src/cli/service.ts"
import { simulatedHardware } from "../../src/cli/hardware.ts"
import { verifyLogFile } from "../../src/cli/commands/verify.ts"
import { client } from "./http-harness.ts"

const dir = mkdtempSync(join(tmpdir(), "ironledger-notary-"))
after(() => rmSync(dir, { recursive: true, force: true }))

test("the service's notary signs checkpoints as it runs and as it stops", { timeout: 60_000 }, async () => {
  const pair = generateKeyPairSync("ed25519")
  const privateKey = join(dir, "notary.pem"), publicKey = join(dir, "notary.pub")
  writeFileSync(privateKey, pair.privateKey.export({ type: "pkcs8", format: "pem" }))
  writeFileSync(publicKey, pair.publicKey.export({ type: "spki", format: "pem" }))
  const db = join(dir, "log.db")
  const running = await startService({ db, hardware: simulatedHardware(), notary: { signingKeyFile: privateKey, intervalMs: 200 } })
  try {
    const call = client(running.url)
    for (let i = 0; i < 3; i++) assert.equal((await call("POST", "/v1/nodes", { driver: "fake-hardware", name: `n-${i}` })).status, 201)
    await new Promise((r) => setTimeout(r, 600))
    const meanwhile = verifyLogFile(db, undefined, publicKey)
    assert.ok(meanwhile.ok, JSON.stringify(meanwhile.findings))
    assert.ok(meanwhile.checkpointsMatched >= 1)
    await call("POST", "/v1/nodes", { driver: "fake-hardware", name: "last" })
  } finally {
    await running.close()
  }
  const stopped = verifyLogFile(db, undefined, publicKey)
  assert.ok(stopped.ok, JSON.stringify(stopped.findings))
  // The last checkpoint covers every node event, the one written just before stopping included.
  assert.ok(stopped.coveredUpTo >= stopped.events - stopped.checkpointsMatched, JSON.stringify(stopped))

  // The history filters on the file, with no service.
  const history = spawnSync("bin/ironledger", ["history", "n-0", "--db", db, "--type", "Enrolled", "--actor", "user:noauth", "--json"], { encoding: "utf8" })
  assert.equal(history.status, 0, history.stderr)
  assert.deepEqual((JSON.parse(history.stdout) as Array<{ event: string }>).map((e) => e.event), ["Enrolled"])
  const none = spawnSync("bin/ironledger", ["history", "n-0", "--db", db, "--until", "2000-01-01T00:00:00Z", "--json"], { encoding: "utf8" })
  assert.deepEqual(JSON.parse(none.stdout), [])
})
