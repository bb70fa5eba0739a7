"""The shared HTTP client: one ``httpx.Client``, the token, retries and the rate limiter."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import httpx

from outbound_desk import __version__
from outbound_desk.genesys.auth import (
    ClientCredentials,
    Token,
    TokenProvider,
    fetch_client_credentials_token,
)
from outbound_desk.genesys.bulk_jobs import BulkJobs
from outbound_desk.genesys.contact_lists import ContactLists
from outbound_desk.genesys.contacts import Contacts
from outbound_desk.genesys.errors import (
    GenesysError,
    NetworkError,
    UnexpectedAnswer,
    error_from_response,
    parse_retry_after,
)
from outbound_desk.genesys.exports import Exports
from outbound_desk.genesys.imports import Imports
from outbound_desk.genesys.ratelimit import RateLimiter, RateLimits, RateStats, Ticket
from outbound_desk.genesys.regions import Region

#: Sent on every request, also through an ``httpx.Client`` the caller made (the app's session):
#: the platform's logs, and the sandbox's conformance recording, tell our requests apart.
USER_AGENT = f"outbound-desk/{__version__}"

__all__ = ["DEFAULT_TIMEOUT", "GenesysClient"]

log = logging.getLogger("outbound_desk.genesys")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

RequestBuilder = Callable[[], httpx.Request]


class GenesysClient:
    """A typed client for the Genesys Cloud Outbound API (thread-safe; one per org).

    Every request shares one ``httpx.Client``, one cached token and one :class:`RateLimiter`.
    Requests that are safe to repeat (reads, ``PUT``/``DELETE`` and POSTs marked
    ``idempotent``) are retried on 429, 5xx and connection errors with exponential backoff and
    full jitter; any request is retried when the connection failed before it was sent, and on
    a 429 (the platform did not act on it). A 401 renews the token once and retries once.
    """

    def __init__(
        self,
        region: Region,
        auth: ClientCredentials | TokenProvider,
        *,
        http_client: httpx.Client | None = None,
        max_retries: int = 5,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        rate_limiter: RateLimiter | RateLimits | None = None,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        retry_after_cap_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.region = region
        self._own_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )
        if isinstance(auth, ClientCredentials):
            credentials = auth
            # The token request is retried like any request of this client (its retries, its
            # backoff, counted as retries): the first request of a run needs a token, and a
            # 5xx or a dropped connection there must not end the run.
            self._tokens = TokenProvider(
                lambda: fetch_client_credentials_token(
                    self._http,
                    region,
                    credentials,
                    retries=self.max_retries,
                    backoff=self.backoff,
                    sleep=self._sleep,
                    on_retry=self._retried,
                )
            )
        else:
            self._tokens = auth
        self.max_retries = max_retries
        # One limiter per resource family (allowances differ between resources); a single
        # RateLimiter given here paces every request instead.
        self.limiter: RateLimiter | RateLimits = rate_limiter or RateLimits()
        self._backoff_base = backoff_base_s
        self._backoff_cap = backoff_cap_s
        self._retry_after_cap = retry_after_cap_s
        self._sleep = sleep
        self._jitter = jitter

        self.contact_lists = ContactLists(self)
        self.contacts = Contacts(self)
        self.imports = Imports(self)
        self.exports = Exports(self)
        self.bulk_jobs = BulkJobs(self)

    def __repr__(self) -> str:
        return f"GenesysClient(region={self.region.key!r})"

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> GenesysClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ helpers
    @property
    def http(self) -> httpx.Client:
        return self._http

    @property
    def tokens(self) -> TokenProvider:
        return self._tokens

    def rate_stats(self) -> RateStats:
        return self.limiter.stats()

    def sleep(self, seconds: float) -> None:
        """The client's (injectable) sleep, for the polling helpers of the endpoint groups."""
        self._sleep(seconds)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.region.api_base + path

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]."""
        ceiling = min(self._backoff_cap, self._backoff_base * 2 ** max(0, attempt - 1))
        return float(ceiling * self._jitter())

    # ------------------------------------------------------------------ requests
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        version_checked: bool = False,
        json_text: bytes | None = None,
    ) -> httpx.Response:
        """Send one API request with the token; raise a :class:`GenesysError` on failure.

        *idempotent* defaults to True for GET/PUT/DELETE and False for POST. *json_text* is a
        body already encoded as JSON (sent as it is, ``application/json``) instead of *json*.
        """
        method = method.upper()
        url = self.url(path)
        if not self.region.is_platform_url(url):
            raise ValueError(f"refusing to send the token to {httpx.URL(url).host}")
        clean = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        has_body = json is not None
        headers = {"Accept": "application/json"}
        if json_text is not None:
            headers["Content-Type"] = "application/json"

        def build() -> httpx.Request:
            return self._http.build_request(
                method,
                url,
                params=clean,
                json=json if has_body else None,
                content=json_text,
                headers=headers,
            )

        safe = method in _SAFE_METHODS if idempotent is None else idempotent
        return self.send(build, safe=safe, version_checked=version_checked)

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        version_checked: bool = False,
        expect: type[dict[str, Any]] | type[list[Any]] | None = None,
        json_text: bytes | None = None,
        decode: Callable[[bytes], Any] | None = None,
    ) -> Any:
        """Like :meth:`request`, returning the decoded JSON body (None when empty).

        With *expect* (``dict`` or ``list``) the answer must carry a JSON body of that type,
        the documented success body: an empty body (a 204, a 200 with nothing), something that
        is not JSON or JSON of another shape raises :class:`UnexpectedAnswer`. *decode*
        replaces ``json.loads`` of the body (it raises ``ValueError`` for what is not JSON).
        """
        response = self.request(
            method,
            path,
            params=params,
            json=json,
            idempotent=idempotent,
            version_checked=version_checked,
            json_text=json_text,
        )
        where = {
            "status": response.status_code,
            "correlation_id": response.headers.get("ININ-Correlation-Id"),
            "method": method,
            "path": httpx.URL(self.url(path)).path,
        }
        if not response.content:
            if expect is not None:
                raise UnexpectedAnswer(
                    f"the platform answered HTTP {response.status_code} without a body, where "
                    f"it answers with {_shape(expect)}",
                    **where,
                )
            return None
        try:
            body = response.json() if decode is None else decode(response.content)
        except ValueError as exc:
            error = UnexpectedAnswer if expect is not None else GenesysError
            raise error("the platform answered with something that is not JSON", **where) from exc
        if expect is not None and not isinstance(body, expect):
            raise UnexpectedAnswer(
                f"the platform answered with JSON of another shape ({type(body).__name__}), "
                f"where it answers with {_shape(expect)}",
                **where,
            )
        return body

    def send(
        self,
        build: RequestBuilder,
        *,
        safe: bool,
        bearer: bool = True,
        version_checked: bool = False,
        redirects: bool = False,
    ) -> httpx.Response:
        """Send the request *build* makes (afresh for each attempt), with the retry policy.

        With ``bearer=False`` (the presigned upload URL) no token is attached and the rate
        limiter is not used: that request does not go to the Genesys API.

        Redirects are never followed, and a 3xx answer raises :class:`UnexpectedAnswer`
        (the API does not redirect; something else is answering), unless *redirects* is true:
        then a 3xx is returned to the caller, who follows it (downloads do).
        """
        attempt = 0
        renewed = False
        while True:
            request = build()
            request.headers["User-Agent"] = USER_AGENT
            token: Token | None = None
            ticket: Ticket | None = None
            limiter = self.limiter.for_url(request.url)
            if bearer:
                if not self.region.is_platform_url(request.url):
                    raise ValueError(f"refusing to send the token to {request.url.host}")
                ticket = limiter.acquire()
                try:
                    token = self._tokens.token()
                except BaseException:
                    limiter.release(ticket)
                    raise
                request.headers["Authorization"] = f"Bearer {token.access_token.get()}"
            where = f"{request.method} {request.url.path}"
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                if ticket is not None:
                    limiter.release(ticket)
                unsent = isinstance(exc, _UNSENT)
                error = NetworkError(
                    f"no answer from {request.url.host} ({type(exc).__name__})",
                    method=request.method,
                    path=request.url.path,
                )
                if (safe or unsent) and attempt < self.max_retries:
                    attempt += 1
                    delay = self.backoff(attempt)
                    log.warning(
                        "%s: %s; retry %d in %.2f s", where, type(exc).__name__, attempt, delay
                    )
                    self._retried()
                    self._sleep(delay)
                    continue
                raise error from exc
            if ticket is not None:
                limiter.release(ticket, response.headers)
            status = response.status_code
            correlation = response.headers.get("ININ-Correlation-Id")
            log.debug("%s -> %d (correlation id %s)", where, status, correlation)
            if status == 401 and token is not None and not renewed:
                renewed = True
                log.info("%s -> 401 (correlation id %s); renewing the token", where, correlation)
                self._tokens.invalidate(token)
                continue
            if status == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is not None:
                    retry_after = min(retry_after, self._retry_after_cap)
                if bearer:
                    # The limiter holds every thread until Retry-After; acquire() waits.
                    limiter.note_rate_limited(retry_after)
            if status == 429 and attempt < self.max_retries:
                attempt += 1
                self._retried()
                if retry_after is None:
                    self._sleep(self.backoff(attempt))
                elif not bearer:
                    self._sleep(retry_after)
                log.warning(
                    "%s -> 429 (correlation id %s); retry %d after %s s",
                    where,
                    correlation,
                    attempt,
                    retry_after,
                )
                continue
            if status >= 500 and safe and attempt < self.max_retries:
                attempt += 1
                delay = self.backoff(attempt)
                log.warning(
                    "%s -> %d (correlation id %s); retry %d in %.2f s",
                    where,
                    status,
                    correlation,
                    attempt,
                    delay,
                )
                self._retried()
                self._sleep(delay)
                continue
            if status >= 400:
                failure = error_from_response(response, version_checked=version_checked)
                log.info("%s failed: %s", where, failure)
                raise failure
            if 300 <= status < 400 and redirects:
                return response
            if not 200 <= status < 300:
                raise _unexpected_status(response)
            return response

    def _retried(self) -> None:
        self.limiter.note_retry()


def _shape(expect: type) -> str:
    return "a JSON array" if expect is list else "a JSON object"


def _unexpected_status(response: httpx.Response) -> UnexpectedAnswer:
    """The error for a 1xx/3xx answer: say where a redirect pointed (the host only: a
    redirect's query may be a signature)."""
    status = response.status_code
    request = response.request
    location = response.headers.get("Location")
    if 300 <= status < 400:
        target = ""
        if location:
            try:
                host = request.url.join(location).host
            except (httpx.InvalidURL, ValueError):
                host = ""
            target = f" to {host}" if host else ""
        message = (
            f"the platform answered HTTP {status}, a redirect{target}; the API does not redirect"
        )
    else:
        message = f"the platform answered HTTP {status}, which is not a success"
    log.warning("%s %s -> %d: not a documented answer", request.method, request.url.path, status)
    return UnexpectedAnswer(
        message,
        status=status,
        correlation_id=response.headers.get("ININ-Correlation-Id"),
        method=request.method,
        path=request.url.path,
    )


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return value
