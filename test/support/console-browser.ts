// A node's console in the web view, in Debian's headless Chromium (playwright-core, which brings no
// browser): opens the node page, waits for the console pane to connect, takes the console as its
// writer (ADR 0146) and types into the pane as a user would, key by key.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chromium, type BrowserContext, type Page } from "playwright-core"

export const chromiumPath = "/usr/bin/chromium"

export interface ConsoleInBrowser {
  readonly page: Page
  /** What the pane shows now (control sequences and carriage returns taken out, as the page does). */
  readonly text: () => Promise<string>
  /** Takes the console; resolves when the pane says it types. */
  readonly take: () => Promise<void>
  /** Types `line` and Enter until the pane shows `expected` (a fresh SOL session may drop its first packet). */
  readonly typeUntil: (line: string, expected: RegExp, ms: number) => Promise<void>
  readonly close: () => Promise<void>
}

export const openConsoleInBrowser = async (serviceUrl: string, node: string): Promise<ConsoleInBrowser> => {
  const profile = mkdtempSync(join(tmpdir(), "ironledger-chromium-"))
  let context: BrowserContext | null = null
  const close = async () => {
    await context?.close().catch(() => {})
    rmSync(profile, { recursive: true, force: true })
  }
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath, headless: true, viewport: { width: 1360, height: 900 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
    })
    const page = context.pages()[0] ?? await context.newPage()
    await page.goto(`${serviceUrl}/ui/nodes/${encodeURIComponent(node)}`)
    await page.locator(".console-state", { hasText: "connected" }).waitFor({ timeout: 30_000 })
    const text = () => page.locator("pre.console").innerText()
    return {
      page, text, close,
      take: async () => {
        await page.click("button.console-take")
        await page.locator(".console-state", { hasText: "connected, typing" }).waitFor({ timeout: 30_000 })
      },
      typeUntil: async (line, expected, ms) => {
        const deadline = Date.now() + ms
        for (;;) {
          await page.keyboard.type(line)
          await page.keyboard.press("Enter")
          const until = Date.now() + Math.min(8_000, Math.max(0, deadline - Date.now()))
          while (Date.now() < until) {
            if (expected.test(await text())) return
            await new Promise((r) => setTimeout(r, 250))
          }
          if (Date.now() >= deadline) throw new Error(`the pane never showed ${expected}; it shows:\n${(await text()).slice(-2000)}`)
        }
      },
    }
  } catch (e) {
    await close()
    throw e
  }
}
