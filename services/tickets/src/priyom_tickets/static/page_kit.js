// What the console's own pages (dead letters, the dashboard, the knowledge-base editor) share: the element maker, the API call
// with the token the console keeps in this tab's sessionStorage (log in at /console first). Plain browser
// JavaScript, no build step; the same rule as console.js: API data reaches a page only as text.
"use strict";

const TOKEN_KEY = "priyom.token";
const $ = (id) => document.getElementById(id);

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** An element whose string children become text nodes: nothing is parsed as HTML. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** The API's answer, or an Error carrying the server's reason and the HTTP status. */
async function api(path, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) {
    const detail = data && (typeof data.detail === "string" ? data.detail
      : (data.detail || []).map((d) => d.msg || JSON.stringify(d)).join("; "));
    const error = new Error(detail || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return data;
}
