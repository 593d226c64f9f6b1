"""The token rule for a browser: ``/?token=TOKEN`` once sets a cookie, the editor's pages then need it.

With ``--token``, every route but ``/api/health`` needs the token. Scripts send
``Authorization: Bearer TOKEN``; a browser cannot put a header on a page load, so opening any
page with ``?token=TOKEN`` answers with an ``HttpOnly; SameSite=Strict`` cookie holding it and
a redirect to the same page without the token in its address. From then on the pages, the
event streams and the downloads carry the cookie by themselves (``SameSite=Strict``: never on
a request another site starts, so a link elsewhere cannot act with it).

:class:`PageGuard` guards everything outside ``/api/`` (the editor's files, ``/docs``,
``/openapi.json``); the ``/api/`` routes check :func:`token_given` in a dependency.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

#: The cookie holding the token.
COOKIE = "motionkit_token"

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


def _cookie(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001, S112 - a malformed cookie header is no token
                continue
            if COOKIE in jar:
                return jar[COOKIE].value
    return ""


def token_given(headers: list[tuple[bytes, bytes]], query: str) -> str:
    """The token a request carries: its bearer header, else its cookie, else ``?token=``; "" for none."""
    for name, value in headers:
        if name == b"authorization":
            text = value.decode("latin-1")
            if text.lower().startswith("bearer "):
                return text[7:]
    return _cookie(headers) or dict(parse_qsl(query)).get("token", "")


def matches(given: str, token: str) -> bool:
    """Whether ``given`` is ``token`` (compared in constant time)."""
    return hmac.compare_digest(given.encode(), token.encode())


class PageGuard:
    """ASGI middleware: outside ``/api/``, a request needs the token (cookie or bearer), or ``?token=`` to set it."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]) -> None:
        if self.token is None or scope["type"] != "http" or scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers", []))
        query = scope.get("query_string", b"").decode("latin-1")
        pairs = parse_qsl(query, keep_blank_values=True)
        offered = dict(pairs).get("token")
        if offered is not None and matches(offered, self.token):
            rest = urlencode([(k, v) for k, v in pairs if k != "token"])
            location = scope["path"] + (f"?{rest}" if rest else "")
            cookie = f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
            await _answer(send, 303, b"", [(b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode("latin-1"))])
            return
        if matches(token_given(headers, ""), self.token):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": "missing or wrong token: open the editor once as /?token=TOKEN "
                                    "(or send Authorization: Bearer TOKEN)", "status": 401}).encode()
        await _answer(send, 401, body, [(b"content-type", b"application/json")])


async def _answer(send: Callable[[Any], Awaitable[None]], status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
