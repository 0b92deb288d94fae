// The Redfish BMC emulator: one HTTP(S) service fronting simulated machines, as a multi-node BMC
// (or a sushy-tools style emulator) does. Basic auth or a session token on everything but the
// service root and session login; JSON errors in Redfish's shape; TLS with a certificate given.
import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto"
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { createServer as createHttps } from "node:https"
import type { AddressInfo } from "node:net"
import { createWriteStream } from "node:fs"
import { mkdir, rm } from "node:fs/promises"
import { join } from "node:path"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import type { EmulatedMachine } from "./machine.ts"
import * as R from "./resources.ts"
import {
  bootEnabled, bootModes, indicatorLeds, bootTargets, checkBiosChanges, defaultBios, newSystem, reset, resetTypes, setBootOverride,
  type SystemState,
} from "./system.ts"
import type { TlsIdentity } from "./tls.ts"

export interface RedfishEmulatorOptions {
  readonly machines: ReadonlyArray<EmulatedMachine>
  readonly username: string
  readonly password: string
  /** HTTPS with this identity; without it, plain HTTP. */
  readonly tls?: TlsIdentity
  readonly host?: string
  /** 0: a free one. */
  readonly port?: number
  readonly log?: (line: string) => void
  /**
   * Where an inserted medium is fetched to (`<system>.iso`), as a BMC fetches the image it is
   * given, and handed to the machine as its CD; without it, InsertMedia is only recorded.
   */
  readonly mediaDir?: string
}

export interface RedfishEmulator {
  /** https://host:port (or http://). */
  readonly url: string
  readonly systems: ReadonlyMap<string, SystemState>
  readonly close: () => Promise<void>
}

class Refusal extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, message: string, code = "Base.1.8.GeneralError") {
    super(message)
    this.status = status
    this.code = code
  }
}

const same = (a: string, b: string) => {
  const x = Buffer.from(a), y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

const readJson = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req) {
    size += (c as Buffer).length
    if (size > 1 << 20) throw new Refusal(413, "Request body too large.")
    chunks.push(c as Buffer)
  }
  const text = Buffer.concat(chunks).toString("utf8")
  if (text.trim() === "") return {}
  let body: unknown
  try { body = JSON.parse(text) } catch { throw new Refusal(400, "The request body is not valid JSON.", "Base.1.8.MalformedJSON") }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Refusal(400, "The request body must be a JSON object.", "Base.1.8.MalformedJSON")
  return body as Record<string, unknown>
}

const oneOf = <T extends string>(allowed: ReadonlyArray<T>, value: unknown, what: string): T => {
  if (typeof value === "string" && (allowed as ReadonlyArray<string>).includes(value)) return value as T
  throw new Refusal(400, `${what} ${JSON.stringify(value)} is not one of ${allowed.join(", ")}.`, "Base.1.8.PropertyValueNotInList")
}

/** A firmware image: its first line says "ironledger-firmware <COMPONENT> <VERSION>". */
const readFirmwareImage = async (uri: string): Promise<{ component: string; version: string }> => {
  let url: URL
  try { url = new URL(uri) } catch { throw new Refusal(400, `ImageURI ${JSON.stringify(uri)} is not a URL.`) }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Refusal(400, "ImageURI must be an http or https URL.")
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) }).catch((e: Error) => {
    throw new Refusal(400, `ImageURI ${uri} could not be fetched: ${e.message}`)
  })
  if (!response.ok) throw new Refusal(400, `ImageURI ${uri} answered HTTP ${response.status}.`)
  const head = (await response.text()).split("\n", 1)[0] ?? ""
  const m = /^ironledger-firmware ([A-Za-z0-9]+) ([0-9][0-9A-Za-z.+-]*)$/.exec(head.trim())
  if (m === null) throw new Refusal(400, `ImageURI ${uri} is not a firmware image of this server (no "ironledger-firmware COMPONENT VERSION" header).`)
  return { component: m[1]!, version: m[2]! }
}

/** Fetches a virtual medium's image to a local file, as a BMC does when it mounts it. */
const fetchMedium = async (uri: string, file: string): Promise<void> => {
  let url: URL
  try { url = new URL(uri) } catch { throw new Refusal(400, `Image ${JSON.stringify(uri)} is not a URL.`) }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Refusal(400, "Image must be an http or https URL.")
  const response = await fetch(url, { signal: AbortSignal.timeout(120_000) }).catch((e: Error) => {
    throw new Refusal(400, `Image ${url.origin}${url.pathname.replace(/[^/]{16,}$/, "…")} could not be fetched: ${e.message}`)
  })
  if (!response.ok || response.body === null) throw new Refusal(400, `Image could not be fetched: HTTP ${response.status}.`)
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), createWriteStream(file, { mode: 0o600 }))
}

export const startRedfishEmulator = async (options: RedfishEmulatorOptions): Promise<RedfishEmulator> => {
  const systems = new Map(options.machines.map((m) => [m.id, newSystem(m)]))
  const sessions = new Map<string, { id: string; user: string }>()
  const tasks = new Map<string, ReturnType<typeof R.task>>()
  const serviceUuid = randomUUID()

  const authenticated = (req: IncomingMessage): boolean => {
    const token = req.headers["x-auth-token"]
    if (typeof token === "string") return [...sessions.keys()].some((t) => same(t, token))
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "")
    if (basic === null) return false
    const [user, ...rest] = Buffer.from(basic[1]!, "base64").toString("utf8").split(":")
    return same(user ?? "", options.username) && same(rest.join(":"), options.password)
  }

  const systemOf = (id: string) => {
    const s = systems.get(id)
    if (s === undefined) throw new Refusal(404, `No system ${id}.`, "Base.1.8.ResourceMissingAtURI")
    return s
  }

  const login = (body: Record<string, unknown>, res: ServerResponse) => {
    if (typeof body["UserName"] !== "string" || typeof body["Password"] !== "string") throw new Refusal(400, "UserName and Password are required.", "Base.1.8.PropertyMissing")
    if (!same(body["UserName"], options.username) || !same(body["Password"], options.password)) throw new Refusal(401, "Invalid user name or password.", "Base.1.8.NoValidSession")
    const token = randomBytes(24).toString("hex")
    const id = randomBytes(6).toString("hex")
    sessions.set(token, { id, user: body["UserName"] })
    res.setHeader("X-Auth-Token", token)
    res.setHeader("Location", `${R.ROOT}/SessionService/Sessions/${id}`)
    return { status: 201, body: R.session(id, body["UserName"]) }
  }

  /** A target names a system, or one of its inventory items ("<system>-<component>"). */
  const targetSystem = (target: string): string => {
    const system = /\/Systems\/([^/]+)$/.exec(target)?.[1]
    if (system !== undefined) return system
    const item = /\/FirmwareInventory\/([^/]+)$/.exec(target)?.[1] ?? ""
    return [...systems.keys()].find((id) => item.startsWith(`${id}-`)) ?? target
  }

  const simpleUpdate = async (body: Record<string, unknown>, res: ServerResponse) => {
    if (typeof body["ImageURI"] !== "string") throw new Refusal(400, "ImageURI is required.", "Base.1.8.PropertyMissing")
    const targets = body["Targets"] === undefined ? [] : body["Targets"]
    if (!Array.isArray(targets) || !targets.every((t) => typeof t === "string")) throw new Refusal(400, "Targets must be a list of resource paths.")
    const image = await readFirmwareImage(body["ImageURI"])
    // Targets name systems or their inventory items; none: the only system this BMC manages.
    const ids = targets.length > 0
      ? targets.map(targetSystem)
      : systems.size === 1 ? [...systems.keys()] : (() => { throw new Refusal(400, "Targets is required: this BMC manages several systems.") })()
    for (const id of ids) {
      const c = systemOf(id).firmware.get(image.component)
      if (c === undefined) throw new Refusal(400, `System ${id} has no firmware component ${image.component}.`)
      c.staged = image.version
    }
    const taskId = String(tasks.size + 1)
    tasks.set(taskId, R.task(taskId, "Completed", `${image.component} ${image.version} staged on ${ids.join(", ")}; it takes effect at the next reboot.`))
    options.log?.(`redfish emulator: firmware ${image.component} ${image.version} staged for ${ids.join(", ")}`)
    res.setHeader("Location", `${R.ROOT}/TaskService/Tasks/${taskId}`)
    return { status: 202, body: tasks.get(taskId) }
  }

  type Answer = { status: number; body?: unknown }
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<Answer> => {
    const path = (new URL(req.url ?? "/", "http://x").pathname.replace(/\/+$/, "")) || "/"
    const method = req.method ?? "GET"
    if (path === "/redfish" && method === "GET") return { status: 200, body: { v1: `${R.ROOT}/` } }
    if (path === R.ROOT && method === "GET") return { status: 200, body: R.serviceRoot(serviceUuid) }
    if (path === `${R.ROOT}/SessionService/Sessions` && method === "POST") return login(await readJson(req), res)
    if (!authenticated(req)) {
      res.setHeader("WWW-Authenticate", 'Basic realm="Redfish"')
      throw new Refusal(401, "Authentication required: basic auth or an X-Auth-Token.", "Base.1.8.NoValidSession")
    }
    const seg = path.slice(R.ROOT.length).split("/").filter((x) => x !== "")
    const at = (...pattern: string[]) => pattern.length === seg.length && pattern.every((p, i) => p === "*" || p === seg[i])
    if (method === "GET") {
      if (at("Systems")) return { status: 200, body: R.collection(path, "ComputerSystemCollection", "Computer Systems", [...systems.keys()].map(R.systemPath)) }
      if (at("Systems", "*")) return { status: 200, body: await R.system(systemOf(seg[1]!)) }
      if (at("Systems", "*", "Bios")) return { status: 200, body: R.bios(systemOf(seg[1]!)) }
      if (at("Systems", "*", "Bios", "Settings")) return { status: 200, body: R.biosSettings(systemOf(seg[1]!)) }
      if (at("Managers")) return { status: 200, body: R.collection(path, "ManagerCollection", "Managers", [...systems.keys()].map(R.managerPath)) }
      if (at("Managers", "*")) return { status: 200, body: R.manager(systemOf(seg[1]!)) }
      if (at("Managers", "*", "VirtualMedia")) return { status: 200, body: R.collection(path, "VirtualMediaCollection", "Virtual Media", [`${path}/Cd`]) }
      if (at("Managers", "*", "VirtualMedia", "Cd")) return { status: 200, body: R.virtualMedia(systemOf(seg[1]!)) }
      if (at("SessionService")) return { status: 200, body: R.sessionService() }
      if (at("Registries")) return { status: 200, body: R.collection(path, "MessageRegistryFileCollection", "Registries", [R.registryFile()["@odata.id"]]) }
      if (at("Registries", "BiosAttributeRegistry.v1_0_0")) return { status: 200, body: R.registryFile() }
      if (at("Registries", "BiosAttributeRegistry.v1_0_0", "Registry")) return { status: 200, body: R.biosAttributeRegistry() }
      if (at("SessionService", "Sessions")) return { status: 200, body: R.collection(path, "SessionCollection", "Sessions", [...sessions.values()].map((s) => `${path}/${s.id}`)) }
      if (at("SessionService", "Sessions", "*")) {
        const s = [...sessions.values()].find((x) => x.id === seg[2])
        if (s === undefined) throw new Refusal(404, `No session ${seg[2]}.`, "Base.1.8.ResourceMissingAtURI")
        return { status: 200, body: R.session(s.id, s.user) }
      }
      if (at("UpdateService")) return { status: 200, body: R.updateService() }
      if (at("UpdateService", "FirmwareInventory")) {
        return { status: 200, body: R.collection(path, "SoftwareInventoryCollection", "Firmware Inventory",
          [...systems.values()].flatMap((s) => [...s.firmware.keys()].map((c) => `${path}/${s.machine.id}-${c}`))) }
      }
      if (at("UpdateService", "FirmwareInventory", "*")) {
        for (const s of systems.values()) {
          for (const c of s.firmware.values()) if (seg[2] === `${s.machine.id}-${c.id}`) return { status: 200, body: R.firmwareItem(s.machine.id, c) }
        }
        throw new Refusal(404, `No firmware component ${seg[2]}.`, "Base.1.8.ResourceMissingAtURI")
      }
      if (at("TaskService", "Tasks", "*")) {
        const t = tasks.get(seg[2]!)
        if (t === undefined) throw new Refusal(404, `No task ${seg[2]}.`, "Base.1.8.ResourceMissingAtURI")
        return { status: 200, body: t }
      }
    }
    if (method === "DELETE" && at("SessionService", "Sessions", "*")) {
      for (const [token, s] of sessions) if (s.id === seg[2]) { sessions.delete(token); return { status: 204 } }
      throw new Refusal(404, `No session ${seg[2]}.`, "Base.1.8.ResourceMissingAtURI")
    }
    if (method === "PATCH" && at("Systems", "*")) {
      const s = systemOf(seg[1]!)
      const body = await readJson(req)
      const boot = body["Boot"]
      const others = Object.keys(body).filter((k) => k !== "Boot" && k !== "IndicatorLED")
      if (others.length > 0 || (boot === undefined && body["IndicatorLED"] === undefined)) {
        throw new Refusal(400, "Only Boot and IndicatorLED may be changed on a system.", "Base.1.8.PropertyNotWritable")
      }
      if (body["IndicatorLED"] !== undefined) s.indicatorLed = oneOf(indicatorLeds, body["IndicatorLED"], "IndicatorLED")
      if (boot === undefined) return { status: 204 }
      if (typeof boot !== "object" || boot === null) throw new Refusal(400, "Boot must be an object.", "Base.1.8.PropertyValueTypeError")
      const b = boot as Record<string, unknown>
      const next = {
        enabled: b["BootSourceOverrideEnabled"] === undefined ? s.boot.enabled : oneOf(bootEnabled, b["BootSourceOverrideEnabled"], "BootSourceOverrideEnabled"),
        target: b["BootSourceOverrideTarget"] === undefined ? s.boot.target : oneOf(bootTargets, b["BootSourceOverrideTarget"], "BootSourceOverrideTarget"),
        mode: b["BootSourceOverrideMode"] === undefined ? s.boot.mode : oneOf(bootModes, b["BootSourceOverrideMode"], "BootSourceOverrideMode"),
      }
      // Setting a target without saying for how long means once, as BMCs do.
      if (b["BootSourceOverrideTarget"] !== undefined && b["BootSourceOverrideEnabled"] === undefined && next.enabled === "Disabled") next.enabled = "Once"
      await setBootOverride(s, next)
      return { status: 204 }
    }
    if (method === "PATCH" && at("Systems", "*", "Bios", "Settings")) {
      const s = systemOf(seg[1]!)
      const attributes = (await readJson(req))["Attributes"]
      if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) throw new Refusal(400, "Attributes (an object) is required.", "Base.1.8.PropertyMissing")
      const why = checkBiosChanges(s, attributes as Record<string, unknown>)
      if (why !== null) throw new Refusal(400, why, "Base.1.8.PropertyValueNotInList")
      s.biosPending = { ...s.biosPending, ...(attributes as SystemState["biosPending"]) }
      return { status: 204 }
    }
    if (method === "POST") {
      const body = await readJson(req)
      if (at("Systems", "*", "Actions", "ComputerSystem.Reset")) {
        const s = systemOf(seg[1]!)
        const type = oneOf(resetTypes, body["ResetType"], "ResetType")
        if (type === "Nmi" && (s.machine.nmi === undefined || (await s.machine.power()) === "Off")) {
          throw new Refusal(409, `ResetType Nmi needs a running machine that takes interrupts; ${s.machine.id} is ${await s.machine.power()}.`, "Base.1.8.ActionNotSupported")
        }
        await reset(s, type)
        options.log?.(`redfish emulator: ${s.machine.id} ${type}`)
        return { status: 204 }
      }
      if (at("Systems", "*", "Bios", "Actions", "Bios.ResetBios")) {
        const s = systemOf(seg[1]!)
        s.biosPending = { ...defaultBios }
        return { status: 204 }
      }
      if (at("Managers", "*", "VirtualMedia", "Cd", "Actions", "VirtualMedia.InsertMedia")) {
        const s = systemOf(seg[1]!)
        if (typeof body["Image"] !== "string") throw new Refusal(400, "Image is required.", "Base.1.8.PropertyMissing")
        if (s.media.inserted) throw new Refusal(409, "A medium is inserted already: eject it first.")
        if (options.mediaDir === undefined) {
          s.media = { image: body["Image"], inserted: true }
        } else {
          const file = join(options.mediaDir, `${s.machine.id}.iso`)
          await mkdir(options.mediaDir, { recursive: true, mode: 0o700 })
          await fetchMedium(body["Image"], file).catch(async (e: unknown) => { await rm(file, { force: true }); throw e })
          s.media = { image: body["Image"], inserted: true, file }
          await s.machine.media?.(file)
        }
        options.log?.(`redfish emulator: ${s.machine.id} virtual CD inserted`)
        return { status: 204 }
      }
      if (at("Managers", "*", "VirtualMedia", "Cd", "Actions", "VirtualMedia.EjectMedia")) {
        const s = systemOf(seg[1]!)
        if (s.media.file !== undefined) {
          await s.machine.media?.(null)
          await rm(s.media.file, { force: true })
        }
        s.media = { image: null, inserted: false }
        options.log?.(`redfish emulator: ${s.machine.id} virtual CD ejected`)
        return { status: 204 }
      }
      if (at("UpdateService", "Actions", "UpdateService.SimpleUpdate")) return simpleUpdate(body, res)
    }
    throw new Refusal(405, `${method} ${path} is not supported here.`, "Base.1.8.ActionNotSupported")
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).then((a) => {
      res.statusCode = a.status
      if (a.body === undefined) { res.end(); return }
      res.setHeader("Content-Type", "application/json; charset=utf-8")
      res.setHeader("OData-Version", "4.0")
      res.end(JSON.stringify(a.body))
    }, (e: unknown) => {
      const refusal = e instanceof Refusal ? e : new Refusal(500, `The machine did not answer: ${(e as Error).message}`)
      res.statusCode = refusal.status
      res.setHeader("Content-Type", "application/json; charset=utf-8")
      res.end(JSON.stringify(R.redfishError(refusal.message, refusal.code)))
    })
  }

  const server: Server = options.tls === undefined ? createHttp(handle) : createHttps({ cert: options.tls.cert, key: options.tls.key }, handle)
  const host = options.host ?? "127.0.0.1"
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const hostPart = host.includes(":") ? `[${host}]` : host
  return {
    url: `${options.tls === undefined ? "http" : "https"}://${hostPart}:${port}`,
    systems,
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
