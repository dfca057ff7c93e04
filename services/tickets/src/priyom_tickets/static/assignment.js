/* Taking, handing over and transferring the open ticket (loaded after console.js, whose helpers it uses).
 * The server records the move and tells the router, whose load counters follow the ticket. */
"use strict";

async function moveTicket(body) {
  const number = state.ticket.number;
  const buttons = [$("take"), $("assign-send")];
  if (buttons.some((b) => b.disabled)) return;
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const moved = await api(`/api/v1/tickets/${encodeURIComponent(number)}/assignment`, { method: "POST", body });
    say("assign-status", !moved.changed ? t("assign.unchanged")
      : moved.assignee ? t("assign.done", { assignee: moved.assignee, team: moved.team })
      : t("assign.queued", { team: moved.team }));
    $("assign-to").value = "";
    $("assign-team").value = "";
  } catch (error) {
    if (error.status !== 401) say("assign-status", t("assign.failed", { error: error.message }), true);
    return;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
  try {
    await openTicket(number);
  } catch (error) {  // handed to another team: no longer this agent's to see
    if (error.status === 404) location.hash = "#/";
  }
}

$("take").addEventListener("click", () => moveTicket({ assignee: state.me.name }));
$("assign-form").addEventListener("submit", (event) => {
  event.preventDefault();
  moveTicket({ assignee: $("assign-to").value.trim() || null, team: $("assign-team").value.trim() || null });
});
