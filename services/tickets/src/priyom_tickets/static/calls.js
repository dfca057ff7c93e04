/* Calls in the agent console (loaded after console.js, whose helpers it uses).
 *
 * A call button stands by every deliverable phone of the client card and by the caller's number in a
 * pop-up. It asks tickets (the console's own origin) to start the call; tickets passes it to intake-telephony
 * with the agent's token, and the PBX rings the agent's extension first, then dials the number.
 *
 * From a pop-up, one click opens the caller's open ticket (and the call's contact will join it at hangup) or
 * starts a new ticket for the call at once, opened as soon as it is registered. */
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

const NEW_TICKET_WAIT_MS = 30000;

function popupStatus(callId, text, failed = false) {
  const card = document.querySelector(`#popups .popup[data-call="${CSS.escape(String(callId))}"]`);
  const status = card && card.querySelector(".call-ticket-status");
  if (!status) return;
  status.textContent = text;
  status.classList.toggle("error", failed);
}

/** The call is about this ticket: its contact at hangup joins it (nothing to do where telephony is off). */
async function linkCall(callId, number) {
  if (!state.me.telephony) return;
  try {
    await api(`/api/v1/calls/${encodeURIComponent(callId)}/ticket`, { method: "POST", body: { number } });
    popupStatus(callId, ` ${t("popup.call_linked", { number })}`);
  } catch (error) {
    if (error.status !== 401 && error.status !== 503) popupStatus(callId, ` ${t("popup.call_not_linked", { error: error.message })}`, true);
  }
}

/** Open the call's ticket now, and show it once it is registered (identity, the router and tickets make it). */
async function newTicketForCall(callId, button) {
  if (button.disabled) return;
  button.disabled = true;
  popupStatus(callId, ` ${t("popup.opening")}`);
  try {
    const opened = await api(`/api/v1/calls/${encodeURIComponent(callId)}/ticket`, { method: "POST", body: { new: true } });
    const deadline = Date.now() + NEW_TICKET_WAIT_MS;
    while (Date.now() < deadline) {
      try {
        const found = await api(`/api/v1/contacts/${opened.contact_id}/ticket`);
        popupStatus(callId, ` ${t("popup.opened", { number: found.number })}`);
        location.hash = `#/ticket/${found.number}`;
        return;
      } catch (error) {
        if (error.status !== 404) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    popupStatus(callId, ` ${t("popup.still_registering")}`, true);
  } catch (error) {
    if (error.status !== 401) popupStatus(callId, ` ${t("popup.not_opened", { error: error.message })}`, true);
  } finally {
    button.disabled = false;
  }
}

function newTicketButton(callId) {
  if (!state.me.telephony) return null;
  const button = el("button", { type: "button", className: "new-ticket" }, t("popup.new_ticket"));
  button.addEventListener("click", () => newTicketForCall(callId, button));
  return button;
}
