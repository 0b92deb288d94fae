// A whole-disk user image for UEFI machines (the tests' fixture, built from Debian packages like the
// partition image it wraps): a GPT disk with an EFI System Partition, where systemd-boot (package
// systemd-boot-efi) is the removable-media loader \EFI\BOOT\BOOTX64.EFI and boots the instance
// kernel and ramdisk with root=UUID= of the second partition, the partition image's ext4 whose
// init prints the marker. No boot config outside the disk is needed: OVMF finds the loader itself.
// Built without mounting anything: sfdisk on a file, mkfs.fat and mtools on the ESP's image, then
// both partitions copied into place.
import { mkdir, open, readFile, rm, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { fetchPackages } from "../ramdisk/build/debian.ts"
import { run } from "../ramdisk/build/run.ts"
import type { UserImage } from "./user-image.ts"

export interface WholeDiskImage {
  /** Raw GPT disk image. */
  readonly disk: string
  readonly bytes: number
  /** The line the image's init prints (the partition image's marker). */
  readonly marker: string
}

const MiB = 1024 * 1024
const ESP_MIB = 14

/** Copies `source` into `target` at `offset` bytes, in place. */
const writeAt = async (target: string, source: string, offset: number) => {
  const data = await readFile(source)
  const file = await open(target, "r+")
  try { await file.write(data, 0, data.length, offset) } finally { await file.close() }
}

export const buildWholeDiskImage = async (cacheDir: string, workDir: string, partition: UserImage): Promise<WholeDiskImage> => {
  const [sdboot] = await fetchPackages(cacheDir, ["systemd-boot-efi"])
  const loader = join(sdboot!.root, "usr/lib/systemd/boot/efi/systemd-bootx64.efi")
  const rootUuid = (await run("blkid", ["-p", "-o", "value", "-s", "UUID", partition.root])).trim()
  if (!/^[0-9a-f-]{36}$/.test(rootUuid)) throw new Error(`the partition image has no filesystem UUID (${rootUuid})`)

  // The ESP: the loader, its entry, the kernel and the ramdisk.
  const esp = join(workDir, "esp.fat")
  await rm(esp, { force: true })
  await run("mkfs.fat", ["-C", "-F", "16", "-n", "ESP", esp, String(ESP_MIB * 1024)])
  const files = join(workDir, "esp-files")
  await rm(files, { recursive: true, force: true })
  await mkdir(join(files, "loader/entries"), { recursive: true })
  await writeFile(join(files, "loader/loader.conf"), "default ironledger.conf\ntimeout 0\n")
  await writeFile(join(files, "loader/entries/ironledger.conf"),
    `title ironledger user image\nlinux /vmlinuz\ninitrd /initrd\noptions root=UUID=${rootUuid} ro console=ttyS0\n`)
  const m = (args: ReadonlyArray<string>) => run(args[0]!, ["-i", esp, ...args.slice(1)])
  await m(["mmd", "::/EFI", "::/EFI/BOOT", "::/loader", "::/loader/entries"])
  await m(["mcopy", loader, "::/EFI/BOOT/BOOTX64.EFI"])
  await m(["mcopy", partition.kernel, "::/vmlinuz"])
  await m(["mcopy", partition.ramdisk, "::/initrd"])
  await m(["mcopy", join(files, "loader/loader.conf"), "::/loader/loader.conf"])
  await m(["mcopy", join(files, "loader/entries/ironledger.conf"), "::/loader/entries/ironledger.conf"])

  // The disk: GPT, ESP from 1 MiB, the root right after it, 1 MiB left for the backup GPT.
  const rootBytes = (await stat(partition.root)).size
  const rootMib = Math.ceil(rootBytes / MiB)
  const disk = join(workDir, "whole-disk.img")
  await rm(disk, { force: true })
  await run("truncate", ["-s", `${(1 + ESP_MIB + rootMib + 1) * MiB}`, disk])
  const table = [
    "label: gpt",
    `start=2048, size=${ESP_MIB * 2048}, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System"`,
    `start=${(1 + ESP_MIB) * 2048}, size=${rootMib * 2048}, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"`,
    "",
  ].join("\n")
  await writeFile(join(workDir, "table.sfdisk"), table)
  await run("sh", ["-c", `sfdisk --quiet "$0" < "$1"`, disk, join(workDir, "table.sfdisk")])
  await writeAt(disk, esp, MiB)
  await writeAt(disk, partition.root, (1 + ESP_MIB) * MiB)
  await rm(files, { recursive: true, force: true })
  await rm(esp, { force: true })
  return { disk, bytes: (await stat(disk)).size, marker: partition.marker }
}
