// The supervisor's dashboard: queues, lateness, today's SLA, calls, agents and the last 24 hours, each figure a link
// into the console's list behind it. It uses the token the console keeps in this tab's sessionStorage (log in
// at /console first), and redraws when its live channel (/ws/live) says a ticket changed. Loaded after
// page_kit.js, whose helpers it uses; API data reaches the page only as text.
"use strict";

const REDRAW_MS = 500;
const board = { timer: null, retry: 0 };

/** A figure that opens the console's list behind it. */
function drill(value, params, label) {
  return el("a", { href: `/console#/?${new URLSearchParams(params)}`, "aria-label": label }, String(value));
}

function percent(part, whole) {
  return whole ? t("dashboard.percent", { percent: Math.round((100 * part) / whole), part, count: whole }) : "—";
}

async function draw() {
  let figures;
  try { figures = await api("/api/v1/dashboard"); } catch (error) {
    $("db-view").hidden = true;
    $("db-denied").hidden = false;
    $("db-denied").textContent = error.status === 403 ? t("dashboard.denied")
      : error.status === 401 ? t("dashboard.log_in") : t("dashboard.failed", { error: error.message });
    return false;
  }
  $("db-denied").hidden = true;
  $("db-view").hidden = false;
  $("db-teams").tBodies[0].replaceChildren(...figures.teams.map((row) => el("tr", { dataset: { team: row.team } },
    el("td", {}, row.team),
    el("td", { className: "open" }, drill(row.open, { team: row.team, working: "true" },
                                          t("dashboard.team_open", { team: row.team, count: row.open }))),
    el("td", { className: "waiting" }, drill(row.waiting, { team: row.team, working: "true", unassigned: "true" },
                                             t("dashboard.team_waiting", { team: row.team, count: row.waiting }))),
    el("td", { className: row.overdue ? "overdue late" : "overdue" },
       drill(row.overdue, { team: row.team, overdue: "1" }, t("dashboard.team_overdue", { team: row.team, count: row.overdue }))))));
  const today = figures.today;
  $("db-today").replaceChildren(
    el("dt", {}, t("dashboard.first_response_in_time")),
    el("dd", { id: "db-first-response" }, percent(today.first_responses_in_time, today.first_responses)),
    el("dt", {}, t("dashboard.resolved_in_time")), el("dd", { id: "db-resolution" }, percent(today.resolved_in_time, today.resolved)));
  const calls = figures.calls;
  const phone = { channel: "phone" };
  $("db-calls").replaceChildren(
    el("dt", {}, t("dashboard.ringing")), el("dd", { id: "db-ringing", className: calls.ringing ? "late" : "" }, String(calls.ringing)),
    el("dt", {}, t("dashboard.talking")), el("dd", { id: "db-talking" }, String(calls.talking)),
    el("dt", {}, t("dashboard.answered_today")),
    el("dd", { id: "db-answered" }, drill(calls.answered, phone, t("dashboard.answered_n", { count: calls.answered }))),
    el("dt", {}, t("dashboard.missed_today")),
    el("dd", { id: "db-missed", className: calls.missed ? "late" : "" },
       drill(calls.missed, phone, t("dashboard.missed_n", { count: calls.missed }))));
  $("db-agents").tBodies[0].replaceChildren(...figures.agents.map((a) => el("tr", { dataset: { agent: a.name } },
    el("td", {}, a.name), el("td", {}, t(a.online ? "yes" : "no")),
    el("td", { className: "open" }, drill(a.open, { assignee: a.name, working: "true" },
                                          t("dashboard.agent_open", { agent: a.name, count: a.open }))))));
  const most = Math.max(1, ...figures.hours.map((h) => Math.max(h.created, h.resolved)));
  $("db-zone").textContent = i18n.zone;
  $("db-hours").tBodies[0].replaceChildren(...figures.hours.map((h) => el("tr", { dataset: { hour: h.hour } },
    el("td", { className: "hour" }, clockTime(h.hour)),
    el("td", {}, el("meter", { min: 0, max: most, value: h.created, "aria-label": t("dashboard.created_n", { count: h.created }) }),
       ` ${h.created}`),
    el("td", {}, el("meter", { min: 0, max: most, value: h.resolved, "aria-label": t("dashboard.resolved_n", { count: h.resolved }) }),
       ` ${h.resolved}`))));
  return true;
}

function redrawSoon() {
  clearTimeout(board.timer);
  board.timer = setTimeout(draw, REDRAW_MS);
}

async function connectLive() {
  const again = () => {
    const delay = Math.min(30000, 1000 * 2 ** board.retry++);
    sayMarked($("db-live"), "live.lost", { count: Math.round(delay / 1000) });
    setTimeout(connectLive, delay);
  };
  let ticket;
  try { ticket = (await api("/api/v1/ws-tickets", { method: "POST" })).ticket; } catch (error) {
    if (error.status !== 401 && error.status !== 403) again();
    return;
  }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/live?${new URLSearchParams({ ticket })}`);
  socket.onopen = () => {
    if (board.retry > 0) redrawSoon();
    board.retry = 0;
    sayMarked($("db-live"), "live.connected");
  };
  socket.onmessage = redrawSoon;
  socket.onclose = again;
}

document.addEventListener("DOMContentLoaded", async () => {
  if (!token()) {
    $("db-denied").hidden = false;
    $("db-denied").textContent = t("dashboard.log_in");
    return;
  }
  // The agent's language and zone, as the console uses them (the hours are drawn in that zone).
  try { setPreferences(await api("/api/v1/me")); } catch { /* draw() below says what is wrong */ }
  if (await draw()) connectLive();
});
