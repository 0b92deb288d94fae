// The web view's only script: re-fetches the live part of a page (its data-live URL) every second
// while the tab is visible and swaps it in when it changed. The server renders and escapes every
// fragment; nothing here builds markup from data.
"use strict";
(() => {
  const live = document.getElementById("live");
  if (live === null || !live.dataset.live) return;
  const dot = document.querySelector(".live-dot");
  const revisionOf = () => live.querySelector("[data-revision]")?.getAttribute("data-revision") ?? "";
  let revision = revisionOf();
  let last = null;
  const seen = new Set([...live.querySelectorAll("li.step")].map((li) => li.dataset.revision));
  const tick = async () => {
    if (!document.hidden) {
      try {
        const url = new URL(live.dataset.live, location.href);
        if (revision !== "") url.searchParams.set("rev", revision);
        const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" }, cache: "no-store" });
        if (r.status === 401) { location.assign("/ui/login"); return; }
        if (r.status === 200) {
          const text = await r.text();
          if (text !== last) {
            last = text;
            live.innerHTML = text;
            revision = r.headers.get("X-Revision") ?? revisionOf();
            for (const li of live.querySelectorAll("li.step")) {
              if (!seen.has(li.dataset.revision)) { seen.add(li.dataset.revision); li.classList.add("fresh"); }
            }
          }
        }
        dot?.classList.toggle("stale", !(r.status === 200 || r.status === 204));
      } catch {
        dot?.classList.add("stale");
      }
    }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
})();

// The console pane: the node's serial output over a WebSocket, appended as text (never as markup).
(() => {
  const pane = document.querySelector("pre.console[data-console]");
  if (pane === null) return;
  const state = document.querySelector(".console-state");
  const url = new URL(pane.dataset.console, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const decoder = new TextDecoder();
  ws.onopen = () => { if (state) state.textContent = "connected"; };
  ws.onclose = () => { if (state) state.textContent = "disconnected"; };
  ws.onmessage = (m) => {
    const text = typeof m.data === "string" ? m.data : decoder.decode(m.data, { stream: true });
    // Terminal control sequences and carriage returns mean nothing in a <pre>.
    pane.append(document.createTextNode(text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "")));
    pane.scrollTop = pane.scrollHeight;
  };
})();
