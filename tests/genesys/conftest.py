"""Helpers for the genesys unit tests: a fake clock and a recording MockTransport."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from outbound_desk.genesys import (
    ClientCredentials,
    GenesysClient,
    RateLimiter,
    region_for,
)


class FakeClock:
    """A clock whose sleep moves time on instead of waiting."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that records every request and answers the login itself."""

    def __init__(self, api: Handler, *, token_ttl: int = 3600) -> None:
        self.api = api
        self.requests: list[httpx.Request] = []
        self.tokens_issued = 0
        self.token_ttl = token_ttl

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if request.url.path == "/oauth/token":
            self.tokens_issued += 1
            return httpx.Response(
                200,
                json={
                    "access_token": f"tok-{self.tokens_issued}",
                    "token_type": "bearer",
                    "expires_in": self.token_ttl,
                },
            )
        return self.api(request)

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/oauth/token"]


def free_redirect_uri(host: str = "127.0.0.1", path: str = "/callback") -> str:
    """A PKCE redirect URI on a port free right now. Tests never take the app's fixed default
    port: another test run on this machine may hold it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://{host}:{port}{path}"


def json_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[Callable[..., tuple[GenesysClient, Recorder]]]:
    made: list[GenesysClient] = []

    def make(api: Handler, **kwargs: Any) -> tuple[GenesysClient, Recorder]:
        recorder = Recorder(api, token_ttl=kwargs.pop("token_ttl", 3600))
        http = httpx.Client(transport=httpx.MockTransport(recorder))
        limiter = kwargs.pop(
            "rate_limiter", RateLimiter(clock=clock, sleep=clock.sleep, wall_clock=clock)
        )
        client = GenesysClient(
            kwargs.pop("region", region_for("us-east-1")),
            ClientCredentials("my-client", "s3cret-value"),
            http_client=http,
            rate_limiter=limiter,
            sleep=clock.sleep,
            jitter=kwargs.pop("jitter", lambda: 1.0),
            **kwargs,
        )
        made.append(client)
        return client, recorder

    yield make
    for client in made:
        client.http.close()


# ------------------------------------------------------- the sandbox behind a hostile proxy
@pytest.fixture
def hostile(sandbox: Any) -> Iterator[Any]:
    """The sandbox behind a :class:`~tests.genesys.hostile.HostileProxy` on loopback."""
    from tests.genesys.hostile import HostileProxy

    with HostileProxy(sandbox.base_url).running() as proxy:
        yield proxy


@pytest.fixture
def hostile_client(hostile: Any, sandbox: Any) -> Iterator[GenesysClient]:
    """A client of the sandbox org that talks to it through the hostile proxy."""
    from outbound_desk.genesys import sandbox_region

    with GenesysClient(
        sandbox_region(hostile.base_url),
        ClientCredentials(sandbox.client_id, sandbox.client_secret),
        backoff_base_s=0.01,
        backoff_cap_s=0.05,
        max_retries=2,
    ) as client:
        yield client
