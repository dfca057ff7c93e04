/* Macros and canned answers in the agent console (loaded after console.js, whose helpers it uses).
 *
 * Apply asks the server to make the macro's changes to the open ticket (status, type, fields) and puts
 * its text, filled in, into the reply box: the agent reads and edits it and sends it as any reply, so a macro
 * never answers a customer by itself. The list below the reply box creates personal macros (and team or
 * shared ones for those allowed; the server decides) and deletes those the agent may edit. */
"use strict";

/** A macro's scope in the list: "mine", "the team's", "shared" (macro.scope_of.<scope>). */
const macroScope = (m) => t(`macro.scope_of.${m.scope}`) + (m.team ? ` ${m.team}` : "");

async function loadMacros() {
  if (!state.token) return;
  let macros;
  try { macros = await api("/api/v1/macros"); } catch { return; }
  state.macros = macros;
  $("macro-pick").replaceChildren(el("option", { value: "" }, t("macro.choose")),
    ...macros.map((m) => el("option", { value: m.id }, `${m.name} (${macroScope(m)})`)));
  $("macro-list").replaceChildren(...macros.map((m) => {
    const item = el("li", { dataset: { macro: m.id } }, `${m.name} · ${macroScope(m)}`,
                    m.body ? el("span", { className: "muted" }, ` — ${m.body.slice(0, 80)}`) : "");
    if (m.may_edit) {
      const remove = el("button", { type: "button", className: "macro-delete", "aria-label": t("macro.delete_named", { name: m.name }) },
                        t("macro.delete"));
      remove.addEventListener("click", async () => {
        try { await api(`/api/v1/macros/${m.id}`, { method: "DELETE" }); } catch (error) {
          if (error.status !== 401) say("macro-status", t("macro.delete_failed", { error: error.message }), true);
        }
        loadMacros();
      });
      item.append(" ", remove);
    }
    return item;
  }));
}

async function applyMacro() {
  const id = $("macro-pick").value;
  const button = $("macro-apply");
  if (!id || button.disabled) return;
  button.disabled = true;
  const number = state.ticket.number;
  try {
    const applied = await api(`/api/v1/tickets/${encodeURIComponent(number)}/macros/${id}/apply`, { method: "POST" });
    if (applied.text) {
      const box = $("reply-body");
      box.value = box.value.trim() ? `${box.value}\n\n${applied.text}` : applied.text;
      state.replyKey = null;  // another text: another reply
      box.focus();
    }
    applied.ticket.notes = state.ticket.notes;
    state.ticket = applied.ticket;
    renderTicket(applied.ticket);
    say("reply-status", t("macro.applied"));
  } catch (error) {
    if (error.status !== 401) say("reply-status", t("macro.apply_failed", { error: error.message }), true);
  } finally {
    button.disabled = false;
  }
}

/** The actions the open ticket's lifecycle offers, for a macro that should take one. */
function fillMacroActions() {
  const actions = state.ticket ? state.ticket.actions : [];
  $("macro-action").replaceChildren(el("option", { value: "" }, t("macro.keep_status")),
    ...actions.filter((a) => !a.needs_decision).map((a) => el("option", { value: a.name }, actionTitle(a))));
}

async function saveMacro(event) {
  event.preventDefault();
  const scope = $("macro-scope").value;
  const body = { name: $("macro-name").value.trim(), scope, body: $("macro-body").value || null,
                 action: $("macro-action").value || null };
  if (scope === "team") body.team = $("macro-team").value.trim();
  try {
    await api("/api/v1/macros", { method: "POST", body });
    $("macro-form").reset();
    say("macro-status", t("macro.saved"));
    loadMacros();
  } catch (error) {
    if (error.status !== 401) say("macro-status", t("macro.save_failed", { error: error.message }), true);
  }
}

$("macro-apply").addEventListener("click", applyMacro);
$("macro-form").addEventListener("submit", saveMacro);
$("macros-box").addEventListener("toggle", fillMacroActions);
$("macro-scope").addEventListener("change", () => { $("macro-team-label").hidden = $("macro-scope").value !== "team"; });
