// What only the iSCSI writer and its tgtd launcher do: keep the CHAP secret off every command line
// and out of leftover files, and start and stop tgtd cleanly (tgtd ignores SIGTERM with targets).
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { spawnSync } from "node:child_process"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as E from "fp-ts/lib/Either.js"
import { iscsiBlockWriter } from "../../src/adapters/iscsi/index.ts"
import { TgtDaemon } from "../../src/adapters/sim/tgt/index.ts"
import { controlSocketPath } from "../../src/adapters/sim/tgt/account.ts"
import { computeLayout, GiB } from "../../src/domain/partition.ts"
import { makeTestImages, sparseFile, type TestImages } from "./block-writer.fixtures.ts"

const alive = (pid: number) => {
  try { process.kill(pid, 0); return true } catch { return false }
}

describe("iSCSI writer: secrets and tgtd lifecycle", () => {
  let dir: string
  let images: TestImages
  let tgtd: TgtDaemon
  const originalPath = process.env.PATH

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "ironledger-iscsi-test-"))
    mkdirSync(join(dir, "images"))
    images = makeTestImages(join(dir, "images"))
  })
  after(async () => {
    process.env.PATH = originalPath
    await tgtd?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test("the CHAP secret never reaches a command line and no secret file is left behind", async () => {
    // Shims first on PATH record every argv, then run the real programs.
    const shims = join(dir, "shims")
    const argvLog = join(dir, "argv.log")
    mkdirSync(shims)
    for (const program of ["qemu-img", "qemu-io", "tgtadm", "mkfs.ext4"]) {
      const real = ["/usr/bin", "/usr/sbin", "/sbin", "/bin"].map((d) => join(d, program)).find((p) => existsSync(p))!
      writeFileSync(join(shims, program), `#!/bin/sh\nprintf '%s\\n' "${program} $*" >> '${argvLog}'\nexec '${real}' "$@"\n`)
      chmodSync(join(shims, program), 0o755)
    }
    process.env.PATH = `${shims}:${originalPath}`
    tgtd = await TgtDaemon.start()
    const secret = "a-secret-that-must-stay-hidden"
    const scratch = join(dir, "scratch")
    mkdirSync(scratch)
    const lun = await tgtd.addTarget({
      iqn: "iqn.2026-11.org.ironledger.test:chap", backingFile: join(dir, "disk.img"), sizeBytes: 4 * GiB,
      chap: { user: "deployer", secret: Redacted.make(secret) },
    })
    const layout = computeLayout({ rootGb: 1, swapMb: 64, ephemeralGb: 1, diskBytes: 4 * GiB })
    assert.ok(E.isRight(layout))
    const writer = iscsiBlockWriter({ scratchDir: scratch })
    const result = await Effect.runPromise(writer.writeImage({ target: lun.blockTarget, layout: layout.right, imagePath: images.rootA, preserveEphemeral: false }))
    assert.equal(result.rootUuid, images.rootAUuid)
    await Effect.runPromise(writer.wipe(lun.blockTarget))

    const argv = readFileSync(argvLog, "utf8")
    assert.match(argv, /qemu-img convert .*password-secret=chap0/, "qemu was given the secret by reference")
    assert.match(argv, /tgtadm .*--mode account --tid \d+ --user deployer/, "the account was bound with tgtadm")
    assert.ok(!argv.includes(secret), "no command line held the secret")
    assert.deepEqual(readdirSync(scratch), [], "the scratch directories (and the secret file) are gone")
  })

  test("an interrupted write kills its qemu-img and removes its scratch directory", async () => {
    process.env.PATH = originalPath
    tgtd ??= await TgtDaemon.start()
    const iqn = "iqn.2026-11.org.ironledger.test:interrupted"
    const lun = await tgtd.addTarget({ iqn, backingFile: join(dir, "interrupted.img"), sizeBytes: 4 * GiB })
    const big = join(dir, "big.raw")
    sparseFile(big, 1000 * 1024 * 1024) // zeros still have to cross the wire: seconds of work
    const layout = computeLayout({ rootGb: 1, swapMb: 0, ephemeralGb: 0, diskBytes: 4 * GiB })
    assert.ok(E.isRight(layout))
    const scratch = join(dir, "scratch-interrupted")
    mkdirSync(scratch)
    const copying = () => spawnSync("pgrep", ["-f", `qemu-img convert.*${iqn}`], { encoding: "utf8" }).stdout.trim()
    const fiber = Effect.runFork(iscsiBlockWriter({ scratchDir: scratch }).writeImage({
      target: lun.blockTarget, layout: layout.right, imagePath: big, preserveEphemeral: false,
    }))
    const deadline = Date.now() + 10_000
    while (copying() === "" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    assert.notEqual(copying(), "", "the image copy was running")
    await Effect.runPromise(Fiber.interrupt(fiber))
    assert.equal(copying(), "", "no qemu-img is left writing")
    assert.deepEqual(readdirSync(scratch), [], "the scratch directory is removed")
  })

  test("scratch directories of a killed process (a CHAP secret inside) are swept", async () => {
    process.env.PATH = originalPath
    tgtd ??= await TgtDaemon.start()
    const parent = join(dir, "scratch-swept")
    mkdirSync(parent)
    const dead = spawnSync("true").pid!
    const stale = join(parent, `ironledger-disk-${dead}-abc123`)
    const live = join(parent, `ironledger-disk-${process.ppid}-def456`)
    for (const d of [stale, live]) {
      mkdirSync(d)
      writeFileSync(join(d, "chap-secret"), "left behind", { mode: 0o600 })
    }
    const lun = await tgtd.addTarget({ iqn: "iqn.2026-11.org.ironledger.test:swept", backingFile: join(dir, "swept.img"), sizeBytes: GiB })
    await Effect.runPromise(iscsiBlockWriter({ scratchDir: parent }).wipe(lun.blockTarget))
    assert.ok(!existsSync(stale), "the dead process's directory is gone")
    assert.ok(existsSync(live), "a live process's directory is left alone")
  })

  test("tgtd stops with targets present, leaving no process or control socket", async () => {
    process.env.PATH = originalPath
    const daemon = await TgtDaemon.start()
    await daemon.addTarget({ iqn: "iqn.2026-11.org.ironledger.test:stop", backingFile: join(dir, "stop.img"), sizeBytes: GiB })
    assert.ok(alive(daemon.pid))
    assert.ok(existsSync(controlSocketPath(daemon.controlPort)))
    const started = Date.now()
    await daemon.stop()
    assert.ok(Date.now() - started < 7000, "stopped within its bound")
    assert.ok(!alive(daemon.pid), "tgtd is gone")
    assert.ok(!existsSync(controlSocketPath(daemon.controlPort)), "its control socket is removed")
    await daemon.stop() // idempotent
  })

  test("a second tgtd on a live control port is refused and the first keeps serving", async () => {
    const first = await TgtDaemon.start()
    try {
      await assert.rejects(TgtDaemon.start({ controlPort: first.controlPort }), /control port \d+ is in use/)
      const lun = await first.addTarget({ iqn: "iqn.2026-11.org.ironledger.test:first", backingFile: join(dir, "first.img"), sizeBytes: GiB })
      await Effect.runPromise(iscsiBlockWriter({ scratchDir: dir }).wipe(lun.blockTarget))
    } finally {
      await first.stop()
    }
  })
})
