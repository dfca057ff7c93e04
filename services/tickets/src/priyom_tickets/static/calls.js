/* Click-to-call in the agent console (loaded after console.js, whose helpers it uses).
 *
 * A "Позвонить" button stands by every deliverable phone of the client card and by the caller's number in a
 * pop-up. It asks tickets (the console's own origin) to start the call; tickets passes it to intake-telephony
 * with the agent's token, and the PBX rings the agent's extension first, then dials the number. */
"use strict";

async function callOut(number, ticketNumber, button) {
  if (button.disabled) return;
  button.disabled = true;
  say("call-status", `Звоним на ${number}: снимите трубку своего телефона…`);
  try {
    const started = await api("/api/v1/calls", { method: "POST",
                                                body: ticketNumber ? { number, ticket_number: ticketNumber } : { number } });
    say("call-status", `Звонок на ${number} начат: звонит ваш телефон (доб. ${started.extension})`);
  } catch (error) {
    if (error.status !== 401) say("call-status", `Не удалось позвонить на ${number}: ${error.message}`, true);
  } finally {
    button.disabled = false;
  }
}

/** A button that calls ``number`` (about ``ticketNumber``, when there is one). */
function callButton(number, ticketNumber = null) {
  const button = el("button", { type: "button", className: "call-out", dataset: { number },
                                "aria-label": `Позвонить на ${number}` }, "Позвонить");
  button.addEventListener("click", () => callOut(number, ticketNumber, button));
  return button;
}
