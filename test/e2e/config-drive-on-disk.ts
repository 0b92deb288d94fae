// Reads a simulated machine's disk back as cloud-init's ConfigDrive source finds a config drive: the
// partition labelled config-2 (sfdisk, blkid) and the files of the ISO9660 in it (isoinfo, Rock
// Ridge names). Shared by the end-to-end tests that deploy with a config drive.
import { execFileSync, spawnSync } from "node:child_process"
import { randomUUID } from "node:crypto"
import { rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { readAt } from "../../src/adapters/sim/machine/disk.ts"

const run = (cmd: string, args: Array<string>, input?: string) =>
  execFileSync(cmd, args, { encoding: "utf8", env: { ...process.env, LC_ALL: "C" }, ...(input === undefined ? {} : { input }) })

/** A small whole-disk image with an MBR and one partition: room for the drive at the disk's end. */
export const wholeDiskImage = (path: string): string => {
  run("truncate", ["-s", "8M", path])
  run("sfdisk", ["-q", path], "label: dos\nstart=2048, size=12288, type=83\n")
  return path
}

/** blkid's view of a byte range; empty when it finds no filesystem there (its exit status 2). */
const probe = (disk: string, offset: number, size: number): string => {
  const r = spawnSync("blkid", ["-p", "-o", "export", "--offset", String(offset), "--size", String(size), disk], { encoding: "utf8" })
  if (r.status !== 0 && r.status !== 2) throw new Error(`blkid failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

export interface ConfigDriveSeen {
  readonly meta: Record<string, unknown>
  /** openstack/latest/user_data; empty when the drive has none. */
  readonly userData: string
}

/** The config-2 filesystem on the disk; fails naming the partitions when there is none. */
export const configDriveOn = (disk: string, scratch: string): ConfigDriveSeen => {
  const parts = JSON.parse(run("sfdisk", ["--json", disk])).partitiontable.partitions as Array<{ start: number; size: number }>
  for (const p of parts) {
    const blkid = probe(disk, p.start * 512, p.size * 512)
    if (!/^LABEL=config-2$/m.test(blkid) || !/^TYPE=iso9660$/m.test(blkid)) continue
    const iso = join(scratch, `config-2-${randomUUID()}.iso`)
    writeFileSync(iso, readAt(disk, p.start * 512, p.size * 512))
    try {
      const file = (path: string) => run("isoinfo", ["-R", "-i", iso, "-x", path])
      return { meta: JSON.parse(file("/openstack/latest/meta_data.json")) as Record<string, unknown>, userData: file("/openstack/latest/user_data") }
    } finally {
      rmSync(iso)
    }
  }
  throw new Error(`no config-2 filesystem on ${disk}: partitions ${JSON.stringify(parts)}`)
}
