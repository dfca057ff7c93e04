// The knowledge base's editor in the console (loaded after page_kit.js, whose helpers it uses): the articles,
// drafts too; one article's form; saving it (each save is a new revision, with the agent as its editor); its
// history, any revision of which can be brought back into the form and saved again.
//
// Everything goes through tickets to the portal with the agent's own token (api/kb_editor.py): the portal decides
// who edits and keeps the revisions. A draft made from a ticket's resolution (kb.js) opens here: #/article/<id>.
"use strict";

const VISIBILITIES = ["internal", "clients", "public"];
const STATUSES = ["draft", "published"];
const editor = { article: null, loads: 0 };

function say(text, failed = false) {
  $("kb-edit-status").textContent = text;
  $("kb-edit-status").classList.toggle("error", failed);
}

function deny(text) {
  $("kb-view").hidden = true;
  $("kb-edit").hidden = true;
  $("kb-denied").hidden = false;
  $("kb-denied").replaceChildren(text, " ", el("a", { href: "/console" }, t("kb_editor.log_in")));
}

function fill(id, prefix, codes) {
  $(id).replaceChildren(...codes.map((code) => el("option", { value: code, "data-i18n": prefix + code }, t(prefix + code))));
}

function row(article) {
  const link = el("a", { href: `#/article/${article.id}` }, article.title);
  return el("tr", { dataset: { id: article.id, status: article.status } },
    el("td", {}, article.id), el("td", {}, link), el("td", {}, t(`kb_editor.status.${article.status}`)),
    el("td", {}, t(`kb_editor.visibility.${article.visibility}`)), el("td", {}, article.language),
    el("td", {}, article.revision), el("td", {}, `${article.updated_by}, ${when(article.updated_at)}`));
}

async function loadList() {
  const load = ++editor.loads;  // only the list asked for last draws (filters changed quickly)
  const status = $("kb-filter-status").value;
  const articles = await api(`/api/v1/kb/articles?limit=500${status ? `&status=${status}` : ""}`);
  if (load !== editor.loads) return;
  articles.sort((a, b) => Date.parse(b.updated_at) - Date.parse(a.updated_at));
  $("kb-articles").tBodies[0].replaceChildren(...articles.map(row));
  $("kb-total").textContent = t("kb_editor.total", { count: articles.length });
}

/** The form holds ``source`` (an article, a revision, or nothing for a new one). */
function toForm(source) {
  $("kb-title").value = source ? source.title : "";
  $("kb-body").value = source ? source.body : "";
  $("kb-category").value = source ? source.category : "general";
  $("kb-language").value = source ? source.language : (i18n.locale.startsWith("en") ? "en" : "ru");
  $("kb-visibility").value = source ? source.visibility : "internal";
  $("kb-status").value = source ? source.status : "draft";
}

function showArticle(article) {
  editor.article = article;
  $("kb-edit-heading").textContent = article
    ? t("kb_editor.editing", { id: article.id, revision: article.revision }) : t("kb_editor.new");
  const readable = article && article.status === "published";
  $("kb-open").hidden = !readable;
  if (readable) $("kb-open").href = article.url;
}

function revisionItem(revision) {
  const back = el("button", { type: "button", className: "kb-restore" }, t("kb_editor.restore"));
  back.addEventListener("click", () => {
    toForm(revision);
    say(t("kb_editor.restored", { revision: revision.revision }));
  });
  return el("li", { dataset: { revision: revision.revision } },
    t("kb_editor.revision", { revision: revision.revision, editor: revision.edited_by, at: when(revision.edited_at) }),
    " · ", t(`kb_editor.status.${revision.status}`), " · ", t(`kb_editor.visibility.${revision.visibility}`),
    " · ", el("span", { className: "muted" }, revision.title), " ", back);
}

async function openArticle(id) {
  $("kb-edit").hidden = false;
  say("");
  if (id === null) {
    showArticle(null);
    toForm(null);
    $("kb-revisions").replaceChildren();
    return;
  }
  try {
    const [article, revisions] = await Promise.all([api(`/api/v1/kb/articles/${id}`),
                                                    api(`/api/v1/kb/articles/${id}/revisions`)]);
    showArticle(article);
    toForm(article);
    $("kb-revisions").replaceChildren(...revisions.map(revisionItem));
  } catch (error) {
    say(error.status === 404 ? t("kb_editor.not_found", { id }) : error.message, true);
  }
}

async function save(event) {
  event.preventDefault();
  const button = $("kb-save");
  if (button.disabled) return;
  button.disabled = true;
  const body = { title: $("kb-title").value.trim(), body: $("kb-body").value, category: $("kb-category").value.trim(),
                 language: $("kb-language").value, visibility: $("kb-visibility").value, status: $("kb-status").value };
  try {
    const saved = editor.article
      ? await api(`/api/v1/kb/articles/${editor.article.id}`, { method: "PUT", body })
      : await api("/api/v1/kb/articles", { method: "POST", body });
    if (location.hash !== `#/article/${saved.id}`) history.replaceState(null, "", `#/article/${saved.id}`);
    await openArticle(saved.id);
    say(t("kb_editor.saved", { revision: saved.revision }));
    await loadList();
  } catch (error) {
    say(t("kb_editor.save_failed", { error: error.message }), true);
  } finally {
    button.disabled = false;
  }
}

function route() {
  const found = location.hash.match(/^#\/article\/(\d+)$/);
  if (found) openArticle(Number(found[1]));
  else if (location.hash === "#/new") openArticle(null);
  else $("kb-edit").hidden = true;
}

async function start() {
  if (!token()) { deny(t("kb_editor.need_login")); return; }
  let me;
  try {
    me = await api("/api/v1/me");
  } catch (error) {
    deny(error.status === 401 ? t("kb_editor.refused") : error.message);
    return;
  }
  setPreferences(me);
  $("whoami").textContent = `${me.name} · ${me.role}`;
  $("kb-view").hidden = false;
  try {
    await loadList();
  } catch (error) {  // the portal decides who edits: staff who answer customers, not an administrator's token
    deny(error.status === 403 ? t("kb_editor.staff_only") : error.message);
    return;
  }
  route();
}

document.addEventListener("DOMContentLoaded", () => {
  fill("kb-visibility", "kb_editor.visibility.", VISIBILITIES);
  fill("kb-status", "kb_editor.status.", STATUSES);
  $("kb-filter-status").addEventListener("change", () => loadList().catch((error) => say(error.message, true)));
  $("kb-form").addEventListener("submit", save);
  window.addEventListener("hashchange", route);
  start().catch((error) => deny(error.message));
});
