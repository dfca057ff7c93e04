// The console's languages and time zone: t(key, vars) and the date formatters every console page uses.
//
// Loaded first, before messages.<locale>.js (the catalogues: keys to sentences, one file per language) and
// before the page's own scripts. No sentence is written in a page or a script: a page marks its elements
// with data-i18n (text), data-i18n-aria-label, data-i18n-placeholder and data-i18n-title, and a script calls
// t("key", { count, name }). A sentence that depends on a number is an object of plural forms chosen by
// Intl.PluralRules ("one", "few", "many", "other"): Russian has three forms where English has two.
//
// The language and the zone are the agent's (GET /api/v1/me: locale, time_zone, kept on their account);
// until the agent chooses, the browser's language and zone. Every date is drawn with Intl.DateTimeFormat in
// that zone, never the browser's, so two agents in two cities see the same deadline each in their own time.
"use strict";

const LOCALES = ["ru", "en"];
const CATALOGUES = {};
const i18n = { locale: browserLocale(), zone: browserZone(), formats: new Map(), plurals: new Map() };

/** Called by each messages.<locale>.js with its sentences. */
function registerCatalogue(locale, messages) {
  CATALOGUES[locale] = messages;
}

/** The first of the browser's languages the console speaks; Russian (its first language) otherwise. */
function browserLocale() {
  for (const tag of navigator.languages || [navigator.language || ""]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LOCALES.includes(base)) return base;
  }
  return "ru";
}

function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** Use the agent's choices (null or unknown values keep the browser's) and redraw the page's marked text. */
function setPreferences({ locale, time_zone: zone } = {}) {
  i18n.locale = LOCALES.includes(locale) ? locale : browserLocale();
  i18n.zone = zone || browserZone();
  i18n.formats.clear();
  translatePage();
}

/** The sentence for ``key`` in the agent's language, with {name} places filled from ``vars``; a plural
 * sentence picks its form by ``vars.count``. A key missing from a catalogue shows as itself (and the
 * catalogue test fails), never as a blank. */
function t(key, vars = {}) {
  let message = (CATALOGUES[i18n.locale] || {})[key];
  if (message === undefined) message = key;
  if (typeof message === "object") {
    if (!i18n.plurals.has(i18n.locale)) i18n.plurals.set(i18n.locale, new Intl.PluralRules(i18n.locale));
    const form = i18n.plurals.get(i18n.locale).select(Number(vars.count) || 0);
    message = message[form] ?? message.other;
  }
  return message.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** The catalogue's sentence for ``prefix + code`` (a status, an action, a decision the API names by code),
 * or ``fallback`` (what the API itself said, else the code) when the catalogue has none. */
function tCode(prefix, code, fallback) {
  const key = prefix + code;
  const catalogue = CATALOGUES[i18n.locale] || {};
  return key in catalogue ? t(key) : (fallback || code);
}

/** Put each marked element's sentence into it (the text, or the attribute the mark names). */
function translatePage(root = document) {
  document.documentElement.lang = i18n.locale;
  for (const node of root.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n, node.dataset.i18nVars ? JSON.parse(node.dataset.i18nVars) : {});
  }
  for (const attribute of ["aria-label", "placeholder", "title"]) {
    const mark = `data-i18n-${attribute}`;
    for (const node of root.querySelectorAll(`[${mark}]`)) node.setAttribute(attribute, t(node.getAttribute(mark)));
  }
}

/** A status line that stays in the agent's language: its sentence, and its key and values kept on the element
 * so that a change of language words it again (a connection's state, say, which may not change for hours). */
function sayMarked(node, key, vars = {}) {
  node.dataset.i18n = key;
  node.dataset.i18nVars = JSON.stringify(vars);
  node.textContent = t(key, vars);
}

function formatter(options) {
  const key = JSON.stringify(options);
  if (!i18n.formats.has(key)) {
    i18n.formats.set(key, new Intl.DateTimeFormat(i18n.locale, { ...options, timeZone: i18n.zone }));
  }
  return i18n.formats.get(key);
}

/** A moment (ISO 8601 from the API) as a date and time in the agent's zone; "—" for none. */
function when(iso, options = { dateStyle: "short", timeStyle: "short" }) {
  return iso ? formatter(options).format(new Date(iso)) : "—";
}

/** The clock time (hours and minutes) of a moment in the agent's zone: the dashboard's hours. */
function clockTime(iso) {
  return formatter({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));
}

/** A datetime-local field's value ("2026-12-04T18:30"), meant in the agent's zone, as a moment (a Date):
 * the offset is the zone's at that wall time, found by comparing the zone's reading of a first guess. */
function fromZoneTime(local) {
  const wall = Date.parse(`${local}Z`);
  if (Number.isNaN(wall)) return null;
  const offsetAt = (moment) => {
    const parts = Object.fromEntries(formatter({ year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
                                                 minute: "2-digit", second: "2-digit", hourCycle: "h23" })
      .formatToParts(new Date(moment)).map((p) => [p.type, p.value]));
    const read = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
    return read - moment;
  };
  const first = wall - offsetAt(wall);
  return new Date(wall - offsetAt(first));
}

document.addEventListener("DOMContentLoaded", () => translatePage());
