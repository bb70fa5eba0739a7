"""Everything one running sandbox knows besides the store: tokens, uploads, exports, jobs."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import math
import random
import secrets
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from outbound_desk.emulator.behaviour import Behaviour
from outbound_desk.emulator.faults import Faults
from outbound_desk.emulator.ratelimit import RateLimiter
from outbound_desk.emulator.store import JSON, Limits, Store


@dataclasses.dataclass(frozen=True)
class SandboxConfig:
    """How a sandbox org is set up when it starts; faults and the rate limit change later."""

    host: str = "127.0.0.1"
    port: int = 0
    client_id: str = "sandbox-client"
    # Well known, but still a secret by habit: kept out of the repr.
    client_secret: str = dataclasses.field(default="sandbox-secret", repr=False)
    rate_limit: tuple[int, float] = (300, 60.0)
    faults: Faults = dataclasses.field(default_factory=Faults)
    #: Choices where the platform's behaviour is unknown (``--behaviour``).
    behaviour: Behaviour = dataclasses.field(default_factory=Behaviour)
    state_path: Path | None = None
    seed: bool = True
    limits: Limits = dataclasses.field(default_factory=Limits)
    #: How fast a CSV import applies rows: 25,000/s makes 50,000 rows take two seconds.
    import_rows_per_s: float = 25_000.0
    export_delay_s: float = 0.5
    clear_delay_s: float = 0.3
    bulk_job_delay_s: float = 0.3
    #: Seconds a PKCE authorization code stays valid.
    auth_code_ttl_s: float = 300.0
    #: A public OAuth client (authorization code + PKCE, no secret), as a person's desktop
    #: app uses. ``client_id`` above is a confidential one: client credentials, and the code
    #: grant too (with its secret it gets refresh tokens; without, it is treated as public).
    pkce_client_id: str = "sandbox-pkce"
    #: The redirect URIs registered on both OAuth clients: ``/oauth/authorize`` accepts these
    #: exactly (as Genesys does), nothing else. The first is the app's default.
    redirect_uris: tuple[str, ...] = (
        "http://127.0.0.1:18765/callback",
        "http://localhost:18765/callback",
    )


#: The CSV upload paths a test can make the org refuse, as an org without that feature (404)
#: or an OAuth client without ``outbound:contactList:upload`` (403) would.
UPLOAD_PATHS = ("presigned_upload", "legacy_upload")
REFUSAL_STATUSES = frozenset({403, 404})
#: What the storage host can serve instead of an export file, for tests of the client:
#: an empty body (what a client that does not follow the redirect saves), or an HTML page.
DOWNLOAD_FAULTS = ("empty", "html")


@dataclasses.dataclass
class Upload:
    """A presigned upload URL handed out and not used yet."""

    list_id: str
    contact_id_name: str | None
    headers: dict[str, str]
    expires_at: float


@dataclasses.dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    challenge: str
    expires_at: float


@dataclasses.dataclass
class RefreshGrant:
    client_id: str
    #: True when issued to a client that authenticated with its secret.
    confidential: bool


@dataclasses.dataclass
class Export:
    ready_at: float
    download_id: str
    timestamp: str


class Org:
    """The sandbox org's run-time state around the :class:`Store`.

    Dictionaries here are touched from the server's event loop and, through the Sandbox's
    setters, from test threads; ``lock`` guards them.
    """

    def __init__(self, config: SandboxConfig, store: Store) -> None:
        self.config = config
        self.store = store
        self.lock = threading.Lock()
        self._faults = config.faults
        self.limiter = RateLimiter(*config.rate_limit)
        self.rng = random.Random()
        self.tokens: dict[str, float] = {}
        self.codes: dict[str, AuthCode] = {}
        self.refresh_tokens: dict[str, RefreshGrant] = {}
        self.redirect_uris: set[str] = set(config.redirect_uris)
        self.uploads: dict[str, Upload] = {}
        self.exports: dict[str, Export] = {}
        self.downloads: dict[str, bytes] = {}
        #: Signed storage URLs handed out: signature -> (download id, expiry, monotonic).
        self.signatures: dict[str, tuple[str, float]] = {}
        #: A broken export file on purpose (see :data:`DOWNLOAD_FAULTS`), or None.
        self.download_fault: str | None = None
        self.jobs: dict[str, dict[str, JSON]] = {}
        self.import_locks: dict[str, asyncio.Lock] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        #: Upload paths this org refuses, with the status it answers (see :func:`refusal`).
        self.refusals: dict[str, int] = {}

    # ------------------------------------------------------------------ faults
    @property
    def faults(self) -> Faults:
        return self._faults

    def set_faults(self, faults: Faults) -> None:
        with self.lock:
            self._faults = faults

    def set_refusals(self, refusals: dict[str, int | None]) -> None:
        unknown = set(refusals) - set(UPLOAD_PATHS)
        if unknown:
            raise ValueError(
                f"unknown upload path {sorted(unknown)}; known: {', '.join(UPLOAD_PATHS)}"
            )
        for path, status in refusals.items():
            if status is not None and status not in REFUSAL_STATUSES:
                raise ValueError(
                    f"{path} can be refused with {sorted(REFUSAL_STATUSES)}, not {status}"
                )
        with self.lock:
            for path, status in refusals.items():
                if status is None:
                    self.refusals.pop(path, None)
                else:
                    self.refusals[path] = status

    def set_download_fault(self, fault: str | None) -> None:
        if fault is not None and fault not in DOWNLOAD_FAULTS:
            raise ValueError(
                f"unknown download fault {fault!r}; known: {', '.join(DOWNLOAD_FAULTS)}"
            )
        with self.lock:
            self.download_fault = fault

    def refused(self, path: str) -> int | None:
        with self.lock:
            return self.refusals.get(path)

    # ------------------------------------------------------------------ tokens
    def issue_token(self) -> tuple[str, int]:
        ttl = self._faults.token_ttl_s
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self.lock:
            self.tokens[token] = now + ttl
            if len(self.tokens) > 10_000:  # forget expired tokens so a long run stays small
                self.tokens = {t: exp for t, exp in self.tokens.items() if exp > now}
        return token, max(1, math.ceil(ttl))

    def token_valid(self, token: str) -> bool:
        with self.lock:
            expires = self.tokens.get(token)
        return expires is not None and time.monotonic() < expires

    def register_redirect_uri(self, uri: str) -> None:
        """Add *uri* to the OAuth clients' registered redirect URIs (exact match)."""
        with self.lock:
            self.redirect_uris.add(uri)

    def redirect_registered(self, uri: str) -> bool:
        with self.lock:
            return uri in self.redirect_uris

    def new_refresh_token(self, client_id: str, *, confidential: bool) -> str:
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.refresh_tokens[token] = RefreshGrant(client_id, confidential)
        return token

    def refresh_grant(self, token: str) -> RefreshGrant | None:
        with self.lock:
            return self.refresh_tokens.get(token)

    def new_code(self, client_id: str, redirect_uri: str, challenge: str) -> str:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = AuthCode(
                client_id, redirect_uri, challenge, time.monotonic() + self.config.auth_code_ttl_s
            )
        return code

    def take_code(self, code: str) -> AuthCode | None:
        """The code's grant, once: a code is single-use."""
        with self.lock:
            grant = self.codes.pop(code, None)
        if grant is None or time.monotonic() >= grant.expires_at:
            return None
        return grant

    # ------------------------------------------------------------------ background work
    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def cancel_tasks(self) -> None:
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def import_lock(self, list_id: str) -> asyncio.Lock:
        lock = self.import_locks.get(list_id)
        if lock is None:
            lock = self.import_locks[list_id] = asyncio.Lock()
        return lock


def pkce_challenge(verifier: str) -> str:
    """S256: base64url(sha256(verifier)) without padding (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
