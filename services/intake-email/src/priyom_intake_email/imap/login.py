"""A logged-in IMAP connection: implicit TLS, STARTTLS or plain TCP, then LOGIN or SASL XOAUTH2.

aioimaplib (GPL-3.0-only, inside this service) knows the STARTTLS command but has no method for it, so the
upgrade is done here: the tagged ``STARTTLS`` is sent, and once the server said OK the same protocol object
is moved onto a TLS transport with ``loop.start_tls``. Capabilities learnt before TLS are forgotten and asked
again (RFC 3501 §6.2.1: a man in the middle could have edited them). A server that does not offer STARTTLS
when the mailbox asks for it is refused: logging in in clear text is never the fallback.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Callable

from aioimaplib import AUTH, IMAP4, Command, Response

from priyom_kit.deadlines import bounded

from ..oauth2 import AccessTokens
from ..settings import ImapMailbox


class ImapError(Exception):
    """The server answered NO or BAD, or the connection was lost: reconnect."""


def ok(response: Response, what: str) -> Response:
    if response.result != "OK":
        raise ImapError(f"{what}: {response.result}")
    return response


def tls_context(box: ImapMailbox) -> ssl.SSLContext:
    """Certificate and host name checked, against the system's CAs or the mailbox's own CA file."""
    return ssl.create_default_context(cafile=str(box.tls_ca_file) if box.tls_ca_file else None)


async def starttls(client: IMAP4, context: ssl.SSLContext, server_hostname: str) -> None:
    if not client.has_capability("STARTTLS"):
        raise ImapError("the server does not offer STARTTLS; refusing to log in without TLS")
    protocol = client.protocol
    ok(await bounded(protocol.execute(Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)),
                     client.timeout), "STARTTLS")
    loop = asyncio.get_running_loop()
    transport = await bounded(
        loop.start_tls(protocol.transport, protocol, context, server_hostname=server_hostname), client.timeout)
    protocol.transport = transport
    protocol.capabilities = set()
    await bounded(protocol.capability(), client.timeout)


async def xoauth2(client: IMAP4, user: str, tokens: AccessTokens, timeout: float) -> None:
    """SASL XOAUTH2 with the initial response. aioimaplib has ``xoauth2`` too, but on a refused token the
    server answers with a continuation (a JSON error) and waits for an empty line before its tagged NO, and
    aioimaplib never sends that line: the login would hang until the timeout. Here it is sent."""
    token = await tokens.get()
    protocol = client.protocol
    sasl = base64.b64encode(f"user={user}\1auth=Bearer {token}\1\1".encode()).decode("ascii")
    command = Command("AUTHENTICATE", protocol.new_tag(), "XOAUTH2", sasl, loop=protocol.loop)
    answer = asyncio.ensure_future(protocol.execute(command, scrub=token))
    deadline = asyncio.get_running_loop().time() + timeout
    answered_challenge = False
    while not answer.done():
        await asyncio.wait({answer}, timeout=0.02)
        if not answered_challenge and any(bytes(line).startswith(b"+") for line in command.response.lines):
            protocol.transport.write(b"\r\n")
            answered_challenge = True
        if asyncio.get_running_loop().time() > deadline:
            answer.cancel()
            raise ImapError("AUTHENTICATE XOAUTH2: no answer")
    response = answer.result()
    if response.result != "OK":
        tokens.forget()
    ok(response, "AUTHENTICATE XOAUTH2")
    protocol.state = AUTH


async def open_client(box: ImapMailbox, tokens: AccessTokens | None,
                      on_lost: Callable[[Exception | None], None], timeout: float = 30.0) -> IMAP4:
    """Connect, secure and authenticate; the caller logs out (or drops) the returned client."""
    context = tls_context(box) if box.tls != "none" else None
    # IMAP4 with an ssl_context is implicit TLS; IMAP4_SSL would add nothing but lose conn_lost_cb.
    client = IMAP4(box.host, box.port, timeout=timeout, conn_lost_cb=on_lost,
                   ssl_context=context if box.tls == "implicit" else None)
    try:
        await client.wait_hello_from_server()
        if box.tls == "starttls":
            assert context is not None
            await starttls(client, context, box.host)
        if box.auth == "xoauth2":
            assert tokens is not None
            await xoauth2(client, box.username, tokens, timeout)
            # LOGIN reads the post-login capabilities (MOVE, IDLE) from its answer; AUTHENTICATE does not.
            await bounded(client.protocol.capability(), timeout)
        else:
            assert box.password is not None
            ok(await client.login(box.username, box.password.get_secret_value()), "LOGIN")
    except BaseException:
        # Half-open (refused login, failed handshake): nobody will log this client out, so drop the socket.
        if client.protocol.transport is not None:
            client.protocol.transport.close()
        raise
    return client
