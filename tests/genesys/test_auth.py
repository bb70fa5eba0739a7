from __future__ import annotations

import socket
import threading
import time
import urllib.parse

import httpx
import pytest

from outbound_desk.genesys import (
    DEFAULT_REDIRECT_URI,
    AuthenticationError,
    Cancelled,
    ClientCredentials,
    PkceFlow,
    ReauthenticationRequired,
    Secret,
    Token,
    TokenProvider,
    fetch_client_credentials_token,
    parse_redirect_uri,
    pkce_challenge,
    region_for,
)
from outbound_desk.genesys.auth import pkce_verifier

from .conftest import FakeClock, free_redirect_uri


def test_secret_never_shows_in_repr_or_str() -> None:
    creds = ClientCredentials("cid", "hunter2-secret")
    token = Token(Secret("tok-value"), 10.0, 0.0, refresh_token=Secret("refresh-value"))
    for shown in (repr(creds), str(creds), repr(token), str(token), f"{creds.client_secret}"):
        assert "hunter2" not in shown
        assert "tok-value" not in shown
        assert "refresh-value" not in shown
    assert creds.client_secret.get() == "hunter2-secret"
    assert "cid" in repr(creds)


def test_client_credentials_goes_to_the_login_host_with_basic_auth() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "abc", "expires_in": 600})

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        token = fetch_client_credentials_token(
            http, region_for("eu-central-1"), ClientCredentials("id1", "pw1")
        )
    assert token.access_token.get() == "abc"
    assert token.lifetime == pytest.approx(600)
    (request,) = seen
    assert str(request.url) == "https://login.mypurecloud.de/oauth/token"
    assert request.headers["Authorization"] == httpx.BasicAuth("id1", "pw1")._auth_header
    assert urllib.parse.parse_qs(request.content.decode()) == {"grant_type": ["client_credentials"]}


def test_refused_credentials_raise_a_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client", "message": "bad.credentials"})

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as http,
        pytest.raises(AuthenticationError, match="outbound-desk login") as info,
    ):
        fetch_client_credentials_token(http, region_for("us-east-1"), ClientCredentials("a", "b"))
    assert "b" not in info.value.message.split()


def _token(clock: FakeClock, ttl: float, value: str) -> Token:
    return Token(Secret(value), expires_at=clock.now + ttl, issued_at=clock.now)


def test_provider_caches_and_renews_ahead_of_expiry(clock: FakeClock) -> None:
    issued: list[str] = []

    def fetch() -> Token:
        issued.append(f"t{len(issued)}")
        return _token(clock, 3600, issued[-1])

    provider = TokenProvider(fetch, renew_margin_s=60, clock=clock)
    assert provider.token().access_token.get() == "t0"
    clock.now += 3500
    assert provider.token().access_token.get() == "t0"
    clock.now += 50  # 50 s before expiry: inside the margin
    assert provider.token().access_token.get() == "t1"
    assert provider.renewals == 2


def test_short_tokens_renew_a_tenth_of_their_life_early(clock: FakeClock) -> None:
    provider = TokenProvider(lambda: _token(clock, 1.0, "x"), clock=clock)
    first = provider.token()
    clock.now += 0.85
    assert provider.token() is first
    clock.now += 0.1
    assert provider.token() is not first


def test_invalidate_renews_once_even_when_many_threads_saw_the_401(clock: FakeClock) -> None:
    calls = 0
    lock = threading.Lock()

    def fetch() -> Token:
        nonlocal calls
        with lock:
            calls += 1
        time.sleep(0.05)  # a slow login service: the other threads pile up meanwhile
        return _token(clock, 3600, f"t{calls}")

    provider = TokenProvider(fetch, clock=clock)
    stale = provider.token()
    barrier = threading.Barrier(8)
    got: list[str] = []

    def worker() -> None:
        barrier.wait()
        provider.invalidate(stale)
        got.append(provider.token().access_token.get())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == 2  # the first token and exactly one renewal
    assert set(got) == {"t2"}


def test_pkce_challenge_matches_rfc7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    fresh = pkce_verifier()
    assert 43 <= len(fresh) <= 128
    assert fresh != pkce_verifier()


class _Browser:
    """Plays the browser: follows the authorize URL's redirect_uri with a code and a state."""

    def __init__(self, *, state: str | None = None, error: str | None = None) -> None:
        self.state = state
        self.error = error
        self.url = ""
        self.thread: threading.Thread | None = None
        self.status = 0

    def __call__(self, url: str) -> bool:
        self.url = url
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        answer = {"state": self.state if self.state is not None else query["state"]}
        if self.error:
            answer["error"] = self.error
        else:
            answer["code"] = "the-code"
        # The redirect server listens on 127.0.0.1; the URI may say localhost.
        target = query["redirect_uri"].replace("localhost", "127.0.0.1")
        target += "?" + urllib.parse.urlencode(answer)

        def visit() -> None:
            with httpx.Client() as http:
                self.status = http.get(target).status_code

        self.thread = threading.Thread(target=visit)
        self.thread.start()
        return True


def _login_service(seen: list[httpx.Request]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "user-token", "expires_in": 900})

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_pkce_sign_in_over_a_real_loopback_redirect() -> None:
    seen: list[httpx.Request] = []
    browser = _Browser()
    redirect = free_redirect_uri("localhost", "/oauth/done")
    with _login_service(seen) as http:
        flow = PkceFlow(region_for("ap-southeast-2"), "app-client", http_client=http,
                        open_browser=browser, timeout_s=10, redirect_uri=redirect)  # fmt: skip
        token = flow.sign_in()
    assert browser.thread is not None
    browser.thread.join()
    assert browser.status == 200
    assert token.access_token.get() == "user-token"
    authorize = urllib.parse.urlsplit(browser.url)
    query = dict(urllib.parse.parse_qsl(authorize.query))
    assert authorize.netloc == "login.mypurecloud.com.au"
    assert query["code_challenge_method"] == "S256"
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == redirect  # exactly the profile's, as registered
    (exchange,) = seen
    form = dict(urllib.parse.parse_qsl(exchange.content.decode()))
    assert str(exchange.url) == "https://login.mypurecloud.com.au/oauth/token"
    assert "Authorization" not in exchange.headers  # no secret on the desktop
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "the-code"
    assert form["redirect_uri"] == query["redirect_uri"]
    assert pkce_challenge(form["code_verifier"]) == query["code_challenge"]


def test_pkce_refuses_a_foreign_state() -> None:
    seen: list[httpx.Request] = []
    browser = _Browser(state="forged")
    with _login_service(seen) as http:
        flow = PkceFlow(region_for("us-east-1"), "c", http_client=http, open_browser=browser,
                        timeout_s=10, redirect_uri=free_redirect_uri())  # fmt: skip
        with pytest.raises(AuthenticationError, match="state"):
            flow.sign_in()
    assert browser.thread is not None
    browser.thread.join()
    assert seen == []  # the code was never exchanged


def test_pkce_reports_a_refusal_and_can_be_cancelled() -> None:
    browser = _Browser(error="access_denied")
    with _login_service([]) as http:
        flow = PkceFlow(region_for("us-east-1"), "c", http_client=http, open_browser=browser,
                        timeout_s=10, redirect_uri=free_redirect_uri())  # fmt: skip
        with pytest.raises(AuthenticationError, match="access_denied"):
            flow.sign_in()
        assert browser.thread is not None
        browser.thread.join()
        idle = PkceFlow(region_for("us-east-1"), "c", http_client=http,
                        open_browser=lambda url: True, cancelled=lambda: True,
                        redirect_uri=free_redirect_uri())  # fmt: skip
        with pytest.raises(Cancelled):
            idle.sign_in()


def test_the_default_redirect_uri_is_fixed_and_loopback() -> None:
    assert DEFAULT_REDIRECT_URI == "http://127.0.0.1:18765/callback"
    assert parse_redirect_uri(DEFAULT_REDIRECT_URI) == ("127.0.0.1", 18765, "/callback")
    assert parse_redirect_uri("http://localhost:9000") == ("127.0.0.1", 9000, "/")
    assert parse_redirect_uri("http://[::1]:9000/cb") == ("::1", 9000, "/cb")
    with _login_service([]) as http:
        flow = PkceFlow(region_for("us-east-1"), "c", http_client=http)
        assert flow.redirect_uri == DEFAULT_REDIRECT_URI


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1/callback",  # no port: nothing fixed to register
        "http://127.0.0.1:0/callback",  # a random port is what Genesys refuses
        "https://127.0.0.1:18765/callback",
        "http://example.com:18765/callback",
        "http://127.0.0.1:18765/callback?x=1",
    ],
)
def test_a_redirect_uri_the_app_cannot_listen_on_is_refused(uri: str) -> None:
    with _login_service([]) as http, pytest.raises(ValueError, match="redirect URI"):
        PkceFlow(region_for("us-east-1"), "c", http_client=http, redirect_uri=uri)


def test_the_listener_takes_exactly_the_redirect_uri_port() -> None:
    redirect = free_redirect_uri()
    port = int(redirect.split(":")[2].split("/")[0])
    bound: list[int] = []

    def browser(url: str) -> bool:
        # While the flow waits, its port is taken: a second listener there fails.
        with socket.socket() as other:
            try:
                other.bind(("127.0.0.1", port))
            except OSError:
                bound.append(port)
        return _Browser()(url)

    with _login_service([]) as http:
        flow = PkceFlow(region_for("us-east-1"), "c", http_client=http, open_browser=browser,
                        timeout_s=10, redirect_uri=redirect)  # fmt: skip
        assert flow.sign_in().access_token.get() == "user-token"
    assert bound == [port]


def test_a_busy_redirect_port_is_said_plainly() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        with _login_service([]) as http:
            flow = PkceFlow(region_for("us-east-1"), "c", http_client=http,
                            redirect_uri=f"http://127.0.0.1:{port}/callback")  # fmt: skip
            with pytest.raises(AuthenticationError, match=f"port {port}.*not free"):
                flow.sign_in()


def _refreshing_login(seen: list[dict[str, str]], *, refresh: str | None) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        form = dict(urllib.parse.parse_qsl(request.content.decode()))
        seen.append(form)
        if form["grant_type"] == "refresh_token" and form["refresh_token"] != "r-1":
            return httpx.Response(400, json={"error": "invalid_grant"})
        body = {"access_token": f"user-token-{len(seen)}", "expires_in": 900}
        if refresh is not None:
            body["refresh_token"] = refresh
        return httpx.Response(200, json=body)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_without_a_refresh_token_a_non_interactive_flow_asks_for_a_person() -> None:
    seen: list[dict[str, str]] = []
    with _refreshing_login(seen, refresh=None) as http:
        flow = PkceFlow(region_for("us-east-1"), "c", http_client=http, open_browser=_Browser(),
                        timeout_s=10, redirect_uri=free_redirect_uri())  # fmt: skip
        flow.sign_in()
        assert not flow.has_refresh_token
        flow.interactive = False
        with pytest.raises(ReauthenticationRequired, match="no refresh token"):
            flow.token()
    assert [f["grant_type"] for f in seen] == ["authorization_code"]  # no browser opened again


def test_the_reauthenticate_hook_is_called_when_no_refresh_token_came() -> None:
    asked: list[PkceFlow] = []
    seen: list[dict[str, str]] = []
    with _refreshing_login(seen, refresh=None) as http:

        def again(flow: PkceFlow) -> Token:
            asked.append(flow)
            return flow.sign_in()

        flow = PkceFlow(region_for("us-east-1"), "c", http_client=http, open_browser=_Browser(),
                        timeout_s=10, redirect_uri=free_redirect_uri(),
                        reauthenticate=again)  # fmt: skip
        provider = TokenProvider(flow.token)
        first = provider.token()
        provider.invalidate(first)
        second = provider.token()
    assert len(asked) == 2  # the first sign-in and the renewal, both through the app's hook
    assert second.access_token.get() != first.access_token.get()


def test_a_refresh_token_renews_without_a_person() -> None:
    seen: list[dict[str, str]] = []
    with _refreshing_login(seen, refresh="r-1") as http:
        flow = PkceFlow(region_for("us-east-1"), "c", http_client=http, open_browser=_Browser(),
                        timeout_s=10, redirect_uri=free_redirect_uri(),
                        interactive=False,
                        reauthenticate=lambda f: f.sign_in())  # fmt: skip
        flow.token()
        assert flow.has_refresh_token
        flow.interactive = False
        renewed = flow.token()
    assert renewed.access_token.get() == "user-token-2"
    assert seen[1] == {"grant_type": "refresh_token", "refresh_token": "r-1", "client_id": "c"}
