/* Bulk actions on the queue (loaded after console.js, whose helpers it uses; before keyboard.js).
 *
 * Each row gets a checkbox; with rows ticked the agent takes them, hands them to a colleague or a team, or
 * moves them through a lifecycle action (one that needs no decision), in one go. Each ticket is changed through
 * the same API call as on its own page, so each is checked, recorded and announced as if done one by one; the
 * bar says how many changed and which were refused and why. */
"use strict";

/** The lifecycle actions offered in bulk (those that need no decision); their titles are action.<name>. */
const BULK_ACTIONS = ["accept", "start", "wait_for_customer", "review"];

/** The ticked tickets, kept across redraws of the list (the live channel redraws it under the agent's hands). */
const picked = new Set();

function ticked() {
  return [...picked];
}

/** The bar, and every row's box as ``picked`` says: a live redraw keeps the rows, and their boxes with them. */
function showPicked() {
  for (const box of document.querySelectorAll("#tickets tbody input.pick")) box.checked = picked.has(box.value);
  const count = ticked().length;
  $("bulk").hidden = count === 0;
  $("bulk-count").textContent = t("bulk.picked", { count });
}

async function onEach(numbers, call) {
  const refused = [];
  for (const number of numbers) {  // one by one: each change locks its ticket, and the order is the list's
    try { await call(encodeURIComponent(number)); } catch (error) {
      if (error.status === 401) return;
      refused.push(`${number}: ${error.message || error.status}`);
    }
  }
  picked.clear();
  const done = numbers.length - refused.length;
  say("bulk-status", t("bulk.done", { done, count: numbers.length })
      + (refused.length ? t("bulk.refused", { refused: refused.join("; ") }) : ""), refused.length > 0);
  await loadQueue().catch(() => {});
  showPicked();
}

function bulkAssign(body) {
  return onEach(ticked(), (number) => api(`/api/v1/tickets/${number}/assignment`, { method: "POST", body }));
}

$("bulk-take").addEventListener("click", () => bulkAssign({ assignee: state.me.name }));
$("bulk-assign").addEventListener("click", () => {
  const assignee = $("bulk-to").value.trim() || null;
  const team = $("bulk-team").value.trim() || null;
  if (assignee || team) bulkAssign({ assignee, team });
});
$("bulk-move").addEventListener("click", () => {
  const action = $("bulk-action").value;
  if (action) onEach(ticked(), (number) => api(`/api/v1/tickets/${number}/transitions`, { method: "POST", body: { action } }));
});
fillSelect("bulk-action", "action.", BULK_ACTIONS);
$("pick-all").addEventListener("change", () => {
  for (const box of document.querySelectorAll("#tickets tbody input.pick")) {
    box.checked = $("pick-all").checked;
    if (box.checked) picked.add(box.value); else picked.delete(box.value);
  }
  showPicked();
});

/* After the list is drawn or a row of it changes: a checkbox in each row's first cell (its clicks do not open the
 * ticket). */
new MutationObserver(() => {
  const rows = Array.from($("tickets").tBodies[0].rows);
  for (const row of rows) {
    if (row.querySelector("input.pick")) continue;
    const box = el("input", { type: "checkbox", className: "pick", value: row.dataset.number,
                              "aria-label": t("bulk.pick", { number: row.dataset.number }), checked: picked.has(row.dataset.number) });
    box.addEventListener("click", (event) => event.stopPropagation());
    box.addEventListener("change", () => {
      if (box.checked) picked.add(box.value); else picked.delete(box.value);
      showPicked();
    });
    row.cells[0].prepend(box, " ");
  }
  $("pick-all").checked = rows.length > 0 && rows.every((row) => picked.has(row.dataset.number));
  showPicked();
}).observe($("tickets").tBodies[0], { childList: true, subtree: true });
