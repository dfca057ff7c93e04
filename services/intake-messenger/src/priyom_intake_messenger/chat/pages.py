"""``GET /chat/widget.js`` and ``/chat/widget.css``, the widget a page includes with one tag::

    <script src="https://support.example.ru/chat/widget.js" data-site-key="shop-1" defer></script>

and ``GET /chat/demo``, a page carrying it (``INTAKE_MESSENGER_CHAT_DEMO_SITE``), linked from ``make up``.
The files are small and framework-free; any page may load them, the socket's origin check is what guards.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

STATIC = files(__package__) / "static"
#: Browsers and proxies may keep the widget for five minutes: a fix reaches every page soon after a deploy.
CACHE = "public, max-age=300"


def chat_pages_router(demo_site: str | None) -> APIRouter:
    router = APIRouter(tags=["website chat"])
    script = _static("widget.js", "text/javascript; charset=utf-8")
    style = _static("widget.css", "text/css; charset=utf-8")

    @router.get("/chat/widget.js", summary="The chat widget, for a <script data-site-key> tag")
    async def widget_js() -> Response:
        return script()

    @router.get("/chat/widget.css", summary="The chat widget's style (loaded by widget.js)")
    async def widget_css() -> Response:
        return style()

    if demo_site is not None:

        @router.get("/chat/demo", response_class=HTMLResponse, summary="A demo page with the chat widget")
        async def demo() -> HTMLResponse:
            page = DEMO.format(site=html.escape(demo_site, quote=True))
            # 'self' covers the page's own ws:// and wss:// (CSP 3): the widget runs under a strict policy.
            csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"
            return HTMLResponse(page, headers={"Content-Security-Policy": csp})

    return router


def _static(name: str, media_type: str) -> Callable[[], Response]:
    """One of the widget's files, read once and answered to any page (the socket's origin check guards)."""
    body = (STATIC / name).read_bytes()
    headers = {"Cache-Control": CACHE, "Access-Control-Allow-Origin": "*"}
    return lambda: Response(body, media_type=media_type, headers=headers)


DEMO = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Priyom: чат на сайте</title></head>
<body>
<h1>Магазин «Пример»</h1>
<p>Демонстрационная страница: в правом нижнем углу чат с поддержкой. / A demo page: the support chat is in the
bottom right corner.</p>
<script src="/chat/widget.js" data-site-key="{site}" defer></script>
</body></html>
"""
