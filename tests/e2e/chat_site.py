"""The website chat's stack, shared by the chat's end-to-end tests (test_chat_widget.py, test_chat_typing.py):
one per run, from the session fixture ``chat_stack`` of conftest.py."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from priyom_kit.pytest_plugin import delete_prefixed
from priyom_testing.ports import free_port
from priyom_testing.stack import Stack, stack_env

CHAT_SERVICES = ("identity", "router", "tickets", "intake-messenger")


@dataclass
class ChatStack:
    stack: Stack
    page_url: str


def company_page(widget_src: str) -> type[BaseHTTPRequestHandler]:
    """The company's own website: one page carrying the widget's tag, as an integrator pastes it."""
    body = (
        f'<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Магазин</title></head>'
        f'<body><h1>Магазин</h1><script src="{widget_src}" data-site-key="shop" defer></script>'
        f"</body></html>"
    ).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body if self.path == "/" else b"")

        def log_message(self, *args: Any) -> None:
            pass

    return Page


@contextmanager
def running_chat_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatStack]:
    """identity, router, tickets and intake-messenger on SQLite and a private bus prefix, with the company's
    page (``shop``) and ``make up``'s demo site allowed to embed the widget."""
    workdir = tmp_path_factory.mktemp("chat-stack")
    prefix = f"e2echat{uuid.uuid4().hex[:8]}."
    page_port, messenger_port = free_port(), free_port()
    page_url = f"http://127.0.0.1:{page_port}"
    env = stack_env(
        os.environ,
        workdir=workdir,
        prefix=prefix)
    env.update(
        INTAKE_MESSENGER_CHAT_SITES=json.dumps(
            {"shop": [page_url], "demo": [f"http://127.0.0.1:{messenger_port}"]}
        ),
        INTAKE_MESSENGER_CHAT_DEMO_SITE="demo",
        INTAKE_MESSENGER_PORT=str(messenger_port),
        INTAKE_MESSENGER_CHAT_PRESENCE_EVERY_S="1",
    )
    stack = Stack(env=env, workdir=workdir, ports={"intake-messenger": messenger_port})
    page = ThreadingHTTPServer(
        ("127.0.0.1", page_port), company_page(f"{stack.url('intake-messenger')}/chat/widget.js")
    )
    threading.Thread(target=page.serve_forever, daemon=True).start()
    try:
        stack.migrate()
        stack.start(CHAT_SERVICES)
        yield ChatStack(stack, page_url)
    finally:
        page.shutdown()
        stack.stop()
        asyncio.run(delete_prefixed(env.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"), prefix))
