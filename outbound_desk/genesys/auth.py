"""OAuth for Genesys Cloud: client credentials, authorization code + PKCE, and a token cache.

Secrets and tokens live in :class:`Secret`, whose ``repr``/``str`` never show the value; the
client secret is only ever sent to the region's own ``login.`` host (or the sandbox).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import logging
import secrets
import threading
import time
import urllib.parse
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from outbound_desk.genesys.errors import (
    AuthenticationError,
    Cancelled,
    GenesysError,
    NetworkError,
    UnexpectedAnswer,
    error_from_response,
    parse_retry_after,
)
from outbound_desk.genesys.regions import Region

__all__ = [
    "ClientCredentials",
    "PkceFlow",
    "Secret",
    "Token",
    "TokenProvider",
    "fetch_client_credentials_token",
    "pkce_challenge",
]

log = logging.getLogger(__name__)
#: The longest a 429's Retry-After holds a token request back.
_RETRY_AFTER_CAP_S = 60.0


class Secret:
    """A string that must not leak: its ``repr`` and ``str`` are a fixed mask."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class ClientCredentials:
    """An OAuth client of the client-credentials grant (for scripts and the sandbox)."""

    client_id: str
    client_secret: Secret

    def __init__(self, client_id: str, client_secret: str | Secret) -> None:
        object.__setattr__(self, "client_id", client_id)
        secret = client_secret if isinstance(client_secret, Secret) else Secret(client_secret)
        object.__setattr__(self, "client_secret", secret)


@dataclass(frozen=True)
class Token:
    """An access token and when it expires (``time.time()`` seconds)."""

    access_token: Secret
    expires_at: float
    issued_at: float = field(default=0.0)
    refresh_token: Secret | None = field(default=None, repr=False)

    @property
    def lifetime(self) -> float:
        return max(0.0, self.expires_at - self.issued_at) if self.issued_at else 0.0

    @classmethod
    def from_api(cls, body: dict[str, Any], *, now: float | None = None) -> Token:
        issued = time.time() if now is None else now
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise AuthenticationError("the login service answered without an access token")
        try:
            expires_in = float(body.get("expires_in", 86400))
        except (TypeError, ValueError):
            expires_in = 86400.0
        refresh = body.get("refresh_token")
        return cls(
            access_token=Secret(access),
            expires_at=issued + expires_in,
            issued_at=issued,
            refresh_token=Secret(refresh) if isinstance(refresh, str) and refresh else None,
        )


def _fixed_backoff(attempt: int) -> float:
    return min(8.0, 0.5 * 2.0 ** (attempt - 1))


def _post_token_form(
    http: httpx.Client,
    region: Region,
    form: dict[str, str],
    *,
    basic: ClientCredentials | None = None,
    retries: int = 2,
    backoff: Callable[[int], float] = _fixed_backoff,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[], None] | None = None,
) -> Token:
    """POST *form* to the token endpoint; retry up to *retries* times on 429, 5xx and lost
    connections (``backoff(attempt)`` seconds apart, attempt counting from 1), never on a
    refusal (400/401/403): asking again with the same credentials cannot help."""
    url = f"{region.login_base}/oauth/token"
    if not region.is_login_url(url):  # defence in depth: the secret goes nowhere else
        raise AuthenticationError(f"refusing to send credentials to {url}")
    headers = {"Accept": "application/json"}
    if basic is not None:
        pair = f"{basic.client_id}:{basic.client_secret.get()}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    attempt = 0
    while True:
        wait_at_least = 0.0
        try:
            response = http.post(url, data=form, headers=headers)
        except httpx.TransportError as exc:
            last: GenesysError = NetworkError(
                f"could not reach the login service: {type(exc).__name__}"
            )
        else:
            if response.status_code == 200:
                try:
                    body = response.json()
                except ValueError as exc:
                    raise AuthenticationError("the login service answered with no JSON") from exc
                return Token.from_api(body if isinstance(body, dict) else {})
            if response.status_code < 400:
                # A redirect (the login service never redirects a token request) or another
                # non-success: something else is answering. A platform failure, not a refusal.
                raise UnexpectedAnswer(
                    f"the login service answered HTTP {response.status_code} to the token "
                    "request, which it never does",
                    status=response.status_code,
                    correlation_id=response.headers.get("ININ-Correlation-Id"),
                    method="POST",
                    path=httpx.URL(url).path,
                )
            error = error_from_response(response)
            if response.status_code in (400, 401, 403):
                # The token endpoint answers bad credentials with 400/401 (invalid_client).
                raise AuthenticationError(
                    error.message,
                    status=error.status,
                    code=error.code,
                    correlation_id=error.correlation_id,
                    details=error.details,
                )
            if response.status_code != 429 and response.status_code < 500:
                raise error
            if response.status_code == 429:
                wait_at_least = min(
                    _RETRY_AFTER_CAP_S,
                    parse_retry_after(response.headers.get("Retry-After")) or 0.0,
                )
            last = error
        if attempt >= retries:
            raise last
        attempt += 1
        delay = max(backoff(attempt), wait_at_least)
        log.warning("token request failed (%s); retry %d in %.2f s", last.message, attempt, delay)
        if on_retry is not None:
            on_retry()
        sleep(delay)


def fetch_client_credentials_token(
    http: httpx.Client,
    region: Region,
    credentials: ClientCredentials,
    *,
    retries: int = 2,
    backoff: Callable[[int], float] = _fixed_backoff,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[], None] | None = None,
) -> Token:
    """A new token for *credentials* from *region*'s login service.

    A 5xx, a 429 or a lost connection is retried (*retries* times, ``backoff(attempt)``
    seconds apart: :class:`GenesysClient` passes its own policy); refused credentials are not.
    """
    return _post_token_form(
        http,
        region,
        {"grant_type": "client_credentials"},
        basic=credentials,
        retries=retries,
        backoff=backoff,
        sleep=sleep,
        on_retry=on_retry,
    )


class TokenProvider:
    """Caches one token in memory and renews it shortly before it expires.

    Thread-safe: many workers may ask at once, only one renewal runs, and the others get its
    result. ``invalidate(token)`` after a 401 forces one renewal unless another thread has
    already replaced that token.
    """

    def __init__(
        self,
        fetch: Callable[[], Token],
        *,
        renew_margin_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch
        self._margin = renew_margin_s
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Token | None = None
        self.renewals = 0

    def __repr__(self) -> str:
        return f"TokenProvider(renewals={self.renewals})"

    def _fresh(self, token: Token | None) -> bool:
        if token is None:
            return False
        # A short-lived token (the sandbox's token_ttl_s=1) renews a tenth of its life early.
        margin = min(self._margin, token.lifetime / 10) if token.lifetime else self._margin
        return self._clock() < token.expires_at - margin

    def token(self) -> Token:
        current = self._token
        if self._fresh(current):
            assert current is not None
            return current
        with self._lock:
            if not self._fresh(self._token):
                self._token = self._fetch()
                self.renewals += 1
                log.info("access token renewed (expires in %.0f s)", self._token.lifetime)
            assert self._token is not None
            return self._token

    def invalidate(self, token: Token) -> None:
        """Forget *token* (the platform refused it), unless it was already replaced."""
        with self._lock:
            if self._token is token:
                self._token = None


def pkce_verifier() -> str:
    """A fresh PKCE code verifier (43..128 characters of the unreserved set)."""
    return secrets.token_urlsafe(64)[:96]


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge for *verifier*: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class _RedirectHandler(http.server.BaseHTTPRequestHandler):
    """Receives the browser's redirect with ``code`` and ``state``."""

    server: _RedirectServer

    def do_GET(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        if parsed.path != self.server.callback_path:
            self.send_error(404)
            return
        query = urllib.parse.parse_qs(parsed.query)
        self.server.result = {k: v[0] for k, v in query.items() if v}
        ok = "code" in self.server.result and "error" not in self.server.result
        text = (
            "Signed in to Genesys Cloud. You can close this window and return to Outbound Desk."
            if ok
            else "Sign-in did not complete. Return to Outbound Desk for details."
        )
        body = f"<!doctype html><title>Outbound Desk</title><p>{text}</p>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # The query string carries the authorization code: keep it out of stderr and logs.
        return


class _RedirectServer(http.server.HTTPServer):
    def __init__(self, callback_path: str) -> None:
        super().__init__(("127.0.0.1", 0), _RedirectHandler)
        self.callback_path = callback_path
        self.result: dict[str, str] | None = None


def _system_browser(url: str) -> bool:
    return webbrowser.open(url)


class PkceFlow:
    """Authorization code + PKCE sign-in in the system browser, for people (no secret stored).

    ``sign_in()`` opens the authorize URL, receives the redirect on a loopback server on an
    ephemeral port (in the calling thread, polling ``cancelled()``), checks ``state`` and
    exchanges the code. Use it as ``TokenProvider(flow.token)``: later renewals use a refresh
    token when the platform gave one, and otherwise sign in again.

    ``open_browser(url)`` shows the authorize page; it must return without waiting for the
    sign-in (the redirect is served only after it returns). Left out, it is the system
    browser, ``webbrowser.open`` looked up at each sign-in, so that whoever swaps the opener
    (a test, an app that shows the URL itself) is heard however the flow was built.
    """

    callback_path = "/oauth/callback"

    def __init__(
        self,
        region: Region,
        client_id: str,
        *,
        http_client: httpx.Client,
        open_browser: Callable[[str], object] | None = None,
        redirect_host: str = "localhost",
        timeout_s: float = 300.0,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        self.region = region
        self.client_id = client_id
        self._http = http_client
        self._open_browser = open_browser
        self._redirect_host = redirect_host
        self._timeout_s = timeout_s
        self._cancelled = cancelled
        self._last: Token | None = None

    def __repr__(self) -> str:
        return f"PkceFlow(region={self.region.key!r}, client_id={self.client_id!r})"

    def authorize_url(self, *, redirect_uri: str, state: str, challenge: str) -> str:
        query = urllib.parse.urlencode(
            {
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "state": state,
            }
        )
        return f"{self.region.login_base}/oauth/authorize?{query}"

    def sign_in(self) -> Token:
        """Run the browser sign-in once and return the token."""
        verifier = pkce_verifier()
        state = secrets.token_urlsafe(24)
        server = _RedirectServer(self.callback_path)
        try:
            port = server.server_address[1]
            redirect_uri = f"http://{self._redirect_host}:{port}{self.callback_path}"
            url = self.authorize_url(
                redirect_uri=redirect_uri, state=state, challenge=pkce_challenge(verifier)
            )
            opener = self._open_browser or _system_browser
            opener(url)
            server.timeout = 0.2
            deadline = time.monotonic() + self._timeout_s
            while server.result is None:
                if self._cancelled():
                    raise Cancelled("sign-in cancelled")
                if time.monotonic() > deadline:
                    raise AuthenticationError(
                        "no answer from the browser sign-in in time",
                    )
                server.handle_request()
            result = server.result
        finally:
            server.server_close()
        if "error" in result:
            raise AuthenticationError(
                f"sign-in refused: {result.get('error_description') or result['error']}"
            )
        if not hmac.compare_digest(result.get("state", ""), state):
            raise AuthenticationError(
                "sign-in answer did not carry the state this app sent (possible forgery)"
            )
        form = {
            "grant_type": "authorization_code",
            "code": result.get("code", ""),
            "code_verifier": verifier,
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
        }
        self._last = _post_token_form(self._http, self.region, form)
        return self._last

    def token(self) -> Token:
        """A new token: by the refresh token when there is one, else by signing in again."""
        last = self._last
        if last is not None and last.refresh_token is not None:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": last.refresh_token.get(),
                "client_id": self.client_id,
            }
            try:
                self._last = _post_token_form(self._http, self.region, form)
                return self._last
            except AuthenticationError:
                log.info("refresh token refused; signing in again")
        return self.sign_in()
