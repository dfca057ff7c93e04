"""The knowledge base's public pages as HTML strings: the search page and an article's page.

Server-rendered and self-contained (no script, no external asset), so they work without JavaScript and
under a CSP that allows nothing but their own inline style and the portal's own script files (one page uses
one, new_request.js). Every value but the article's body is escaped
here; the body is the sanitised HTML :mod:`priyom_portal.markdown_render` made when it was saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .articles import PublicArticle, SearchHit

#: What the pages may load: their own inline style, images over HTTPS, and scripts and fetches from the portal
#: itself (the new-request form's suggestions; no inline script runs).
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; script-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: The headers of every page the portal renders.
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_STYLE = """body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
a{color:#0b57d0}form.search{display:flex;gap:.5rem}form.search input{flex:1;padding:.4rem}
li{margin:.8rem 0}.snippet{color:#555;margin:.2rem 0}.meta{color:#777;font-size:.9rem}
.feedback{margin-top:2rem;padding-top:1rem;border-top:1px solid #ddd}pre{background:#f5f5f5;padding:.6rem;overflow:auto}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}"""

_TEXT = {
    "ru": {
        "kb": "База знаний",
        "search": "Найти",
        "placeholder": "Опишите проблему",
        "none": "Ничего не нашлось.",
        "helped": "Статья помогла?",
        "yes": "Да, помогла",
        "no": "Нет",
        "thanks": "Спасибо за отзыв!",
        "back": "← К поиску",
    },
    "en": {
        "kb": "Knowledge base",
        "search": "Search",
        "placeholder": "Describe the problem",
        "none": "Nothing found.",
        "helped": "Did this article help?",
        "yes": "Yes, it helped",
        "no": "No",
        "thanks": "Thank you for your feedback!",
        "back": "← Back to search",
    },
}


def page(title: str, body: str, language: str = "ru") -> str:
    return (
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def search_page(query: str, hits: Sequence[SearchHit] | None, language: str = "ru") -> str:
    """The search form, and the hits when a query was asked (``None``: nothing asked yet)."""
    t = _TEXT[language]
    parts = [
        f'<h1>{t["kb"]}</h1><form class="search" method="get" action="/kb" role="search">'
        f'<input type="search" name="q" value="{escape(query)}" placeholder="{t["placeholder"]}" '
        f'maxlength="200" aria-label="{t["placeholder"]}"><button type="submit">{t["search"]}</button></form>'
    ]
    if hits is not None:
        if hits:
            items = "".join(
                f'<li><a href="{escape(hit.url)}">{escape(hit.title)}</a>'
                f'<p class="snippet">{escape(hit.snippet)}</p></li>'
                for hit in hits
            )
            parts.append(f'<ol class="results">{items}</ol>')
        else:
            parts.append(f'<p class="results">{t["none"]}</p>')
    return page(t["kb"], "".join(parts), language)


def article_page(article: PublicArticle, thanked: bool) -> str:
    """One article, with the "did this help?" buttons (a plain form: no script needed)."""
    t = _TEXT[article.language]
    if thanked:
        feedback = f'<p class="feedback" role="status">{t["thanks"]}</p>'
    else:
        feedback = (
            f'<form class="feedback" method="post" action="/kb/{article.id}/feedback">'
            f'<p>{t["helped"]}</p><button name="helped" value="yes">{t["yes"]}</button> '
            f'<button name="helped" value="no">{t["no"]}</button></form>'
        )
    body = (
        f'<p><a href="/kb">{t["back"]}</a></p><article><h1>{escape(article.title)}</h1>'
        f'<p class="meta">{escape(article.category)} · {article.updated_at:%Y-%m-%d}</p>'
        f"{article.html}</article>{feedback}"
    )
    return page(article.title, body, article.language)


def not_found_page(language: str = "ru") -> str:
    text = "Статья не найдена." if language == "ru" else "No such article."
    return page(
        "404", f'<h1>404</h1><p>{text}</p><p><a href="/kb">{_TEXT[language]["back"]}</a></p>', language
    )
