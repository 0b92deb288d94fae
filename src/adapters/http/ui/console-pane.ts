// The node page's console pane: shown while the node's console is enabled; the page's script
// connects it to the console WebSocket and appends what arrives as text. A viewer who may write gets
// a button that takes the console (the one writer, ADR 0146): then the keys typed in the pane go to it.
import type { NodeView } from "../../../application/node-service.ts"
import { html, type Html } from "./html.ts"
import type { Viewer } from "./pages.ts"

export const consolePane = (node: NodeView, viewer: Viewer): Html => node.consoleEnabled
  ? html`<section class="console-pane">
  <h2>Serial console</h2>
  <div class="console-bar"><span class="console-state">connecting…</span>${viewer.mayWrite === true
    ? html`<button type="button" class="console-take">Type into the console</button><span>one writer at a time: this pane or the console_info TCP client</span>`
    : html`<span>read-only; the one writer is the console_info TCP client</span>`}</div>
  <pre class="console" tabindex="0" data-console="/ui/nodes/${encodeURIComponent(node.uuid)}/console" aria-live="polite"></pre>
</section>`
  : html``
