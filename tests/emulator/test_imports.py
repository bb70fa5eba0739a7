"""CSV imports: presigned upload, legacy multipart upload, import status, bad files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from outbound_desk.emulator import Faults, Sandbox, SandboxConfig

from .helpers import LISTS, make_list, token_for, wait_for

HEADER = b"customerId,firstName,phone\r\n"


def _csv(rows: int, start: int = 0) -> bytes:
    body = b"".join(
        f"K{n},Name {n},+1512555{n % 10000:04d}\r\n".encode() for n in range(start, start + rows)
    )
    return HEADER + body


def _presign(api: httpx.Client, list_id: str, **extra: Any) -> dict[str, Any]:
    reply = api.post(f"{LISTS}/uploads", json={"id": list_id, "contentType": "text/csv", **extra})
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _status(api: httpx.Client, list_id: str) -> dict[str, Any]:
    return dict(api.get(f"{LISTS}/{list_id}/importstatus").json())


def _finished(api: httpx.Client, list_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        status = _status(api, list_id)
        return None if status.get("state") == "IN_PROGRESS" else status

    return dict(wait_for(done, "the import to end"))


def test_presigned_upload_imports_with_ids_from_the_id_column(
    api: httpx.Client, sandbox: Sandbox
) -> None:
    lst = make_list(api)
    upload = _presign(api, lst["id"], contactIdName="customerId")
    assert upload["url"].startswith(sandbox.base_url + "/")
    assert isinstance(upload["headers"], dict)
    assert upload["uploadKey"]
    put = httpx.put(upload["url"], content=_csv(3), headers=upload["headers"])
    assert put.status_code == 200
    status = _finished(api, lst["id"])
    assert "state" not in status  # done: the key is absent, not null
    assert status == {"totalRecords": 3, "completedRecords": 3, "percentComplete": 100}
    assert api.get(f"{LISTS}/{lst['id']}/contacts/K1").json()["data"]["firstName"] == "Name 1"
    # Uploading the same ids again updates them: the list does not grow.
    again = _presign(api, lst["id"], contactIdName="customerId")
    httpx.put(again["url"], content=_csv(3), headers=again["headers"])
    _finished(api, lst["id"])
    assert sandbox.store.contact_count(lst["id"]) == 3


def test_presigned_put_needs_the_given_headers_and_no_bearer(
    api: httpx.Client, sandbox_token: str
) -> None:
    lst = make_list(api)
    upload = _presign(api, lst["id"])
    assert httpx.put(upload["url"], content=_csv(1)).status_code == 403
    with_bearer = {**upload["headers"], "Authorization": f"Bearer {sandbox_token}"}
    assert httpx.put(upload["url"], content=_csv(1), headers=with_bearer).status_code == 400
    assert httpx.put(upload["url"], content=_csv(1), headers=upload["headers"]).status_code == 200
    # One URL, one file.
    assert httpx.put(upload["url"], content=_csv(1), headers=upload["headers"]).status_code == 403


def test_presign_validates_its_request(api: httpx.Client) -> None:
    lst = make_list(api)
    assert api.post(f"{LISTS}/uploads", json={"contentType": "text/csv"}).status_code == 400
    assert api.post(f"{LISTS}/uploads", json={"id": "nope"}).status_code == 404
    reply = api.post(f"{LISTS}/uploads", json={"id": lst["id"], "signedUrlTimeoutSeconds": 0})
    assert reply.status_code == 400


@pytest.fixture
def slow_import_api() -> Iterator[tuple[Sandbox, httpx.Client]]:
    config = SandboxConfig(seed=False, rate_limit=(10_000, 60.0), import_rows_per_s=2_000)
    with Sandbox.start(config) as sb:
        token = token_for(sb.base_url, sb.client_id, sb.client_secret)
        with httpx.Client(
            base_url=sb.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as client:
            yield sb, client


def test_import_status_advances_while_in_progress(
    slow_import_api: tuple[Sandbox, httpx.Client],
) -> None:
    sb, api = slow_import_api
    lst = make_list(api)
    upload = _presign(api, lst["id"], contactIdName="customerId")
    httpx.put(upload["url"], content=_csv(3000), headers=upload["headers"])
    seen: list[int] = []

    def watch() -> dict[str, Any] | None:
        status = _status(api, lst["id"])
        if status.get("state") == "IN_PROGRESS":
            assert status["percentComplete"] < 100
            seen.append(status["completedRecords"])
            return None
        return status

    final = wait_for(watch, "the slow import")
    assert final["percentComplete"] == 100
    assert sb.store.contact_count(lst["id"]) == 3000
    progress = sorted(set(seen))
    assert len(progress) >= 2
    assert seen == sorted(seen)  # it only moves forward


def test_legacy_multipart_upload_imports(api: httpx.Client, sandbox: Sandbox) -> None:
    lst = make_list(api)
    reply = api.post(
        "/uploads/v2/contactlist",
        data={"id": lst["id"], "fileType": "contactlist", "contact-id-name": "customerId"},
        files={"file": ("contacts.csv", _csv(5), "text/csv")},
    )
    assert reply.status_code == 200
    assert _finished(api, lst["id"])["completedRecords"] == 5
    assert sandbox.store.contact_count(lst["id"]) == 5


def test_legacy_upload_needs_a_token(sandbox: Sandbox, api: httpx.Client) -> None:
    lst = make_list(api)
    reply = httpx.post(
        sandbox.base_url + "/uploads/v2/contactlist",
        data={"id": lst["id"], "fileType": "contactlist"},
        files={"file": ("c.csv", _csv(1), "text/csv")},
    )
    assert reply.status_code == 401


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("customerId,firstName,phone\r\nK1,Zoë,+1\r\n".encode("cp1252"), "INVALID_FILE_ENCODING"),
        (b"customerId,phone\r\nK1,+1\r\n", "COLUMN_MISMATCH"),
        (
            (",".join(["customerId", "firstName", "phone"] + [f"x{i}" for i in range(48)])).encode()
            + b"\r\n",
            "CONTACT_COLUMNS_LIMIT_EXCEEDED",
        ),
        (HEADER + b"K1,Ada\r\n", "INVALID_ROW"),
        (b"", "MISSING_HEADER"),
    ],
)
def test_a_bad_file_fails_with_a_reason_and_imports_nothing(
    api: httpx.Client, sandbox: Sandbox, raw: bytes, reason: str
) -> None:
    lst = make_list(api)
    upload = _presign(api, lst["id"])
    httpx.put(upload["url"], content=raw, headers=upload["headers"])
    status = _finished(api, lst["id"])
    assert status["state"] == "FAILED"
    assert status["failureReason"].startswith(reason)
    assert sandbox.store.contact_count(lst["id"]) == 0


def test_header_matching_is_case_insensitive_and_extra_columns_are_ignored(
    api: httpx.Client, sandbox: Sandbox
) -> None:
    lst = make_list(api)
    raw = "\ufeffCUSTOMERID,Extra,FirstName,PHONE\r\nK9,ignored,Zoë,+1\r\n".encode()
    upload = _presign(api, lst["id"], contactIdName="customerid")
    httpx.put(upload["url"], content=raw, headers=upload["headers"])
    assert "state" not in _finished(api, lst["id"])
    assert sandbox.store.get_contact(lst["id"], "K9")["data"] == {
        "customerId": "K9",
        "firstName": "Zoë",
        "phone": "+1",
    }


def test_import_stall_keeps_the_import_in_progress(api: httpx.Client, sandbox: Sandbox) -> None:
    lst = make_list(api)
    sandbox.set_faults(import_stall_s=60)
    upload = _presign(api, lst["id"])
    httpx.put(upload["url"], content=_csv(2), headers=upload["headers"])
    for _ in range(5):
        status = _status(api, lst["id"])
        assert status["state"] == "IN_PROGRESS"
        assert status["completedRecords"] == 0
    assert sandbox.store.contact_count(lst["id"]) == 0
    assert sandbox.faults == Faults(import_stall_s=60)


@pytest.mark.parametrize("status", [403, 404])
def test_upload_paths_can_be_refused_with_the_platform_error(
    api: httpx.Client, sandbox: Sandbox, status: int
) -> None:
    lst = make_list(api)
    sandbox.set_refusals(presigned_upload=status, legacy_upload=status)
    presign = api.post(f"{LISTS}/uploads", json={"id": lst["id"], "contentType": "text/csv"})
    legacy = api.post(
        "/uploads/v2/contactlist",
        data={"id": lst["id"], "fileType": "contactlist"},
        files={"file": ("contacts.csv", _csv(5), "text/csv")},
    )
    code = {403: "missing.permissions", 404: "not.found"}[status]
    for reply in (presign, legacy):
        assert reply.status_code == status
        assert reply.headers["content-type"] == "application/json"
        body = reply.json()
        assert (body["status"], body["code"]) == (status, code)
        assert body["message"]
        assert body["contextId"]
    if status == 403:
        assert "outbound:contactList:upload" in presign.json()["message"]
    assert sandbox.store.contact_count(lst["id"]) == 0
    # Refusing one path leaves the other open; None serves both again.
    sandbox.set_refusals(presigned_upload=status)
    assert api.post(f"{LISTS}/uploads", json={"id": lst["id"]}).status_code == status
    reply = api.post(
        "/uploads/v2/contactlist",
        data={"id": lst["id"], "fileType": "contactlist"},
        files={"file": ("contacts.csv", _csv(2), "text/csv")},
    )
    assert reply.status_code == 200
    sandbox.set_refusals()
    assert api.post(f"{LISTS}/uploads", json={"id": lst["id"]}).status_code == 200


def test_refusals_accept_only_refusal_statuses(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="403, 404"):
        sandbox.set_refusals(presigned_upload=500)
