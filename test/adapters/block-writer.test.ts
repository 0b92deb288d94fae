// Runs the BlockWriter contract against the iSCSI adapter (real tgtd targets on loopback, written
// through qemu's userspace libiscsi) and against the simulated writer (local files).
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Redacted from "effect/Redacted"
import { iscsiBlockWriterLayer } from "../../src/adapters/iscsi/index.ts"
import { SimDisks, simBlockWriterLayer } from "../../src/adapters/sim/block.ts"
import { TgtDaemon } from "../../src/adapters/sim/tgt/index.ts"
import type { BlockTarget } from "../../src/ports/block-writer.ts"
import { blockWriterContract } from "./block-writer.contract.ts"
import { sparseFile } from "./block-writer.fixtures.ts"

blockWriterContract("iSCSI (tgtd + qemu-img/libiscsi)", async () => {
  const tgtd = await TgtDaemon.start()
  const dir = mkdtempSync(join(tmpdir(), "ironledger-bw-iscsi-"))
  let n = 0
  return {
    layer: iscsiBlockWriterLayer({ scratchDir: dir }),
    newDisk: async (sizeBytes, chap) => {
      n++
      const path = join(dir, `disk${n}.img`)
      const lun = await tgtd.addTarget({
        iqn: `iqn.2026-11.org.ironledger.test:disk${n}`,
        backingFile: path,
        sizeBytes,
        ...(chap ? { chap: { user: `${chap.user}${n}`, secret: Redacted.make(chap.secret) } } : {}),
      })
      return { target: lun.blockTarget, path }
    },
    unknownTarget: { portal: tgtd.address, port: tgtd.port, iqn: "iqn.2026-11.org.ironledger.test:nobody", lun: 1 },
    close: async () => {
      await tgtd.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

blockWriterContract("simulated (local disk files)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ironledger-bw-sim-"))
  const disks = new SimDisks()
  let n = 0
  return {
    layer: simBlockWriterLayer(disks, { scratchDir: dir }),
    newDisk: async (sizeBytes, chap) => {
      n++
      const path = join(dir, `disk${n}.img`)
      sparseFile(path, sizeBytes)
      const target: BlockTarget = {
        portal: "127.0.0.1", port: 3260, iqn: `iqn.2026-11.org.ironledger.sim:disk${n}`, lun: 1,
        ...(chap ? { chap: { user: `${chap.user}${n}`, secret: Redacted.make(chap.secret) } } : {}),
      }
      disks.attach(target, { path, ...(target.chap ? { chap: target.chap } : {}) })
      return { target, path }
    },
    unknownTarget: { portal: "127.0.0.1", port: 3260, iqn: "iqn.2026-11.org.ironledger.sim:nobody", lun: 1 },
    close: async () => { rmSync(dir, { recursive: true, force: true }) },
  }
})
