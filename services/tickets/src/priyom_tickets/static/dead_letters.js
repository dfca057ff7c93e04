// The admins' view of dead letters: list, replay after a fix, discard with a reason (loaded after page_kit.js,
// whose helpers it uses).
"use strict";

const PAGE = 50;
// A letter's state and an action's outcome are drawn from the catalogue by code (dead_letters.state.<code>,
// dead_letters.outcome.<code>).

const view = { offset: 0 };

/** With seconds: letters that failed in one burst are told apart by them. */
const WITH_SECONDS = { dateStyle: "short", timeStyle: "medium" };

function say(text, failed = false) {
  $("dl-status").textContent = text;
  $("dl-status").classList.toggle("error", failed);
}

function deny(text) {
  $("dl-view").hidden = true;
  $("dl-denied").hidden = false;
  $("dl-denied").replaceChildren(text, " ", el("a", { href: "/console" }, t("dead_letters.log_in")));
}

function params() {
  const query = new URLSearchParams({ state: $("dl-state").value, limit: PAGE, offset: view.offset });
  if ($("dl-service").value.trim()) query.set("service", $("dl-service").value.trim());
  if ($("dl-channel").value.trim()) query.set("channel", $("dl-channel").value.trim());
  return query;
}

function row(letter) {
  const pick = el("input", { type: "checkbox", className: "dl-pick", dataset: { id: letter.id },
                             "aria-label": t("dead_letters.pick", { id: letter.id }), disabled: letter.state !== "waiting" });
  const handled = letter.handled_by
    ? el("div", { className: "muted" }, `${letter.handled_by}, ${when(letter.handled_at, WITH_SECONDS)}`,
         letter.handled_note ? `: ${letter.handled_note}` : "")
    : null;
  const actions = el("td", { className: "actions" });
  if (letter.state === "waiting") {
    const replay = el("button", { type: "button", className: "dl-replay-one", disabled: !letter.replayable,
                                  title: letter.not_replayable_reason || "" }, t("dead_letters.replay"));
    replay.addEventListener("click", () => act([letter.id], "replay"));
    const discard = el("button", { type: "button", className: "dl-discard-one" }, t("dead_letters.discard"));
    discard.addEventListener("click", () => act([letter.id], "discard"));
    actions.append(replay, discard);
  }
  const save = el("button", { type: "button", className: "dl-download" }, t("dead_letters.download"));
  save.addEventListener("click", () => download(letter));
  actions.append(save);
  return el("tr", { dataset: { id: letter.id, state: letter.state } },
    el("td", {}, pick), el("td", {}, when(letter.failed_at, WITH_SECONDS)), el("td", {}, letter.service || "—"),
    el("td", {}, letter.source), el("td", {}, letter.channel || "—"),
    el("td", { className: "reason" }, letter.reason,
       letter.attempts ? el("div", { className: "muted" }, t("dead_letters.attempts", { count: letter.attempts })) : null,
       letter.replayable ? null : el("div", { className: "muted" }, letter.not_replayable_reason)),
    el("td", { className: "preview" }, letter.preview),
    el("td", {}, tCode("dead_letters.state.", letter.state), handled),
    actions);
}

/** Loads overlap when filters change quickly: only the one asked for last draws (as the console's queue). */
let loads = 0;

async function load() {
  const current = ++loads;
  const page = await api(`/api/v1/dead-letters?${params()}`);
  if (current !== loads) return;
  $("dl-table").tBodies[0].replaceChildren(...page.items.map(row));
  $("dl-all").checked = false;
  const last = Math.min(view.offset + page.items.length, page.total);
  $("dl-total").textContent = page.total ? t("queue.range", { from: view.offset + 1, to: last, count: page.total }) : t("dead_letters.empty");
  $("dl-prev").disabled = view.offset === 0;
  $("dl-next").disabled = last >= page.total;
}

/** The body as it arrived (a mail as .eml, to re-send once the cause is fixed), fetched with the token. */
async function download(letter) {
  const response = await fetch(`/api/v1/dead-letters/${letter.id}/body`,
                               { headers: { Authorization: `Bearer ${token()}` } });
  if (!response.ok) { say(t("message.file_failed", { status: response.status }), true); return; }
  const name = (response.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: name ? name[1] : `dead-letter-${letter.id}` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function chosen() {
  return [...document.querySelectorAll(".dl-pick:checked")].map((box) => Number(box.dataset.id));
}

/** Replay or discard some letters; a discard needs its reason, which stays in the audit columns. */
async function act(ids, action) {
  if (!ids.length) { say(t("dead_letters.none_chosen"), true); return; }
  const body = { ids };
  if (action === "discard") {
    const reason = $("dl-reason").value.trim();
    if (reason.length < 3) { say(t("dead_letters.reason_missing"), true); $("dl-reason").focus(); return; }
    body.reason = reason;
  } else if ($("dl-note").value.trim()) {
    body.note = $("dl-note").value.trim();
  }
  try {
    const answer = await api(`/api/v1/dead-letters/${action}`, { method: "POST", body });
    const summary = answer.results.map((r) => t("dead_letters.result", { id: r.id, outcome: tCode("dead_letters.outcome.", r.outcome) })
                                               + (r.detail ? ` (${r.detail})` : ""));
    const failed = answer.results.some((r) => r.outcome !== "replayed" && r.outcome !== "discarded");
    say(summary.join("; "), failed);
  } catch (error) {
    say(error.message, true);
  }
  await load();
}

async function start() {
  if (!token()) { deny(t("dead_letters.need_admin")); return; }
  let me;
  try {
    me = await api("/api/v1/me");
  } catch (error) {
    deny(error.status === 401 ? t("dead_letters.refused") : error.message);
    return;
  }
  setPreferences(me);
  $("whoami").textContent = `${me.name} · ${me.role}`;
  if (me.role !== "admin") { deny(t("dead_letters.admins_only")); return; }
  $("dl-view").hidden = false;
  await load();
}

document.addEventListener("DOMContentLoaded", () => {
  $("dl-filters").addEventListener("submit", (event) => { event.preventDefault(); view.offset = 0; load(); });
  $("dl-prev").addEventListener("click", () => { view.offset = Math.max(0, view.offset - PAGE); load(); });
  $("dl-next").addEventListener("click", () => { view.offset += PAGE; load(); });
  $("dl-all").addEventListener("change", () => {
    for (const box of document.querySelectorAll(".dl-pick:not(:disabled)")) box.checked = $("dl-all").checked;
  });
  $("dl-replay").addEventListener("click", () => act(chosen(), "replay"));
  $("dl-discard").addEventListener("click", () => act(chosen(), "discard"));
  start().catch((error) => deny(error.message));
});
