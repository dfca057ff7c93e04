"""An article's Markdown made into HTML a browser may show, and into plain text for search and snippets.

markdown-it-py renders CommonMark with raw HTML turned off (so ``<script>`` in an article is shown as text),
and nh3 (ammonia) sanitises the result once more against a list of tags and attributes: an editor's article
is shown to every customer, so nothing an editor types may run in their browsers, and links get
``rel="noopener noreferrer nofollow"``. Done once when an article is saved, never on a read.
"""

from __future__ import annotations

import html
from functools import cache

import nh3
from markdown_it import MarkdownIt

#: What an article may contain once rendered.
ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "img",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def render_markdown(source: str) -> str:
    """Sanitised HTML of a Markdown text."""
    rendered = _markdown().render(source)
    return nh3.clean(
        rendered,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
    )


def plain_text(rendered_html: str) -> str:
    """The words of rendered HTML without its tags, whitespace collapsed (what is indexed and quoted)."""
    spaced = rendered_html.replace("<", " <")  # "</p><p>" must not glue two paragraphs' words together
    return " ".join(html.unescape(nh3.clean(spaced, tags=set())).split())
