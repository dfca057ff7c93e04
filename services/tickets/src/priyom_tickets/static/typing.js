/* The website chat's typing indicator in the console (loaded after live.js, whose socket it shares).
 *
 * The console tells /ws/live which ticket it shows ({"type": "watch", "ticket": N | null}, again after every
 * reconnect), so while the visitor of that chat ticket types the server sends {"type": "typing", "ticket": N}:
 * "the visitor is typing…" (chat.visitor_typing) under the thread, until the ticket changes (their message arrived) or TYPING_SHOWN_MS
 * pass without another signal. While the agent writes in the reply box of a ticket whose answer goes to the
 * chat, {"type": "typing", "ticket": N} goes out at most once per TYPING_EVERY_MS: no text, no name; the
 * server finds the visitor and shows "the operator is typing…" in their widget. */
"use strict";

// Sending the answer does not start the count again: the server passes on one per agent every 2 s.
const TYPING_EVERY_MS = 2500;
const TYPING_SHOWN_MS = 6000;
const chatTyping = { sentAt: 0, timer: null, watched: null };

function liveSend(frame) {
  if (live.socket && live.socket.readyState === WebSocket.OPEN) live.socket.send(JSON.stringify(frame));
}

/** The ticket on screen, told to the server when it changes; ``again``: tell it anyway (a new socket). */
function watchShown(again = false) {
  const number = state.ticket && !$("ticket").hidden ? state.ticket.number : null;
  if (number === chatTyping.watched && !again) return;
  if (number !== chatTyping.watched) visitorTyping(false);
  chatTyping.watched = number;
  liveSend({ type: "watch", ticket: number });
}

function visitorTyping(on) {
  clearTimeout(chatTyping.timer);
  $("visitor-typing").hidden = !on;
  if (on) chatTyping.timer = setTimeout(() => { $("visitor-typing").hidden = true; }, TYPING_SHOWN_MS);
}

/** A frame of /ws/live that is about typing: whether it was (live.js hands every frame here first). */
function onTypingFrame(data) {
  if (data.type === "typing") {
    if (data.ticket === chatTyping.watched) visitorTyping(true);
    return true;
  }
  if (data.type === "tickets_changed" && Array.isArray(data.tickets)
      && data.tickets.some((t) => t.number === chatTyping.watched)) {
    visitorTyping(false);  // what they were typing has arrived (or the ticket moved on): the thread shows it
  }
  return false;
}

$("reply-body").addEventListener("input", () => {
  const now = Date.now();
  if (!state.ticket || $("reply-path").dataset.channel !== "chat" || !$("reply-body").value.trim()
      || now - chatTyping.sentAt < TYPING_EVERY_MS) return;
  chatTyping.sentAt = now;
  liveSend({ type: "typing", ticket: state.ticket.number });
});
window.addEventListener("hashchange", () => setTimeout(watchShown, 0));  // after route() has run
new MutationObserver(() => watchShown()).observe($("t-number"), { childList: true, characterData: true, subtree: true });
