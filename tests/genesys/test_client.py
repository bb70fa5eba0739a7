"""The client's retry, token and host rules, against httpx.MockTransport."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from outbound_desk.genesys import (
    AuthenticationError,
    BadRequest,
    Conflict,
    ContactList,
    ContactListSpec,
    GenesysClient,
    NetworkError,
    PhoneColumn,
    RateLimited,
    ServerError,
    UnexpectedAnswer,
    VersionConflict,
)

from .conftest import FakeClock, Recorder, json_of

MakeClient = Callable[..., tuple[GenesysClient, Recorder]]
LISTS = "/api/v2/outbound/contactlists"


def _list_body(**over: Any) -> dict[str, Any]:
    body = {
        "id": "L1",
        "name": "Spring",
        "version": 1,
        "columnNames": ["id", "phone"],
        "phoneColumns": [{"columnName": "phone", "type": "cell"}],
        "selfUri": f"{LISTS}/L1",
        "futureField": {"kept": True},
    }
    body.update(over)
    return body


def _script(*answers: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


def test_get_is_retried_on_5xx_with_capped_exponential_backoff(
    make_client: MakeClient, clock: FakeClock
) -> None:
    client, recorder = make_client(
        _script(*[httpx.Response(503)] * 5, httpx.Response(200, json=_list_body())),
        max_retries=5,
        backoff_cap_s=3.0,
    )
    got = client.contact_lists.get("L1")
    assert got.name == "Spring"
    assert len(recorder.api_requests()) == 6
    # jitter is pinned to 1.0, so the sleeps are the ceilings: 0.5, 1, 2, then the 3 s cap.
    assert clock.slept == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert client.rate_stats().retries == 5


def test_full_jitter_draws_below_the_ceiling(make_client: MakeClient) -> None:
    client, _ = make_client(_script(httpx.Response(200)), jitter=lambda: 0.25)
    assert client.backoff(1) == pytest.approx(0.125)
    assert client.backoff(4) == pytest.approx(1.0)
    assert client.backoff(30) == pytest.approx(7.5)  # cap 30 s


def test_retries_stop_and_raise_a_typed_error(make_client: MakeClient) -> None:
    client, recorder = make_client(
        _script(httpx.Response(500, json={"message": "boom", "code": "internal.server.error"})),
        max_retries=2,
    )
    with pytest.raises(ServerError, match="boom") as info:
        client.contact_lists.get("L1")
    assert info.value.code == "internal.server.error"
    assert len(recorder.api_requests()) == 3


def test_a_plain_post_is_not_retried_after_5xx_or_a_dropped_answer(make_client: MakeClient) -> None:
    client, recorder = make_client(_script(httpx.Response(503)))
    with pytest.raises(ServerError):
        client.contacts.add("L1", [{"data": {"phone": "+15551234567"}}])
    client2, recorder2 = make_client(_script(httpx.RemoteProtocolError("dropped")))
    with pytest.raises(NetworkError):
        client2.contacts.add("L1", [{"data": {"phone": "+15551234567"}}])
    assert len(recorder.api_requests()) == 1
    assert len(recorder2.api_requests()) == 1


def test_upserts_with_ids_are_retried_after_a_dropped_answer(make_client: MakeClient) -> None:
    stored = [{"id": "c1", "contactListId": "L1", "data": {"phone": "1"}}]
    client, recorder = make_client(
        _script(httpx.ReadError("reset"), httpx.Response(200, json=stored))
    )
    result = client.contacts.add("L1", [{"id": "c1", "data": {"phone": "1"}}], priority=True)
    assert [c.id for c in result] == ["c1"]
    first, second = recorder.api_requests()
    assert (
        json_of(first)
        == json_of(second)
        == [{"id": "c1", "data": {"phone": "1"}, "contactListId": "L1"}]
    )
    assert second.url.params["priority"] == "true"
    assert second.url.params["doNotQueue"] == "false"


def test_an_add_of_json_text_sends_the_same_body_and_is_retried_with_ids(
    make_client: MakeClient,
) -> None:
    """``add_json`` (the upload's batches) sends what ``add`` would, as JSON, and, carrying
    ids, is an upsert retried after a dropped answer; without ids it is not retried."""
    stored = [{"id": "c1", "contactListId": "L1", "data": {"phone": "1", "q": 'a"b'}}]
    client, recorder = make_client(
        _script(httpx.ReadError("reset"), httpx.Response(200, json=stored))
    )
    text = '{"phone":"1","q":"a\\"b"}'
    assert client.contacts.add_json("L1", [text], ["c1"]) == ["c1"]
    first, second = recorder.api_requests()
    assert first.headers["content-type"] == "application/json"
    want = [{"id": "c1", "data": {"phone": "1", "q": 'a"b'}, "contactListId": "L1"}]
    assert json_of(first) == json_of(second) == want
    client2, recorder2 = make_client(_script(httpx.RemoteProtocolError("dropped")))
    with pytest.raises(NetworkError):
        client2.contacts.add_json("L1", [text], None)
    assert len(recorder2.api_requests()) == 1
    assert "id" not in json_of(recorder2.api_requests()[0])[0]


def test_any_request_is_retried_when_the_connection_never_opened(make_client: MakeClient) -> None:
    client, recorder = make_client(
        _script(httpx.ConnectError("refused"), httpx.Response(200, json=[{"data": {"phone": "1"}}]))
    )
    client.contacts.add("L1", [{"data": {"phone": "1"}}])
    assert len(recorder.api_requests()) == 2


def test_429_honours_retry_after_with_a_cap_and_pauses_the_limiter(
    make_client: MakeClient, clock: FakeClock
) -> None:
    limited = httpx.Response(
        429, headers={"Retry-After": "500"}, json={"code": "too.many.requests"}
    )
    client, recorder = make_client(
        _script(limited, httpx.Response(200, json=[{"data": {"phone": "1"}}])),
        retry_after_cap_s=60.0,
    )
    start = clock.now
    # A POST without ids: the platform did not act on a 429, so even this is retried.
    client.contacts.add("L1", [{"data": {"phone": "1"}}])
    assert len(recorder.api_requests()) == 2
    assert clock.now - start == pytest.approx(60.0)
    assert client.rate_stats().rate_limited == 1


def test_a_401_renews_the_token_once_and_retries_once(make_client: MakeClient) -> None:
    client, recorder = make_client(
        _script(httpx.Response(401, json={"message": "expired"}), httpx.Response(200, json={}))
    )
    client.contact_lists.get("L1")
    first, second = recorder.api_requests()
    assert first.headers["Authorization"] == "Bearer tok-1"
    assert second.headers["Authorization"] == "Bearer tok-2"
    client3, recorder3 = make_client(_script(httpx.Response(401, json={"message": "no"})))
    with pytest.raises(AuthenticationError):
        client3.contact_lists.get("L1")
    assert len(recorder3.api_requests()) == 2
    assert recorder3.tokens_issued == 2


def test_tokens_are_cached_between_requests(make_client: MakeClient) -> None:
    client, recorder = make_client(_script(httpx.Response(200, json={})))
    for _ in range(3):
        client.contact_lists.get("L1")
    assert recorder.tokens_issued == 1


def test_the_secret_goes_only_to_login_and_the_token_never_to_the_upload_url(
    make_client: MakeClient, tmp_path: Any
) -> None:
    signed = "https://upload-bucket.s3.amazonaws.com/key?X-Amz-Signature=abc"

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/uploads"):
            return httpx.Response(
                200,
                json={
                    "url": signed,
                    "uploadKey": "k1",
                    "headers": {"Content-Type": "text/csv", "x-amz-meta-list": "L1"},
                },
            )
        if request.url.host == "upload-bucket.s3.amazonaws.com":
            return httpx.Response(200)
        if request.url.path == "/uploads/v2/contactlist":
            return httpx.Response(200, json={})
        return httpx.Response(200, json=_list_body())

    client, recorder = make_client(api)
    csv_file = tmp_path / "c.csv"
    csv_file.write_bytes(b"id,phone\n1,+15551234567\n")
    client.contact_lists.get("L1")
    upload = client.imports.upload_presigned("L1", csv_file, contact_id_name="id")
    client.imports.upload_legacy("L1", csv_file, contact_id_name="id")
    assert "abc" not in repr(upload)
    basic = "Basic " + base64.b64encode(b"my-client:s3cret-value").decode()
    hosts_with_secret = {
        r.url.host for r in recorder.requests if r.headers.get("Authorization") == basic
    }
    assert hosts_with_secret == {"login.mypurecloud.com"}
    for request in recorder.requests:
        assert b"s3cret-value" not in request.content
        if request.url.host != "login.mypurecloud.com":
            assert not request.headers.get("Authorization", "").startswith("Basic")
    (put,) = [r for r in recorder.requests if r.url.host == "upload-bucket.s3.amazonaws.com"]
    assert put.method == "PUT"
    assert "Authorization" not in put.headers
    assert put.headers["x-amz-meta-list"] == "L1"
    assert put.headers["Content-Type"] == "text/csv"
    assert put.headers["Content-Length"] == str(csv_file.stat().st_size)
    assert "Transfer-Encoding" not in put.headers
    assert put.content == csv_file.read_bytes()
    (legacy,) = [r for r in recorder.requests if r.url.path == "/uploads/v2/contactlist"]
    assert legacy.url.host == "apps.mypurecloud.com"
    assert legacy.headers["Authorization"] == "Bearer tok-1"
    assert b'name="contact-id-name"\r\n\r\nid' in legacy.content
    assert b'name="fileType"\r\n\r\ncontactlist' in legacy.content


def test_the_token_is_not_sent_to_foreign_hosts(make_client: MakeClient) -> None:
    client, recorder = make_client(
        _script(httpx.Response(200, content=b"\xef\xbb\xbfinin-outbound-id\r\n"))
    )
    with pytest.raises(ValueError, match="refusing"):
        client.request("GET", "https://example.com/api/v2/x")
    client.exports.download("https://files.example.net/export.csv")
    (download,) = recorder.api_requests()
    assert "Authorization" not in download.headers


def test_create_looks_the_list_up_after_a_lost_answer_instead_of_duplicating(
    make_client: MakeClient,
) -> None:
    created: list[dict[str, Any]] = []

    def api(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            created.append(json_of(request))
            raise httpx.ReadError("answer lost after the list was made")
        assert request.url.params["name"] == "Spring"
        return httpx.Response(200, json={"entities": [_list_body()], "pageCount": 1})

    client, _ = make_client(api)
    spec = ContactListSpec("Spring", ["id", "phone"], [PhoneColumn("phone")])
    got = client.contact_lists.create(spec)
    assert got.id == "L1"
    assert len(created) == 1


def test_create_after_a_lost_answer_then_name_taken_returns_our_list(
    make_client: MakeClient,
) -> None:
    posts = 0
    lookups = 0

    def api(request: httpx.Request) -> httpx.Response:
        nonlocal posts, lookups
        if request.method == "POST":
            posts += 1
            if posts == 1:
                raise httpx.ReadError("lost")
            return httpx.Response(400, json={"message": "name already in use"})
        lookups += 1
        # Invisible at first (eventual consistency), then there.
        entities = [_list_body()] if lookups >= 3 else []
        return httpx.Response(200, json={"entities": entities, "pageCount": 1})

    client, _ = make_client(api)
    got = client.contact_lists.create(ContactListSpec("Spring", ["id", "phone"]))
    assert got.id == "L1"
    assert posts == 2


def test_a_create_refused_outright_is_an_error(make_client: MakeClient) -> None:
    client, _ = make_client(_script(httpx.Response(400, json={"message": "bad columns"})))
    with pytest.raises(BadRequest, match="bad columns"):
        client.contact_lists.create(ContactListSpec("X", []))


def test_update_refetches_and_reapplies_on_a_version_conflict(make_client: MakeClient) -> None:
    puts: list[dict[str, Any]] = []

    def api(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            body = json_of(request)
            puts.append(body)
            if body["version"] != 2:
                return httpx.Response(400, json={"message": "Version 1 does not match"})
            return httpx.Response(200, json={**body, "version": 3})
        # Someone else renamed a column meanwhile and bumped the version.
        return httpx.Response(200, json=_list_body(version=2, columnNames=["id", "phone", "x"]))

    client, _ = make_client(api)
    stale = ContactList.from_api(_list_body())
    updated = client.contact_lists.update(
        stale, change=lambda cur: dataclasses.replace(cur, name=cur.name + " v2")
    )
    assert [p["version"] for p in puts] == [1, 2]
    assert puts[1]["columnNames"] == ["id", "phone", "x"]  # reapplied to the fresh copy
    assert puts[1]["name"] == "Spring v2"
    assert puts[1]["futureField"] == {"kept": True}  # unknown fields survive
    assert updated.version == 3


def test_update_gives_up_after_repeated_conflicts(make_client: MakeClient) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(409, json={"message": "conflict"})
        return httpx.Response(200, json=_list_body())

    client, _ = make_client(api)
    with pytest.raises(VersionConflict):
        client.contact_lists.update(ContactList.from_api(_list_body()), name="n", attempts=3)


def test_add_columns_appends_only_missing_ones(make_client: MakeClient) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(200, json=json_of(request))
        return httpx.Response(200, json=_list_body())

    client, _ = make_client(api)
    got = client.contact_lists.add_columns(
        "L1", ["PHONE", "zip", "mobile"], phone_columns=[PhoneColumn("mobile", "cell")]
    )
    assert got.column_names == ("id", "phone", "zip", "mobile")
    assert [p.column_name for p in got.phone_columns] == ["phone", "mobile"]


def test_paging_iterator_walks_every_page(make_client: MakeClient) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["pageNumber"])
        assert request.url.params["includeSize"] == "true"
        entities = [_list_body(id=f"L{page}{i}", name=f"n{page}{i}") for i in range(2)]
        return httpx.Response(
            200, json={"entities": entities, "pageNumber": page, "pageSize": 2, "pageCount": 3}
        )

    client, recorder = make_client(api)
    ids = [cl.id for cl in client.contact_lists.iter(page_size=2, include_size=True)]
    assert ids == ["L10", "L11", "L20", "L21", "L30", "L31"]
    assert len(recorder.api_requests()) == 3
    with pytest.raises(ValueError, match="page_size"):
        client.contact_lists.list(page_size=500)


def test_add_refuses_more_than_1000_contacts(make_client: MakeClient) -> None:
    client, recorder = make_client(_script(httpx.Response(200, json=[])))
    with pytest.raises(ValueError, match="1000"):
        client.contacts.add("L1", [{"id": str(i), "data": {}} for i in range(1001)])
    assert recorder.api_requests() == []


def test_wait_until_ready_rides_out_404_and_409(make_client: MakeClient, clock: FakeClock) -> None:
    answers = [
        httpx.Response(404, json={"message": "not found"}),
        httpx.Response(409, json={"message": "busy"}),
        httpx.Response(200, json=_list_body(columnNames=["id"])),  # columns not there yet
        httpx.Response(200, json=_list_body()),
    ]
    client, _ = make_client(_script(*answers))
    seen: list[tuple[int, int, str]] = []
    got = client.contact_lists.wait_until_ready(
        "L1", expected_columns=["PHONE", "Id"], progress=lambda d, t, p: seen.append((d, t, p))
    )
    assert got.column_names == ("id", "phone")
    assert seen[-1] == (1, 1, "waiting for the list")
    assert len(clock.slept) == 3


def test_create_does_not_adopt_someone_elses_list_with_the_same_name(
    make_client: MakeClient,
) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadError("lost")
        other = _list_body(columnNames=["email"], phoneColumns=[])
        return httpx.Response(200, json={"entities": [other], "pageCount": 1})

    client, _ = make_client(api)
    with pytest.raises(Conflict, match="other columns"):
        client.contact_lists.create(ContactListSpec("Spring", ["id", "phone"]))


def test_a_429_without_retries_left_still_pauses_the_limiter(
    make_client: MakeClient, clock: FakeClock
) -> None:
    client, _ = make_client(
        _script(httpx.Response(429, headers={"Retry-After": "4"})), max_retries=0
    )
    with pytest.raises(RateLimited):
        client.contact_lists.get("L1")
    assert client.rate_stats().paused_s == pytest.approx(4.0)


def test_a_plain_http_presigned_url_gets_no_file_from_a_real_region(
    make_client: MakeClient, tmp_path: Any
) -> None:
    """Issue 16 item 13: the file (and the signed URL) never travel over plain HTTP."""

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/uploads"):
            return httpx.Response(
                200,
                json={
                    "url": "http://upload-bucket.s3.amazonaws.com/key?X-Amz-Signature=abc",
                    "uploadKey": "k1",
                    "headers": {"Content-Type": "text/csv"},
                },
            )
        return httpx.Response(200)

    client, recorder = make_client(api)
    csv_file = tmp_path / "c.csv"
    csv_file.write_bytes(b"id,phone\n1,+15551234567\n")
    with pytest.raises(UnexpectedAnswer, match="https") as caught:
        client.imports.upload_presigned("L1", csv_file, contact_id_name="id")
    assert "abc" not in str(caught.value)
    assert not [r for r in recorder.requests if r.url.host == "upload-bucket.s3.amazonaws.com"]
