/* The account's new-request form: the knowledge base's articles offered while the customer types.
 *
 * The page works without it: "next" then shows the articles as a step of the form (new_request_html.py). With
 * it, the articles come as the customer writes (the web form's way) and the button sends at once. The texts
 * come from the page's own markup (data-*), in its language. Served from the portal itself: its CSP allows
 * scripts and fetches from its own origin only, and nothing inline. */
"use strict";

(() => {
  const form = document.querySelector("form.new-request");
  const box = document.getElementById("suggestions");
  if (!form || !box) return;
  const key = form.elements.key.value;
  const button = form.querySelector("button[name=step]");
  if (button.value === "check") { button.value = "send"; button.textContent = box.dataset.send; }

  /** One offered article: its link, its snippet and "this helped" (which counts the page as deflected). */
  function item(hit) {
    const li = document.createElement("li");
    li.dataset.article = String(hit.id);
    const link = document.createElement("a");
    link.href = `/kb/${hit.id}`;
    link.textContent = hit.title;
    const snippet = document.createElement("p");
    snippet.className = "snippet";
    snippet.textContent = hit.snippet;
    const helped = document.createElement("form");
    helped.method = "post";
    helped.action = `/kb/${hit.id}/feedback`;
    for (const [name, value] of [["helped", "yes"], ["session", key]]) {
      const field = document.createElement("input");
      Object.assign(field, { type: "hidden", name, value });
      helped.append(field);
    }
    const submit = document.createElement("button");
    submit.type = "submit";
    submit.textContent = box.dataset.helped;
    helped.append(submit);
    li.append(link, snippet, helped);
    return li;
  }

  let timer = null;
  let asked = 0;

  async function offer() {
    const current = ++asked;
    const query = `${form.elements.subject.value} ${form.elements.text.value}`.trim().slice(0, 200);
    let hits = [];
    if (query.length >= 3) {
      try {
        const answer = await fetch(`/api/v1/kb/suggest?${new URLSearchParams({ q: query, session: key })}`,
                                   { headers: { Accept: "application/json" } });
        if (answer.ok) hits = (await answer.json()).items;
      } catch { /* offline for a moment: the form still sends */ }
    }
    if (current !== asked) return;  // the customer typed on: a later search answers
    const list = document.createElement("ol");
    list.className = "results";
    list.append(...hits.map(item));
    const heading = document.createElement("h2");
    heading.textContent = box.dataset.offered;
    box.replaceChildren(heading, list);
    box.hidden = hits.length === 0;
  }

  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(offer, 350); });
})();
