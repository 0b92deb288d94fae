// A user image for real VMs (the tests; `serve --vms` offers it as a sample), built from Debian
// packages like the deploy ramdisk: a partition image (ext4 holding busybox and an /sbin/init that prints a marker line with the run's nonce on
// the console) plus the instance kernel and ramdisk that boot it, the ramdisk mounting root=UUID=...
// from the disk before handing over to that init. So the marker proves the root partition written
// by the deploy was mounted and run. With softwareRaid, the instance ramdisk also carries mdadm and
// the md modules and assembles every array before it looks for the root (ADR 0130): a partition
// image deployed onto a software RAID boots from the array, as a real image with mdadm does.
import { chmod, copyFile, mkdir, readdir, rm, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { cpioOf, gzipInitramfs } from "../ramdisk/build/cpio.ts"
import { installWithLibraries } from "../ramdisk/build/build.ts"
import { fetchPackages, resolveMetaPackage } from "../ramdisk/build/debian.ts"
import { resolveModules } from "../ramdisk/build/modules.ts"
import { run } from "../ramdisk/build/run.ts"

export interface UserImage {
  /** Raw ext4 filesystem: the partition image. */
  readonly root: string
  readonly kernel: string
  readonly ramdisk: string
  /** The line its init prints. */
  readonly marker: string
}

// crc32c_generic: ext4 needs "crc32c" to mount and nothing here can load a module by alias.
const BOOT_MODULES = ["virtio_pci", "virtio_blk", "ext4", "crc32c_generic"]
/** Software RAID: the levels raid.create_configuration builds (md_mod comes as their dependency). */
const RAID_MODULES = ["raid1", "raid0"]
/** mdadm and the packages its libraries come from. */
const RAID_PACKAGES = ["mdadm", "libc6", "libudev1", "libcap2"]
// Arrays of any host (the ramdisk that built them has another name); members are any partition or disk.
const MDADM_CONF = "DEVICE partitions\nHOMEHOST <ignore>\nAUTO +all\n"
/** What the root's init loads to read the config drive. */
const ROOT_MODULES = ["isofs"]

const bootInit = (kernelVersion: string) => `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod "/lib/modules/${kernelVersion}/$m"; done < /etc/modules
if [ -x /sbin/mdadm ]; then
  # The array the root is on: assembled, then its partition table read (no udev here to ask for it).
  mkdir -p /run/mdadm
  /sbin/mdadm --assemble --scan --run 2>&1 | sed 's/^/user-image boot: /'
  for md in /sys/block/md*; do [ -e "$md" ] && blockdev --rereadpt "/dev/\${md##*/}"; done
fi
root=
for w in $(cat /proc/cmdline); do case "$w" in root=*) root=\${w#root=} ;; esac; done
n=0
until dev=$(findfs "$root" 2>/dev/null); do
  n=$((n + 1)); [ $n -gt 100 ] && { echo "user-image boot: no disk with $root"; exec sleep 86400; }
  sleep 0.1
done
mkdir -p /newroot
mount -t ext4 -o ro "$dev" /newroot || exec sleep 86400
echo "user-image boot: root $root is $dev"
exec switch_root /newroot /sbin/init
`

// After the marker, what cloud-init's ConfigDrive source does first: find the filesystem labelled
// config-2, mount it, read openstack/latest/meta_data.json; its uuid goes to the console.
const rootInit = (marker: string, kernelVersion: string) => `#!/bin/busybox sh
echo "${marker}"
b=/bin/busybox
# No redirections to /dev/null: on the read-only root it does not exist before devtmpfs is mounted.
$b mount -t proc proc /proc; $b mount -t devtmpfs devtmpfs /dev
while read -r m; do $b insmod "/lib/modules/${kernelVersion}/$m"; done < /etc/modules
if dev=$($b findfs LABEL=config-2) && $b mount -t iso9660 -o ro "$dev" /mnt; then
  uuid=$($b sed -n 's/.*"uuid": *"\\([^"]*\\)".*/\\1/p' /mnt/openstack/latest/meta_data.json)
  echo "user-image config drive on $dev: meta_data uuid $uuid"
else
  echo "user-image: no config drive"
fi
while :; do $b sleep 3600; done
`

export interface UserImageOptions {
  /** The instance ramdisk assembles software RAID arrays (mdadm, md modules) before it finds the root. */
  readonly softwareRaid?: boolean
}

export const buildUserImage = async (cacheDir: string, workDir: string, nonce: string, options: UserImageOptions = {}): Promise<UserImage> => {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(nonce)) throw new Error(`nonce ${JSON.stringify(nonce)}: letters, digits and -`)
  const marker = `ironledger-user-image ${nonce} booted from its root partition`
  const [kernel, busybox] = await fetchPackages(cacheDir, [await resolveMetaPackage("linux-image-amd64"), "busybox-static"])
  const kernelVersion = (await readdir(join(kernel!.root, "lib/modules")))[0]!
  await rm(workDir, { recursive: true, force: true })

  // The instance ramdisk.
  const initrd = join(workDir, "initrd")
  const modulesDir = join(kernel!.root, "lib/modules", kernelVersion)
  const { ordered } = await resolveModules(modulesDir, options.softwareRaid === true ? [...BOOT_MODULES, ...RAID_MODULES] : BOOT_MODULES)
  for (const rel of ordered) {
    await mkdir(dirname(join(initrd, "lib/modules", kernelVersion, rel)), { recursive: true })
    await copyFile(join(modulesDir, rel), join(initrd, "lib/modules", kernelVersion, rel))
  }
  for (const d of ["bin", "etc", "proc", "sys", "dev"]) await mkdir(join(initrd, d), { recursive: true })
  await copyFile(join(busybox!.root, "bin/busybox"), join(initrd, "bin/busybox"))
  await writeFile(join(initrd, "etc/modules"), ordered.join("\n") + "\n")
  if (options.softwareRaid === true) {
    const [mdadm, ...libs] = await fetchPackages(cacheDir, RAID_PACKAGES)
    await installWithLibraries(initrd, [[join(mdadm!.root, "sbin/mdadm"), "sbin/mdadm"]], libs)
    await mkdir(join(initrd, "etc/mdadm"), { recursive: true })
    await writeFile(join(initrd, "etc/mdadm/mdadm.conf"), MDADM_CONF)
    await chmod(join(initrd, "sbin/mdadm"), 0o755)
  }
  await writeFile(join(initrd, "init"), bootInit(kernelVersion))
  await chmod(join(initrd, "init"), 0o755)
  await chmod(join(initrd, "bin/busybox"), 0o755)
  const ramdisk = join(workDir, "ramdisk.gz")
  await writeFile(ramdisk, gzipInitramfs(await cpioOf(initrd)))
  const kernelFile = join(workDir, "vmlinuz")
  await copyFile(join(kernel!.root, "boot", `vmlinuz-${kernelVersion}`), kernelFile)

  // The root filesystem, populated without mounting anything (mkfs.ext4 -d).
  const tree = join(workDir, "rootfs")
  for (const d of ["bin", "sbin", "proc", "sys", "dev", "tmp", "mnt", "etc"]) await mkdir(join(tree, d), { recursive: true })
  await copyFile(join(busybox!.root, "bin/busybox"), join(tree, "bin/busybox"))
  await chmod(join(tree, "bin/busybox"), 0o755)
  const rootModules = await resolveModules(modulesDir, ROOT_MODULES)
  for (const rel of rootModules.ordered) {
    await mkdir(dirname(join(tree, "lib/modules", kernelVersion, rel)), { recursive: true })
    await copyFile(join(modulesDir, rel), join(tree, "lib/modules", kernelVersion, rel))
  }
  await writeFile(join(tree, "etc/modules"), rootModules.ordered.join("\n") + "\n")
  await writeFile(join(tree, "sbin/init"), rootInit(marker, kernelVersion))
  await chmod(join(tree, "sbin/init"), 0o755)
  const root = join(workDir, "root.ext4")
  await run("truncate", ["-s", "8M", root])
  await run("mkfs.ext4", ["-q", "-F", "-L", "root", "-d", tree, root])
  return { root, kernel: kernelFile, ramdisk, marker }
}
