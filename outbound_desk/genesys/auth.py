"""OAuth for Genesys Cloud: client credentials, authorization code + PKCE, and a token cache.

Secrets and tokens live in :class:`Secret`, whose ``repr``/``str`` never show the value; the
client secret is only ever sent to the region's own ``login.`` host (or the sandbox).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import http.server
import logging
import os
import secrets
import socket
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
    "DEFAULT_REDIRECT_URI",
    "ClientCredentials",
    "PkceFlow",
    "ReauthenticationRequired",
    "Secret",
    "Token",
    "TokenProvider",
    "fetch_client_credentials_token",
    "parse_redirect_uri",
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


#: The browser sign-in's redirect URI unless a profile sets another. Genesys matches redirect
#: URIs exactly against the OAuth client's registered list, so it is fixed (the admin registers
#: it once), like the official ``gc`` CLI's one port. 127.0.0.1 rather than ``localhost``
#: (RFC 8252 section 7.3: no resolver, no IPv6/IPv4 ambiguity); port 18765 is outside every
#: common OS's ephemeral range (Linux 32768+, Windows/macOS 49152+), so an outgoing
#: connection never holds it, and clear of the usual development ports (3000, 8000, 8080,
#: the sandbox's 8765).
DEFAULT_REDIRECT_URI = "http://127.0.0.1:18765/callback"
_LOOPBACK_NAMES = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "::1": "::1"}


class ReauthenticationRequired(AuthenticationError):  # noqa: N818 - named for what is needed
    """The access token ended, no refresh token came back (or it was refused), and this flow
    may not open the browser by itself: a person has to sign in again.

    Raised by :meth:`PkceFlow.token` when it was made with ``interactive=False`` and no
    ``reauthenticate`` hook. An app catches nothing: it passes ``reauthenticate`` (which asks
    the person and blocks the asking thread until they signed in, so work in flight waits).
    """

    hint = (
        "Sign in again in the browser (in the app: File > Connection…; on the command line: "
        "'outbound-desk login --profile NAME --pkce' on a machine with a browser)."
    )


def parse_redirect_uri(uri: str) -> tuple[str, int, str]:
    """``(address to listen on, port, path)`` of a loopback redirect URI; ValueError if it is
    not ``http://127.0.0.1|localhost|[::1]:PORT[/path]`` with an explicit port."""
    parsed = urllib.parse.urlsplit(uri.strip())
    host = (parsed.hostname or "").lower()
    try:
        port = parsed.port
    except ValueError:
        port = None
    if parsed.scheme != "http" or host not in _LOOPBACK_NAMES or not port:
        raise ValueError(
            f"the redirect URI {uri!r} must be http://127.0.0.1:PORT/PATH (or localhost, or "
            "[::1]) with an explicit port: the sign-in listens there, on this machine only"
        )
    if parsed.query or parsed.fragment:
        raise ValueError(f"the redirect URI {uri!r} must not carry a query or a fragment")
    return _LOOPBACK_NAMES[host], port, parsed.path or "/"


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
    # POSIX: SO_REUSEADDR, so a second sign-in within a minute is not refused by the first
    # one's TIME_WAIT connections (a second *listener* still fails). Windows: its
    # SO_REUSEADDR would let another program share the port, so SO_EXCLUSIVEADDRUSE instead.
    allow_reuse_address = os.name != "nt"

    def server_bind(self) -> None:
        exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
        if os.name == "nt" and exclusive is not None:
            self.socket.setsockopt(socket.SOL_SOCKET, exclusive, 1)
        super().server_bind()

    def __init__(self, address: str, port: int, callback_path: str) -> None:
        self.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        super().__init__((address, port), _RedirectHandler)
        self.callback_path = callback_path
        self.result: dict[str, str] | None = None


def _system_browser(url: str) -> bool:
    return webbrowser.open(url)


class PkceFlow:
    """Authorization code + PKCE sign-in in the system browser, for people (no secret stored).

    ``sign_in()`` opens the authorize URL, receives the redirect on a loopback listener at
    exactly *redirect_uri* (its address and port, nothing else: Genesys matches redirect URIs
    exactly against the OAuth client's registered list), checks ``state`` and exchanges the
    code. Use it as ``TokenProvider(flow.token)``.

    Renewals (:meth:`token` after the first): by the refresh token when the platform gave one
    (whether it does for PKCE clients is not documented: plan for none). Without one, or when
    it is refused, a person must sign in again: *reauthenticate* is called when given (an app
    asks the person there, and the calling thread, so the work in flight, waits for it);
    otherwise an *interactive* flow signs in again itself, and a non-interactive one raises
    :class:`ReauthenticationRequired`.

    ``open_browser(url)`` shows the authorize page; it must return without waiting for the
    sign-in (the redirect is served only after it returns). Left out, it is the system
    browser, ``webbrowser.open`` looked up at each sign-in, so that whoever swaps the opener
    (a test, an app that shows the URL itself) is heard however the flow was built.
    """

    def __init__(
        self,
        region: Region,
        client_id: str,
        *,
        http_client: httpx.Client,
        redirect_uri: str = DEFAULT_REDIRECT_URI,
        open_browser: Callable[[str], object] | None = None,
        timeout_s: float = 300.0,
        cancelled: Callable[[], bool] = lambda: False,
        interactive: bool = True,
        reauthenticate: Callable[[PkceFlow], Token] | None = None,
    ) -> None:
        self.region = region
        self.client_id = client_id
        self.redirect_uri = redirect_uri.strip()
        self._listen = parse_redirect_uri(self.redirect_uri)
        self._http = http_client
        self._open_browser = open_browser
        self._timeout_s = timeout_s
        self._cancelled = cancelled
        self.interactive = interactive
        self._reauthenticate = reauthenticate
        self._last: Token | None = None

    def __repr__(self) -> str:
        return f"PkceFlow(region={self.region.key!r}, client_id={self.client_id!r})"

    @property
    def timeout_s(self) -> float:
        return self._timeout_s

    @property
    def has_refresh_token(self) -> bool:
        """True when the last token came with a refresh token (renewals need no person)."""
        return self._last is not None and self._last.refresh_token is not None

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

    def _listener(self) -> _RedirectServer:
        address, port, path = self._listen
        try:
            return _RedirectServer(address, port, path)
        except OSError as exc:
            raise AuthenticationError(
                f"cannot receive the browser sign-in at {self.redirect_uri}: port {port} on "
                f"{address} is not free ({exc.strerror or exc}). Close the program using it, or "
                "set another redirect URI on this profile and register that one on the OAuth "
                "client"
            ) from None

    def sign_in(self) -> Token:
        """Run the browser sign-in once and return the token."""
        verifier = pkce_verifier()
        state = secrets.token_urlsafe(24)
        redirect_uri = self.redirect_uri
        server = self._listener()
        try:
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
                        f"no answer from the browser sign-in within {self._timeout_s:.0f} s",
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
        if self._last.refresh_token is None:
            log.info(
                "signed in in the browser; no refresh token came back: the person signs in "
                "again when this token ends (in %.0f s)",
                self._last.lifetime,
            )
        return self._last

    def refresh(self) -> Token | None:
        """A new token by the refresh token; None when there is none or it was refused."""
        last = self._last
        if last is None or last.refresh_token is None:
            return None
        form = {
            "grant_type": "refresh_token",
            "refresh_token": last.refresh_token.get(),
            "client_id": self.client_id,
        }
        try:
            self._last = _post_token_form(self._http, self.region, form)
        except AuthenticationError as exc:
            log.info("refresh token refused (%s); a person must sign in again", exc.message)
            self._last = dataclasses.replace(last, refresh_token=None)
            return None
        return self._last

    def token(self) -> Token:
        """The first token by signing in; later ones by refresh, or by signing in again."""
        if self._last is None:
            if not self.interactive and self._reauthenticate is None:
                raise ReauthenticationRequired(
                    "this profile signs in through the browser and no sign-in is possible here"
                )
            return self._again()
        refreshed = self.refresh()
        if refreshed is not None:
            return refreshed
        return self._again()

    def _again(self) -> Token:
        if self._reauthenticate is not None:
            token = self._reauthenticate(self)
            self._last = token
            return token
        if not self.interactive:
            raise ReauthenticationRequired(
                "the browser sign-in ended and no refresh token came back"
            )
        return self.sign_in()
