"""The client against the sandbox org over real HTTP on loopback, with every fault."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import httpx
import pytest

from outbound_desk.emulator import Faults, Sandbox
from outbound_desk.genesys import (
    AuthenticationError,
    BadRequest,
    ClientCredentials,
    Contact,
    ContactListSpec,
    EmailColumn,
    GenesysClient,
    GenesysError,
    ImportFailed,
    NotFound,
    PhoneColumn,
    PkceFlow,
    RateLimiter,
    ReauthenticationRequired,
    TokenProvider,
    fetch_client_credentials_token,
    sandbox_region,
)

from .conftest import free_redirect_uri

COLUMNS = ["customerId", "name", "phone"]


def make_client(sb: Sandbox, **kwargs: Any) -> GenesysClient:
    kwargs.setdefault("backoff_base_s", 0.05)
    kwargs.setdefault("backoff_cap_s", 0.5)
    return GenesysClient(
        sandbox_region(sb.base_url), ClientCredentials(sb.client_id, sb.client_secret), **kwargs
    )


def spec(name: str, columns: list[str] = COLUMNS) -> ContactListSpec:
    return ContactListSpec(name, columns, [PhoneColumn("phone", "cell")])


def contacts(n: int, start: int = 0, tag: str = "") -> list[Contact]:
    return [
        Contact(
            id=f"C{i:05d}",
            data={"customerId": f"C{i:05d}", "name": f"Name {i}{tag}", "phone": f"+1555{i:07d}"},
        )
        for i in range(start, start + n)
    ]


def status_counts(sb: Sandbox, status: int) -> int:
    return sum(1 for _, _, s in sb.request_log if s == status)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[GenesysClient]:
    with make_client(sandbox) as c:
        yield c


def new_list(client: GenesysClient, name: str, columns: list[str] = COLUMNS) -> str:
    created = client.contact_lists.create(spec(name, columns))
    client.contact_lists.wait_until_ready(created.id, expected_columns=columns, timeout_s=10)
    return created.id


# ---------------------------------------------------------------- endpoint groups
def test_contact_lists_end_to_end(client: GenesysClient) -> None:
    ids = [new_list(client, f"Spring {i}") for i in range(5)]
    new_list(client, "Other")
    page = client.contact_lists.list(page_size=2, name="Spring", include_size=True)
    assert page.total == 5
    assert len(page) == 2
    assert all(cl.size == 0 for cl in page)
    walked = [cl.id for cl in client.contact_lists.iter(page_size=2, name="Spring")]
    assert sorted(walked) == sorted(ids)
    assert len(list(client.contact_lists.iter(page_size=100))) == 6
    found = client.contact_lists.find_by_name("Spring 3")
    assert found is not None
    assert found.id == ids[3]
    assert client.contact_lists.find_by_name("Spring") is None

    first = client.contact_lists.get(ids[0], include_import_status=True)
    renamed = client.contact_lists.update(first, name="Spring zero")
    assert renamed.name == "Spring zero"
    assert renamed.version == (first.version or 0) + 1
    widened = client.contact_lists.add_columns(
        ids[0], ["zip", "mobile"], phone_columns=[PhoneColumn("mobile", "cell")]
    )
    assert widened.column_names == (*COLUMNS, "zip", "mobile")
    assert {p.column_name for p in widened.phone_columns} == {"phone", "mobile"}

    with pytest.raises(BadRequest, match="already exists"):
        client.contact_lists.create(spec("Spring 1"))
    client.contact_lists.delete(ids[0])
    client.contact_lists.delete_many(ids[1:3])
    for gone in ids[:3]:
        with pytest.raises(NotFound):
            client.contact_lists.get(gone)
    assert client.contact_lists.list(name="Spring").total == 2


def test_contacts_end_to_end(client: GenesysClient) -> None:
    list_id = new_list(client, "Contacts")
    stored = client.contacts.add(list_id, contacts(1000), priority=True, do_not_queue=True)
    assert len(stored) == 1000
    client.contacts.add(list_id, contacts(10, tag=" again"))  # upsert: updates, no duplicates
    assert client.contact_lists.get(list_id, include_size=True).size == 1000
    got = client.contacts.get_many(list_id, ["C00001", "C00500", "nope"])
    assert {c.id: c.data["name"] for c in got} == {"C00001": "Name 1 again", "C00500": "Name 500"}
    one = client.contacts.get(list_id, "C00002")
    assert one.data["phone"] == "+15550000002"
    assert one.contact_list_id == list_id
    page = client.contacts.search(
        list_id,
        page_size=5,
        criteria={"filterType": "AND", "clauses": [{"predicates": [
            {"column": "name", "operator": "ENDS_WITH", "value": "again"}]}]},
    )  # fmt: skip
    assert page.total == 10
    assert len(page) == 5
    client.contacts.delete(list_id, [f"C{i:05d}" for i in range(150)])
    assert client.contact_lists.get(list_id, include_size=True).size == 850
    with pytest.raises(NotFound):
        client.contacts.get(list_id, "C00003")
    with pytest.raises(ValueError, match="1000"):
        client.contacts.add(list_id, contacts(1001))
    client.contacts.clear(list_id)
    deadline = time.monotonic() + 10
    while client.contact_lists.get(list_id, include_size=True).size != 0:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_keys_that_are_not_columns_are_refused(client: GenesysClient) -> None:
    list_id = new_list(client, "Strict")
    bad = Contact(id="x", data={"customerId": "x", "phone": "+1", "shoeSize": "9"})
    with pytest.raises(BadRequest):
        client.contacts.add(list_id, [bad])


def _csv(rows: list[Contact], header: str = "customerId,name,phone") -> bytes:
    lines = [header] + [f"{c.data['customerId']},{c.data['name']},{c.data['phone']}" for c in rows]
    return ("\n".join(lines) + "\n").encode()


def test_presigned_upload_progress_and_completion(sandbox: Sandbox, tmp_path: Any) -> None:
    sandbox.set_faults(import_stall_s=0.4)
    with make_client(sandbox) as client:
        list_id = new_list(client, "Imported")
        path = tmp_path / "contacts.csv"
        path.write_bytes(_csv(contacts(30_000)))
        target = client.imports.upload_presigned(list_id, path, contact_id_name="customerId")
        assert target.upload_key
        seen: list[tuple[int, int, str]] = []
        status = client.imports.wait(
            list_id,
            expected_size=30_000,
            timeout_s=30,
            progress=lambda d, t, p: seen.append((d, t, p)),
        )
        assert not status.failed
        assert any(0 < d < t for d, t, _ in seen)  # progress really moved
        assert client.contact_lists.get(list_id, include_size=True).size == 30_000
        # The same file again, with ids: updates, no duplicates.
        client.imports.upload_presigned(list_id, path, contact_id_name="customerId")
        client.imports.wait(list_id, expected_size=30_000, timeout_s=30)
        assert client.contact_lists.get(list_id, include_size=True).size == 30_000
        assert client.contacts.get(list_id, "C29999").data["name"] == "Name 29999"


def test_legacy_upload_and_a_small_import(client: GenesysClient) -> None:
    list_id = new_list(client, "Legacy")
    client.imports.upload_legacy(list_id, _csv(contacts(7)), contact_id_name="customerId")
    client.imports.wait(list_id, expected_size=7, timeout_s=10)
    assert client.contacts.get(list_id, "C00006").data["phone"] == "+15550000006"


def test_import_failure_is_reported(client: GenesysClient) -> None:
    list_id = new_list(client, "Broken")
    data = _csv(contacts(3), header="customerId,name,telephone")
    client.imports.upload_presigned(list_id, data, contact_id_name="customerId")
    with pytest.raises(ImportFailed) as info:
        client.imports.wait(list_id, expected_size=3, timeout_s=10)
    assert info.value.message
    assert client.imports.status(list_id).failed


def test_export_round_trip(client: GenesysClient) -> None:
    list_id = new_list(client, "Exported")
    client.contacts.add(list_id, contacts(25))
    client.exports.start(list_id)
    progress: list[tuple[int, int, str]] = []
    info = client.exports.wait_ready(
        list_id, timeout_s=10, progress=lambda d, t, p: progress.append((d, t, p))
    )
    table = client.exports.parse(client.exports.download(info.uri))
    assert progress[-1] == (1, 1, "export")
    assert table.columns[:3] == tuple(COLUMNS)
    assert sorted(table.by_id()) == [f"C{i:05d}" for i in range(25)]
    assert table.by_id()["C00004"]["name"] == "Name 4"


def test_bulk_jobs(client: GenesysClient) -> None:
    list_id = new_list(client, "Bulk")
    client.contacts.add(list_id, contacts(20))
    criteria = {"filterType": "AND", "clauses": [{"predicates": [
        {"column": "customerId", "operator": "LESS_THAN", "value": "C00005"}]}]}  # fmt: skip
    job = client.bulk_jobs.remove(list_id, criteria=criteria)
    done = client.bulk_jobs.wait(list_id, job.id, timeout_s=10)
    assert done.state == "Complete"
    assert done.total_records == 5
    assert client.contact_lists.get(list_id, include_size=True).size == 15
    edit = client.bulk_jobs.update(
        list_id, contact={"data": {"name": "Renamed"}}, contact_ids=["C00010", "C00011"]
    )
    assert not client.bulk_jobs.wait(list_id, edit.id, timeout_s=10).failed
    assert client.contacts.get(list_id, "C00011").data["name"] == "Renamed"
    assert {j.id for j in client.bulk_jobs.all(list_id)} == {job.id, edit.id}


# ---------------------------------------------------------------- faults
def test_429_storm_is_avoided_within_the_allowance() -> None:
    with Sandbox.start(rate_limit=(20, 2.0), seed=False) as sb, make_client(sb) as client:
        list_id = new_list(client, "Rate")
        before = status_counts(sb, 429)

        def work(_: int) -> str:
            return client.contact_lists.get(list_id).id

        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(work, range(100)))
        assert results == [list_id] * 100
        stats = client.rate_stats()
        assert stats.allowed == 20
        assert stats.window_s == 2
        # At most the first burst (before any header said 20/2 s) may meet a 429.
        assert status_counts(sb, 429) - before <= 1


def test_429_storm_with_retry_after_pauses_every_worker() -> None:
    # Someone else spends the token's whole allowance first: the client's first answers are
    # 429 with Retry-After, every worker waits it out together, and all requests succeed.
    with Sandbox.start(rate_limit=(10, 2.0), seed=False) as sb, make_client(sb) as client:
        list_id = new_list(client, "Stormy")
        time.sleep(2.1)  # a fresh window
        token = client.tokens.token().access_token.get()
        with httpx.Client(base_url=sb.base_url) as other:
            for _ in range(10):
                other.get(
                    f"/api/v2/outbound/contactlists/{list_id}",
                    headers={"Authorization": f"Bearer {token}"},
                )
        before = status_counts(sb, 429)

        def work(_: int) -> str:
            return client.contact_lists.get(list_id).id

        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(work, range(20)))
        assert results == [list_id] * 20
        storm = status_counts(sb, 429) - before
        assert 1 <= storm <= 4  # at most the requests already in flight: no retry storm
        assert client.rate_stats().rate_limited == storm


def test_5xx_bursts_are_retried() -> None:
    with Sandbox.start(seed=False) as sb, make_client(sb, max_retries=10) as client:
        list_id = new_list(client, "Flaky")
        sb.set_faults(error_rate=0.3)
        # 30 calls: the chance that none of them meets a 5xx is 0.7**31, about 1 in 60,000.
        for start in range(0, 600, 20):
            client.contacts.add(list_id, contacts(20, start))
        got = client.contacts.get_many(list_id, [f"C{i:05d}" for i in range(600)])
        assert len(got) == 600
        assert client.rate_stats().retries > 0
        assert status_counts(sb, 500) + status_counts(sb, 502) + status_counts(sb, 503) > 0
        sb.set_faults(error_rate=0.0)
        assert client.contact_lists.get(list_id, include_size=True).size == 600


def test_dropped_connections_with_idempotent_upserts_end_exactly_right() -> None:
    with Sandbox.start(seed=False) as sb, make_client(sb, max_retries=12) as client:
        list_id = new_list(client, "Dropped")
        sb.set_faults(drop_rate=0.2)
        # 40 calls: the chance that none of them is dropped is 0.8**40, about 1 in 7,500.
        batches = [contacts(25, start) for start in range(0, 1000, 25)]
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda batch: client.contacts.add(list_id, batch), batches))
        sb.set_faults(drop_rate=0.0)
        assert status_counts(sb, 0) > 0  # connections really were dropped
        assert client.contact_lists.get(list_id, include_size=True).size == 1000
        got = client.contacts.get_many(list_id, [f"C{i:05d}" for i in range(1000)])
        assert {c.id: c.data["name"] for c in got} == {
            f"C{i:05d}": f"Name {i}" for i in range(1000)
        }


def test_create_under_dropped_connections_makes_no_duplicate() -> None:
    with Sandbox.start(seed=False) as sb, make_client(sb, max_retries=12) as client:
        sb.set_faults(drop_rate=0.5)
        made = [client.contact_lists.create(spec(f"Drop {i}")) for i in range(6)]
        sb.set_faults(drop_rate=0.0)
        for i, created in enumerate(made):
            page = client.contact_lists.list(name=f"Drop {i}", filter_type="Prefix")
            assert [cl.id for cl in page] == [created.id]


def test_token_expiring_mid_run() -> None:
    faults = Faults(token_ttl_s=1.0)
    with Sandbox.start(seed=False, faults=faults) as sb, make_client(sb) as client:
        list_id = new_list(client, "Expiring")
        deadline = time.monotonic() + 3.5
        n = 0
        while time.monotonic() < deadline:
            client.contacts.add(list_id, contacts(5, n * 5))
            n += 1
            time.sleep(0.05)
        assert client.tokens.renewals >= 3
        assert client.contact_lists.get(list_id, include_size=True).size == n * 5


def test_token_refused_mid_run_is_renewed_on_401() -> None:
    with (
        Sandbox.start(seed=False, faults=Faults(token_ttl_s=0.3)) as sb,
        make_client(sb) as client,
    ):
        client.contact_lists.list()  # a token announced for 1 s that really lasts 0.3 s
        time.sleep(0.5)
        assert client.contact_lists.list().total == 0
        assert status_counts(sb, 401) == 1
        assert client.tokens.renewals == 2


def _token_requests(sb: Sandbox) -> list[int]:
    return [s for m, p, s in sb.request_log if (m, p) == ("POST", "/oauth/token")]


@pytest.mark.parametrize("fault", ["error_rate", "drop_rate"])
def test_a_failed_token_request_is_retried_with_the_clients_backoff(fault: str) -> None:
    """The first request of a run needs a token: a 5xx or a dropped connection on the token
    request is retried like any other request, not the end of the run."""
    slept: list[float] = []
    with Sandbox.start(seed=False, faults=Faults(**{fault: 1.0})) as sb:

        def sleep(seconds: float) -> None:
            # The platform recovers while the client waits after the first failed attempt.
            slept.append(seconds)
            sb.set_faults(Faults())

        with make_client(sb, sleep=sleep, max_retries=3, backoff_cap_s=0.05) as client:
            assert client.contact_lists.list().total == 0
            assert client.rate_stats().retries == 1
        failed = 0 if fault == "drop_rate" else _token_requests(sb)[0]
        assert _token_requests(sb) == [failed, 200]
        assert failed == 0 or failed >= 500
        assert len(slept) == 1
        assert 0 <= slept[0] <= 0.05  # the client's backoff (base 0.05, capped at 0.05)


def test_a_token_request_failing_every_time_gives_up_after_the_clients_retries() -> None:
    with (
        Sandbox.start(seed=False, faults=Faults(error_rate=1.0)) as sb,
        make_client(sb, sleep=lambda s: None, max_retries=4) as client,
    ):
        with pytest.raises(GenesysError) as failed:
            client.contact_lists.list()
        assert (failed.value.status or 0) >= 500
        assert len(_token_requests(sb)) == 5
        assert [p for _m, p, _s in sb.request_log] == ["/oauth/token"] * 5  # no API call made


def test_refused_credentials_are_never_retried() -> None:
    slept: list[float] = []
    with (
        Sandbox.start(seed=False) as sb,
        GenesysClient(
            sandbox_region(sb.base_url),
            ClientCredentials(sb.client_id, "wrong"),
            sleep=slept.append,
            max_retries=5,
        ) as client,
    ):
        with pytest.raises(AuthenticationError):
            client.contact_lists.list()
        assert _token_requests(sb) == [401]
        assert slept == []


def test_racing_updates_both_land() -> None:
    with Sandbox.start(seed=False) as sb, make_client(sb) as client:
        list_id = new_list(client, "Race")
        stale = client.contact_lists.get(list_id)
        barrier = threading.Barrier(2)

        def add(column: str) -> None:
            barrier.wait()
            client.contact_lists.update(
                stale, change=lambda cur: replace(cur, column_names=(*cur.column_names, column))
            )

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(add, ["zip", "email"]))
        final = client.contact_lists.get(list_id)
        assert set(final.column_names) == {*COLUMNS, "zip", "email"}
        assert final.version == (stale.version or 0) + 2
        assert status_counts(sb, 409) >= 1


def test_add_email_columns_survives_a_version_conflict(sandbox: Sandbox) -> None:
    """Another writer changes the list between our read and our PUT: nothing is lost."""
    competed: list[bool] = []

    def interloper(request: httpx.Request) -> None:
        # Just before our first PUT leaves, someone else adds a column (a real 409 follows).
        if request.method == "PUT" and not competed:
            with make_client(sandbox) as other:
                current = other.contact_lists.get(list_id)
                other.contact_lists.update(
                    current,
                    change=lambda cur: replace(cur, column_names=(*cur.column_names, "zip")),
                )
            competed.append(True)

    with (
        httpx.Client(event_hooks={"request": [interloper]}) as http,
        make_client(sandbox, http_client=http) as client,
    ):
        list_id = new_list(client, "Mailable")
        before = status_counts(sandbox, 409)
        updated = client.contact_lists.add_columns(
            list_id,
            ["city"],
            email_columns=[EmailColumn("email", "work"), EmailColumn("altEmail", "personal")],
        )
        final = client.contact_lists.get(list_id)
    assert competed, "the competing update did not run"
    assert status_counts(sandbox, 409) - before == 1
    assert final.column_names == (*COLUMNS, "zip", "city", "email", "altEmail")
    assert [(e.column_name, e.type) for e in final.email_columns] == [
        ("email", "work"),
        ("altEmail", "personal"),
    ]
    assert final.phone_columns == (PhoneColumn("phone", "cell"),)
    assert updated.version == final.version


def test_the_404_window_after_creation() -> None:
    with Sandbox.start(seed=False, faults=Faults(create_404_ms=1500)) as sb:
        with make_client(sb) as client:
            created = client.contact_lists.create(spec("Eventually"))
            with pytest.raises(NotFound, match="moments ago"):
                client.contact_lists.get(created.id)
            started = time.monotonic()
            ready = client.contact_lists.wait_until_ready(
                created.id, expected_columns=COLUMNS, timeout_s=10
            )
            assert ready.id == created.id
            assert time.monotonic() - started > 0.5
        assert status_counts(sb, 404) >= 2


def test_a_shared_limiter_keeps_two_clients_under_one_allowance() -> None:
    with Sandbox.start(rate_limit=(15, 1.0), seed=False) as sb:
        limiter = RateLimiter()
        region = sandbox_region(sb.base_url)
        creds = ClientCredentials(sb.client_id, sb.client_secret)
        with make_client(sb) as owner:
            list_id = new_list(owner, "Two")
            provider = TokenProvider(
                lambda: fetch_client_credentials_token(owner.http, region, creds)
            )
            with (
                GenesysClient(region, provider, rate_limiter=limiter) as a,
                GenesysClient(region, provider, rate_limiter=limiter) as b,
                ThreadPoolExecutor(4) as pool,
            ):
                before = status_counts(sb, 429)
                done = list(pool.map(lambda i: (a, b)[i % 2].contact_lists.get(list_id), range(45)))
        assert len(done) == 45
        assert status_counts(sb, 429) - before <= 1
        assert limiter.stats().requests == 45 + limiter.stats().retries


def test_pkce_sign_in_against_the_sandbox(sandbox: Sandbox) -> None:
    region = sandbox_region(sandbox.base_url)
    visits: list[threading.Thread] = []

    def browser(url: str) -> bool:
        def visit() -> None:
            # The sandbox's one user is always signed in: it redirects straight back.
            with httpx.Client(follow_redirects=True) as http:
                http.get(url)

        visits.append(threading.Thread(target=visit))
        visits[-1].start()
        return True

    redirect = free_redirect_uri()
    sandbox.register_redirect_uri(redirect)  # as the admin registers it on the OAuth client
    with httpx.Client() as http:
        flow = PkceFlow(
            region,
            sandbox.pkce_client_id,
            http_client=http,
            open_browser=browser,
            redirect_uri=redirect,
        )
        provider = TokenProvider(flow.token)
        with GenesysClient(region, provider) as client:
            assert client.contact_lists.list().total == 0
            created = client.contact_lists.create(spec("By a person"))
            assert client.contact_lists.wait_until_ready(created.id).name == "By a person"
        assert not flow.has_refresh_token  # a public client: none ([U] on the platform)
        # The token ends: with no refresh token and no browser allowed, a person is needed.
        flow.interactive = False
        provider.invalidate(provider.token())
        with pytest.raises(ReauthenticationRequired):
            provider.token()
    for visit in visits:
        visit.join()
    assert len(visits) == 1


def test_pkce_against_a_sandbox_that_gives_refresh_tokens(sandbox: Sandbox) -> None:
    """The other behaviour the platform may have: then renewals need no browser."""
    region = sandbox_region(sandbox.base_url)
    sandbox.set_pkce_refresh_tokens(True)
    redirect = free_redirect_uri()
    sandbox.register_redirect_uri(redirect)
    visits: list[threading.Thread] = []

    def browser(url: str) -> bool:
        visits.append(threading.Thread(target=lambda: httpx.get(url, follow_redirects=True)))
        visits[-1].start()
        return True

    with httpx.Client() as http:
        flow = PkceFlow(
            region, sandbox.pkce_client_id, http_client=http, open_browser=browser,
            redirect_uri=redirect,
        )  # fmt: skip
        provider = TokenProvider(flow.token)
        first = provider.token()
        assert flow.has_refresh_token
        flow.interactive = False  # a renewal must not need the browser now
        provider.invalidate(first)
        assert provider.token().access_token != first.access_token
    for visit in visits:
        visit.join()
    assert len(visits) == 1


def test_pkce_with_an_unregistered_redirect_uri_gets_no_code(sandbox: Sandbox) -> None:
    region = sandbox_region(sandbox.base_url)
    answers: list[int] = []

    def browser(url: str) -> bool:
        answers.append(httpx.get(url).status_code)
        return True

    with httpx.Client() as http:
        flow = PkceFlow(
            region, sandbox.pkce_client_id, http_client=http, open_browser=browser,
            redirect_uri=free_redirect_uri(), timeout_s=0.5,
        )  # fmt: skip
        with pytest.raises(AuthenticationError, match="no answer from the browser sign-in"):
            flow.sign_in()
    assert answers == [400]  # the login page refused; nothing came back to the listener


def test_logs_carry_correlation_ids_and_never_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with Sandbox.start(seed=False) as sb, make_client(sb, max_retries=10) as client:
        caplog.set_level(logging.DEBUG, logger="outbound_desk")
        list_id = new_list(client, "Logged")
        sb.set_faults(error_rate=0.5)
        client.contacts.add(list_id, contacts(10))
        sb.set_faults(error_rate=0.0)
        with pytest.raises(NotFound):
            client.contacts.get(list_id, "missing")
        token = client.tokens.token().access_token.get()
    assert "correlation id" in caplog.text
    assert token not in caplog.text
    assert sb.client_secret not in caplog.text
