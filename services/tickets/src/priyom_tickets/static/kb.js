/* The knowledge base in the agent console (loaded after console.js, whose helpers it uses).
 *
 * The panel under the reply box searches the portal's articles through tickets (the console's own origin):
 * tickets passes the search on with the agent's token, so internal articles are found too. "Insert link" and
 * "insert excerpt" put the article's address or its matching words into the reply box, where the agent reads and
 * edits them and sends the reply as any other: the panel never sends anything itself.
 *
 * On a resolved or closed ticket, "draft an article" asks tickets to write the ticket's subject and resolution
 * into an internal draft in the portal (as the agent), and links it in the console's editor (/console/kb), where
 * it is rewritten and published. */
"use strict";

/** Add ``text`` to the reply box (after what is there), as another text: another reply key. */
function insertIntoReply(text) {
  const box = $("reply-body");
  box.value = box.value.trim() ? `${box.value}\n\n${text}` : text;
  state.replyKey = null;
  box.focus();
}

function kbResult(hit) {
  const link = el("button", { type: "button", className: "kb-insert-link" }, t("kb.insert_link"));
  const excerpt = el("button", { type: "button", className: "kb-insert-excerpt" }, t("kb.insert_excerpt"));
  link.addEventListener("click", () => { insertIntoReply(`${hit.title}: ${hit.url}`); say("kb-status", t("kb.inserted")); });
  excerpt.addEventListener("click", () => { insertIntoReply(hit.snippet); say("kb-status", t("kb.inserted")); });
  return el("li", { dataset: { article: hit.id } },
            el("strong", { className: "kb-title" }, hit.title), " ",
            el("a", { href: hit.url, target: "_blank", rel: "noopener noreferrer" }, t("kb.open")),
            el("div", { className: "kb-snippet muted" }, hit.snippet),
            link, " ", excerpt);
}

async function searchKnowledgeBase(event) {
  event.preventDefault();
  const query = $("kb-query").value.trim();
  const button = $("kb-search");
  if (!query || button.disabled) return;
  button.disabled = true;
  say("kb-status", t("kb.searching"));
  try {
    const found = await api(`/api/v1/kb/search?q=${encodeURIComponent(query)}`);
    $("kb-results").replaceChildren(...found.items.map(kbResult));
    say("kb-status", found.items.length ? t("kb.found", { count: found.items.length }) : t("kb.nothing"));
  } catch (error) {
    $("kb-results").replaceChildren();
    if (error.status !== 401) say("kb-status", t("kb.failed", { error: error.message }), true);
  } finally {
    button.disabled = false;
  }
}

/** The statuses whose ticket holds a resolution to write up (tickets' kb_drafts.SETTLED). */
const SETTLED = new Set(["resolved", "closed"]);

function renderKbDraft(ticket) {
  const bar = $("kb-draft-bar");
  if (bar.dataset.number !== ticket.number) {
    bar.dataset.number = ticket.number;
    say("kb-draft-status", "");
  }
  bar.hidden = !SETTLED.has(ticket.status);
}

async function draftArticle() {
  const button = $("kb-draft");
  if (button.disabled || !state.ticket) return;
  button.disabled = true;
  say("kb-draft-status", t("kb.drafting"));
  try {
    const language = i18n.locale.startsWith("en") ? "en" : "ru";
    const draft = await api(`/api/v1/tickets/${encodeURIComponent(state.ticket.number)}/kb-draft`,
                            { method: "POST", body: { language } });
    $("kb-draft-status").replaceChildren(t("kb.drafted", { id: draft.id }), " ",
      el("a", { id: "kb-draft-link", href: `/console/kb#/article/${draft.id}`, target: "_blank" }, draft.title));
  } catch (error) {
    if (error.status !== 401) say("kb-draft-status", t("kb.draft_failed", { error: error.message }), true);
  } finally {
    button.disabled = false;
  }
}

$("kb-form").addEventListener("submit", searchKnowledgeBase);
$("kb-draft").addEventListener("click", draftArticle);
