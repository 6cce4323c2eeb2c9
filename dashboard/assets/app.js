// devenv ui: follows the server's event stream, runs actions and streams
// logs. The page is whole without it (read-only, not live).
"use strict";
(() => {
  const $ = (sel) => document.querySelector(sel);
  const token = document.querySelector('meta[name="devenv-token"]')?.content || "";
  const live = $("#live");
  const errorLine = /\b(error|err|fatal|panic|exception|critical|crash(ed)?|fail(ed|ure)?)\b|level=(error|fatal)|exit(ed)? (with )?(code|status) [1-9]/i;
  const maxLines = 5000;

  // The picture: replaced when the server says it changed.
  let fetching = false, again = false;
  async function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    try {
      const res = await fetch("/?fragment=machine", { cache: "no-store" });
      if (res.ok) replaceMachine(await res.text());
    } catch (e) { /* the next change tries again */ }
    fetching = false;
    if (again) { again = false; refresh(); }
  }
  function replaceMachine(html) {
    const el = document.activeElement;
    // Focus stays where it was: the same control of the same service.
    const keyOf = (e) => e && e.dataset ? [e.className, e.dataset.action || "", e.dataset.project || "", e.dataset.engine || "", e.dataset.service || "", e.dataset.logs || ""].join("|") : "";
    const key = el && $("#machine").contains(el) ? keyOf(el) : "";
    $("#machine").innerHTML = html;
    syncLogOptions();
    tickUptimes();
    if (key) {
      for (const b of document.querySelectorAll("#machine button, #machine a")) {
        if (keyOf(b) === key) { b.focus(); break; }
      }
    }
  }
  function syncLogOptions() {
    const src = $("#log-options"), sel = $("#log-source");
    if (!src || !sel) return;
    const keep = sel.value;
    const first = sel.options[0].cloneNode(true);
    sel.replaceChildren(first, ...Array.from(src.options, (o) => o.cloneNode(true)));
    sel.value = keep;
  }

  // Uptimes move on without the server.
  function tickUptimes() {
    for (const t of document.querySelectorAll("time[data-since]")) {
      const s = (Date.now() - Date.parse(t.dateTime)) / 1000;
      t.textContent = s < 60 ? `${Math.max(0, Math.floor(s))} seconds` : s < 3600 ? `${Math.floor(s / 60)} minutes` : s < 172800 ? `${Math.floor(s / 3600)} hours` : `${Math.floor(s / 86400)} days`;
    }
  }
  setInterval(tickUptimes, 10000);

  // One stream of changes and action output.
  function follow() {
    const es = new EventSource("/api/events");
    es.addEventListener("hello", () => {
      live.textContent = "live";
      document.body.dataset.connects = String(Number(document.body.dataset.connects || 0) + 1);
      refresh();
    });
    es.addEventListener("change", () => { refresh(); if (logEnded) logsChanged(); });
    es.addEventListener("action", (e) => actionEvent(JSON.parse(e.data)));
    es.onerror = () => { live.textContent = "reconnecting…"; };
  }

  // Actions.
  const activity = $("#activity-lines");
  function say(text) {
    activity.textContent += text + "\n";
    activity.scrollTop = activity.scrollHeight;
  }
  async function post(path, body) {
    const res = await fetch(path, {
      method: "POST", cache: "no-store",
      headers: { "Content-Type": "application/json", "X-Devenv-Token": token },
      body: JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  }
  const running = new Map();
  function actionEvent(ev) {
    if (ev.line !== undefined && !ev.done) say(`[${ev.id}] ${ev.line}`);
    if (ev.done) {
      say(`[${ev.id}] ${ev.command}: ${ev.code === 0 ? "done" : "exit code " + ev.code}${ev.error ? " (" + ev.error + ")" : ""}`);
      running.delete(ev.id);
    }
  }
  document.addEventListener("click", async (e) => {
    const b = e.target.closest("button.act, button.copy-url, a.logs-link");
    if (!b) return;
    if (b.matches("a.logs-link")) {
      e.preventDefault();
      $("#log-source").value = b.dataset.logs;
      logsChanged();
      $("#log-lines").focus();
      return;
    }
    if (document.body.hasAttribute("data-read-only")) return;
    const body = { project: b.dataset.project, engine: b.dataset.engine || "", service: b.dataset.service || "", action: b.dataset.action || "" };
    if (body.action === "down" && !confirm(`devenv down ${body.project}: stop and remove its containers (volumes stay)?`)) return;
    try {
      if (b.matches("button.copy-url")) {
        const { url } = await post("/api/connect-url", body);
        // The URL holds the password: it goes to the clipboard, never
        // onto the page.
        await navigator.clipboard.writeText(url).then(() => say(`copied the connect URL of ${body.project}/${body.service}`),
          () => say(`the browser refused the clipboard: devenv -p ${body.project} connect --url ${body.service} prints it`));
        return;
      }
      const { id, command } = await post("/api/actions", body);
      running.set(id, command);
      say(`[${id}] $ ${command}`);
    } catch (err) {
      say(`${body.action || "connect --url"} ${body.project} ${body.service}: ${err.message}`);
    }
  });

  // Logs: the source, filter and errors-only toggle live in the URL.
  const lines = [];
  let logStream = null, logEnded = false;
  const out = $("#log-lines"), filter = $("#log-filter"), errorsOnly = $("#log-errors"), source = $("#log-source");
  function shows(line) {
    if (errorsOnly.checked && !errorLine.test(line)) return false;
    return !filter.value || line.toLowerCase().includes(filter.value.toLowerCase());
  }
  function render() {
    out.textContent = lines.filter(shows).join("\n") + (lines.length ? "\n" : "");
    out.scrollTop = out.scrollHeight;
  }
  function keepURL() {
    const u = new URL(location.href);
    for (const [k, v] of [["logs", source.value], ["filter", filter.value], ["errors", errorsOnly.checked ? "1" : ""]]) {
      if (v) u.searchParams.set(k, v); else u.searchParams.delete(k);
    }
    history.replaceState(null, "", u);
  }
  function logsChanged() {
    keepURL();
    if (logStream) logStream.close();
    logEnded = false;
    lines.length = 0;
    render();
    if (!source.value) return;
    // PROJECT[/SERVICE][@ENGINE]: names have no "@", an engine may.
    const at = source.value.indexOf("@");
    const main = at < 0 ? source.value : source.value.slice(0, at);
    const [project, service] = main.split("/");
    const q = new URLSearchParams({ project });
    if (service) q.set("service", service);
    if (at >= 0) q.set("engine", source.value.slice(at + 1));
    logStream = new EventSource("/api/logs?" + q);
    // Each (re)connection starts with the last lines again: no doubles.
    logStream.addEventListener("open", () => { lines.length = 0; render(); });
    logStream.addEventListener("lines", (e) => {
      const atEnd = out.scrollTop + out.clientHeight >= out.scrollHeight - 8;
      const fresh = JSON.parse(e.data);
      lines.push(...fresh);
      if (lines.length > maxLines) { lines.splice(0, lines.length - maxLines); render(); }
      else {
        const shown = fresh.filter(shows);
        if (shown.length) out.append(shown.join("\n") + "\n");
      }
      if (atEnd) out.scrollTop = out.scrollHeight;
    });
    // The log ends when its containers stop; it is followed again with
    // the next change (a start, a recreate).
    logStream.addEventListener("end", (e) => { lines.push(`-- ${e.data} --`); render(); logStream.close(); logEnded = true; });
  }
  source.addEventListener("change", logsChanged);
  filter.addEventListener("input", () => { keepURL(); render(); });
  errorsOnly.addEventListener("change", () => { keepURL(); render(); });
  $("#log-clear").addEventListener("click", () => { lines.length = 0; render(); });
  $("#log-controls").addEventListener("submit", (e) => e.preventDefault());
  document.addEventListener("keydown", (e) => {
    if (e.target.matches("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "/") { e.preventDefault(); filter.focus(); }
    if (e.key === "e") { errorsOnly.checked = !errorsOnly.checked; keepURL(); render(); }
  });

  follow();
  if (source.value) logsChanged();
})();
