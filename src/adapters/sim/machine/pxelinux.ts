// Reading a pxelinux config the way PXELINUX does: `default <label>`, then `label` blocks with
// `kernel`/`linux`, `append` (kernel arguments, `initrd=` among them), `initrd` or `localboot`.
// Keywords are case-insensitive; everything else (prompt, timeout, ipappend, menu ...) is ignored.

export interface PxeLabel {
  readonly name: string
  readonly kernel: string | null
  readonly initrd: string | null
  /** Kernel arguments, in order, as written (`append`). */
  readonly append: string
  /** `localboot N`: boot the local disk instead of a kernel. */
  readonly localboot: boolean
}

export interface PxeConfig {
  readonly defaultLabel: string | null
  readonly labels: ReadonlyMap<string, PxeLabel>
}

interface Draft { name: string; kernel: string | null; initrd: string | null; append: string; localboot: boolean }

export const parsePxeConfig = (text: string): PxeConfig => {
  let defaultLabel: string | null = null
  const labels = new Map<string, PxeLabel>()
  let current: Draft | null = null
  const close = () => {
    if (current !== null) {
      const initrd = current.initrd ?? kernelArgs(current.append).get("initrd") ?? null
      labels.set(current.name, { ...current, initrd })
    }
  }
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) continue
    const space = line.search(/\s/)
    const keyword = (space < 0 ? line : line.slice(0, space)).toLowerCase()
    const rest = space < 0 ? "" : line.slice(space).trim()
    switch (keyword) {
      case "default": defaultLabel = rest.split(/\s+/)[0] ?? null; break
      case "label":
        close()
        current = { name: rest, kernel: null, initrd: null, append: "", localboot: false }
        break
      case "kernel": case "linux": if (current !== null) current.kernel = rest; break
      case "initrd": if (current !== null) current.initrd = rest; break
      case "append": if (current !== null) current.append = rest; break
      case "localboot": if (current !== null) current.localboot = true; break
      default: break
    }
  }
  close()
  return { defaultLabel, labels }
}

/** `key=value` kernel arguments (the last one wins); bare words map to "". */
export const kernelArgs = (append: string): ReadonlyMap<string, string> => {
  const args = new Map<string, string>()
  for (const word of append.split(/\s+/)) {
    if (word === "") continue
    const eq = word.indexOf("=")
    if (eq < 0) args.set(word, "")
    else args.set(word.slice(0, eq), word.slice(eq + 1))
  }
  return args
}

/** The label PXELINUX would boot, or why there is none. */
export const bootLabel = (config: PxeConfig): PxeLabel | string => {
  if (config.defaultLabel === null) return "the PXE config has no `default` line"
  const label = config.labels.get(config.defaultLabel)
  if (label === undefined) return `the PXE config's default label "${config.defaultLabel}" is not defined`
  if (!label.localboot && label.kernel === null) return `label "${label.name}" has neither a kernel nor localboot`
  return label
}

/** A path as PXELINUX asks the TFTP server for it: relative to the TFTP root. */
export const tftpPath = (path: string) => path.replace(/^\/+/, "")
