/* Internal notes and mentions in the agent console (loaded after console.js, whose helpers it uses).
 *
 * A note is for staff only: it is posted to /notes, never to /replies, and shown in the thread marked as
 * internal. Mentions of the agent are read from /api/v1/me/mentions on login, every half minute, and at once
 * when the console's socket says a new one came; marking one seen removes it from the list. */
"use strict";

const MENTIONS_EVERY_MS = 30000;

function noteItem(n) {
  const meta = [when(n.created_at), t("note.internal"), n.author];
  if (n.mentions.length) meta.push(t("note.mentioned", { names: n.mentions.join(", ") }));
  return el("li", { className: "internal", dataset: { note: n.id } },
    el("p", { className: "meta" }, meta.join(" · ")), el("p", { className: "body" }, n.body));
}

async function addNote(event) {
  event.preventDefault();
  const button = $("note-add");
  if (button.disabled) return;
  button.disabled = true;
  const number = state.ticket.number;
  try {
    const note = await api(`/api/v1/tickets/${encodeURIComponent(number)}/notes`, { method: "POST",
                                                                                    body: { body: $("note-body").value } });
    $("note-body").value = "";
    say("note-status", note.mentions.length ? t("note.added_mentioned", { names: note.mentions.join(", ") })
      : t("note.added"));
    if (state.ticket && state.ticket.number === number) {
      state.ticket.notes = [...(state.ticket.notes || []), note];
      renderThread(state.ticket);
    }
  } catch (error) {
    if (error.status !== 401) say("note-status", t("note.failed", { error: error.message }), true);
  } finally {
    button.disabled = false;
  }
}

async function loadMentions() {
  if (!state.token) return;
  let mentions;
  try { mentions = await api("/api/v1/me/mentions"); } catch { return; }
  $("mentions").hidden = mentions.length === 0;
  $("mention-list").replaceChildren(...mentions.map((m) => {
    const open = el("a", { href: `#/ticket/${m.number}`, className: "mention-open" }, m.number);
    const seen = el("button", { type: "button", className: "mention-seen" }, t("mentions.seen"));
    seen.addEventListener("click", async () => {
      try { await api(`/api/v1/me/mentions/${m.id}/seen`, { method: "POST" }); } catch { /* shown next round */ }
      loadMentions();
    });
    return el("li", { dataset: { mention: m.id } }, open, ` ${m.author}: `,
              el("span", { className: "mention-body" }, m.body), " ", seen);
  }));
}

function watchMentions() {
  loadMentions();
  if (state.mentionTimer) clearInterval(state.mentionTimer);
  state.mentionTimer = setInterval(() => { if (state.token) loadMentions(); }, MENTIONS_EVERY_MS);
}

$("note-form").addEventListener("submit", addNote);
