// The agent console. Plain browser JavaScript, no build step, no third-party code.
//
// Safety rule for this file: data from the API (customers' text above all) reaches the page only as text
// (`textContent`, or the `el()` helper below, which never parses markup). There is no innerHTML here.
"use strict";

const TOKEN_KEY = "priyom.token";
const PAGE = 50;

const STATUS = {
  new: "новое", accepted: "принято", open: "в работе", pending: "ждём клиента", resolved: "решено",
  closed: "закрыто", cancelled: "отменено", review: "на рассмотрении", needs_info: "нужны данные",
  rejected: "отклонено", investigation: "расследование", action_plan: "план мероприятий",
  awaiting_confirm: "ждёт подтверждения",
};
const TYPE = {
  complaint: "рекламация", information_request: "запрос информации", service_request: "сервисная заявка",
  purchase_interest: "интерес к покупке",
};
// History lines: lifecycle moves show their target status; these are the other things that happen.
const EVENT = {
  registered: "зарегистрировано", reply: "ответ клиенту", customer_message: "сообщение клиента",
  automated_message: "автоматическое письмо", delivery_failed: "не доставлено", assigned: "назначено",
  fields_changed: "поля изменены", overdue: "просрочено", escalated: "эскалация", rated: "оценка клиента",
  activity_scheduled: "задача запланирована", activity_done: "задача выполнена",
  activity_reopened: "задача возобновлена", activity_rescheduled: "задача перенесена",
  type_changed: "тип изменён", fields_dropped: "поля убраны",
  sender_unproven: "отправитель не подтверждён: решает агент",
  not_notified: "клиент не уведомлён: адрес не доставляется",
  client_merged: "карточка клиента объединена", client_unmerged: "объединение карточек отменено",
};
// Statuses whose resolution clock has stopped (as the server's store.DONE).
const CLOCK_STOPPED = new Set(["resolved", "closed", "cancelled", "rejected", "awaiting_confirm"]);

const state = { token: null, me: null, queue: "mine", offset: 0, ticket: null, decisions: {}, fields: {},
                socket: null, socketRetry: 0, pendingAction: null, replyKey: null };

// -- small helpers -----------------------------------------------------------------------------------

/** An element with attributes and children; strings become text nodes, so nothing is parsed as HTML. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) throw new Error("event handlers are attached with addEventListener");
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

const $ = (id) => document.getElementById(id);

function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("ru-RU", { dateStyle: "short", timeStyle: "short" });
}

function span(ms) {
  const minutes = Math.floor(Math.abs(ms) / 60000);
  const days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
  if (days) return `${days} д ${hours} ч`;
  if (hours) return `${hours} ч ${String(mins).padStart(2, "0")} мин`;
  const seconds = Math.floor(Math.abs(ms) / 1000) % 60;
  return `${mins} мин ${String(seconds).padStart(2, "0")} с`;
}

/** Late as the server counts it: still worked and past the resolution deadline, or unanswered and past the
 * first-response one. */
function isOverdue(t, now = Date.now()) {
  if (CLOCK_STOPPED.has(t.status)) return false;
  if (Date.parse(t.resolution_due_at) < now) return true;
  return !t.first_responded_at && Date.parse(t.first_response_due_at) < now;
}

class ApiError extends Error {
  constructor(status, detail) { super(detail || `HTTP ${status}`); this.status = status; }
}

async function api(path, { method = "GET", body, form, key } = {}) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (key) headers["Idempotency-Key"] = key;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const response = await fetch(path, { method, headers, body: payload });
  if (response.status === 401) { logout("Токен не принят: войдите снова."); throw new ApiError(401); }
  if (!response.ok) {
    let detail = "";
    try {
      const data = await response.json();
      detail = typeof data.detail === "string" ? data.detail
        : (data.detail || []).map((d) => d.msg || JSON.stringify(d)).join("; ");
    } catch { /* not JSON */ }
    throw new ApiError(response.status, detail);
  }
  return response.status === 204 ? null : response.json();
}

function say(id, text, failed = false) {
  const node = $(id);
  node.textContent = text;
  node.classList.toggle("error", failed);
}

// -- login ---------------------------------------------------------------------------------------------

async function login(token) {
  state.token = token;
  const me = await api("/api/v1/me");
  sessionStorage.setItem(TOKEN_KEY, token);
  state.me = me;
  state.queue = me.sees_all ? "all" : "mine";
  $("login").hidden = true;
  $("app").hidden = false;
  $("whoami").textContent = `${me.name} · ${me.role}` + (me.teams.length ? ` · ${me.teams.join(", ")}` : "");
  $("activity-owner").value = me.name;
  $("dead-letters-link").hidden = me.role !== "admin";
  $("dashboard-link").hidden = !me.sees_all;
  const [decisions, fields] = await Promise.all([api("/api/v1/decisions"), api("/api/v1/ticket-fields")]);
  state.decisions = decisions;
  state.fields = fields;
  renderTabs();
  connectPopups();
  connectLive();
  watchMentions();
  loadMyActivities();
  loadMacros();
  route();
}

function logout(message = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.me = null;
  if (state.socket) { state.socket.onclose = null; state.socket.close(); state.socket = null; }
  $("app").hidden = true;
  $("login").hidden = false;
  $("token").value = "";
  say("login-error", message, Boolean(message));
}

// -- the queue -----------------------------------------------------------------------------------------

function renderTabs() {
  const me = state.me;
  const tabs = [["mine", "Мои"]];
  if (me.teams.length) tabs.push(["team", "Команда"]);
  tabs.push(["all", me.sees_all ? "Все" : "Все доступные"]);
  $("tabs").replaceChildren(...tabs.map(([key, title]) => {
    const button = el("button", { type: "button", role: "tab", dataset: { queue: key },
                                  "aria-selected": String(state.queue === key) }, title);
    button.addEventListener("click", () => {
      state.queue = key; state.offset = 0; state.drill = null; renderTabs(); loadQueue();
    });
    return button;
  }));
  const team = $("f-team");
  team.replaceChildren(...me.teams.map((t) => el("option", { value: t }, t)));
  team.closest("label").hidden = state.queue !== "team";
}

function queueParams() {
  const params = new URLSearchParams({ limit: PAGE, offset: state.offset });
  if (state.queue === "mine") params.set("assignee", state.me.name);
  if (state.queue === "team" && $("f-team").value) params.set("team", $("f-team").value);
  if ($("f-status").value) params.set("status", $("f-status").value);
  if ($("f-type").value) params.set("type", $("f-type").value);
  if ($("f-overdue").checked) params.set("overdue", "true");
  if ($("f-q").value.trim()) params.set("q", $("f-q").value.trim());
  // Opened from a figure of the supervisor's dashboard: the list behind it.
  for (const [name, value] of Object.entries(state.drill || {})) if (value) params.set(name, value);
  return params;
}

async function loadQueue() {
  if (!state.me) return;
  const page = await api(`/api/v1/tickets?${queueParams()}`);
  const now = Date.now();
  $("tickets").tBodies[0].replaceChildren(...page.items.map((t) => {
    const late = isOverdue(t, now);
    const row = el("tr", { className: late ? "overdue" : "", dataset: { number: t.number } },
      el("td", {}, t.number), el("td", {}, when(t.created_at)), el("td", {}, TYPE[t.type] || t.type),
      el("td", {}, STATUS[t.status] || t.status), el("td", {}, t.client_name || t.client_id.slice(0, 8)),
      el("td", {}, t.subject || ""), el("td", {}, t.assignee || "—"),
      el("td", { className: "deadline" }, when(t.resolution_due_at), late ? " · просрочено" : ""));
    row.addEventListener("click", () => { location.hash = `#/ticket/${t.number}`; });
    return row;
  }));
  const last = Math.min(page.offset + page.items.length, page.total);
  $("queue-total").textContent = page.total ? `${page.offset + 1}–${last} из ${page.total}` : "нет обращений";
  $("page-prev").disabled = page.offset === 0;
  $("page-next").disabled = last >= page.total;
}

// -- one ticket ----------------------------------------------------------------------------------------

async function openTicket(number) {
  if (!state.ticket || state.ticket.number !== number) state.replyKey = null;
  const [ticket, notes] = await Promise.all([api(`/api/v1/tickets/${encodeURIComponent(number)}`),
                                             api(`/api/v1/tickets/${encodeURIComponent(number)}/notes`)]);
  ticket.notes = notes;
  // A reload that left before a change this page made and came back after it is older than what is shown.
  if (state.ticket && state.ticket.number === number && Date.parse(state.ticket.updated_at) > Date.parse(ticket.updated_at)) return;
  state.ticket = ticket;
  $("live-stale").hidden = true;  // what is shown is the latest
  renderTicket(ticket);
  loadClientTickets(ticket);
  loadClientCard(ticket);
  loadReplyPath(ticket);
}

/** Before the agent writes: where the reply will go (the customer's channel, their card's e-mail, a call-back). */
async function loadReplyPath(t) {
  const label = $("reply-path");
  label.textContent = "";
  try {
    const path = await api(`/api/v1/tickets/${encodeURIComponent(t.number)}/reply-path`);
    if (state.ticket !== t) return;
    label.textContent = path.channel === null ? `Ответить нельзя: ${path.because}`
      : path.call_back ? `Ответ станет звонком: ${path.address} (${path.because})`
      : `Ответ уйдёт: ${path.channel} → ${path.address || "чат клиента"} (${path.because})`;
    if (path.warning) label.textContent += ` — недоставляемые адреса пропущены: ${path.warning}`;
    label.dataset.channel = path.channel || "";
    $("reply-send").disabled = path.channel === null;
  } catch (error) {
    if (error.status !== 401) label.textContent = `Куда уйдёт ответ, неизвестно: ${error.message}`;
  }
}

function renderTicket(t) {
  $("t-number").textContent = t.number;
  $("t-subject").textContent = t.subject || "";
  $("t-status").textContent = STATUS[t.status] || t.status;
  $("t-status").dataset.status = t.status;
  $("t-type").textContent = TYPE[t.type] || t.type;
  $("t-channel").textContent = t.channel;
  $("t-team").textContent = t.team;
  $("t-assignee").textContent = t.assignee || "не назначен";
  const flags = [];
  if (isOverdue(t)) flags.push(el("span", { className: "flag", id: "t-overdue" }, "просрочено"));
  if (t.overdue_at) flags.push(el("span", { className: "flag" }, `просрочка отмечена ${when(t.overdue_at)}`));
  if (t.delivery_failed_at) {
    flags.push(el("span", { className: "flag", id: "t-delivery-failed" },
                  `ответ не доставлен (${when(t.delivery_failed_at)})`));
  }
  if (t.escalation) flags.push(el("span", { className: "flag" }, `эскалация: ${t.escalation} → ${t.escalated_to}`));
  if (t.decision) flags.push(el("span", { className: "badge" }, `решение: ${state.decisions[t.decision] || t.decision}`));
  $("t-flags").replaceChildren(...flags);
  renderSla(t);
  renderThread(t);
  renderActions(t);
  renderFields(t);
  renderActivities(t);
  renderRetype(t);
  $("t-history").replaceChildren(...t.history.map((h) => el("li", {},
    `${when(h.at)} · ${h.actor} · ${EVENT[h.action] || h.action}`,
    h.action === "type_changed" && h.details
      ? `: ${TYPE[h.details.from_type] || h.details.from_type} → ${TYPE[h.details.to_type] || h.details.to_type}` : "",
    h.to_status ? ` → ${STATUS[h.to_status] || h.to_status}` : "",
    h.details && h.details.note ? ` · ${h.details.note}` : "")));
  renderClient(t);
  const rating = t.satisfaction;
  $("t-rating").textContent = rating ? `Оценка клиента: ${rating.rating} из 5${rating.comment ? ` — ${rating.comment}` : ""}` : "";
}

/** The "change type" control: offered only when the server lists types this agent may correct it to. */
function renderRetype(t) {
  const choices = t.type_choices || [];
  $("retype").hidden = !choices.length;
  $("retype-type").replaceChildren(...choices.map((type) => el("option", { value: type }, TYPE[type] || type)));
}

async function retype(event) {
  event.preventDefault();
  const body = { type: $("retype-type").value };
  if ($("retype-category").value.trim()) body.category = $("retype-category").value.trim();
  if ($("retype-note").value.trim()) body.note = $("retype-note").value.trim();
  try {
    const ticket = await api(`/api/v1/tickets/${state.ticket.number}/type`, { method: "POST", body });
    state.ticket = ticket;
    $("retype-category").value = "";
    $("retype-note").value = "";
    renderTicket(ticket);
    say("action-status", `Тип: ${TYPE[ticket.type] || ticket.type}, статус: ${STATUS[ticket.status] || ticket.status}`);
  } catch (error) {
    if (error.status !== 401) say("action-status", `Тип не изменён: ${error.message}`, true);
  }
}

async function escalate(event) {
  event.preventDefault();
  const body = { level: $("escalation-level").value, to: $("escalation-to").value.trim() };
  if ($("escalation-note").value.trim()) body.note = $("escalation-note").value.trim();
  if (body.level === "vendor" && $("escalation-due").value) {
    const due = new Date($("escalation-due").value);
    if (Number.isNaN(due.getTime())) { say("action-status", "Укажите срок подрядчика", true); return; }
    body.due_at = due.toISOString();
  }
  try {
    const ticket = await api(`/api/v1/tickets/${state.ticket.number}/escalations`, { method: "POST", body });
    state.ticket = ticket;
    renderTicket(ticket);
    say("action-status", `Эскалировано: ${ticket.escalated_to}`);
    if (body.due_at) loadMyActivities();
  } catch (error) {
    if (error.status !== 401) say("action-status", `Не эскалировано: ${error.message}`, true);
  }
}

function renderSla(t) {
  const rows = [];
  const clock = (label, due, stoppedAt, id) => {
    rows.push(el("dt", {}, label));
    if (stoppedAt) rows.push(el("dd", { id }, `выполнено ${when(stoppedAt)} (срок ${when(due)})`));
    else rows.push(el("dd", { id, dataset: { due } }, ""));
  };
  clock("Первый ответ", t.first_response_due_at, t.first_responded_at, "sla-first-response");
  clock("Решение", t.resolution_due_at, CLOCK_STOPPED.has(t.status) ? (t.resolved_at || t.closed_at) : null,
        "sla-resolution");
  $("t-sla").replaceChildren(...rows);
  tickSla();
}

/** Every second: the time left to each running deadline, or how late it is. */
function tickSla() {
  const now = Date.now();
  for (const node of document.querySelectorAll("#t-sla dd[data-due]")) {
    const left = Date.parse(node.dataset.due) - now;
    node.textContent = left >= 0 ? `осталось ${span(left)} (до ${when(node.dataset.due)})`
      : `просрочено на ${span(left)} (срок ${when(node.dataset.due)})`;
    node.classList.toggle("late", left < 0);
  }
}

/** The customer's thread with the agents' internal notes put in by time, each note marked as internal. */
function renderThread(t) {
  const notes = (t.notes || []).map((n) => ({ at: n.created_at, node: noteItem(n) }));
  const messages = t.messages.map((m) => ({ at: m.created_at, node: messageItem(t, m) }));
  const items = [...messages, ...notes].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  $("t-thread").replaceChildren(...items.map((i) => i.node));
}

function messageItem(t, m) {
  const classes = [m.direction];
  if (m.automated) classes.push("automated");
  const meta = [when(m.created_at), m.channel, m.direction === "inbound" ? "от клиента" : "клиенту",
                m.author_name || ""];
  if (m.automated) meta.push(`автоматическое (${m.automated})`);
  const unread = m.unread_reason
    ? el("p", { className: "failed unread" }, `Не удалось разобрать: ${m.unread_reason}. Оригинал — во вложении.`)
    : null;
  const unproven = m.sender_flag
    ? el("p", { className: "failed unproven" }, "Отправитель не подтверждён (SPF/DKIM/DMARC): письмо с адреса "
         + "клиента не оценивает, не закрывает и не переоткрывает заявку само — решает агент.")
    : null;
  if (m.sender_auth) meta.push(m.sender_auth.authenticated === true ? "отправитель подтверждён"
    : m.sender_auth.authenticated === false ? "отправитель НЕ подтверждён" : "");
  const delivery = m.direction === "outbound" && m.delivery_status
    ? el("p", { className: m.delivery_status === "failed" ? "failed delivery" : "delivery" },
         `доставка: ${m.delivery_status}`, m.delivery_detail ? ` — ${m.delivery_detail}` : "")
    : null;
  const files = m.attachments.map((a) => {
    const button = el("button", { type: "button", className: "attachment" },
                      `Файл: ${a.filename} (${Math.ceil(a.size / 1024)} КБ)`);
    button.addEventListener("click", () => download(t.number, a));
    return button;
  });
  return el("li", { className: classes.join(" "), dataset: { id: m.id } },
    el("p", { className: "meta" }, meta.filter(Boolean).join(" · ")),
    m.subject ? el("p", { className: "subject" }, m.subject) : null,
    unread, unproven, el("p", { className: "body" }, m.body_text), files.length ? el("p", {}, files) : null, delivery);
}

async function download(number, attachment) {
  const response = await fetch(`/api/v1/tickets/${encodeURIComponent(number)}/attachments/${attachment.id}`,
                               { headers: { Authorization: `Bearer ${state.token}` } });
  if (!response.ok) { say("reply-status", `Файл не получен: HTTP ${response.status}`, true); return; }
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: attachment.filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function renderActions(t) {
  $("decision-form").hidden = true;
  $("action-buttons").replaceChildren(...t.actions.map((action) => {
    const button = el("button", { type: "button", dataset: { action: action.name } }, action.title);
    button.addEventListener("click", () => {
      if (action.needs_decision) askDecision(action);
      else transition({ action: action.name });
    });
    return button;
  }));
}

function askDecision(action) {
  state.pendingAction = action;
  $("decision-action").textContent = action.title;
  $("decision").replaceChildren(...Object.entries(state.decisions).map(([code, title]) =>
    el("option", { value: code }, title)));
  $("decision-text").value = "";
  $("decision-result").value = "";
  $("decision-form").hidden = false;
}

async function transition(body) {
  try {
    const ticket = await api(`/api/v1/tickets/${state.ticket.number}/transitions`, { method: "POST", body });
    state.ticket = ticket;
    renderTicket(ticket);
    say("action-status", `Статус: ${STATUS[ticket.status] || ticket.status}`);
  } catch (error) {
    if (error.status !== 401) say("action-status", `Не выполнено: ${error.message}`, true);
  }
}

function renderFields(t) {
  const form = $("fields-form");
  const defs = state.fields[t.type] || [];
  const values = t.type_fields || {};
  if (!defs.length) { form.replaceChildren(el("p", { className: "muted" }, "У этого типа нет своих полей.")); return; }
  const inputs = defs.map((d) => {
    const type = d.kind === "date" ? "date" : d.kind === "number" ? "number" : "text";
    const attrs = { id: `field-${d.name}`, name: d.name, type, value: values[d.name] ?? "" };
    if (d.kind === "number") attrs.step = "0.01";
    if (d.max_length) attrs.maxlength = d.max_length;
    return el("label", {}, d.title, el("input", attrs));
  });
  form.replaceChildren(...inputs, el("button", { type: "submit", id: "fields-save" }, "Сохранить поля"));
}

async function saveFields(event) {
  event.preventDefault();
  const defs = state.fields[state.ticket.type] || [];
  const body = {};
  for (const d of defs) {
    const value = $(`field-${d.name}`).value.trim();
    // Amounts go as typed ("15000.50"): the server keeps them as decimals, never as binary floats.
    body[d.name] = value === "" ? null : value;
  }
  try {
    const ticket = await api(`/api/v1/tickets/${state.ticket.number}/fields`, { method: "PUT", body });
    state.ticket = ticket;
    renderTicket(ticket);
    say("fields-status", "Поля сохранены");
  } catch (error) {
    if (error.status !== 401) say("fields-status", `Не сохранено: ${error.message}`, true);
  }
}

function renderActivities(t) {
  $("t-activities").replaceChildren(...t.activities.map((a) => {
    const item = el("li", { className: a.done_at ? "done" : overdue(a) ? "overdue" : "", dataset: { id: a.id } },
                    `${when(a.due_at)} · ${a.title} · ${a.owner}`);
    if (overdue(a)) item.append(" · ", el("strong", {}, "просрочено"));
    if (!a.done_at) {
      const done = el("button", { type: "button" }, "Выполнено");
      done.addEventListener("click", async () => {
        try {
          await api(`/api/v1/activities/${a.id}`, { method: "PATCH", body: { done: true } });
          await openTicket(t.number);
          loadMyActivities();
        } catch (error) {
          if (error.status !== 401) say("activity-status", `Не отмечено: ${error.message}`, true);
        }
      });
      item.append(" ", done);
    }
    return item;
  }));
}

async function addActivity(event) {
  event.preventDefault();
  const due = new Date($("activity-due").value);
  if (Number.isNaN(due.getTime())) { say("activity-status", "Укажите срок", true); return; }
  try {
    await api(`/api/v1/tickets/${state.ticket.number}/activities`, { method: "POST", body: {
      kind: $("activity-kind").value, title: $("activity-title").value, owner: $("activity-owner").value,
      due_at: due.toISOString() } });
    $("activity-title").value = "";
    say("activity-status", "Запланировано");
    await openTicket(state.ticket.number);
    loadMyActivities();
  } catch (error) {
    if (error.status !== 401) say("activity-status", `Не запланировано: ${error.message}`, true);
  }
}

function renderClient(t) {
  const rows = [["Клиент", t.client_name || "—"], ["ID клиента", t.client_id], ["Контакт", t.person_id || "—"],
                ["Первое обращение", t.first_contact ? "да" : "нет"], ["Уровень SLA", t.sla_tier || "—"],
                ["Канал", t.channel], ["Маршрут", t.routing_reason]];
  $("t-client").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

// Identity's full card, read by tickets server-side; without it the panel keeps what tickets knows.
const CARD_UNAVAILABLE = {
  not_configured: "сервис клиентов не подключён", unreachable: "сервис клиентов не отвечает",
  not_found: "карточки нет в базе клиентов", refused: "сервис клиентов отказал в доступе",
};
const PERSON_ROLE = { representative: "представитель", consumer: "потребитель" };

function contactLabel(kind) {
  if (kind === "phone") return "тел.";
  if (kind === "email") return "email";
  return kind.startsWith("messenger:") ? kind.slice("messenger:".length) : kind;
}

/** One phone, email or messenger id as a list item; a bouncing address and a mere claim are flagged in words. */
function contactItem(c) {
  const classes = [c.undeliverable ? "undeliverable" : null, c.verified === false ? "claimed" : null].filter(Boolean);
  const item = el("li", { className: classes.length ? classes.join(" ") : null },
                  `${contactLabel(c.kind)} `, el("span", { className: "contact-value" }, c.value),
                  c.extension ? ` доб. ${c.extension}` : "");
  if (c.undeliverable) {
    item.append(" ", el("span", { className: "flag" },
                         `не доставляется${c.undeliverable_reason ? `: ${c.undeliverable_reason}` : ""}`));
  }
  if (c.verified === false) {
    // Typed into a form or a mail by whoever wrote: not proof that this is the client's own.
    item.append(" ", el("span", { className: "flag claim" }, "не подтверждён"));
  }
  if (c.kind === "phone" && !c.undeliverable) item.append(" ", callButton(c.value, state.ticket && state.ticket.number));
  return item;
}

async function loadClientCard(t) {
  const box = $("t-card");
  box.replaceChildren(el("p", { className: "muted" }, "Загружаю карточку клиента…"));
  let panel;
  try {
    panel = await api(`/api/v1/tickets/${encodeURIComponent(t.number)}/client`);
  } catch (error) {
    if (error.status === 401) return;
    panel = { available: false, reason: "unreachable" };
  }
  if (!state.ticket || state.ticket.number !== t.number) return;  // another ticket was opened meanwhile
  if (!panel.available) {
    box.replaceChildren(el("p", { className: "muted", id: "t-card-unavailable" },
                           `Полная карточка недоступна: ${CARD_UNAVAILABLE[panel.reason] || panel.reason}`));
    return;
  }
  const c = panel.card;
  const rows = [["Организация", c.kind === "org" ? c.name : "—"], ["Клиент", c.kind === "person" ? c.name : null],
                ["ИНН", c.legal_id], ["Регион", c.region], ["Менеджер", c.account_manager || "—"],
                ["Уровень SLA", c.sla_tier], ["Теги", c.tags.length ? c.tags.join(", ") : null],
                ["Заметки", c.notes]].filter(([, v]) => v !== null && v !== undefined && v !== "");
  const parts = [el("dl", { className: "card", id: "t-card-fields" },
                    ...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]))];
  const flags = [];
  if (c.provisional) flags.push(el("span", { className: "badge" }, "карточка не подтверждена"));
  if (c.undeliverable) flags.push(el("span", { className: "flag", id: "t-card-undeliverable" }, "есть недоставляемый email"));
  if (flags.length) parts.push(el("p", {}, ...flags));
  if (c.contacts.length) parts.push(el("ul", { className: "contacts" }, ...c.contacts.map(contactItem)));
  parts.push(el("h4", {}, "Контактные лица"));
  parts.push(el("ul", { className: "plain", id: "t-card-persons" }, ...(c.persons.length ? c.persons.map((p) => el("li", {},
    el("strong", {}, p.erased ? "данные удалены" : p.full_name || "без имени"),
    [p.position, PERSON_ROLE[p.role] || p.role].filter(Boolean).length
      ? ` · ${[p.position, PERSON_ROLE[p.role] || p.role].filter(Boolean).join(", ")}` : "",
    el("ul", { className: "contacts" }, ...p.contacts.map(contactItem))))
    : [el("li", { className: "muted" }, "нет")])));
  if (c.contracts.length) {
    parts.push(el("h4", {}, "Договоры"));
    parts.push(el("ul", { className: "plain", id: "t-card-contracts" }, ...c.contracts.map((k) => el("li", {},
      k.number, k.service ? ` · ${k.service}` : "",
      k.valid_from || k.valid_to ? ` · ${k.valid_from || "…"} — ${k.valid_to || "…"}` : ""))));
  }
  box.replaceChildren(...parts);
}

async function loadClientTickets(t) {
  const page = await api(`/api/v1/tickets?client_id=${t.client_id}&limit=10`);
  const others = page.items.filter((o) => o.number !== t.number);
  $("t-client-tickets").replaceChildren(...(others.length ? others.map((o) => {
    const link = el("a", { href: `#/ticket/${o.number}` }, o.number);
    return el("li", {}, link, ` · ${STATUS[o.status] || o.status} · ${o.subject || ""}`);
  }) : [el("li", { className: "muted" }, "нет других")]));
}

/** A fresh Idempotency-Key: from getRandomValues, which (unlike randomUUID) works off a secure origin too. */
function newKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** One composed reply is one key: a double click or a retry after a lost answer names the same reply, which
 * the server then sends once. Editing the text composes another reply (a new key). Send stays disabled while
 * the reply is on its way. */
async function sendReply(event) {
  event.preventDefault();
  const send = $("reply-send");
  if (send.disabled) return;
  send.disabled = true;
  const number = state.ticket.number;
  const files = $("reply-files").files;
  state.replyKey = state.replyKey || newKey();
  let sent = false;
  try {
    let attachments = [];
    if (files.length) {
      const form = new FormData();
      for (const file of files) form.append("files", file, file.name);
      say("reply-status", "Загружаю файлы…");
      attachments = await api(`/api/v1/tickets/${number}/attachments`, { method: "POST", form });
    }
    await api(`/api/v1/tickets/${number}/replies`, { method: "POST", key: state.replyKey,
                                                    body: { body: $("reply-body").value, attachments } });
    state.replyKey = null;
    $("reply-body").value = "";
    $("reply-files").value = "";
    say("reply-status", "Ответ отправлен");
    sent = true;
  } catch (error) {
    if (error.status !== 401) say("reply-status", `Не отправлено: ${error.message}`, true);
  } finally {
    send.disabled = false;
  }
  if (sent) await openTicket(number);
}

// -- caller pop-ups ------------------------------------------------------------------------------------

/** The socket takes a one-time ticket, never the token: a URL ends up in logs. */
async function connectPopups() {
  const extension = state.me && state.me.extension;
  if (!extension) { $("popup-status").textContent = "без добавочного: всплывающих звонков нет"; return; }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let ticket;
  try {
    ticket = (await api("/api/v1/ws-tickets", { method: "POST" })).ticket;
  } catch (error) {
    const delay = Math.min(30000, 1000 * 2 ** state.socketRetry++);
    $("popup-status").textContent = `доб. ${extension}: нет связи (${error.message}), повтор через ${Math.round(delay / 1000)} с`;
    if (error.status !== 401) setTimeout(() => { if (state.token) connectPopups(); }, delay);
    return;
  }
  const query = new URLSearchParams({ extension, ticket });
  const socket = new WebSocket(`${scheme}://${location.host}/ws/agent?${query}`);
  state.socket = socket;
  socket.onopen = () => { state.socketRetry = 0; $("popup-status").textContent = `доб. ${extension}: на связи`; };
  socket.onmessage = (message) => {
    let data;
    try { data = JSON.parse(message.data); } catch { return; }
    if (data && data.type === "incoming_call") {
      showCall(data);
      // Shown: the server times ringing → shown by this, and sends it again if no console says so.
      socket.send(JSON.stringify({ type: "popup_shown", call_id: String(data.call_id) }));
    }
    else if (data && (data.type === "call_answered" || data.type === "call_ended")) callMoved(data);
    else if (data && data.type === "mention") loadMentions();
  };
  socket.onclose = () => {
    if (!state.token) return;
    const delay = Math.min(30000, 1000 * 2 ** state.socketRetry++);
    $("popup-status").textContent = `доб. ${extension}: нет связи, повтор через ${Math.round(delay / 1000)} с`;
    setTimeout(() => { if (state.token && state.socket === socket) connectPopups(); }, delay);
  };
}

function ticketNumberOf(item) {
  return typeof item === "string" ? item : item && item.number;
}

function showCall(call) {
  const existing = document.querySelector(`#popups .popup[data-call="${CSS.escape(String(call.call_id))}"]`);
  const client = call.client || null;
  const clientName = client ? [client.name, client.organisation].filter(Boolean).join(", ") || client.id : null;
  const open = (call.open_tickets || []).map((item) => {
    const number = ticketNumberOf(item);
    const button = el("button", { type: "button", className: "open-ticket", dataset: { number } }, "Открыть");
    button.addEventListener("click", () => { location.hash = `#/ticket/${number}`; linkCall(call.call_id, number); });
    const about = typeof item === "object" && item ? [item.status && (STATUS[item.status] || item.status),
                                                      item.subject].filter(Boolean).join(" · ") : "";
    return el("li", {}, `${number}${about ? ` · ${about}` : ""} `, button);
  });
  const last = (call.last_contacts || []).slice(0, 5).map((c) => el("li", {},
    typeof c === "object" && c ? [when(c.at), c.channel, c.direction === "outbound" ? "от нас" : "от клиента",
                                  c.ticket_number, c.subject].filter(Boolean).join(" · ") : String(c)));
  const close = el("button", { type: "button", className: "dismiss" }, "Скрыть");
  const card = el("div", { className: "popup", role: "alert", dataset: { call: String(call.call_id) } },
    el("h4", {}, "Входящий звонок"), el("p", { className: "call-state muted" }, "звонит"),
    el("p", { className: "caller" }, call.caller_name ? `${call.caller_name} · ` : "", call.caller_number || "номер скрыт"),
    call.caller_number ? el("p", {}, callButton(call.caller_number)) : null,
    el("p", {}, clientName ? `Клиент: ${clientName}` : "Клиент не найден",
       call.first_contact ? " · первое обращение" : ""),
    open.length ? el("div", {}, el("strong", {}, "Открытые обращения"), el("ul", {}, open)) : null,
    el("p", {}, newTicketButton(call.call_id), el("span", { className: "call-ticket-status", role: "status" })),
    last.length ? el("div", {}, el("strong", {}, "Последние контакты"), el("ul", {}, last)) : null,
    close);
  close.addEventListener("click", () => card.remove());
  if (!existing) notifyDesktop("Входящий звонок", [call.caller_name, call.caller_number, clientName].filter(Boolean).join(" · "),
                               `call-${call.call_id}`);
  if (existing) existing.replaceWith(card); else $("popups").prepend(card);
}

/** The call was answered or is over: the card stays (its tickets may still be wanted) and says so. */
function callMoved(progress) {
  const card = document.querySelector(`#popups .popup[data-call="${CSS.escape(String(progress.call_id))}"]`);
  if (!card) return;
  card.querySelector(".call-state").textContent = progress.type === "call_answered" ? "отвечен" : "завершён";
  card.classList.add("over");
}

// -- wiring --------------------------------------------------------------------------------------------

function route() {
  if (!state.me) return;
  const match = location.hash.match(/^#\/ticket\/(\d{4}-\d{6,9})$/);
  if (location.hash.startsWith("#/?")) {  // a dashboard figure: #/?team=…&assignee=…&overdue=1
    const drill = new URLSearchParams(location.hash.slice(3));
    state.queue = "all";
    state.offset = 0;
    state.drill = Object.fromEntries(["team", "assignee", "working", "unassigned", "channel"].map((k) => [k, drill.get(k)]));
    $("f-overdue").checked = drill.get("overdue") === "1";
    renderTabs();
  }
  $("queue").hidden = Boolean(match);
  $("ticket").hidden = !match;
  const failed = (error) => { if (error.status !== 401) say("action-status", error.message, true); };
  if (match) openTicket(match[1]).catch(failed);
  else { state.ticket = null; loadQueue().catch(failed); }
}

function fillSelect(id, labels) {
  $(id).append(...Object.entries(labels).map(([value, title]) => el("option", { value }, title)));
}

document.addEventListener("DOMContentLoaded", () => {
  fillSelect("f-status", STATUS);
  fillSelect("f-type", TYPE);
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    // Asked here, on the agent's click: browsers grant it only from a user gesture.
    if ("Notification" in window && Notification.permission === "default") Notification.requestPermission().catch(() => {});
    login($("token").value.trim()).catch((error) => {
      if (error.status !== 401) logout(`Вход не удался: ${error.message}`);
    });
  });
  $("logout").addEventListener("click", () => logout());
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); state.offset = 0; loadQueue(); });
  $("f-team").addEventListener("change", () => { state.offset = 0; loadQueue(); });
  $("page-prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); loadQueue(); });
  $("page-next").addEventListener("click", () => { state.offset += PAGE; loadQueue(); });
  $("reply-form").addEventListener("submit", sendReply);
  $("reply-body").addEventListener("input", () => { state.replyKey = null; });
  $("fields-form").addEventListener("submit", saveFields);
  $("activity-form").addEventListener("submit", addActivity);
  $("escalation-form").addEventListener("submit", escalate);
  $("escalation-level").addEventListener("change", () => {
    $("escalation-due-label").hidden = $("escalation-level").value !== "vendor";
  });
  $("retype-form").addEventListener("submit", retype);
  $("decision-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { action: state.pendingAction.name, decision: $("decision").value };
    if ($("decision-text").value.trim()) body.decision_text = $("decision-text").value.trim();
    if ($("decision-result").value.trim()) body.result = $("decision-result").value.trim();
    transition(body);
  });
  $("decision-cancel").addEventListener("click", () => { $("decision-form").hidden = true; });
  window.addEventListener("hashchange", route);
  setInterval(tickSla, 1000);
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) login(saved).catch(() => logout("Сессия истекла: войдите снова."));
  else $("login").hidden = false;
});
