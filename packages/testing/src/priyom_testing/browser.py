"""A real browser and a real HTTP server for the pages' tests: Debian's ``chromium`` driven by Playwright,
and an ASGI app served by uvicorn on a free port (pages under a CSP, WebSockets and fetch need a real one).

A machine without Chromium skips those tests and says how to get it (``scripts/ensure-services.sh chromium``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("PRIYOM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"



def needs_chromium(timeout: int = 180) -> list[pytest.MarkDecorator]:
    """``pytestmark = needs_chromium()`` in a browser test module: skipped without Chromium, given time."""
    return [pytest.mark.skipif(not Path(CHROMIUM).exists(),
                               reason=f"no Chromium at {CHROMIUM}: run scripts/ensure-services.sh chromium "
                                      "(apt-get install chromium chromium-driver) or set PRIYOM_CHROMIUM"),
            pytest.mark.timeout(timeout)]


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 with its lifespan, on a free port; yields the base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_config=None,
                                           access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def chromium_page() -> AsyncIterator[tuple[Any, list[str]]]:
    """A new page in headless Chromium, and the errors it reports as they come (console errors and uncaught
    exceptions; failed loads aside, since no test server serves a favicon). A test asserts the list is empty
    at its end: a script or style its CSP refused shows up there."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text)
                    if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            yield page, problems
        finally:
            await browser.close()
