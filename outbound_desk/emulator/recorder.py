"""An opt-in record of the sandbox's JSON traffic, for the conformance test.

When ``OUTBOUND_DESK_SANDBOX_RECORD`` names a file (or a :class:`SandboxConfig` asks for one),
every exchange is appended to it as one JSON line::

    {"method", "path", "query", "status", "userAgent", "requestType", "request", "responseType",
     "response", "responseBytes", "test"}

``request`` and ``response`` are the bodies' text when they are JSON (``None`` otherwise, or
when a body is larger than :data:`MAX_BODY_BYTES`, then ``"...Truncated": true``). Request
bodies are kept only for requests whose User-Agent starts with ``outbound-desk/`` (the
project's client), since tests send deliberately wrong bodies with other clients. Lines are
``test`` is pytest's ``PYTEST_CURRENT_TEST`` when set, so a
report can say which test made an exchange. Lines are
written with one ``O_APPEND`` write each, so sandboxes in several processes can share a file.
Recording costs nothing when it is off: the app is not wrapped.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

RECORD_ENV = "OUTBOUND_DESK_SANDBOX_RECORD"
CLIENT_AGENT_PREFIX = "outbound-desk/"
MAX_BODY_BYTES = 8 * 1024 * 1024

Scope = dict[str, Any]
Message = dict[str, Any]


def record_path_from_env() -> Path | None:
    value = os.environ.get(RECORD_ENV, "").strip()
    return Path(value) if value else None


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class Recorder:
    """ASGI middleware appending one JSON line per HTTP exchange to *path*."""

    def __init__(self, app: Any, path: Path) -> None:
        self.app = app
        self.path = path
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        agent = headers.get("user-agent", "")
        request_type = headers.get("content-type", "")
        keep_request = agent.startswith(CLIENT_AGENT_PREFIX) and _is_json(request_type)
        request = bytearray()
        response = bytearray()
        state: dict[str, Any] = {
            "status": None,
            "type": "",
            "req_cut": False,
            "resp_cut": False,
            "resp_bytes": 0,
        }

        async def recording_receive() -> Message:
            message: Message = await receive()
            if keep_request and message["type"] == "http.request" and not state["req_cut"]:
                request.extend(message.get("body", b""))
                if len(request) > MAX_BODY_BYTES:
                    state["req_cut"] = True
                    request.clear()
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        state["type"] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                state["resp_bytes"] += len(message.get("body", b""))
            if (
                message["type"] == "http.response.body"
                and _is_json(state["type"])
                and not state["resp_cut"]
            ):
                response.extend(message.get("body", b""))
                if len(response) > MAX_BODY_BYTES:
                    state["resp_cut"] = True
                    response.clear()
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            if state["status"] is not None:
                self._write(
                    {
                        "method": scope["method"],
                        "path": scope["path"],
                        "query": scope.get("query_string", b"").decode("latin-1"),
                        "status": state["status"],
                        "userAgent": agent,
                        "requestType": request_type,
                        "request": _text(request, keep_request),
                        "requestTruncated": state["req_cut"],
                        "responseType": state["type"],
                        "response": _text(response, _is_json(state["type"])),
                        "responseTruncated": state["resp_cut"],
                        "responseBytes": state["resp_bytes"],
                        "test": os.environ.get("PYTEST_CURRENT_TEST"),
                    }
                )

    def _write(self, entry: dict[str, Any]) -> None:
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)


def _text(body: bytearray, wanted: bool) -> str | None:
    if not wanted or not body:
        return None
    return body.decode("utf-8", errors="replace")
