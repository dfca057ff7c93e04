/* The console by keyboard (loaded after console.js, whose helpers it uses).
 *
 * An agent works the queue all day: j and k move through the list, Enter opens the ticket, / jumps to the
 * search, r to the reply box, Escape back to the queue. Keys typed into a field are the field's, never a
 * shortcut. Rows are focusable and announced as links to their ticket. */
"use strict";

function queueRows() {
  return Array.from($("tickets").tBodies[0].rows);
}

/** Focus the row ``step`` rows away from the focused one (the first or last when none is). */
function moveInQueue(step) {
  const rows = queueRows();
  if (!rows.length) return;
  const at = rows.indexOf(document.activeElement);
  const next = at === -1 ? (step > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, at + step));
  rows[next].focus();
}

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

document.addEventListener("keydown", (event) => {
  if (!state.me || event.ctrlKey || event.metaKey || event.altKey) return;
  if (typing(event.target)) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  const inQueue = !$("queue").hidden;
  const row = event.target instanceof HTMLTableRowElement ? event.target : null;
  if (inQueue && row && (event.key === "Enter" || event.key === " ")) {
    event.preventDefault();
    location.hash = `#/ticket/${row.dataset.number}`;
  } else if (inQueue && (event.key === "j" || event.key === "ArrowDown")) {
    event.preventDefault();
    moveInQueue(1);
  } else if (inQueue && (event.key === "k" || event.key === "ArrowUp")) {
    event.preventDefault();
    moveInQueue(-1);
  } else if (inQueue && event.key === "/") {
    event.preventDefault();
    $("f-q").focus();
  } else if (!inQueue && event.key === "r") {
    event.preventDefault();
    $("reply-body").focus();
  } else if (!inQueue && event.key === "Escape") {
    location.hash = "#/";
  }
});

/* A live redraw can move or replace rows: the row the agent was on keeps the focus (its number is remembered
 * while a row has it; leaving the list for another control forgets it). */
let focusedNumber = null;
$("tickets").tBodies[0].addEventListener("focusin", (event) => {
  const row = event.target.closest("tr");
  focusedNumber = row ? row.dataset.number : null;
});
$("tickets").tBodies[0].addEventListener("focusout", (event) => { if (event.relatedTarget) focusedNumber = null; });

/* After the list is drawn or a row of it changes: every row reachable by Tab and named for a screen reader. */
new MutationObserver(() => {
  for (const row of queueRows()) {
    row.tabIndex = 0;
    row.setAttribute("role", "link");
    row.setAttribute("aria-label", t(row.classList.contains("unread") ? "queue.row_unread" : "queue.row", {
      number: row.dataset.number, subject: row.cells[5].textContent || t("queue.no_subject"), status: row.cells[3].textContent }));
  }
  if (focusedNumber !== null && (!document.activeElement || document.activeElement === document.body)) {
    const again = queueRows().find((row) => row.dataset.number === focusedNumber);
    if (again) again.focus();
  }
}).observe($("tickets").tBodies[0], { childList: true, subtree: true });
