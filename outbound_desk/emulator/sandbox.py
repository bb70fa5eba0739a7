"""Embedding the sandbox org: uvicorn on a free loopback port in a background thread."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from outbound_desk.emulator.app import create_app
from outbound_desk.emulator.behaviour import Behaviour
from outbound_desk.emulator.faults import Faults
from outbound_desk.emulator.org import Org, SandboxConfig
from outbound_desk.emulator.ratelimit import RateLimiter
from outbound_desk.emulator.seed import seed_store
from outbound_desk.emulator.store import Store

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class SandboxError(RuntimeError):
    """The sandbox could not start (port in use, state file unreadable...)."""


class Sandbox:
    """A running sandbox org: a Genesys-compatible server on loopback for the app and tests.

    Use :meth:`start` as a context manager; :meth:`stop` shuts uvicorn down and joins its
    thread, so nothing is left running.
    """

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.store = Store(config.limits, config.state_path)
        self.store.behaviour = config.behaviour
        if config.seed:
            seed_store(self.store)
        self.org = Org(config, self.store)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ life cycle
    @classmethod
    def start(
        cls,
        config: SandboxConfig | None = None,
        *,
        rate_limit: tuple[int, float] | None = None,
        faults: Faults | None = None,
        state_path: Path | str | None = None,
        seed: bool | None = None,
        host: str | None = None,
        port: int | None = None,
        timeout_s: float = 10.0,
    ) -> Sandbox:
        """Start a sandbox; keyword arguments override *config* (default: SandboxConfig())."""
        config = config or SandboxConfig()
        changes: dict[str, Any] = {}
        if rate_limit is not None:
            changes["rate_limit"] = (int(rate_limit[0]), float(rate_limit[1]))
        if faults is not None:
            changes["faults"] = faults
        if state_path is not None:
            changes["state_path"] = Path(state_path)
        if seed is not None:
            changes["seed"] = seed
        if host is not None:
            changes["host"] = host
        if port is not None:
            changes["port"] = port
        sandbox = cls(dataclasses.replace(config, **changes))
        try:
            sandbox._serve(timeout_s)
        except BaseException:
            sandbox.stop()
            raise
        return sandbox

    def _serve(self, timeout_s: float) -> None:
        host, port = self.config.host, self.config.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise SandboxError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        sock.listen(128)
        sock.setblocking(False)
        self._socket = sock
        bound_port = sock.getsockname()[1]
        url_host = f"[{host}]" if family == socket.AF_INET6 else host
        self.base_url = f"http://{url_host}:{bound_port}"
        uv_config = uvicorn.Config(
            create_app(self.org),
            log_level="warning",
            access_log=False,
            lifespan="on",
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(uv_config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="sandbox-uvicorn"
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not self._thread.is_alive():
                raise SandboxError("the sandbox server stopped while starting")
            if time.monotonic() > deadline:
                raise SandboxError(f"the sandbox did not start within {timeout_s} s")
            time.sleep(0.01)

    def stop(self) -> None:
        """Shut the server down, join its thread and close the store. Safe to call twice."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
        self._server = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self.store.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ run-time knobs
    @property
    def client_id(self) -> str:
        return self.config.client_id

    @property
    def client_secret(self) -> str:
        return self.config.client_secret

    @property
    def faults(self) -> Faults:
        return self.org.faults

    @property
    def limiter(self) -> RateLimiter:
        return self.org.limiter

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        """Recent ``(method, path, status)``; status 0 = the connection was dropped."""
        return self.store.recent_requests()

    def set_faults(self, faults: Faults | None = None, **changes: float) -> Faults:
        """Replace the faults, or change some keys: ``sb.set_faults(error_rate=0.2)``."""
        new = dataclasses.replace(faults or self.org.faults, **changes)
        self.org.set_faults(new)
        return new

    def set_refusals(
        self, *, presigned_upload: int | None = None, legacy_upload: int | None = None
    ) -> None:
        """Refuse CSV upload paths, as an org without the feature (404) or an OAuth client
        without ``outbound:contactList:upload`` (403) would; ``None`` serves the path again.

        Each call sets both paths: ``sb.set_refusals()`` serves both again.
        """
        self.org.set_refusals(
            {"presigned_upload": presigned_upload, "legacy_upload": legacy_upload}
        )

    def set_download_fault(self, fault: str | None) -> None:
        """Serve export files broken: ``"empty"`` (0 bytes) or ``"html"`` (a web page);
        ``None`` serves them whole again."""
        self.org.set_download_fault(fault)

    @property
    def behaviour(self) -> Behaviour:
        return self.store.behaviour

    def set_behaviour(self, **changes: str) -> Behaviour:
        """Choose how undocumented behaviour goes: ``sb.set_behaviour(empty_result="page")``."""
        new = dataclasses.replace(self.store.behaviour, **changes)
        self.store.behaviour = new
        return new

    @property
    def pkce_client_id(self) -> str:
        return self.config.pkce_client_id

    def register_redirect_uri(self, uri: str) -> None:
        """Register one more redirect URI on the OAuth clients (authorize matches exactly)."""
        self.org.register_redirect_uri(uri)

    def set_pkce_refresh_tokens(self, issue: bool) -> None:
        """Whether public (PKCE) clients get refresh tokens (unknown on the platform):
        ``set_behaviour(pkce_refresh="issue" | "none")``."""
        self.set_behaviour(pkce_refresh="issue" if issue else "none")

    def set_rate_limit(self, limit: int, window_s: float = 60.0) -> None:
        """Change the per-token budget; every token starts a fresh window."""
        self.org.limiter.configure(limit, window_s)

    def __repr__(self) -> str:
        return f"Sandbox({self.base_url or 'not started'})"
