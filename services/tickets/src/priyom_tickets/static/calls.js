/* Click-to-call in the agent console (loaded after console.js, whose helpers it uses).
 *
 * A call button stands by every deliverable phone of the client card and by the caller's number in a
 * pop-up. It asks tickets (the console's own origin) to start the call; tickets passes it to intake-telephony
 * with the agent's token, and the PBX rings the agent's extension first, then dials the number. */
"use strict";

async function callOut(number, ticketNumber, button) {
  if (button.disabled) return;
  button.disabled = true;
  say("call-status", t("call.dialling", { number }));
  try {
    const started = await api("/api/v1/calls", { method: "POST",
                                                body: ticketNumber ? { number, ticket_number: ticketNumber } : { number } });
    say("call-status", t("call.started", { number, extension: started.extension }));
  } catch (error) {
    if (error.status !== 401) say("call-status", t("call.failed", { number, error: error.message }), true);
  } finally {
    button.disabled = false;
  }
}

/** A button that calls ``number`` (about ``ticketNumber``, when there is one). */
function callButton(number, ticketNumber = null) {
  const button = el("button", { type: "button", className: "call-out", dataset: { number },
                                "aria-label": t("call.to", { number }) }, t("call.button"));
  button.addEventListener("click", () => callOut(number, ticketNumber, button));
  return button;
}
