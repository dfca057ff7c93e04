"""A local Telegram Bot API server: the HTTP protocol of api.telegram.org, for tests.

aiogram is pointed at it with ``TelegramAPIServer.from_base(fake.base_url)``. It speaks the real format:
``POST /bot<token>/<method>`` with ``application/x-www-form-urlencoded`` or ``multipart/form-data`` bodies
(JSON bodies too, as the real server accepts them), nested objects as JSON strings inside the form,
``{"ok": true, "result": …}`` answers and the real error envelopes (401 Unauthorized, 400 Bad Request,
403 Forbidden: bot was blocked by the user, 409 Conflict while a webhook is set, 429 with
``parameters.retry_after``). ``getUpdates`` confirms every update below ``offset`` and long-polls for
``timeout`` seconds, as the real one does; files are served at ``GET /file/bot<token>/<file_path>`` after
``getFile`` (which refuses, as the real one does, files over the cloud Bot API's 20 MB download limit).

Tests queue updates with :meth:`FakeBotAPI.add_update`, add files with :meth:`add_file` (a sticker, in the
Bot API's own shape, with :meth:`add_sticker`), push an update to a webhook with :meth:`push_webhook`
(as Telegram does, with ``X-Telegram-Bot-Api-Secret-Token``), read what the bot sent in :attr:`sent`, count
in :attr:`conflicts` the long polls a second poller cut short (409 Conflict, as Telegram), and make the next
call of a method fail with :meth:`fail_next`. :class:`FakeBotAPIThread` serves it from a thread of its own,
for a bot running in another process.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from priyom_kit.deadlines import bounded

from ._server import serve_locally

BOT_ID = 7004000123
TOKEN = f"{BOT_ID}:AAH-fake-token-for-tests-only_0123456789"
T = TypeVar("T")
#: How long ``getUpdates`` may hold a request, whatever ``timeout`` asks (keeps tests fast).
MAX_POLL_S = 2.0
#: The largest file the cloud Bot API lets a bot download; ``getFile`` refuses bigger ones.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
#: A sticker's file format follows its flags, and Telegram's ``file_path`` says it with the extension.
_STICKER_EXTENSIONS = {(False, False): "webp", (True, False): "tgs", (False, True): "webm"}


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


@dataclass
class Failure:
    error_code: int
    description: str
    retry_after: int | None = None


@dataclass
class FakeBotAPI:
    """One bot on a fake Bot API server. Use as ``async with FakeBotAPI() as fake``."""

    token: str = TOKEN
    username: str = "priyom_test_bot"
    updates: list[dict[str, Any]] = field(default_factory=list)
    #: Every successful sending call, in order: ``{"method": …, "params": {…}, "result": {…}}``.
    sent: list[dict[str, Any]] = field(default_factory=list)
    #: Every call, successful or not: ``(method, params)``.
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    files: dict[str, StoredFile] = field(default_factory=dict)
    blocked_chats: set[int] = field(default_factory=set)
    #: File paths whose download answers 404 (Telegram keeps a file_path valid for about an hour).
    expired_paths: set[str] = field(default_factory=set)
    webhook_url: str = ""
    webhook_secret: str | None = None
    confirmed_offset: int = 0
    #: getUpdates calls ended by a newer one (409 Conflict): more than one instance polling the bot.
    conflicts: int = 0

    def __post_init__(self) -> None:
        self._failures: dict[str, list[Failure]] = {}
        self._message_ids = itertools.count(1000)
        self._update_ids = itertools.count(500_000_001)
        self._new_update = asyncio.Condition()
        self._poll_generation = 0
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- lifecycle ------------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeBotAPI:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner, self.base_url = await serve_locally(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    # -- what tests do ----------------------------------------------------------------------------------

    async def add_update(self, update: dict[str, Any], *, keep_id: bool = False) -> dict[str, Any]:
        """Queue an update for ``getUpdates``; its ``update_id`` is renumbered unless ``keep_id``."""
        update = dict(update)
        if not keep_id:
            update["update_id"] = next(self._update_ids)
        self.updates.append(update)
        async with self._new_update:
            self._new_update.notify_all()
        return update

    def add_file(self, file_id: str, data: bytes, file_path: str) -> None:
        """A file the bot may ``getFile`` and download (``file_path`` like ``photos/file_1.jpg``)."""
        self.files[file_id] = StoredFile(file_id, f"u{file_id[-12:]}", file_path, data)

    def add_sticker(self, file_id: str, data: bytes, *, emoji: str | None = "🙂", is_animated: bool = False,
                    is_video: bool = False, set_name: str = "PriyomTest") -> dict[str, Any]:
        """A sticker the bot may download, as ``getFile`` serves it (``stickers/file_<n>.webp|tgs|webm``);
        returns the ``Sticker`` object of the Bot API to put in a message."""
        extension = _STICKER_EXTENSIONS[(is_animated, is_video)]
        self.add_file(file_id, data, f"stickers/file_{len(self.files)}.{extension}")
        sticker: dict[str, Any] = {
            "width": 512, "height": 512, "is_animated": is_animated, "is_video": is_video, "type": "regular",
            "set_name": set_name, "file_id": file_id, "file_unique_id": self.files[file_id].file_unique_id,
            "file_size": len(data)}
        if emoji is not None:
            sticker["emoji"] = emoji
        return sticker

    def fail_next(self, method: str, error_code: int, description: str, *, retry_after: int | None = None,
                  times: int = 1) -> None:
        """The next ``times`` calls of ``method`` fail with this real-shaped error."""
        self._failures.setdefault(method.lower(), []).extend(
            Failure(error_code, description, retry_after) for _ in range(times))

    def pending(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a ``getUpdates`` offset (what Telegram would keep for 24 h)."""
        return [u for u in self.updates if u["update_id"] >= self.confirmed_offset]

    async def push_webhook(self, update: dict[str, Any], *, secret: str | None = None) -> int:
        """Deliver one update to the webhook as Telegram does; returns the HTTP status the bot answered."""
        headers = {"Content-Type": "application/json"}
        token = self.webhook_secret if secret is None else secret
        if token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        async with aiohttp.ClientSession() as session, session.post(
                self.webhook_url, data=json.dumps(update), headers=headers) as response:
            return response.status

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        return [str(s["params"].get("text") or s["params"].get("caption") or "") for s in self.sent
                if chat_id is None or int(s["params"]["chat_id"]) == chat_id]

    # -- the protocol ---------------------------------------------------------------------------------

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _read_params(request)
        self.calls.append((method, params))
        failures = self._failures.get(method.lower())
        if failures:
            failure = failures.pop(0)
            return _error(failure.error_code, failure.description, failure.retry_after)
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return _error(404, "Not Found")
        try:
            result = await handler(params)
        except ApiError as exc:
            return _error(exc.code, exc.description)
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        for stored in self.files.values():
            if stored.file_path == request.match_info["path"] and stored.file_path not in self.expired_paths:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return _error(404, "Not Found")

    def _me(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Priyom", "username": self.username,
                "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _m_getme(self, params: dict[str, Any]) -> Any:
        return self._me()

    async def _m_getupdates(self, params: dict[str, Any]) -> Any:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or 100), 100)
        timeout = min(float(params.get("timeout") or 0), MAX_POLL_S)
        if offset:
            self.confirmed_offset = max(self.confirmed_offset, offset)
        # As Telegram: a new getUpdates ends the one still waiting with 409 Conflict (two bot instances).
        self._poll_generation += 1
        generation = self._poll_generation
        async with self._new_update:
            self._new_update.notify_all()
        deadline = time.monotonic() + timeout
        while not (ready := self.pending()[:limit]) and time.monotonic() < deadline:
            async with self._new_update:
                try:
                    await bounded(self._new_update.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
            if generation != self._poll_generation:
                self.conflicts += 1
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one "
                                    "bot instance is running")
        return ready

    async def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        url = str(params.get("url") or "")
        if url and not url.startswith(("https://", "http://127.0.0.1")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        self.webhook_secret = params.get("secret_token") or None
        if _flag(params.get("drop_pending_updates")):
            self.confirmed_offset = max([u["update_id"] + 1 for u in self.updates], default=0)
        return True

    async def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url, self.webhook_secret = "", None
        if _flag(params.get("drop_pending_updates")):
            self.confirmed_offset = max([u["update_id"] + 1 for u in self.updates], default=0)
        return True

    async def _m_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook_url, "has_custom_certificate": False,
                "pending_update_count": len(self.pending())}

    async def _m_getfile(self, params: dict[str, Any]) -> Any:
        stored = self.files.get(str(params.get("file_id")))
        if stored is None:
            raise ApiError(400, "Bad Request: wrong file_id or the file is temporarily unavailable")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.file_path}

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        return True

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        text = str(params.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._record("sendMessage", params, {"text": text})

    async def _m_senddocument(self, params: dict[str, Any]) -> Any:
        document = params.get("document")
        if not isinstance(document, UploadedFile):
            raise ApiError(400, "Bad Request: there is no document in the request")
        caption = params.get("caption")
        if caption and len(str(caption)) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        file_id = f"BQACAgIAAxkDAAI{next(self._message_ids)}"
        self.add_file(file_id, document.data, f"documents/{document.filename}")
        result = {"document": {"file_id": file_id, "file_unique_id": f"u{file_id[-12:]}",
                               "file_name": document.filename, "mime_type": document.content_type,
                               "file_size": len(document.data)}}
        if caption:
            result["caption"] = caption
        return self._record("sendDocument", params, result)

    def _record(self, method: str, params: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        chat_id = _chat_id(params)
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id < 0 and chat_id != -1001234567890:
            raise ApiError(400, "Bad Request: chat not found")
        message = {"message_id": next(self._message_ids), "from": self._me(),
                   "chat": {"id": chat_id, "type": "private"}, "date": int(time.time()), **content}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:  # only inline keyboards come back
            message["reply_markup"] = markup
        self.sent.append({"method": method, "params": params, "result": message})
        return message


class ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _chat_id(params: dict[str, Any]) -> int:
    try:
        return int(params["chat_id"])
    except (KeyError, ValueError):
        raise ApiError(400, "Bad Request: chat not found") from None


async def _read_params(request: web.Request) -> dict[str, Any]:
    """The method's parameters, decoded as the Bot API does: query string, form, multipart or JSON."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
        return params
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        uploads: dict[str, UploadedFile] = {}
        while (part := await reader.next()) is not None:
            assert isinstance(part, aiohttp.BodyPartReader)
            if part.filename is not None:
                uploads[part.name or ""] = UploadedFile(part.filename, part.headers.get("Content-Type", ""),
                                                        bytes(await part.read()))
            else:
                params[part.name or ""] = await part.text()
        params.update(uploads)
        # ``attach://<name>`` points at a file part sent under another name.
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = uploads.get(value.removeprefix("attach://"), value)
    elif request.can_read_body:
        params.update(await request.post())
    for key, value in list(params.items()):
        if isinstance(value, str) and value[:1] in "[{":
            try:
                params[key] = json.loads(value)  # nested objects travel as JSON strings
            except json.JSONDecodeError:
                pass
    return params


class FakeBotAPIThread:
    """A :class:`FakeBotAPI` served from its own thread and event loop, for tests whose bot runs in another
    process (the end-to-end stack) and whose own loop must not have to serve it.

    ``with FakeBotAPIThread() as running``; ``await running.call(fake.add_update(...))`` from any loop.
    Reading ``fake.sent`` and ``fake.calls`` from the test's thread is safe: the fake only appends to them.
    """

    def __init__(self, **fields: Any) -> None:
        self._fields = fields
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fake-bot-api", daemon=True)
        self.fake: FakeBotAPI

    def __enter__(self) -> FakeBotAPIThread:
        self._thread.start()

        async def start() -> FakeBotAPI:
            return await FakeBotAPI(**self._fields).__aenter__()

        self.fake = asyncio.run_coroutine_threadsafe(start(), self.loop).result(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.__aexit__(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.loop.close()

    async def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` (a method of :attr:`fake`) on the fake's loop and wait for it without blocking."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))
