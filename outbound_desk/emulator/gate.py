"""The outer ASGI layer: correlation ids, auth, rate limit and injected faults.

It wraps the routed app so that every answer, errors and 429s included, carries the
``ININ-Correlation-Id`` and ``inin-ratelimit-*`` headers the real platform sends.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from outbound_desk.emulator.errors import error_body
from outbound_desk.emulator.org import Org
from outbound_desk.emulator.ratelimit import Verdict

Scope = dict[str, Any]
Message = dict[str, Any]
CORRELATION_KEY = "sandbox.correlation_id"

_AUTHENTICATED_PREFIXES = ("/api/v2/", "/uploads/v2/")
_INJECTED_ERRORS = (
    (500, "internal.server.error", "The server encountered an unexpected error (injected)."),
    (502, "bad.gateway", "The upstream service did not answer (injected)."),
    (503, "service.unavailable", "The service is temporarily unavailable (injected)."),
)


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return str(token).strip()
    return None


async def abort_connection(send: Any) -> None:
    """Drop the connection without an answer, as a failing load balancer would.

    ASGI has no "close without a response", so reach the transport behind uvicorn's ``send``
    (a bound method of its request cycle); otherwise promise a body and never send it.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None and hasattr(transport, "abort"):
        transport.abort()
        # Let the loop run connection_lost, so uvicorn sees a disconnect, not a mute app.
        for _ in range(3):
            await asyncio.sleep(0)
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]}
    )


class Gate:
    """Wraps the routed app with the platform's cross-cutting behaviour."""

    def __init__(self, org: Org, app: Any) -> None:
        self.org = org
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        org = self.org
        correlation_id = str(uuid.uuid4())
        scope[CORRELATION_KEY] = correlation_id
        method, path = scope["method"], scope["path"]
        faults = org.faults
        if faults.latency_ms > 0:
            await asyncio.sleep(faults.latency_ms / 1000)
        drop = faults.drop_rate > 0 and org.rng.random() < faults.drop_rate
        # Half the drops happen after the work is done: the client cannot tell whether a
        # dropped POST took effect, which is what makes idempotent ids matter.
        if drop and org.rng.random() < 0.5:
            org.store.record_request(method, path, 0)
            await abort_connection(send)
            return

        token = bearer_token(scope)
        if path.startswith(_AUTHENTICATED_PREFIXES):
            key = f"token:{token}"
            if token is None or not org.token_valid(token):
                verdict = org.limiter.peek(key)
                await self._error(
                    send,
                    scope,
                    verdict,
                    401,
                    "authentication.required",
                    "No valid access token was supplied: the token is missing, unknown or "
                    "expired. Get a new one from /oauth/token.",
                )
                return
            verdict = org.limiter.hit(key)
            if not verdict.allowed:
                await self._error(
                    send,
                    scope,
                    verdict,
                    429,
                    "too.many.requests",
                    f"Rate limit exceeded the maximum of {verdict.limit} requests; retry in "
                    f"{verdict.reset_s} seconds.",
                    extra={"Retry-After": str(verdict.reset_s)},
                )
                return
        else:
            # Login and the presigned upload URL are not counted against a token.
            verdict = org.limiter.peek(f"client:{(scope.get('client') or ('?',))[0]}")
        if (
            faults.error_rate > 0
            and not path.startswith("/uploads/presigned/")
            and org.rng.random() < faults.error_rate
        ):
            status, code, message = org.rng.choice(_INJECTED_ERRORS)
            await self._error(send, scope, verdict, status, code, message)
            return

        extra = _header_list(verdict, correlation_id)
        outcome = {"dropped": False}

        async def send_with_headers(message: Message) -> None:
            if outcome["dropped"]:
                return
            if message["type"] == "http.response.start":
                if drop:
                    outcome["dropped"] = True
                    org.store.record_request(method, path, 0)
                    await abort_connection(send)
                    return
                org.store.record_request(method, path, message["status"])
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _error(
        self,
        send: Any,
        scope: Scope,
        verdict: Verdict,
        status: int,
        code: str,
        message: str,
        *,
        extra: dict[str, str] | None = None,
    ) -> None:
        correlation_id = scope[CORRELATION_KEY]
        body = json.dumps(error_body(status, code, message, correlation_id)).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *_header_list(verdict, correlation_id),
            *((k.lower().encode(), v.encode()) for k, v in (extra or {}).items()),
        ]
        # Counted before the answer leaves, so a test reading the store after it sees it.
        self.org.store.record_request(scope["method"], scope["path"], status)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _header_list(verdict: Verdict, correlation_id: str) -> list[tuple[bytes, bytes]]:
    pairs = {**verdict.headers(), "inin-correlation-id": correlation_id}
    return [(k.encode(), v.encode()) for k, v in pairs.items()]
