"""Signing in to an org: from a saved profile and its secret to a ready ``GenesysClient``.

Qt-free, so it runs on a worker thread and is tested without a window. The Qt side
(:mod:`outbound_desk.ui.connection`) keeps the current :class:`Connection` and tells the views.
"""

from __future__ import annotations

import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from outbound_desk.config import OrgProfile
from outbound_desk.genesys import (
    DEFAULT_REDIRECT_URI,
    UPLOAD_FAMILY,
    ClientCredentials,
    GenesysClient,
    PkceFlow,
    Region,
    TokenProvider,
    rate_family,
    region_for,
    sandbox_region,
)
from outbound_desk.genesys.auth import Token, fetch_client_credentials_token

SANDBOX_REGION = "sandbox"


class StatusWatch:
    """What the status bar shows about a connection, recorded as requests happen.

    The allowance comes from the ``inin-ratelimit-*`` headers of every answer (an httpx response
    hook), kept per resource family (allowances differ between resources); the token expiry
    from each token the sign-in hands out. Written by worker threads, read by the GUI thread,
    so reading never blocks on the network.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.token_expires_at: float | None = None
        #: family -> (allowed, count, reset_at or None)
        self._families: dict[str, tuple[int, int, float | None]] = {}
        self.rate_limited = 0

    def on_response(self, response: httpx.Response) -> None:
        headers = response.headers
        with self._lock:
            if response.status_code == 429:
                self.rate_limited += 1
            allowed = _int(headers.get("inin-ratelimit-allowed"))
            count = _int(headers.get("inin-ratelimit-count"))
            reset = _int(headers.get("inin-ratelimit-reset"))
            if allowed is not None and count is not None:
                reset_at = time.monotonic() + reset if reset is not None else None
                self._families[rate_family(response.request.url)] = (allowed, count, reset_at)

    def record_token(self, token: Token) -> Token:
        with self._lock:
            self.token_expires_at = token.expires_at
        return token

    def remaining(self) -> tuple[int, int] | None:
        """(requests left in this window, allowed per window), once an answer said so: for the
        family that paces uploads when it has answered, else for the one with fewest left."""
        with self._lock:
            if not self._families:
                return None
            now = time.monotonic()
            left = {}
            for family, (allowed, count, reset_at) in self._families.items():
                spent = 0 if reset_at is not None and now >= reset_at else count
                left[family] = (max(0, allowed - spent), allowed)
            if UPLOAD_FAMILY in left:
                return left[UPLOAD_FAMILY]
            return min(left.values())


def _int(value: str | None) -> int | None:
    try:
        return None if value is None else int(float(value))
    except ValueError:
        return None


@dataclass
class Connection:
    """A signed-in org: the profile, its client, and what the status bar shows."""

    profile: OrgProfile
    region: Region
    client: GenesysClient
    identity: str
    watch: StatusWatch
    http: httpx.Client = field(repr=False)

    def close(self) -> None:
        self.client.close()
        self.http.close()


def region_of(profile: OrgProfile) -> Region:
    if profile.region == SANDBOX_REGION:
        return sandbox_region(profile.sandbox_url or "")
    return region_for(profile.region)


def open_connection(
    profile: OrgProfile,
    secret: str | None,
    *,
    open_browser: Callable[[str], object] = webbrowser.open,
    cancelled: Callable[[], bool] = lambda: False,
    client_options: Mapping[str, Any] | None = None,
    on_sign_in_again: Callable[[str], object] | None = None,
) -> Connection:
    """Sign in with *profile* and check the client can read contact lists.

    Raises the client's typed errors (bad credentials, missing permission, network down) for
    the caller to show; closes what it opened when it fails. *client_options* go to
    ``GenesysClient`` (e.g. ``max_retries``). With a browser sign-in (PKCE),
    *on_sign_in_again(url)* is called (on the thread that needs the token) when the token
    ended and no refresh token came back: the browser opens again and every request waits
    for the new token meanwhile.
    """
    region = region_of(profile)
    watch = StatusWatch()
    http = httpx.Client(
        timeout=httpx.Timeout(30.0, connect=5.0),
        follow_redirects=False,
        event_hooks={"response": [watch.on_response]},
    )
    try:
        if profile.auth_method == "pkce":
            signed_in = threading.Event()

            def opener(url: str) -> object:
                if signed_in.is_set() and on_sign_in_again is not None:
                    on_sign_in_again(url)
                signed_in.set()
                return open_browser(url)

            flow = PkceFlow(
                region,
                profile.client_id,
                http_client=http,
                redirect_uri=profile.redirect_uri or DEFAULT_REDIRECT_URI,
                open_browser=opener,
                cancelled=cancelled,
            )
            tokens = TokenProvider(lambda: watch.record_token(flow.token()))
            identity = profile.signed_in_as
        else:
            if not secret:
                raise ValueError(
                    f"Profile {profile.name!r} has no client secret: enter it in Connection."
                )
            credentials = ClientCredentials(profile.client_id, secret)
            tokens = TokenProvider(
                lambda: watch.record_token(
                    fetch_client_credentials_token(http, region, credentials)
                )
            )
            identity = profile.signed_in_as
        client = GenesysClient(region, tokens, http_client=http, **(client_options or {}))
        try:
            client.tokens.token()
            # Reading one list proves the token works and carries the outbound permission.
            client.contact_lists.list(page_size=1)
        except BaseException:
            client.close()
            raise
    except BaseException:
        http.close()
        raise
    return Connection(profile, region, client, identity, watch, http)
