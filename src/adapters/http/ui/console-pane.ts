// The node page's console pane: shown while the node's console is enabled; the page's script
// connects it to the console WebSocket and appends what arrives as text.
import type { NodeView } from "../../../application/node-service.ts"
import { html, type Html } from "./html.ts"
import type { Viewer } from "./pages.ts"

export const consolePane = (node: NodeView, _viewer: Viewer): Html => node.consoleEnabled
  ? html`<section class="console-pane">
  <h2>Serial console</h2>
  <div class="console-bar"><span class="console-state">connecting…</span><span>read-only; the one writer is the console_info TCP client</span></div>
  <pre class="console" data-console="/ui/nodes/${encodeURIComponent(node.uuid)}/console" aria-live="polite"></pre>
</section>`
  : html``
