// Secrets never reach the log in plain text: not in the SQLite file, not in views, not in history.
import { test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { randomBytes } from "node:crypto"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { makeSqliteEventStore } from "../../src/adapters/eventstore/sqlite.ts"
import { RandomIds } from "../../src/adapters/system/ids.ts"
import { SecretsWithKey } from "../../src/adapters/system/secrets.ts"
import { makeApplication } from "../../src/application/live.ts"
import { makeRegistry } from "../../src/application/hardware/registry.ts"
import { notSupported } from "../../src/adapters/common/declared.ts"
import { fakeHardware } from "../../src/adapters/fake/index.ts"
import { ipmi } from "../../src/adapters/ipmi/hardware.ts"
import { makeNetboot } from "../../src/adapters/netboot/index.ts"

const password = "Tr0ub4dor&3-bmc-password"
const secondPassword = "correct-horse-battery-staple"
// Credentials under names no interface declares: caught by their names or by their shape.
const undeclared = {
  ipmi_passwd: "undeclared-ipmi-passwd-value",
  bmc_pass: "undeclared-bmc-pass-value",
  snmp_community: "undeclared-snmp-community",
  image_url: "https://deployer:undeclared-url-password@images.example/img.qcow2",
}

test("no BMC password is stored in plain text in the SQLite file, nor shown by views or history", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ironledger-secrets-"))
  try {
    const db = join(dir, "store.sqlite")
    const layer = Layer.mergeAll(makeSqliteEventStore(db), RandomIds, SecretsWithKey(randomBytes(32)))
    const program = Effect.scoped(Effect.gen(function* () {
      const netboot = yield* makeNetboot({ stateDir: join(dir, "state") })
      const { service } = yield* makeApplication(makeRegistry([notSupported, fakeHardware, netboot.vendor, ipmi()]))
      const node = yield* service.enroll({
        name: "rack1-node1" as never, driver: "ipmi",
        driverInfo: { ipmi_address: "127.0.0.1", ipmi_username: "admin", ipmi_password: password },
        properties: {}, instanceInfo: {}, extra: {},
      }, "test")
      assert.equal(node.driverInfo["ipmi_password"], "******")
      assert.equal(node.driverInfo["ipmi_username"], "admin")
      // Sending the masked document back keeps the secret; a new value replaces it.
      yield* service.update(node.uuid, { driverInfo: { ...node.driverInfo as Record<string, string>, ipmi_address: "127.0.0.2" } }, "test")
      yield* service.update(node.uuid, { driverInfo: { ipmi_address: "127.0.0.2", ipmi_password: secondPassword } }, "test")
      const history = yield* service.history(node.uuid, { limit: 100 })
      assert.equal(history.length, 3)
      const shown = JSON.stringify([history, yield* service.get(node.uuid)])
      assert.ok(!shown.includes(password) && !shown.includes(secondPassword), "a view or the history shows a password")
      assert.ok(!shown.includes("$sealed") && !shown.includes("v1."), "a view or the history shows sealed ciphertext")
      // fake-hardware accepts any driver_info: what looks like a credential is sealed all the same.
      const fake = yield* service.enroll({
        name: "fake-with-creds" as never, driver: "fake-hardware", driverInfo: { ...undeclared, ipmi_address: "10.0.0.9" },
        properties: {}, instanceInfo: {}, extra: {},
      }, "test")
      for (const key of Object.keys(undeclared)) assert.equal(fake.driverInfo[key], "******", `${key} is not masked`)
      assert.equal(fake.driverInfo["ipmi_address"], "10.0.0.9")
      const fakeShown = JSON.stringify([yield* service.history(fake.uuid, { limit: 100 }), yield* service.get(fake.uuid)])
      for (const secret of Object.values(undeclared)) assert.ok(!fakeShown.includes(secret.split("@")[0]!.split("//").pop()!), `${secret} is shown`)
    }))
    await Effect.runPromise(Effect.provide(program, layer))
    // The log and everything beside it: its WAL, and the checkpoint files (ADR 0165).
    const files = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((f) => f.isFile() && relative(dir, join(f.parentPath, f.name)).startsWith("store.sqlite"))
      .map((f) => relative(dir, join(f.parentPath, f.name)))
    assert.ok(files.includes("store.sqlite") && files.some((f) => f.startsWith("store.sqlite.checkpoints/")), files.join(", "))
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(dir, f))))
    assert.ok(bytes.includes(Buffer.from("rack1-node1")), "the file holds the node (the check reads the right file)")
    for (const secret of [password, secondPassword, ...Object.values(undeclared).map((v) => v.split("@")[0]!.split("//").pop()!)]) {
      assert.ok(!bytes.includes(Buffer.from(secret)), `"${secret}" found in plain text in the SQLite file`)
      assert.ok(!bytes.includes(Buffer.from(secret, "utf16le")), `"${secret}" found as UTF-16 in the SQLite file`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
