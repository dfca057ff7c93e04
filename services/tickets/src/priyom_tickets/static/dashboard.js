// The supervisor's dashboard: queues, lateness, today's SLA, calls, agents and the last 24 hours, each figure a link
// into the console's list behind it. It uses the token the console keeps in this tab's sessionStorage (log in
// at /console first), and redraws when its live channel (/ws/live) says a ticket changed. API data reaches
// the page only as text.
"use strict";

const TOKEN_KEY = "priyom.token";
const REDRAW_MS = 500;
const board = { token: sessionStorage.getItem(TOKEN_KEY), timer: null, retry: 0 };
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, method = "GET") {
  const response = await fetch(path, { method, headers: { Authorization: `Bearer ${board.token}` } });
  if (!response.ok) {
    const error = new Error(`HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

/** A figure that opens the console's list behind it. */
function drill(value, params, label) {
  return el("a", { href: `/console#/?${new URLSearchParams(params)}`, "aria-label": label }, String(value));
}

function percent(part, whole) {
  return whole ? `${Math.round((100 * part) / whole)}% (${part} из ${whole})` : "—";
}

async function draw() {
  let figures;
  try { figures = await api("/api/v1/dashboard"); } catch (error) {
    $("db-view").hidden = true;
    $("db-denied").hidden = false;
    $("db-denied").textContent = error.status === 403 ? "Панель только для руководителей и администраторов."
      : error.status === 401 ? "Войдите в консоль (/console), затем откройте панель." : `Панель недоступна: ${error.message}`;
    return false;
  }
  $("db-denied").hidden = true;
  $("db-view").hidden = false;
  $("db-teams").tBodies[0].replaceChildren(...figures.teams.map((t) => el("tr", { dataset: { team: t.team } },
    el("td", {}, t.team),
    el("td", { className: "open" }, drill(t.open, { team: t.team, working: "true" }, `В работе у ${t.team}: ${t.open}`)),
    el("td", { className: "waiting" }, drill(t.waiting, { team: t.team, working: "true", unassigned: "true" }, `Ждут исполнителя в ${t.team}: ${t.waiting}`)),
    el("td", { className: t.overdue ? "overdue late" : "overdue" },
       drill(t.overdue, { team: t.team, overdue: "1" }, `Просрочено у ${t.team}: ${t.overdue}`)))));
  const today = figures.today;
  $("db-today").replaceChildren(
    el("dt", {}, "Первый ответ в срок"), el("dd", { id: "db-first-response" }, percent(today.first_responses_in_time, today.first_responses)),
    el("dt", {}, "Решено в срок"), el("dd", { id: "db-resolution" }, percent(today.resolved_in_time, today.resolved)));
  const calls = figures.calls;
  const phone = { channel: "phone" };
  $("db-calls").replaceChildren(
    el("dt", {}, "Звонят сейчас"), el("dd", { id: "db-ringing", className: calls.ringing ? "late" : "" }, String(calls.ringing)),
    el("dt", {}, "Разговаривают"), el("dd", { id: "db-talking" }, String(calls.talking)),
    el("dt", {}, "Отвечено сегодня"), el("dd", { id: "db-answered" }, drill(calls.answered, phone, `Отвечено звонков сегодня: ${calls.answered}`)),
    el("dt", {}, "Пропущено сегодня"), el("dd", { id: "db-missed", className: calls.missed ? "late" : "" },
                                           drill(calls.missed, phone, `Пропущено звонков сегодня: ${calls.missed}`)));
  $("db-agents").tBodies[0].replaceChildren(...figures.agents.map((a) => el("tr", { dataset: { agent: a.name } },
    el("td", {}, a.name), el("td", {}, a.online ? "да" : "нет"),
    el("td", { className: "open" }, drill(a.open, { assignee: a.name, working: "true" }, `В работе у ${a.name}: ${a.open}`)))));
  const most = Math.max(1, ...figures.hours.map((h) => Math.max(h.created, h.resolved)));
  $("db-hours").tBodies[0].replaceChildren(...figures.hours.map((h) => el("tr", {},
    el("td", {}, h.hour.slice(11, 16)),
    el("td", {}, el("meter", { min: 0, max: most, value: h.created, "aria-label": `новые: ${h.created}` }), ` ${h.created}`),
    el("td", {}, el("meter", { min: 0, max: most, value: h.resolved, "aria-label": `решены: ${h.resolved}` }), ` ${h.resolved}`))));
  return true;
}

function redrawSoon() {
  clearTimeout(board.timer);
  board.timer = setTimeout(draw, REDRAW_MS);
}

async function connectLive() {
  const again = () => {
    const delay = Math.min(30000, 1000 * 2 ** board.retry++);
    $("db-live").textContent = `обновления: нет связи, повтор через ${Math.round(delay / 1000)} с`;
    setTimeout(connectLive, delay);
  };
  let ticket;
  try { ticket = (await api("/api/v1/ws-tickets", "POST")).ticket; } catch (error) {
    if (error.status !== 401 && error.status !== 403) again();
    return;
  }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/live?${new URLSearchParams({ ticket })}`);
  socket.onopen = () => {
    if (board.retry > 0) redrawSoon();
    board.retry = 0;
    $("db-live").textContent = "обновления: на связи";
  };
  socket.onmessage = redrawSoon;
  socket.onclose = again;
}

document.addEventListener("DOMContentLoaded", async () => {
  if (!board.token) {
    $("db-denied").hidden = false;
    $("db-denied").textContent = "Войдите в консоль (/console), затем откройте панель.";
    return;
  }
  if (await draw()) connectLive();
});
