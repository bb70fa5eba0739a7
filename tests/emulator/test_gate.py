"""What every answer carries, the rate limit, and each injected fault."""

from __future__ import annotations

import httpx
import pytest

from outbound_desk.emulator import Faults, Sandbox, parse_faults, parse_rate_limit

from .helpers import LISTS, make_list, token_for, wait_for


def test_every_answer_has_correlation_and_rate_limit_headers(
    api: httpx.Client, sandbox: Sandbox
) -> None:
    answers = [
        api.get(LISTS),
        api.get(f"{LISTS}/nope"),
        api.get("/api/v2/no/such/path"),
        httpx.post(sandbox.base_url + "/oauth/token", data={"grant_type": "x"}),
    ]
    ids = set()
    for reply in answers:
        assert reply.headers["content-type"] == "application/json"
        ids.add(reply.headers["ININ-Correlation-Id"])
        for name in ("inin-ratelimit-count", "inin-ratelimit-allowed", "inin-ratelimit-reset"):
            assert int(reply.headers[name]) >= 0
    assert len(ids) == len(answers)
    unknown = answers[2].json()
    assert (unknown["code"], unknown["status"]) == ("not.found", 404)
    assert unknown["contextId"] == answers[2].headers["ININ-Correlation-Id"]


def test_rate_limit_answers_429_with_retry_after(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_rate_limit(3, 30.0)
    counts = [int(api.get(LISTS).headers["inin-ratelimit-count"]) for _ in range(3)]
    assert counts == [1, 2, 3]
    refused = api.get(LISTS)
    assert refused.status_code == 429
    assert refused.json()["code"] == "too.many.requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 30
    assert refused.headers["inin-ratelimit-allowed"] == "3"
    assert sandbox.store.throttled == 1
    # The budget is per token: a new token has its own.
    other = token_for(sandbox.base_url, sandbox.client_id, sandbox.client_secret)
    fresh = httpx.get(sandbox.base_url + LISTS, headers={"Authorization": f"Bearer {other}"})
    assert fresh.status_code == 200


def test_rate_limit_window_resets(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_rate_limit(1, 0.5)
    assert api.get(LISTS).status_code == 200
    assert api.get(LISTS).status_code == 429
    wait_for(lambda: api.get(LISTS).status_code == 200, "the window to reset")


def test_error_rate_answers_5xx_with_a_genesys_body(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_faults(error_rate=1.0)
    statuses = set()
    for _ in range(20):
        reply = api.get(LISTS)
        statuses.add(reply.status_code)
        body = reply.json()
        assert body["status"] == reply.status_code
        assert body["code"] in {"internal.server.error", "bad.gateway", "service.unavailable"}
        assert "ININ-Correlation-Id" in reply.headers
    assert statuses <= {500, 502, 503}
    assert len(statuses) >= 2
    sandbox.set_faults(error_rate=0.0)
    assert api.get(LISTS).status_code == 200


def test_drop_rate_drops_connections_without_an_answer(
    sandbox: Sandbox, sandbox_token: str
) -> None:
    sandbox.set_faults(drop_rate=1.0)
    headers = {"Authorization": f"Bearer {sandbox_token}"}
    for _ in range(6):  # both kinds: before and after the work is done
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            httpx.get(sandbox.base_url + LISTS, headers=headers, timeout=10)
    assert [status for _, _, status in sandbox.request_log][-6:] == [0] * 6
    sandbox.set_faults(drop_rate=0.0)
    assert httpx.get(sandbox.base_url + LISTS, headers=headers).status_code == 200


def test_latency_delays_every_answer(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_faults(latency_ms=3000)
    # The added delay is far longer than this client's read timeout.
    with pytest.raises(httpx.ReadTimeout):
        api.get(LISTS, timeout=httpx.Timeout(5.0, read=0.3))
    sandbox.set_faults(latency_ms=0)
    assert api.get(LISTS, timeout=10).status_code == 200


def test_a_new_list_reads_404_during_create_404_ms(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_faults(create_404_ms=800)
    lst = make_list(api)
    hidden = api.get(f"{LISTS}/{lst['id']}")
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "not.found"
    assert api.get(LISTS).json()["total"] == 0
    wait_for(lambda: api.get(f"{LISTS}/{lst['id']}").status_code == 200, "the list to appear")


def test_faults_and_rate_limits_parse_from_the_command_line_spec() -> None:
    assert parse_faults("error_rate=0.2, latency_ms=50,token_ttl_s=300") == Faults(
        error_rate=0.2, latency_ms=50, token_ttl_s=300
    )
    assert parse_faults("") == Faults()
    for bad in ("error_rate=2", "nope=1", "latency_ms", "drop_rate=x"):
        with pytest.raises(ValueError, match=r"\w"):
            parse_faults(bad)
    assert parse_rate_limit("300") == (300, 60.0)
    assert parse_rate_limit("50/5") == (50, 5.0)
    for bad in ("0", "x", "5/0", "5/"):
        with pytest.raises(ValueError, match="rate limit"):
            parse_rate_limit(bad)


def test_faults_given_at_start_apply() -> None:
    with Sandbox.start(seed=False, faults=Faults(error_rate=1.0)) as sb:
        reply = httpx.post(
            sb.base_url + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(sb.client_id, sb.client_secret),
        )
        assert reply.status_code in {500, 502, 503}
        assert sb.store.requests == 1


def test_stop_joins_the_server_thread() -> None:
    sb = Sandbox.start(seed=False)
    url = sb.base_url
    sb.stop()
    sb.stop()  # twice is harmless
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + LISTS, timeout=2)
