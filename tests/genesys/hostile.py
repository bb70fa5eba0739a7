"""A hostile platform on loopback: the sandbox behind a proxy that answers chosen requests itself.

The sandbox answers as the platform does; some answers a real org (or what stands between it
and the client: a proxy, a captive portal) may give, it never gives: a redirect, a 204 where a
body belongs, rate-limit allowances that differ per resource. :class:`HostileProxy` forwards
every request to the sandbox unchanged, except those a rule matches, which get the rule's
answer. Everything travels over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


@dataclass
class Answer:
    """What a rule answers: a status, headers and a body (bytes)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Rule:
    method: str
    path: re.Pattern[str]
    answer: Answer | None
    #: Headers added to the sandbox's own answer (when *answer* is None).
    extra_headers: Callable[[], dict[str, str]] | None = None
    #: Rewrites the sandbox's answer body (when *answer* is None).
    transform: Callable[[bytes], bytes] | None = None
    hits: int = 0


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


class HostileProxy:
    """Forwards to *upstream* (the sandbox) except what :meth:`answer` rules say."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[Rule] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=30, follow_redirects=False)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"

    # ------------------------------------------------------------------ rules
    def answer(
        self,
        method: str,
        path: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> Rule:
        """Answer ``method`` requests whose path matches the regex *path* (fully) with this."""
        rule = Rule(method.upper(), re.compile(path), Answer(status, dict(headers or {}), body))
        with self._lock:
            self.rules.append(rule)
        return rule

    def add_headers(self, method: str, path: str, headers: Callable[[], dict[str, str]]) -> Rule:
        """Forward, and set *headers()* on the sandbox's answer."""
        rule = Rule(method.upper(), re.compile(path), None, headers)
        with self._lock:
            self.rules.append(rule)
        return rule

    def rewrite(self, method: str, path: str, transform: Callable[[bytes], bytes]) -> Rule:
        """Forward, and answer with *transform* of the sandbox's answer body."""
        rule = Rule(method.upper(), re.compile(path), None, transform=transform)
        with self._lock:
            self.rules.append(rule)
        return rule

    def _rule_for(self, method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if (rule.method in ("*", method)) and rule.path.fullmatch(path):
                    rule.hits += 1
                    return rule
        return None

    # ------------------------------------------------------------------ serving
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        path, _, query = h.path.partition("?")
        with self._lock:
            self.seen.append(Seen(h.command, path, query, dict(h.headers.items()), body))
        rule = self._rule_for(h.command, path)
        if rule is not None and rule.answer is not None:
            self._reply(h, rule.answer.status, rule.answer.headers, rule.answer.body)
            return
        headers = {
            k: v for k, v in h.headers.items() if k.lower() not in ("host", "content-length")
        }
        upstream = self._http.request(
            h.command, self.upstream + h.path, content=body, headers=headers
        )
        out = {
            k: v
            for k, v in upstream.headers.items()
            if k.lower()
            not in ("content-length", "transfer-encoding", "connection", "content-encoding")
        }
        content = upstream.content
        if rule is not None and rule.extra_headers is not None:
            out.update(rule.extra_headers())
        if rule is not None and rule.transform is not None:
            content = rule.transform(content)
        self._reply(h, upstream.status_code, out, content)

    @staticmethod
    def _reply(
        h: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if body and h.command != "HEAD":
            h.wfile.write(body)

    @contextmanager
    def running(self) -> Iterator[HostileProxy]:
        thread = threading.Thread(target=self._server.serve_forever, name="hostile-proxy")
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(5)
            self._http.close()
