"""What a real org (or what stands in front of it) answers and the sandbox never does: the
client against the sandbox behind a hostile proxy, over real HTTP on loopback."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from outbound_desk.genesys import (
    ContactListSpec,
    GenesysClient,
    PhoneColumn,
    UnexpectedAnswer,
)
from tests.genesys.hostile import HostileProxy

LISTS = "/api/v2/outbound/contactlists"


def _make_list(client: GenesysClient, name: str = "Fidelity") -> str:
    made = client.contact_lists.create(
        ContactListSpec(name, ["id", "phone", "mobile"], [PhoneColumn("phone", "cell")])
    )
    return made.id


# ------------------------------------------------------------------ issue 12 item 4
def test_name_look_ups_ask_for_an_empty_page_instead_of_an_error(
    hostile: HostileProxy, hostile_client: GenesysClient
) -> None:
    assert hostile_client.contact_lists.find_by_name("No such list") is None
    looks = [s for s in hostile.seen if s.method == "GET" and s.path == LISTS]
    assert looks
    for seen in looks:
        query = urllib.parse.parse_qs(seen.query)
        assert query["allowEmptyResult"] == ["true"]
        assert query["name"] == ["No such list"]


def test_an_empty_page_without_entities_ends_the_walk(
    hostile: HostileProxy, hostile_client: GenesysClient
) -> None:
    page = {"pageSize": 100, "pageNumber": 1, "total": 0, "pageCount": 0}
    hostile.answer("GET", LISTS, 200, headers={"Content-Type": "application/json"},
                   body=json.dumps(page).encode())  # fmt: skip
    assert list(hostile_client.contact_lists.iter(name="x")) == []
    assert hostile_client.contact_lists.find_by_name("x") is None


# ------------------------------------------------------------------ issue 12 item 5
def test_a_list_update_keeps_every_unknown_field_at_every_depth(
    hostile: HostileProxy, hostile_client: GenesysClient
) -> None:
    list_id = _make_list(hostile_client)
    current = hostile_client.contact_lists.get(list_id)
    body: dict[str, Any] = {
        "id": list_id,
        "name": current.name,
        "version": current.version,
        "columnNames": ["id", "phone", "mobile", "email", "wa", "tz"],
        "phoneColumns": [
            {
                "columnName": "phone",
                "type": "cell",
                "callableTimeColumn": "tz",
                "callableTimeColumnName": "tz",
                "futureField": {"nested": [1, {"deep": True}]},
            }
        ],
        "emailColumns": [
            {
                "columnName": "email",
                "type": "work",
                "contactableTimeColumn": "tz",
                "contactableTimeColumnName": "tz",
                "somethingNew": "kept",
            }
        ],
        "whatsAppColumns": [
            {"columnName": "wa", "type": "mobile", "contactableTimeColumnName": "tz", "x": 1}
        ],
        "attemptLimits": {"id": "al-1", "name": "Three tries", "selfUri": "/al-1"},
        "columnDataTypeSpecifications": [
            {"columnName": "tz", "columnDataType": "DATETIME", "maxLength": 40}
        ],
        "trimWhitespace": False,
        "topLevelNovelty": {"a": {"b": ["c"]}},
        "dateCreated": "2026-01-01T00:00:00.000Z",
    }
    answer = json.dumps(body).encode()
    json_type = {"Content-Type": "application/json"}
    hostile.answer("GET", f"{LISTS}/{list_id}", 200, headers=json_type, body=answer)
    hostile.answer("PUT", f"{LISTS}/{list_id}", 200, headers=json_type, body=answer)

    hostile_client.contact_lists.add_columns(
        list_id, ["mobile2"], phone_columns=[PhoneColumn("mobile2", "home")]
    )

    (put,) = [s for s in hostile.seen if s.method == "PUT"]
    sent = json.loads(put.body)
    assert sent["phoneColumns"][0] == body["phoneColumns"][0]
    assert sent["phoneColumns"][1] == {"columnName": "mobile2", "type": "home"}
    assert sent["emailColumns"] == body["emailColumns"]
    for key in (
        "whatsAppColumns",
        "attemptLimits",
        "columnDataTypeSpecifications",
        "trimWhitespace",
        "topLevelNovelty",
        "version",
    ):
        assert sent[key] == body[key], key
    assert sent["columnNames"] == [*body["columnNames"], "mobile2"]


# ------------------------------------------------------------------ issue 12 item 6
@pytest.mark.parametrize(
    ("reason", "message", "code"),
    [
        (
            {"message": "The filter matched nothing", "code": "bad.filter"},
            "The filter matched nothing",
            "bad.filter",
        ),
        ("an old sandbox said it as text", "an old sandbox said it as text", None),
    ],
)
def test_a_bulk_job_failure_reason_is_an_object_and_jobs_carry_type_and_download(
    hostile: HostileProxy,
    hostile_client: GenesysClient,
    reason: Any,
    message: str,
    code: str | None,
) -> None:
    list_id = _make_list(hostile_client)
    job = {
        "id": "job-1",
        "state": "Failed",
        "type": "BulkDelete",
        "totalRecords": 10,
        "completedRecords": 3,
        "percentComplete": 30,
        "failureReason": reason,
        "downloadURI": "https://api.mypurecloud.com/api/v2/downloads/abc",
        "selfUri": "/x",
    }
    hostile.answer(
        "GET",
        f"{LISTS}/{list_id}/contacts/bulk/jobs/job-1",
        200,
        headers={"Content-Type": "application/json"},
        body=json.dumps(job).encode(),
    )
    done = hostile_client.bulk_jobs.wait(list_id, "job-1", timeout_s=5)
    assert done.failed
    assert done.failure_reason is not None
    assert done.failure_reason.message == message
    assert done.failure_reason.code == code
    assert message in str(done.failure_reason)
    assert done.type == "BulkDelete"
    assert done.download_uri == "https://api.mypurecloud.com/api/v2/downloads/abc"
    assert "failureReason" not in done.extra
    assert "downloadURI" not in done.extra


# ------------------------------------------------------------------ issue 16 item 6
@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (302, {"Location": "https://captive.example.net/login?next=x"}),
        (204, {}),
        (200, {"Content-Type": "text/html"}),
    ],
)
def test_an_add_answered_without_the_stored_contacts_confirms_nothing(
    hostile: HostileProxy,
    hostile_client: GenesysClient,
    status: int,
    headers: dict[str, str],
) -> None:
    list_id = _make_list(hostile_client)
    body = b"<html>sign in</html>" if status == 200 else b""
    hostile.answer("POST", f"{LISTS}/{list_id}/contacts", status, headers=headers, body=body)
    with pytest.raises(UnexpectedAnswer) as caught:
        hostile_client.contacts.add(list_id, [{"id": "c1", "data": {"id": "c1", "phone": "+1"}}])
    assert caught.value.status == status
    if status == 302:
        assert "captive.example.net" in str(caught.value)
        assert "next=x" not in str(caught.value)


def test_a_redirect_on_list_reads_is_a_platform_error_not_no_lists(
    hostile: HostileProxy, hostile_client: GenesysClient
) -> None:
    hostile.answer("GET", LISTS, 302, headers={"Location": "/elsewhere"})
    with pytest.raises(UnexpectedAnswer):
        list(hostile_client.contact_lists.iter())
    # Not followed: the proxy saw no request to where it pointed.
    assert not [s for s in hostile.seen if s.path == "/elsewhere"]


def test_a_list_read_answered_with_nothing_is_an_error(
    hostile: HostileProxy, hostile_client: GenesysClient
) -> None:
    hostile.answer("GET", LISTS, 200)
    with pytest.raises(UnexpectedAnswer):
        list(hostile_client.contact_lists.iter())


def test_a_redirect_from_the_token_endpoint_is_a_platform_error(
    hostile: HostileProxy, hostile_client: GenesysClient
) -> None:
    hostile.answer("POST", "/oauth/token", 307, headers={"Location": "https://elsewhere/token"})
    with pytest.raises(UnexpectedAnswer) as caught:
        hostile_client.contact_lists.find_by_name("x")
    assert caught.value.status == 307


# ------------------------------------------------------------------ issue 16 item 8
def test_presigned_upload_urls_never_reach_the_log_in_full(
    hostile: HostileProxy, hostile_client: GenesysClient, tmp_path: Any
) -> None:
    from outbound_desk.config import setup_logging, teardown_logging

    signature = "5d41402abc4b2a76b9719d911017c592deadbeef"
    credential = "ASIAQEXAMPLE%2F20261202%2Fus-east-1%2Fs3%2Faws4_request"
    security = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"
    query = (
        f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential}"
        f"&X-Amz-Date=20261202T150000Z&X-Amz-Expires=600&X-Amz-SignedHeaders=host"
        f"&X-Amz-Security-Token={security}&X-Amz-Signature={signature}"
    )

    def signed(body: bytes) -> bytes:
        answer = json.loads(body)
        # Through the proxy (which sees it) and signed like an S3 URL.
        answer["url"] = answer["url"].replace(hostile.upstream, hostile.base_url) + query
        return json.dumps(answer).encode()

    hostile.rewrite("POST", f"{LISTS}/uploads", signed)
    list_id = _make_list(hostile_client, "Signed")
    log_file = setup_logging("DEBUG")
    try:
        hostile_client.imports.upload_presigned(
            list_id, b"id,phone,mobile\nc1,+12125550100,\n", contact_id_name="id"
        )
    finally:
        teardown_logging()
    (put,) = [s for s in hostile.seen if s.method == "PUT"]
    assert signature in put.query  # it did travel, to the storage URL
    text = log_file.read_text(encoding="utf-8")
    assert "X-Amz-Signature=***" in text  # httpx logs the request line: masked
    for secret in (signature, credential, security, "ASIAQEXAMPLE"):
        assert secret not in text


def test_an_add_whose_answer_leaves_contacts_out_confirms_nothing(
    hostile: HostileProxy, hostile_client: GenesysClient
) -> None:
    list_id = _make_list(hostile_client)

    def drop_last(body: bytes) -> bytes:
        return json.dumps(json.loads(body)[:-1]).encode()

    hostile.rewrite("POST", f"{LISTS}/{list_id}/contacts", drop_last)
    sent = [{"id": f"c{i}", "data": {"id": f"c{i}", "phone": "+12125550100"}} for i in range(3)]
    with pytest.raises(UnexpectedAnswer, match="confirms 2 of the 3"):
        hostile_client.contacts.add(list_id, sent)


def test_an_add_of_json_text_confirms_only_the_ids_its_answer_holds(
    hostile: HostileProxy, hostile_client: GenesysClient
) -> None:
    """The upload's path (``add_json``: data objects as text, the answer read for ids only)
    keeps add's rules: an answer that leaves a contact out, or holds ids as bare strings
    instead of contact objects, or is not an array, confirms nothing."""
    list_id = _make_list(hostile_client)
    data = [json.dumps({"id": f"c{i}", "phone": "+12125550100"}) for i in range(3)]
    ids = [f"c{i}" for i in range(3)]
    assert sorted(hostile_client.contacts.add_json(list_id, data, ids)) == ids

    def drop_last(body: bytes) -> bytes:
        return json.dumps(json.loads(body)[:-1]).encode()

    def bare_ids(body: bytes) -> bytes:
        return json.dumps([c["id"] for c in json.loads(body)]).encode()

    for rewrite in (drop_last, bare_ids):
        rule = hostile.rewrite("POST", f"{LISTS}/{list_id}/contacts", rewrite)
        with pytest.raises(UnexpectedAnswer, match="confirms"):
            hostile_client.contacts.add_json(list_id, data, ids)
        hostile.rules.remove(rule)
    hostile.answer("POST", f"{LISTS}/{list_id}/contacts", 200, body=b'{"id": "c0"}')
    with pytest.raises(UnexpectedAnswer, match="another shape"):
        hostile_client.contacts.add_json(list_id, data, ids)
