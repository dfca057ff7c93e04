/* The agent's language and time zone in the console's top bar (loaded after console.js, whose helpers it uses).
 *
 * The two selects show what the console uses: the agent's choice, or the browser's until they make one. A change
 * is kept on the agent's account (PUT /api/v1/me/preferences), so their next browser has it too, and the page is
 * drawn again in it at once: marked text by setPreferences, the lists and the open ticket by their own code. */
"use strict";

/** The switcher shows the language and zone in use (the agent's, or the browser's until they choose). */
function showPreferences() {
  const zone = $("pref-zone");
  if (!zone.options.length) {
    const zones = new Set(typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : []);
    zones.add(browserZone());
    zone.append(...[...zones].sort().map((name) => el("option", { value: name }, name)));
  }
  if (![...zone.options].some((o) => o.value === i18n.zone)) zone.append(el("option", { value: i18n.zone }, i18n.zone));
  zone.value = i18n.zone;
  $("pref-locale").value = i18n.locale;
}

/** Kept on the agent's account (so the next browser has it too), then the page is drawn again in it. */
async function savePreferences() {
  const chosen = { locale: $("pref-locale").value, time_zone: $("pref-zone").value };
  try {
    await api("/api/v1/me/preferences", { method: "PUT", body: chosen });
    say("pref-status", "");
  } catch (error) {  // the environment's admin has no account: the choice holds for this page only
    if (error.status !== 401) say("pref-status", t("preferences.not_saved", { error: error.message }), true);
  }
  state.me = { ...state.me, ...chosen };
  setPreferences(chosen);
  showPreferences();
  renderTabs();
  loadMacros();
  loadMentions();
  route();
}

fillSelect("pref-locale", "language.", LOCALES);
$("pref-locale").addEventListener("change", savePreferences);
$("pref-zone").addEventListener("change", savePreferences);
