/* The console's live channel (loaded after console.js, whose helpers it uses; before typing.js and keyboard.js).
 *
 * /ws/live tells the console, about a second after it happens anywhere, which tickets the agent may see have
 * changed: the queue redraws, the open ticket reloads, a ticket changed while not open is marked unread until
 * the agent opens it, and a ticket newly assigned to the agent (like a ringing call) raises a desktop
 * notification when the agent allowed them. Nothing polls: a console that reconnects reloads what it shows. */
"use strict";

const LIVE_REDRAW_MS = 300;
const ESCALATION_FRESH_MS = 120000;
const live = { retry: 0, socket: null, assignees: new Map(), escalations: new Map(), unread: new Set(),
               queueTimer: null, ticketTimer: null };

/** A desktop notification, when the agent allowed them (asked on login, a user gesture). */
function notifyDesktop(title, body, tag) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try { new Notification(title, { body: body || "", tag }); } catch { /* some browsers allow it only from a worker */ }
}

function refreshShown() {
  if (!state.me) return;
  if (!$("queue").hidden) loadQueue().catch(() => {});
  else if (state.ticket) openTicket(state.ticket.number).catch(() => {});
}

function onTicketsChanged(changes) {
  const open = state.ticket && !$("ticket").hidden ? state.ticket.number : null;
  for (const change of changes) {
    const before = live.assignees.get(change.number);
    live.assignees.set(change.number, change.assignee);
    // An escalation just made (not one the console first hears of long after) that moved the ticket to the
    // agent or that names them (the team head the scheduler escalated an overdue ticket to). A vendor's case
    // stays with its agent: nothing new for her.
    const escalated = Boolean(change.escalated_at) && live.escalations.get(change.number) !== change.escalated_at
      && Date.now() - Date.parse(change.escalated_at) < ESCALATION_FRESH_MS;
    live.escalations.set(change.number, change.escalated_at);
    if (escalated && change.escalation !== "vendor"
        && (change.assignee === state.me.name || change.escalated_to === state.me.name)) {
      notifyDesktop(t("live.escalated", { number: change.number }), change.subject, `ticket-${change.number}`);
    } else if (change.assignee === state.me.name && before !== state.me.name) {
      notifyDesktop(t("live.assigned", { number: change.number }), change.subject, `ticket-${change.number}`);
    }
    if (change.number !== open) live.unread.add(change.number);
  }
  if (!$("queue").hidden) {
    clearTimeout(live.queueTimer);
    live.queueTimer = setTimeout(() => loadQueue().catch(() => {}), LIVE_REDRAW_MS);
  } else if (open && changes.some((t) => t.number === open && Date.parse(t.updated_at) > Date.parse(state.ticket.updated_at))) {
    // Newer than what the page shows (the agent's own change is already shown). While the agent is filling
    // something in, a redraw would reset it: the page offers the reload instead.
    if (editing()) $("live-stale").hidden = false;
    else reloadOpen(open);
  }
}

/** Whether the agent is in the middle of something on the ticket's page: a field focused, a text being
 * written (a redraw would also move the button about to be clicked), a form opened. */
function editing() {
  const active = document.activeElement;
  return (active && $("ticket").contains(active) && ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName))
    || Array.from($("ticket").querySelectorAll("textarea")).some((box) => box.value.trim() !== "")
    || !$("decision-form").hidden || $("ticket").querySelector("details[open]") !== null;
}

function reloadOpen(number) {
  $("live-stale").hidden = true;
  clearTimeout(live.ticketTimer);
  live.ticketTimer = setTimeout(() => {
    if (!state.ticket || state.ticket.number !== number) return;
    // The agent may have started filling something in since the change was heard, or while it loads.
    if (editing()) $("live-stale").hidden = false;
    else openTicket(number, { unless: editing }).catch(() => {});
  }, LIVE_REDRAW_MS);
}

/** The socket takes a one-time ticket, never the token: a URL ends up in logs. */
async function connectLive() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const again = () => {
    const delay = Math.min(30000, 1000 * 2 ** live.retry++);
    sayMarked($("live-status"), "live.lost", { count: Math.round(delay / 1000) });
    setTimeout(() => { if (state.token) connectLive(); }, delay);
  };
  let ticket;
  try {
    ticket = (await api("/api/v1/ws-tickets", { method: "POST" })).ticket;
  } catch (error) {
    if (error.status !== 401) again();
    return;
  }
  const socket = new WebSocket(`${scheme}://${location.host}/ws/live?${new URLSearchParams({ ticket })}`);
  live.socket = socket;
  socket.onopen = () => {
    const reconnected = live.retry > 0;
    live.retry = 0;
    sayMarked($("live-status"), "live.connected");
    watchShown(true);  // typing.js: which ticket this console shows
    if (reconnected) refreshShown();  // what changed while away
  };
  socket.onmessage = (message) => {
    let data;
    try { data = JSON.parse(message.data); } catch { return; }
    if (data && onTypingFrame(data)) return;
    if (data && data.type === "tickets_changed" && Array.isArray(data.tickets)) onTicketsChanged(data.tickets);
    else if (data && data.type === "activity_reminder") onActivityReminder(data);
  };
  socket.onclose = () => { if (state.token && live.socket === socket) again(); };
}

// Asked for by the agent: the reload happens, whatever is being filled in.
$("live-stale").addEventListener("click", () => {
  if (!state.ticket) return;
  $("live-stale").hidden = true;
  openTicket(state.ticket.number).catch(() => {});
});

window.addEventListener("hashchange", () => {
  const match = location.hash.match(/^#\/ticket\/(\d{4}-\d{6,9})$/);
  if (match) live.unread.delete(match[1]);
});

/* After the list is drawn or a row of it changes: rows changed since the agent last opened them are marked
 * (keyboard.js names them). */
new MutationObserver(() => {
  for (const row of $("tickets").tBodies[0].rows) {
    const unread = live.unread.has(row.dataset.number);
    row.classList.toggle("unread", unread);
    live.assignees.set(row.dataset.number, row.cells[6].textContent === "—" ? null : row.cells[6].textContent);
  }
}).observe($("tickets").tBodies[0], { childList: true, subtree: true });
