// chainwatch triage page. Everything from the server is inserted with textContent, never as HTML.
"use strict";

const state = { token: sessionStorage.getItem("cw-token") || "", analyst: sessionStorage.getItem("cw-analyst") || "", current: null };

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

async function api(path, options = {}) {
  const headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    state.token = "";
    sessionStorage.removeItem("cw-token");
    showLogin("The access token was refused.");
    throw new Error("unauthorized");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || ("HTTP " + response.status));
  return body;
}

function showLogin(message) {
  document.getElementById("app").hidden = true;
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = message || "";
  document.getElementById("analyst").value = state.analyst;
}

async function start() {
  const info = await fetch("/api/info").then((r) => r.json());
  document.getElementById("db-name").textContent = info.db;
  if (info.token_required && !state.token) return showLogin("");
  document.getElementById("login").hidden = true;
  document.getElementById("app").hidden = false;
  if (!state.analyst) state.analyst = info.token_required ? "" : "local";
  await loadAlerts();
}

// A request that failed (the database held by another process: 503 naming it) is said on the page.
function showError(err) {
  if (err && err.message !== "unauthorized") document.getElementById("app-error").textContent = err.message;
}

function when(iso) { return iso ? iso.replace("T", " ").slice(0, 19) : "-"; }

async function loadAlerts() {
  const params = new URLSearchParams();
  for (const [key, id] of [["severity", "f-severity"], ["detector", "f-detector"], ["status", "f-status"], ["q", "f-text"]]) {
    const value = document.getElementById(id).value.trim();
    if (value) params.set(key, value);
  }
  const data = await api("/api/alerts?" + params.toString());
  document.getElementById("app-error").textContent = "";
  const body = document.querySelector("#alerts tbody");
  body.replaceChildren();
  for (const row of data.alerts) {
    const tr = el("tr");
    tr.dataset.alertId = row.alert_id;
    tr.append(el("td", when(row.last_seen)));
    const sev = el("td"); sev.append(el("span", row.severity, "sev-" + row.severity)); tr.append(sev);
    tr.append(el("td", Math.round(row.risk_score)), el("td", row.detector_id), el("td", row.title), el("td", row.status));
    tr.addEventListener("click", () => openAlert(row.alert_id).catch(showError));
    body.append(tr);
  }
  document.getElementById("count").textContent = data.alerts.length + " alerts";
}

async function openAlert(alertId) {
  const view = await api("/api/alerts/" + encodeURIComponent(alertId));
  state.current = alertId;
  for (const tr of document.querySelectorAll("#alerts tbody tr")) tr.classList.toggle("selected", tr.dataset.alertId === alertId);
  const a = view.alert;
  document.getElementById("detail").hidden = false;
  document.getElementById("d-title").textContent = a.severity.toUpperCase() + "  risk " + Math.round(a.risk_score) + "  " + a.title;
  const facts = document.getElementById("d-facts");
  facts.replaceChildren();
  const add = (k, v) => { if (v !== null && v !== undefined && v !== "") facts.append(el("dt", k), el("dd", v)); };
  add("alert", a.alert_id);
  add("detector", a.detector_id + " v" + a.detector_version);
  add("session", a.session_id);
  add("agent", a.agent_id);
  add("on behalf of", a.principal);
  add("integrity", view.integrity_warning);
  add("task", view.task);
  add("first / last seen", when(a.first_seen) + " / " + when(a.last_seen));
  if (view.blast_radius && view.blast_radius.reachable !== undefined) {
    add("blast radius", "reachable " + view.blast_radius.reachable + ", touched " + view.blast_radius.touched + ", weighted " + view.blast_radius.weighted);
  }
  const m = a.mappings || {};
  add("mappings", [].concat(m.owasp_agentic || [], m.owasp_nhi || [], m.mitre_attack || []).join(" "));
  if (view.suppressed_by) add("suppressed", view.suppressed_by + ": " + (view.suppression_reason || ""));
  const tbody = document.querySelector("#timeline tbody");
  tbody.replaceChildren();
  for (const e of view.events) {
    const tr = el("tr", null, e.triggering ? "trigger" : "other");
    tr.append(el("td", e.triggering ? "▶" : ""), el("td", when(e.time)), el("td", e.tool || e.kind), el("td", e.action),
      el("td", e.target), el("td", e.environment), el("td", e.decision), el("td", e.outcome), el("td", e.credential_id));
    tbody.append(tr);
  }
  drawLifetimes(view);
  document.getElementById("d-runbook").textContent = a.runbook || "-";
  showVerdict(view.verdict);
  document.getElementById("v-result").textContent = "";
}

function drawLifetimes(view) {
  const box = document.getElementById("lifetimes");
  box.replaceChildren();
  if (!view.session_started) return;
  const t = (iso) => (iso ? Date.parse(iso) : null);
  const sessionStart = t(view.session_started);
  const last = view.events.length ? t(view.events[view.events.length - 1].time) : sessionStart;
  const sessionEnd = t(view.session_ended) || last;
  const points = [sessionStart, sessionEnd];
  for (const c of view.credentials) for (const p of [c.issued_at, c.last_used, c.revoked_at]) if (p) points.push(t(p));
  const lo = Math.min(...points), hi = Math.max(...points), span = Math.max(hi - lo, 1000);
  const pct = (ms) => Math.max(0, Math.min(100, ((ms - lo) / span) * 100));
  const bar = (label, from, to, cls, uses) => {
    box.append(el("div", label));
    const b = el("div", null, "bar");
    const s = el("span", null, cls);
    const right = to === null || to > hi ? 100 : pct(to);
    s.style.left = pct(from) + "%"; s.style.width = Math.max(0.5, right - pct(from)) + "%";
    b.append(s);
    for (const u of uses || []) { const m = el("span", null, "use" + (u.triggering ? " trigger" : "")); m.style.left = pct(t(u.time)) + "%"; b.append(m); }
    box.append(b);
  };
  bar("session " + when(view.session_started) + " → " + (view.session_ended ? when(view.session_ended) : "open"), sessionStart, sessionEnd, "session");
  for (const c of view.credentials) {
    const end = c.revoked_at ? t(c.revoked_at) : t(c.expires_at);
    const label = c.credential_id + ": issued " + when(c.issued_at) + (c.ttl_seconds ? ", TTL " + c.ttl_seconds + "s" : "") +
      ", last use " + when(c.last_used) + ", " + c.uses + " uses, " + (c.revoked_at ? "revoked " + when(c.revoked_at) : "NOT revoked");
    const uses = view.events.filter((e) => e.credential_id === c.credential_id && e.kind === "tool_call");
    bar(label, t(c.issued_at) || t(c.first_used) || lo, end, c.revoked_at ? "revoked" : "open", uses);
  }
}

function showVerdict(verdict) {
  document.getElementById("d-verdict").textContent = verdict
    ? verdict.status + " by " + (verdict.analyst || "?") + " at " + when(verdict.recorded_at) + (verdict.note ? ": " + verdict.note : "")
    : "none yet";
}

async function recordVerdict(status) {
  const note = document.getElementById("v-note").value;
  try {
    const result = await api("/api/alerts/" + encodeURIComponent(state.current) + "/verdict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ status, note, analyst: state.analyst }),
    });
    showVerdict(result.verdict);
    document.getElementById("v-result").textContent = "recorded " + status;
    await loadAlerts();
  } catch (err) {
    document.getElementById("v-result").textContent = "not recorded: " + err.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    state.token = document.getElementById("token").value.trim();
    state.analyst = document.getElementById("analyst").value.trim();
    sessionStorage.setItem("cw-token", state.token);
    sessionStorage.setItem("cw-analyst", state.analyst);
    try {
      await api("/api/alerts?limit=1");
    } catch (err) {
      return;
    }
    document.getElementById("login").hidden = true;
    document.getElementById("app").hidden = false;
    await loadAlerts().catch(showError);
  });
  document.getElementById("filters").addEventListener("submit", (event) => { event.preventDefault(); loadAlerts().catch(showError); });
  for (const button of document.querySelectorAll("button.verdict")) {
    button.addEventListener("click", () => recordVerdict(button.dataset.status));
  }
  start().catch(showError);
});
