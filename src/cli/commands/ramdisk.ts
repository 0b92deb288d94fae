// ironledger ramdisk build: the deploy kernel and initramfs from Debian packages, registered in the
// image store of the state directory as the default deploy images (what `serve` uses with the
// same --db/--state-dir). Needs apt-get and dpkg; the packages are cached.
import { copyFile, mkdir } from "node:fs/promises"
import { join, resolve } from "node:path"
import * as Effect from "effect/Effect"
import { makeFsImageStore } from "../../adapters/images/fs-image-store.ts"
import { buildRamdisk } from "../../adapters/ramdisk/build/build.ts"
import { registerRamdisk, writeDefaultDeployImages } from "../../adapters/ramdisk/build/register.ts"
import { buildToolsBundle } from "../../adapters/ramdisk/tools/bundle.ts"
import { registerToolsBundle } from "../../adapters/ramdisk/tools/register.ts"
import { humanBytes, record } from "../output.ts"
import { noMorePositionals, type Command } from "../command.ts"

export const ramdiskBuildCommand: Command = {
  words: ["ramdisk", "build"],
  usage: "ramdisk build [--out DIR] [--cache DIR] [--db FILE] [--state-dir DIR] [--tools]   (deploy kernel + initramfs from Debian packages; --tools: the burn-in tools bundle too)",
  description: "Build the deploy kernel and initramfs from Debian packages and register them as the default deploy images of the state directory.",
  examples: ["ramdisk build --db ironledger.db", "ramdisk build --out ./deploy-images --json"],
  options: { out: "string", cache: "string", db: "string", "state-dir": "string", tools: "flag" },
  run: async (args, env) => {
    noMorePositionals(args, 0)
    const db = resolve(args.strings["db"] ?? "ironledger.db")
    const stateDir = resolve(args.strings["state-dir"] ?? `${db}.state`)
    const cacheDir = resolve(args.strings["cache"] ?? join(stateDir, "ramdisk-cache"))
    const started = performance.now()
    const built = await buildRamdisk({ cacheDir, log: env.note })
    const storeRoot = join(stateDir, "images")
    const store = await makeFsImageStore({ root: storeRoot })
    const ids = await Effect.runPromise(registerRamdisk(store, built))
    await writeDefaultDeployImages(storeRoot, { ...ids, buildId: built.buildId })
    // The burn-in tools the ramdisk fetches over HTTP (ADR 0100).
    const tools = args.flags.has("tools") ? await registerToolsBundle(storeRoot, await buildToolsBundle({ cacheDir, log: env.note })) : null
    const out = args.strings["out"]
    if (out !== undefined) {
      await mkdir(resolve(out), { recursive: true })
      await copyFile(built.kernel, join(resolve(out), "deploy_kernel"))
      await copyFile(built.initramfs, join(resolve(out), "deploy_ramdisk"))
    }
    record(env.out, {
      kernel_version: built.kernelVersion,
      deploy_kernel: built.kernelSha256,
      deploy_kernel_size: env.out.json ? built.kernelBytes : humanBytes(built.kernelBytes),
      deploy_ramdisk: built.initramfsSha256,
      deploy_ramdisk_size: env.out.json ? built.initramfsBytes : humanBytes(built.initramfsBytes),
      // ipmitool for discovery's in-band BMC address, loaded by the discovery boot only (ADR 0090).
      ipmi_addon_size: env.out.json ? built.ipmiAddonBytes : humanBytes(built.ipmiAddonBytes),
      build_id: built.buildId,
      cached: built.cached,
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      image_store: storeRoot,
      ...(tools === null ? {} : { tools_bundle: tools.sha256, tools_bundle_size: env.out.json ? tools.bytes : humanBytes(tools.bytes) }),
      ...(out === undefined ? {} : { out: resolve(out) }),
    })
  },
}
