"""HTML-only mail turned into clean, readable text (stdlib ``html.parser``: no markup survives).

Scripts, styles and the head are dropped; block elements become line breaks, list items get a bullet,
links keep their address when it differs from their text, and runs of blank lines collapse.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {"p", "div", "br", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li",
          "blockquote", "pre", "hr", "section", "article", "header", "footer", "address", "dd", "dt"}
_SKIP = {"script", "style", "head", "title", "noscript", "template", "svg"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.quote_depth = 0
        self.href: str | None = None
        self.link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")
            if tag == "blockquote":
                self.quote_depth += 1
        elif tag == "a":
            self.href = dict(attrs).get("href")
            self.link_text = []
        elif tag == "td":
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)
        elif tag == "a" and self.href is not None:
            text = "".join(self.link_text).strip()
            if self.href.startswith(("http://", "https://")) and self.href != text:
                self.parts.append(f" <{self.href}>")
            self.href = None

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        text = re.sub(r"\s+", " ", data)
        if self.quote_depth and text.strip():
            text = "> " * self.quote_depth + text.lstrip()
        if self.href is not None:
            self.link_text.append(text)
        self.parts.append(text)


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except (AssertionError, ValueError):  # html.parser's rare complaints on broken markup: keep what we have
        pass
    lines = [line.strip() for line in "".join(extractor.parts).replace("\xa0", " ").splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
