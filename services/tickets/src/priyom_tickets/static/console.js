// The agent console. Plain browser JavaScript, no build step, no third-party code.
//
// Safety rule for this file: data from the API (customers' text above all) reaches the page only as text
// (`textContent`, or the `el()` helper below, which never parses markup). There is no innerHTML here.
"use strict";

const TOKEN_KEY = "priyom.token";
const PAGE = 50;

// Statuses, ticket types and history events are drawn from the catalogue by their codes (status.<code>,
// type.<code>, event.<code>); these lists are the codes the filters offer.
const STATUSES = ["new", "accepted", "open", "pending", "resolved", "closed", "cancelled", "review", "needs_info",
                  "rejected", "investigation", "action_plan", "awaiting_confirm"];
const TYPES = ["complaint", "information_request", "service_request", "purchase_interest"];
const statusTitle = (code) => tCode("status.", code);
const typeTitle = (code) => tCode("type.", code);
// Statuses whose resolution clock has stopped (as the server's store.DONE).
const CLOCK_STOPPED = new Set(["resolved", "closed", "cancelled", "rejected", "awaiting_confirm"]);

const state = { token: null, me: null, queue: "mine", offset: 0, ticket: null, decisions: {}, fields: {},
                socket: null, socketRetry: 0, pendingAction: null, replyKey: null, writes: 0 };

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

function span(ms) {
  const minutes = Math.floor(Math.abs(ms) / 60000);
  const days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
  if (days) return t("span.days", { days, hours });
  if (hours) return t("span.hours", { hours, mins: String(mins).padStart(2, "0") });
  const seconds = Math.floor(Math.abs(ms) / 1000) % 60;
  return t("span.minutes", { mins, seconds: String(seconds).padStart(2, "0") });
}

/** Late as the server counts it: still worked and past the resolution deadline, or unanswered and past the
 * first-response one. */
function isOverdue(ticket, now = Date.now()) {
  if (CLOCK_STOPPED.has(ticket.status)) return false;
  if (Date.parse(ticket.resolution_due_at) < now) return true;
  return !ticket.first_responded_at && Date.parse(ticket.first_response_due_at) < now;
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
  if (method !== "GET") state.writes += 1;  // see openTicket
  if (response.status === 401) { logout(t("login.refused")); throw new ApiError(401); }
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
  setPreferences(me);
  showPreferences();
  state.queue = me.sees_all ? "all" : "mine";
  $("login").hidden = true;
  $("app").hidden = false;
  $("whoami").textContent = `${me.name} · ${me.role}` + (me.teams.length ? ` · ${me.teams.join(", ")}` : "");
  $("activity-owner").value = me.name;
  $("dead-letters-link").hidden = me.role !== "admin";
  $("dashboard-link").hidden = !me.sees_all;
  $("kb-editor-link").hidden = !me.knowledge_base || me.role === "admin";
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
  const tabs = [["mine", t("queue.tab.mine")]];
  if (me.teams.length) tabs.push(["team", t("queue.tab.team")]);
  tabs.push(["all", me.sees_all ? t("queue.tab.all") : t("queue.tab.all_allowed")]);
  $("tabs").replaceChildren(...tabs.map(([key, title]) => {
    const button = el("button", { type: "button", role: "tab", dataset: { queue: key },
                                  "aria-selected": String(state.queue === key) }, title);
    button.addEventListener("click", () => {
      state.queue = key; state.offset = 0; state.drill = null; renderTabs(); loadQueue();
    });
    return button;
  }));
  const team = $("f-team");
  team.replaceChildren(...me.teams.map((name) => el("option", { value: name }, name)));
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

/** How many times the list was asked for: loads overlap (a tab clicked while the login's load is on its way,
 * a live redraw), and only the one asked for last may draw; an earlier answer arriving later is stale. */
let queueLoads = 0;

async function loadQueue() {
  if (!state.me) return;
  const load = ++queueLoads;
  const page = await api(`/api/v1/tickets?${queueParams()}`);
  if (load !== queueLoads) return;
  const now = Date.now();
  keepRows($("tickets").tBodies[0], page.items.map((ticket) => {
    const late = isOverdue(ticket, now);
    const row = el("tr", { className: late ? "overdue" : "", dataset: { number: ticket.number } },
      el("td", {}, ticket.number), el("td", {}, when(ticket.created_at)), el("td", {}, typeTitle(ticket.type)),
      el("td", {}, statusTitle(ticket.status)), el("td", {}, ticket.client_name || ticket.client_id.slice(0, 8)),
      el("td", {}, ticket.subject || ""), el("td", {}, ticket.assignee || "—"),
      el("td", { className: "deadline" }, when(ticket.resolution_due_at), late ? ` · ${t("sla.overdue")}` : ""));
    row.addEventListener("click", () => { location.hash = `#/ticket/${ticket.number}`; });
    return row;
  }));
  const last = Math.min(page.offset + page.items.length, page.total);
  $("queue-total").textContent = page.total ? t("queue.total", { from: page.offset + 1, to: last, count: page.total }) : t("queue.empty");
  $("page-prev").disabled = page.offset === 0;
  $("page-next").disabled = last >= page.total;
}

/** Draw ``rows`` into ``body`` keeping the rows already there: a row for the same ticket stays the same element
 * (its changed cells replaced, its overdue mark set), and only rows out of place are moved. The live feed redraws
 * the queue whenever a ticket changes, often while the agent is clicking a row; a row replaced between the press
 * and the release of the button swallows the click, one kept (or only its cells replaced) does not. The first cell
 * is the ticket's number, the row's key, and also holds the bulk checkbox (bulk.js): it is kept as it is. What
 * the other scripts add to the rows (bulk.js, keyboard.js, live.js) they add on any change under the body. */
function keepRows(body, rows) {
  const shown = new Map([...body.rows].map((row) => [row.dataset.number, row]));
  const wanted = rows.map((row) => {
    const old = shown.get(row.dataset.number);
    if (!old || old.cells.length !== row.cells.length) return row;
    old.classList.toggle("overdue", row.classList.contains("overdue"));
    [...row.cells].slice(1).forEach((cell, i) => {
      const was = old.cells[i + 1];
      if (was.textContent !== cell.textContent || was.className !== cell.className) was.replaceWith(cell);
    });
    return old;
  });
  wanted.forEach((row, i) => { if (body.rows[i] !== row) body.insertBefore(row, body.rows[i] || null); });
  while (body.rows.length > wanted.length) body.rows[wanted.length].remove();
}

// -- one ticket ----------------------------------------------------------------------------------------

/** Open (or reload) a ticket. ``unless``: a reload the agent did not ask for (the live channel's) gives way
 * when it says so by the time the answer is back, as when the agent started filling a field meanwhile: the
 * page then offers the reload (#live-stale) instead of wiping what they typed. A load during which this
 * page wrote anything (a note or an activity leaves the ticket's updated_at as it was) may have read before the
 * write: it is made again rather than drawn over what the write showed. */
async function openTicket(number, { unless } = {}) {
  if (!state.ticket || state.ticket.number !== number) state.replyKey = null;
  const writes = state.writes;
  const [ticket, notes] = await Promise.all([api(`/api/v1/tickets/${encodeURIComponent(number)}`),
                                             api(`/api/v1/tickets/${encodeURIComponent(number)}/notes`)]);
  ticket.notes = notes;
  if (state.writes !== writes) return openTicket(number, { unless });
  // A reload that left before a change this page made and came back after it is older than what is shown.
  if (state.ticket && state.ticket.number === number && Date.parse(state.ticket.updated_at) > Date.parse(ticket.updated_at)) return;
  if (unless && unless()) { $("live-stale").hidden = false; return; }
  state.ticket = ticket;
  $("live-stale").hidden = true;  // what is shown is the latest
  renderTicket(ticket);
  loadClientTickets(ticket);
  loadClientCard(ticket);
  loadReplyPath(ticket);
}

/** Before the agent writes: where the reply will go (the customer's channel, their card's e-mail, a call-back). */
async function loadReplyPath(ticket) {
  const label = $("reply-path");
  label.textContent = "";
  try {
    const path = await api(`/api/v1/tickets/${encodeURIComponent(ticket.number)}/reply-path`);
    if (state.ticket !== ticket) return;
    const because = tCode("reply_path.because.", path.reason, path.because);
    label.textContent = path.channel === null ? t("reply_path.none", { because })
      : path.call_back ? t("reply_path.call_back", { address: path.address, because })
      : t("reply_path.goes", { channel: path.channel, address: path.address || t("reply_path.chat"), because });
    if (path.warning) label.textContent += t("reply_path.skipped", { warning: path.warning });
    label.dataset.channel = path.channel || "";
    $("reply-send").disabled = path.channel === null;
  } catch (error) {
    if (error.status !== 401) label.textContent = t("reply_path.unknown", { error: error.message });
  }
}

function renderTicket(ticket) {
  $("t-number").textContent = ticket.number;
  $("t-subject").textContent = ticket.subject || "";
  $("t-status").textContent = statusTitle(ticket.status);
  $("t-status").dataset.status = ticket.status;
  $("t-type").textContent = typeTitle(ticket.type);
  $("t-channel").textContent = ticket.channel;
  $("t-team").textContent = ticket.team;
  $("t-assignee").textContent = ticket.assignee || t("ticket.unassigned");
  const flags = [];
  if (isOverdue(ticket)) flags.push(el("span", { className: "flag", id: "t-overdue" }, t("sla.overdue")));
  if (ticket.overdue_at) flags.push(el("span", { className: "flag" }, t("ticket.overdue_marked", { at: when(ticket.overdue_at) })));
  if (ticket.delivery_failed_at) {
    flags.push(el("span", { className: "flag", id: "t-delivery-failed" },
                  t("ticket.delivery_failed", { at: when(ticket.delivery_failed_at) })));
  }
  if (ticket.escalation) flags.push(el("span", { className: "flag" }, t("ticket.escalated", { level: ticket.escalation, to: ticket.escalated_to })));
  if (ticket.decision) flags.push(el("span", { className: "badge" }, t("ticket.decision", { decision: decisionTitle(ticket.decision) })));
  $("t-flags").replaceChildren(...flags);
  renderSla(ticket);
  renderThread(ticket);
  renderActions(ticket);
  renderKbDraft(ticket);
  renderFields(ticket);
  renderActivities(ticket);
  renderRetype(ticket);
  $("t-history").replaceChildren(...ticket.history.map((h) => el("li", {},
    `${when(h.at)} · ${h.actor} · ${tCode("event.", h.action, tCode("action.", h.action))}`,
    h.action === "type_changed" && h.details
      ? `: ${typeTitle(h.details.from_type)} → ${typeTitle(h.details.to_type)}` : "",
    h.to_status ? ` → ${statusTitle(h.to_status)}` : "",
    historyNote(h) ? ` · ${historyNote(h)}` : "")));
  renderClient(ticket);
  const rating = ticket.satisfaction;
  $("t-rating").textContent = rating ? t("ticket.rating", { rating: rating.rating }) + (rating.comment ? ` — ${rating.comment}` : "") : "";
}

/** What a history line adds. The service's own lines are worded here from their details, in the agent's
 * language (their stored note is the service's language); a person's note is shown as they wrote it. */
function historyNote(h) {
  const details = h.details || {};
  if (h.action === "fields_dropped" && details.fields) {  // the dropped fields with their values
    return t("history.fields_dropped", { fields: Object.keys(details.fields).sort().join(", ") });
  }
  if (h.action === "not_notified" && details.undeliverable) {
    return t("history.not_notified", { addresses: Object.keys(details.undeliverable).join(", ") });
  }
  if (h.action === "overdue" && details.deadline) {
    return t("history.overdue", { deadline: t(details.deadline === "first_response" ? "sla.first_response" : "sla.resolution") });
  }
  return details.note || "";
}

/** The "change type" control: offered only when the server lists types this agent may correct it to. */
function renderRetype(ticket) {
  const choices = ticket.type_choices || [];
  $("retype").hidden = !choices.length;
  $("retype-type").replaceChildren(...choices.map((type) => el("option", { value: type }, typeTitle(type))));
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
    say("action-status", t("retype.done", { type: typeTitle(ticket.type), status: statusTitle(ticket.status) }));
  } catch (error) {
    if (error.status !== 401) say("action-status", t("retype.failed", { error: error.message }), true);
  }
}

async function escalate(event) {
  event.preventDefault();
  const body = { level: $("escalation-level").value, to: $("escalation-to").value.trim() };
  if ($("escalation-note").value.trim()) body.note = $("escalation-note").value.trim();
  if (body.level === "vendor" && $("escalation-due").value) {
    const due = fromZoneTime($("escalation-due").value);  // typed in the agent's zone
    if (!due) { say("action-status", t("escalation.vendor_due_missing"), true); return; }
    body.due_at = due.toISOString();
  }
  try {
    const ticket = await api(`/api/v1/tickets/${state.ticket.number}/escalations`, { method: "POST", body });
    state.ticket = ticket;
    renderTicket(ticket);
    say("action-status", t("escalation.done", { to: ticket.escalated_to }));
    if (body.due_at) loadMyActivities();
  } catch (error) {
    if (error.status !== 401) say("action-status", t("escalation.failed", { error: error.message }), true);
  }
}

function renderSla(ticket) {
  const rows = [];
  const clock = (label, due, stoppedAt, id) => {
    rows.push(el("dt", {}, label));
    if (stoppedAt) rows.push(el("dd", { id }, t("sla.met", { at: when(stoppedAt), due: when(due) })));
    else rows.push(el("dd", { id, dataset: { due } }, ""));
  };
  clock(t("sla.first_response"), ticket.first_response_due_at, ticket.first_responded_at, "sla-first-response");
  clock(t("sla.resolution"), ticket.resolution_due_at, CLOCK_STOPPED.has(ticket.status) ? (ticket.resolved_at || ticket.closed_at) : null,
        "sla-resolution");
  $("t-sla").replaceChildren(...rows);
  tickSla();
}

/** Every second: the time left to each running deadline, or how late it is. */
function tickSla() {
  const now = Date.now();
  for (const node of document.querySelectorAll("#t-sla dd[data-due]")) {
    const left = Date.parse(node.dataset.due) - now;
    node.textContent = t(left >= 0 ? "sla.left" : "sla.late", { span: span(left), due: when(node.dataset.due) });
    node.classList.toggle("late", left < 0);
  }
}

/** The customer's thread with the agents' internal notes put in by time, each note marked as internal. */
function renderThread(ticket) {
  const notes = (ticket.notes || []).map((n) => ({ at: n.created_at, node: noteItem(n) }));
  const messages = ticket.messages.map((m) => ({ at: m.created_at, node: messageItem(ticket, m) }));
  const items = [...messages, ...notes].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  $("t-thread").replaceChildren(...items.map((i) => i.node));
}

function messageItem(ticket, m) {
  const classes = [m.direction];
  if (m.automated) classes.push("automated");
  const meta = [when(m.created_at), m.channel, t(m.direction === "inbound" ? "message.inbound" : "message.outbound"),
                m.author_name || ""];
  if (m.automated) meta.push(t("message.automated", { kind: m.automated }));
  const unread = m.unread_reason
    ? el("p", { className: "failed unread" }, t("message.unread", { reason: m.unread_reason }))
    : null;
  const unproven = m.sender_flag
    ? el("p", { className: "failed unproven" }, t("message.unproven"))
    : null;
  if (m.sender_auth) meta.push(m.sender_auth.authenticated === true ? t("message.sender_proven")
    : m.sender_auth.authenticated === false ? t("message.sender_not_proven") : "");
  const delivery = m.direction === "outbound" && m.delivery_status
    ? el("p", { className: m.delivery_status === "failed" ? "failed delivery" : "delivery" },
         t("message.delivery", { status: tCode("message.delivery.", m.delivery_status) }), m.delivery_detail ? ` — ${m.delivery_detail}` : "")
    : null;
  const files = m.attachments.map((a) => {
    const button = el("button", { type: "button", className: "attachment" },
                      t("message.file", { name: a.filename, kb: Math.ceil(a.size / 1024) }));
    button.addEventListener("click", () => download(ticket.number, a));
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
  if (!response.ok) { say("reply-status", t("message.file_failed", { status: response.status }), true); return; }
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: attachment.filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function renderActions(ticket) {
  $("decision-form").hidden = true;
  $("action-buttons").replaceChildren(...ticket.actions.map((action) => {
    const button = el("button", { type: "button", dataset: { action: action.name } }, actionTitle(action));
    button.addEventListener("click", () => {
      if (action.needs_decision) askDecision(action);
      else transition({ action: action.name });
    });
    return button;
  }));
}

function askDecision(action) {
  state.pendingAction = action;
  $("decision-action").textContent = actionTitle(action);
  $("decision").replaceChildren(...Object.entries(state.decisions).map(([code, title]) =>
    el("option", { value: code }, decisionTitle(code, title))));
  $("decision-text").value = "";
  $("decision-result").value = "";
  $("decision-form").hidden = false;
}

async function transition(body) {
  try {
    const ticket = await api(`/api/v1/tickets/${state.ticket.number}/transitions`, { method: "POST", body });
    state.ticket = ticket;
    renderTicket(ticket);
    say("action-status", t("action.done", { status: statusTitle(ticket.status) }));
  } catch (error) {
    if (error.status !== 401) say("action-status", t("action.failed", { error: error.message }), true);
  }
}

function renderFields(ticket) {
  const form = $("fields-form");
  const defs = state.fields[ticket.type] || [];
  const values = ticket.type_fields || {};
  if (!defs.length) { form.replaceChildren(el("p", { className: "muted" }, t("fields.none"))); return; }
  const inputs = defs.map((d) => {
    const type = d.kind === "date" ? "date" : d.kind === "number" ? "number" : "text";
    const attrs = { id: `field-${d.name}`, name: d.name, type, value: values[d.name] ?? "" };
    if (d.kind === "number") attrs.step = "0.01";
    if (d.max_length) attrs.maxlength = d.max_length;
    return el("label", {}, tCode(`field.${ticket.type}.`, d.name, d.title), el("input", attrs));
  });
  form.replaceChildren(...inputs, el("button", { type: "submit", id: "fields-save" }, t("fields.save")));
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
    say("fields-status", t("fields.saved"));
  } catch (error) {
    if (error.status !== 401) say("fields-status", t("fields.failed", { error: error.message }), true);
  }
}

function renderActivities(ticket) {
  $("t-activities").replaceChildren(...ticket.activities.map((a) => {
    const item = el("li", { className: a.done_at ? "done" : overdue(a) ? "overdue" : "", dataset: { id: a.id } },
                    `${when(a.due_at)} · ${a.title} · ${a.owner}`);
    if (overdue(a)) item.append(" · ", el("strong", {}, t("activities.overdue")));
    if (!a.done_at) {
      const done = el("button", { type: "button" }, t("activity.done"));
      done.addEventListener("click", async () => {
        try {
          await api(`/api/v1/activities/${a.id}`, { method: "PATCH", body: { done: true } });
          await openTicket(ticket.number);
          loadMyActivities();
        } catch (error) {
          if (error.status !== 401) say("activity-status", t("activity.done_failed", { error: error.message }), true);
        }
      });
      item.append(" ", done);
    }
    return item;
  }));
}

async function addActivity(event) {
  event.preventDefault();
  const due = fromZoneTime($("activity-due").value);  // typed in the agent's zone, like every date shown
  if (!due) { say("activity-status", t("activity.due_missing"), true); return; }
  try {
    await api(`/api/v1/tickets/${state.ticket.number}/activities`, { method: "POST", body: {
      kind: $("activity-kind").value, title: $("activity-title").value, owner: $("activity-owner").value,
      due_at: due.toISOString() } });
    $("activity-title").value = "";
    say("activity-status", t("activity.added"));
    await openTicket(state.ticket.number);
    loadMyActivities();
  } catch (error) {
    if (error.status !== 401) say("activity-status", t("activity.failed", { error: error.message }), true);
  }
}

function renderClient(ticket) {
  const rows = [["client.client", ticket.client_name || "—"], ["client.id", ticket.client_id],
                ["client.person", ticket.person_id || "—"], ["client.first_contact", t(ticket.first_contact ? "yes" : "no")],
                ["client.sla_tier", ticket.sla_tier || "—"], ["client.channel", ticket.channel],
                ["client.route", ticket.routing_reason]];
  $("t-client").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v)]));
}

// Identity's full card, read by tickets server-side; without it the panel keeps what tickets knows. Why it is
// missing (card.unavailable.<reason>) and a person's role (card.role.<role>) come from the catalogue.

function contactLabel(kind) {
  if (kind === "phone") return t("card.phone");
  if (kind === "email") return "email";
  return kind.startsWith("messenger:") ? kind.slice("messenger:".length) : kind;
}

/** One phone, email or messenger id as a list item; a bouncing address and a mere claim are flagged in words. */
function contactItem(c) {
  const classes = [c.undeliverable ? "undeliverable" : null, c.verified === false ? "claimed" : null].filter(Boolean);
  const item = el("li", { className: classes.length ? classes.join(" ") : null },
                  `${contactLabel(c.kind)} `, el("span", { className: "contact-value" }, c.value),
                  c.extension ? ` ${t("card.extension", { extension: c.extension })}` : "");
  if (c.undeliverable) {
    item.append(" ", el("span", { className: "flag" },
                         t("card.undeliverable") + (c.undeliverable_reason ? `: ${c.undeliverable_reason}` : "")));
  }
  if (c.verified === false) {
    // Typed into a form or a mail by whoever wrote: not proof that this is the client's own.
    item.append(" ", el("span", { className: "flag claim" }, t("card.claimed")));
  }
  if (c.kind === "phone" && !c.undeliverable) item.append(" ", callButton(c.value, state.ticket && state.ticket.number));
  return item;
}

async function loadClientCard(ticket) {
  const box = $("t-card");
  box.replaceChildren(el("p", { className: "muted" }, t("card.loading")));
  let panel;
  try {
    panel = await api(`/api/v1/tickets/${encodeURIComponent(ticket.number)}/client`);
  } catch (error) {
    if (error.status === 401) return;
    panel = { available: false, reason: "unreachable" };
  }
  if (!state.ticket || state.ticket.number !== ticket.number) return;  // another ticket was opened meanwhile
  if (!panel.available) {
    box.replaceChildren(el("p", { className: "muted", id: "t-card-unavailable" },
                           t("card.unavailable", { reason: tCode("card.unavailable.", panel.reason) })));
    return;
  }
  const c = panel.card;
  const rows = [["card.organisation", c.kind === "org" ? c.name : "—"], ["client.client", c.kind === "person" ? c.name : null],
                ["card.legal_id", c.legal_id], ["card.region", c.region], ["card.manager", c.account_manager || "—"],
                ["client.sla_tier", c.sla_tier], ["card.tags", c.tags.length ? c.tags.join(", ") : null],
                ["card.notes", c.notes]].filter(([, v]) => v !== null && v !== undefined && v !== "");
  const parts = [el("dl", { className: "card", id: "t-card-fields" },
                    ...rows.flatMap(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v)]))];
  const flags = [];
  if (c.provisional) flags.push(el("span", { className: "badge" }, t("card.provisional")));
  if (c.undeliverable) flags.push(el("span", { className: "flag", id: "t-card-undeliverable" }, t("card.has_undeliverable")));
  if (flags.length) parts.push(el("p", {}, ...flags));
  if (c.contacts.length) parts.push(el("ul", { className: "contacts" }, ...c.contacts.map(contactItem)));
  parts.push(el("h4", {}, t("card.persons")));
  parts.push(el("ul", { className: "plain", id: "t-card-persons" }, ...(c.persons.length ? c.persons.map((p) => el("li", {},
    el("strong", {}, p.erased ? t("card.erased") : p.full_name || t("card.no_name")),
    [p.position, p.role && tCode("card.role.", p.role)].filter(Boolean).length
      ? ` · ${[p.position, p.role && tCode("card.role.", p.role)].filter(Boolean).join(", ")}` : "",
    el("ul", { className: "contacts" }, ...p.contacts.map(contactItem))))
    : [el("li", { className: "muted" }, t("card.no_persons"))])));
  if (c.contracts.length) {
    parts.push(el("h4", {}, t("card.contracts")));
    parts.push(el("ul", { className: "plain", id: "t-card-contracts" }, ...c.contracts.map((k) => el("li", {},
      k.number, k.service ? ` · ${k.service}` : "",
      k.valid_from || k.valid_to ? ` · ${k.valid_from || "…"} — ${k.valid_to || "…"}` : ""))));
  }
  box.replaceChildren(...parts);
}

async function loadClientTickets(ticket) {
  const page = await api(`/api/v1/tickets?client_id=${ticket.client_id}&limit=10`);
  const others = page.items.filter((o) => o.number !== ticket.number);
  $("t-client-tickets").replaceChildren(...(others.length ? others.map((o) => {
    const link = el("a", { href: `#/ticket/${o.number}` }, o.number);
    return el("li", {}, link, ` · ${statusTitle(o.status)} · ${o.subject || ""}`);
  }) : [el("li", { className: "muted" }, t("client.no_other_tickets"))]));
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
      say("reply-status", t("reply.uploading"));
      attachments = await api(`/api/v1/tickets/${number}/attachments`, { method: "POST", form });
    }
    await api(`/api/v1/tickets/${number}/replies`, { method: "POST", key: state.replyKey,
                                                    body: { body: $("reply-body").value, attachments } });
    state.replyKey = null;
    $("reply-body").value = "";
    $("reply-files").value = "";
    say("reply-status", t("reply.sent"));
    sent = true;
  } catch (error) {
    if (error.status !== 401) say("reply-status", t("reply.failed", { error: error.message }), true);
  } finally {
    send.disabled = false;
  }
  if (sent) await openTicket(number);
}

// -- caller pop-ups ------------------------------------------------------------------------------------

/** The socket takes a one-time ticket, never the token: a URL ends up in logs. */
async function connectPopups() {
  const extension = state.me && state.me.extension;
  if (!extension) { sayMarked($("popup-status"), "popup.no_extension"); return; }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let ticket;
  try {
    ticket = (await api("/api/v1/ws-tickets", { method: "POST" })).ticket;
  } catch (error) {
    const delay = Math.min(30000, 1000 * 2 ** state.socketRetry++);
    sayMarked($("popup-status"), "popup.failed", { extension, error: error.message, count: Math.round(delay / 1000) });
    if (error.status !== 401) setTimeout(() => { if (state.token) connectPopups(); }, delay);
    return;
  }
  const query = new URLSearchParams({ extension, ticket });
  const socket = new WebSocket(`${scheme}://${location.host}/ws/agent?${query}`);
  state.socket = socket;
  socket.onopen = () => { state.socketRetry = 0; sayMarked($("popup-status"), "popup.connected", { extension }); };
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
    sayMarked($("popup-status"), "popup.lost", { extension, count: Math.round(delay / 1000) });
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
    const button = el("button", { type: "button", className: "open-ticket", dataset: { number } }, t("popup.open"));
    button.addEventListener("click", () => { location.hash = `#/ticket/${number}`; linkCall(call.call_id, number); });
    const about = typeof item === "object" && item ? [item.status && statusTitle(item.status),
                                                      item.subject].filter(Boolean).join(" · ") : "";
    return el("li", {}, `${number}${about ? ` · ${about}` : ""} `, button);
  });
  const last = (call.last_contacts || []).slice(0, 5).map((c) => el("li", {},
    typeof c === "object" && c ? [when(c.at), c.channel, t(c.direction === "outbound" ? "popup.from_us" : "message.inbound"),
                                  c.ticket_number, c.subject].filter(Boolean).join(" · ") : String(c)));
  const close = el("button", { type: "button", className: "dismiss" }, t("popup.dismiss"));
  const card = el("div", { className: "popup", role: "alert", dataset: { call: String(call.call_id) } },
    el("h4", {}, t("popup.incoming")), el("p", { className: "call-state muted" }, t("popup.ringing")),
    el("p", { className: "caller" }, call.caller_name ? `${call.caller_name} · ` : "", call.caller_number || t("popup.hidden_number")),
    call.caller_number ? el("p", {}, callButton(call.caller_number)) : null,
    el("p", {}, clientName ? t("popup.client", { name: clientName }) : t("popup.no_client"),
       call.first_contact ? ` · ${t("popup.first_contact")}` : ""),
    open.length ? el("div", {}, el("strong", {}, t("popup.open_tickets")), el("ul", {}, open)) : null,
    el("p", {}, newTicketButton(call.call_id), el("span", { className: "call-ticket-status", role: "status" })),
    last.length ? el("div", {}, el("strong", {}, t("popup.last_contacts")), el("ul", {}, last)) : null,
    close);
  close.addEventListener("click", () => card.remove());
  if (!existing) notifyDesktop(t("popup.incoming"), [call.caller_name, call.caller_number, clientName].filter(Boolean).join(" · "),
                               `call-${call.call_id}`);
  if (existing) existing.replaceWith(card); else $("popups").prepend(card);
}

/** The call was answered or is over: the card stays (its tickets may still be wanted) and says so. */
function callMoved(progress) {
  const card = document.querySelector(`#popups .popup[data-call="${CSS.escape(String(progress.call_id))}"]`);
  if (!card) return;
  card.querySelector(".call-state").textContent = t(progress.type === "call_answered" ? "popup.answered" : "popup.ended");
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

/** Options for codes whose titles are the catalogue's ``prefix + code``: marked, so a change of language
 * redraws them with the rest of the page. */
function fillSelect(id, prefix, codes) {
  $(id).append(...codes.map((code) => el("option", { value: code, "data-i18n": prefix + code }, t(prefix + code))));
}

/** A lifecycle action's title: the catalogue's, else the server's. */
function actionTitle(action) {
  return tCode("action.", action.name, action.title);
}

/** A decision's title: the catalogue's, else the server's dictionary. */
function decisionTitle(code, fallback) {
  return tCode("decision.", code, fallback || state.decisions[code]);
}

document.addEventListener("DOMContentLoaded", () => {
  fillSelect("f-status", "status.", STATUSES);
  fillSelect("f-type", "type.", TYPES);
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    // Asked here, on the agent's click: browsers grant it only from a user gesture.
    if ("Notification" in window && Notification.permission === "default") Notification.requestPermission().catch(() => {});
    login($("token").value.trim()).catch((error) => {
      if (error.status !== 401) logout(t("login.failed", { error: error.message }));
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
  if (saved) login(saved).catch(() => logout(t("login.expired")));
  else $("login").hidden = false;
});
