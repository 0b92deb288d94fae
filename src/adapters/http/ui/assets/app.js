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
// "Type into the console" reconnects as the console's one writer (refused, in words, while someone
// else holds it); then the keys typed in the pane are sent as a terminal would send them.
(() => {
  const pane = document.querySelector("pre.console[data-console]");
  if (pane === null) return;
  const state = document.querySelector(".console-state");
  const take = document.querySelector(".console-take");
  const decoder = new TextDecoder();
  let ws = null;
  let writing = false;
  // The watcher is closed once the writer is in, so the serial line (a BMC's one SOL session)
  // stays open across the switch.
  let previous = null;
  const connect = (write) => {
    const url = new URL(pane.dataset.console, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (write) url.searchParams.set("write", "1");
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      if (ws !== socket) return;
      writing = write;
      if (state) state.textContent = write ? "connected, typing" : "connected";
      if (!write) return;
      pane.focus();
      // A refused writer is closed at once (told who holds the console); one still open after a
      // moment holds it, and the watcher can go.
      setTimeout(() => { if (ws === socket && socket.readyState === WebSocket.OPEN) { previous?.close(); previous = null; } }, 1500);
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      writing = false;
      if (write && previous !== null && previous.readyState === WebSocket.OPEN) {
        // Refused: back to watching.
        ws = previous;
        previous = null;
        if (state) state.textContent = "connected";
        return;
      }
      if (state) state.textContent = "disconnected";
    };
    socket.onmessage = (m) => {
      if (ws !== socket) return;
      const text = typeof m.data === "string" ? m.data : decoder.decode(m.data, { stream: true });
      // Terminal control sequences and carriage returns mean nothing in a <pre>.
      pane.append(document.createTextNode(text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "")));
      pane.scrollTop = pane.scrollHeight;
    };
    ws = socket;
  };
  connect(false);
  const keys = { Enter: "\r", Backspace: "\x7f", Tab: "\t", Escape: "\x1b", ArrowUp: "\x1b[A", ArrowDown: "\x1b[B", ArrowRight: "\x1b[C", ArrowLeft: "\x1b[D" };
  const bytesOf = (e) => {
    if (e.ctrlKey && !e.altKey && e.key.length === 1 && /[a-z@\[\\\]^_]/i.test(e.key)) return String.fromCharCode(e.key.toUpperCase().charCodeAt(0) & 0x1f);
    if (e.key in keys) return keys[e.key];
    return e.key.length === 1 && !e.ctrlKey && !e.metaKey ? e.key : null;
  };
  take?.addEventListener("click", () => {
    previous = ws;
    // The writer's socket starts with the same scrollback: the pane starts again from it.
    pane.textContent = "";
    connect(true);
  });
  pane.addEventListener("keydown", (e) => {
    if (!writing || ws === null || ws.readyState !== WebSocket.OPEN) return;
    const bytes = bytesOf(e);
    if (bytes === null) return;
    e.preventDefault();
    ws.send(new TextEncoder().encode(bytes));
  });
  pane.addEventListener("paste", (e) => {
    if (!writing || ws === null || ws.readyState !== WebSocket.OPEN) return;
    e.preventDefault();
    ws.send(new TextEncoder().encode((e.clipboardData?.getData("text") ?? "").replace(/\r?\n/g, "\r")));
  });
})();
