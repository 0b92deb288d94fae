// The virtual-media boot ISOs: the deploy kernel and ramdisk with an isolinux config whose default
// label boots them with the kernel command line the PXE config would give (API URL, node, the
// per-deploy key, the boot NIC); after a partition image's deploy, the instance's kernel and
// ramdisk with root=UUID= (the PXE config's "boot" label); for a rescue, the deploy ramdisk in
// rescue mode with the rescue's key (the "rescue" label). Built by genisoimage as El Torito
// (no emulation) CDs.
// isolinux.bin is copied first: -boot-info-table patches the boot file it is given.
import { chmod, copyFile, mkdtemp, rm, writeFile, rename } from "node:fs/promises"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { isArgValue } from "../pxe/pxelinux-config.ts"
import { runCommand } from "../iscsi/process.ts"

export const ISOLINUX_BIN = "/usr/lib/ISOLINUX/isolinux.bin"
export const LDLINUX_C32 = "/usr/lib/syslinux/modules/bios/ldlinux.c32"

export interface BootIsoSpec {
  readonly nodeId: string
  readonly deployId: string
  /** The per-deploy key in plain text: only inside the ISO, never in the log. */
  readonly deployKey: string
  readonly iscsiIqn: string
  readonly apiUrl: string
  /** The NIC the ramdisk takes its address from (PXELINUX's ipappend gives it as BOOTIF). */
  readonly bootMac: string | null
  readonly appendParams: string
}

/** The kernel arguments of the deploy label, in the PXE config's order; a value that could end its argument is refused. */
export const bootIsoArgs = (s: BootIsoSpec): ReadonlyArray<string> | string => {
  const args = [
    "initrd=/initrd", `deployment_id=${s.deployId}`, `deployment_key=${s.deployKey}`, `iscsi_target_iqn=${s.iscsiIqn}`,
    `ironic_api_url=${s.apiUrl}`, `node_uuid=${s.nodeId}`, "boot_option=netboot", "troubleshoot=0", "text",
    ...(s.bootMac === null ? [] : [`BOOTIF=01-${s.bootMac.toLowerCase().replace(/:/g, "-")}`]),
    ...s.appendParams.split(" ").filter((w) => w !== ""),
  ]
  const bad = args.find((a) => !isArgValue(a))
  return bad === undefined ? args : `kernel argument ${JSON.stringify(bad)} is not a plain value`
}

/** The instance's kernel arguments: its root partition, as the PXE config's "boot" label. */
export const instanceIsoArgs = (rootUuid: string, appendParams: string): ReadonlyArray<string> | string => {
  const args = ["initrd=/initrd", `root=UUID=${rootUuid}`, "ro", "text", ...appendParams.split(" ").filter((w) => w !== "")]
  const bad = args.find((a) => !isArgValue(a))
  return bad === undefined ? args : `kernel argument ${JSON.stringify(bad)} is not a plain value`
}

/**
 * The rescue label's kernel arguments, as the PXE config's: the deploy ramdisk in rescue mode with
 * the rescue's own key (never the deploy key, never the password: the ramdisk fetches the
 * password's hash with the key, ADR 0095), plus the boot NIC.
 */
export const rescueIsoArgs = (s: { readonly nodeId: string; readonly rescueKey: string | null; readonly apiUrl: string; readonly bootMac: string | null; readonly appendParams: string }): ReadonlyArray<string> | string => {
  const args = [
    "initrd=/initrd", "rescue_mode=1", ...(s.rescueKey === null ? [] : [`deployment_key=${s.rescueKey}`]),
    `ironic_api_url=${s.apiUrl}`, `node_uuid=${s.nodeId}`, "text",
    ...(s.bootMac === null ? [] : [`BOOTIF=01-${s.bootMac.toLowerCase().replace(/:/g, "-")}`]),
    ...s.appendParams.split(" ").filter((w) => w !== ""),
  ]
  const bad = args.find((a) => !isArgValue(a))
  return bad === undefined ? args : `kernel argument ${JSON.stringify(bad)} is not a plain value`
}

type IsoLabel = "deploy" | "boot" | "rescue"

export const isolinuxConfig = (nodeId: string, label: IsoLabel, args: ReadonlyArray<string>) => [
  `# ironledger: virtual-media boot of node ${nodeId}. Written by the service.`,
  `default ${label}`,
  `label ${label}`,
  "  kernel /vmlinuz",
  `  append ${args.join(" ")}`,
  "",
].join("\n")

/** Builds the deploy ISO at `out` (mode 0600: it holds the key), through a scratch directory next to it. */
export const buildBootIso = (spec: BootIsoSpec, kernel: string, ramdisk: string, out: string, scratchParent: string) => {
  const args = bootIsoArgs(spec)
  return typeof args === "string" ? Effect.fail({ message: `boot ISO of node ${spec.nodeId}: ${args}` })
    : buildIso(spec.nodeId, "deploy", args, kernel, ramdisk, out, scratchParent)
}

/** Builds the rescue ISO at `out` (mode 0600: it holds the rescue key). */
export const buildRescueIso = (spec: Parameters<typeof rescueIsoArgs>[0], kernel: string, ramdisk: string, out: string, scratchParent: string) => {
  const args = rescueIsoArgs(spec)
  return typeof args === "string" ? Effect.fail({ message: `rescue ISO of node ${spec.nodeId}: ${args}` })
    : buildIso(spec.nodeId, "rescue", args, kernel, ramdisk, out, scratchParent)
}

/** Builds the ISO that boots the instance's kernel and ramdisk on its root partition. */
export const buildInstanceIso = (nodeId: string, rootUuid: string, appendParams: string, kernel: string, ramdisk: string, out: string, scratchParent: string) => {
  const args = instanceIsoArgs(rootUuid, appendParams)
  return typeof args === "string" ? Effect.fail({ message: `boot ISO of node ${nodeId}: ${args}` })
    : buildIso(nodeId, "boot", args, kernel, ramdisk, out, scratchParent)
}

const buildIso = (nodeId: string, label: IsoLabel, args: ReadonlyArray<string>, kernel: string, ramdisk: string, out: string, scratchParent: string) =>
  Effect.gen(function* () {
    const fail = (what: string) => (e: unknown) => ({ message: `boot ISO of node ${nodeId}: ${what}: ${(e as Error).message ?? String(e)}` })
    yield* Effect.acquireUseRelease(
      Effect.tryPromise({ try: () => mkdtemp(join(scratchParent, ".iso-")), catch: fail("scratch directory") }),
      (dir) => Effect.gen(function* () {
        yield* Effect.tryPromise({
          try: async () => {
            await copyFile(ISOLINUX_BIN, join(dir, "isolinux.bin"))
            await writeFile(join(dir, "isolinux.cfg"), isolinuxConfig(nodeId, label, args), { mode: 0o600 })
          },
          catch: fail(`staging isolinux (is the isolinux package installed?)`),
        })
        const iso = join(dir, "boot.iso")
        yield* runCommand("genisoimage", [
          "-quiet", "-o", iso, "-V", `IRONLEDGER_${label.toUpperCase()}`, "-J", "-r",
          "-b", "isolinux.bin", "-c", "boot.cat", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
          "-graft-points",
          `isolinux.bin=${join(dir, "isolinux.bin")}`, `ldlinux.c32=${LDLINUX_C32}`, `isolinux.cfg=${join(dir, "isolinux.cfg")}`,
          `vmlinuz=${kernel}`, `initrd=${ramdisk}`,
        ], { timeoutMs: 120_000 }).pipe(Effect.mapError((e) => ({ message: `boot ISO of node ${nodeId}: genisoimage: ${e.reason}` })))
        yield* Effect.tryPromise({ try: async () => { await chmod(iso, 0o600); await rename(iso, out) }, catch: fail("keeping the ISO") })
      }),
      (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
    )
  })
