"""Fidelity: the official Genesys Python SDK drives the sandbox as it would drive the platform.

If the SDK cannot talk to the sandbox, the sandbox is wrong (GENESYS_API.md, "What the SDK
(version 269) needs from a server").
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from outbound_desk.emulator import Sandbox

PureCloud = pytest.importorskip("PureCloudPlatformClientV2")
ApiException = PureCloud.rest.ApiException

pytestmark = pytest.mark.sdk


@pytest.fixture
def outbound(sandbox: Sandbox) -> Any:
    client = PureCloud.ApiClient(host=sandbox.base_url)
    # The SDK's own login: for http://127.0.0.1:PORT its login URL is the same base URL.
    client = client.get_client_credentials_token(sandbox.client_id, sandbox.client_secret)
    return PureCloud.OutboundApi(client)


def _new_list(api: Any, name: str = "SDK Renewals") -> Any:
    body = PureCloud.ContactList()
    body.name = name
    body.column_names = ["customerId", "firstName", "phone", "email"]
    phone = PureCloud.ContactPhoneNumberColumn()
    phone.column_name = "phone"
    phone.type = "cell"
    body.phone_columns = [phone]
    return api.post_outbound_contactlists(body)


def _contact(list_id: str, cid: str, first: str) -> Any:
    contact = PureCloud.WritableDialerContact()
    contact.id = cid
    contact.contact_list_id = list_id
    contact.data = {"customerId": cid, "firstName": first, "phone": "+15125550100"}
    return contact


def _wait(predicate: Any, what: str, timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_sdk_creates_reads_pages_and_filters_lists(outbound: Any) -> None:
    created = _new_list(outbound)
    assert created.version == 1
    assert created.date_created is not None  # an ISO date the SDK parsed
    for n in range(3):
        _new_list(outbound, f"SDK Other {n}")

    again = outbound.get_outbound_contactlist(created.id, include_size=True)
    assert again.name == "SDK Renewals"
    assert again.size == 0
    assert [c.column_name for c in again.phone_columns] == ["phone"]

    page = outbound.get_outbound_contactlists(page_size=2, page_number=2, include_size=True)
    assert (page.total, page.page_count, page.page_number) == (4, 2, 2)
    assert len(page.entities) == 2
    assert page.previous_uri
    assert not page.next_uri

    named = outbound.get_outbound_contactlists(name="sdk other", filter_type="Prefix")
    assert sorted(e.name for e in named.entities) == [f"SDK Other {n}" for n in range(3)]
    by_id = outbound.get_outbound_contactlists(id=[created.id])
    assert [e.id for e in by_id.entities] == [created.id]


def test_sdk_adds_updates_and_reads_contacts(outbound: Any, sandbox: Sandbox) -> None:
    lst = _new_list(outbound)
    stored = outbound.post_outbound_contactlist_contacts(
        lst.id, [_contact(lst.id, "c1", "Ada"), _contact(lst.id, "c2", "Ben")]
    )
    assert sorted(c.id for c in stored) == ["c1", "c2"]
    # Re-adding the same id updates it: the list does not grow.
    outbound.post_outbound_contactlist_contacts(lst.id, [_contact(lst.id, "c1", "Adele")])
    assert sandbox.store.contact_count(lst.id) == 2

    read = outbound.post_outbound_contactlist_contacts_bulk(lst.id, ["c1", "c2", "nope"])
    assert {c.id: c.data["firstName"] for c in read} == {"c1": "Adele", "c2": "Ben"}
    one = outbound.get_outbound_contactlist_contact(lst.id, "c2")
    assert one.contact_list_id == lst.id
    assert one.callable is True


def test_sdk_sees_an_unknown_column_refused(outbound: Any) -> None:
    lst = _new_list(outbound)
    bad = _contact(lst.id, "c1", "Ada")
    bad.data["shoeSize"] = "44"
    with pytest.raises(ApiException) as caught:
        outbound.post_outbound_contactlist_contacts(lst.id, [bad])
    assert caught.value.status == 400
    assert "shoeSize" in caught.value.body


def test_sdk_put_echoes_read_only_fields_and_stale_version_is_refused(outbound: Any) -> None:
    lst = _new_list(outbound)
    current = outbound.get_outbound_contactlist(lst.id)
    current.column_names = [*current.column_names, "city"]  # the app's "add columns"
    updated = outbound.put_outbound_contactlist(lst.id, current)
    assert updated.version == 2
    assert updated.column_names[-1] == "city"

    stale = outbound.get_outbound_contactlist(lst.id)
    stale.version = 1
    with pytest.raises(ApiException) as caught:
        outbound.put_outbound_contactlist(lst.id, stale)
    assert caught.value.status == 409


def test_sdk_presigned_upload_and_import_status(outbound: Any, sandbox: Sandbox) -> None:
    lst = _new_list(outbound)
    request = PureCloud.ContactListUploadUrlRequest()
    request.id = lst.id
    request.content_type = "text/csv"
    request.contact_id_name = "customerId"
    upload = outbound.post_outbound_contactlists_uploads(request)
    assert upload.url.startswith(sandbox.base_url)
    csv_bytes = b"customerId,firstName,phone,email\nk1,Ada,+15125550100,a@example.com\n"
    # The SDK hands out the URL; the file goes up with a plain PUT and exactly those headers.
    put = httpx.put(upload.url, content=csv_bytes, headers=upload.headers, timeout=10)
    assert put.status_code == 200

    def finished() -> Any:
        status = outbound.get_outbound_contactlist_importstatus(lst.id)
        return status if status.state is None and status.percent_complete == 100 else None

    status = _wait(finished, "the import to finish")
    assert status.completed_records == 1
    contact = outbound.get_outbound_contactlist_contact(lst.id, "k1")
    assert contact.data["firstName"] == "Ada"


def test_sdk_export_and_delete(outbound: Any, sandbox: Sandbox, sandbox_token: str) -> None:
    lst = _new_list(outbound)
    outbound.post_outbound_contactlist_contacts(lst.id, [_contact(lst.id, "c1", "Ada")])
    started = outbound.post_outbound_contactlist_export(lst.id)  # sends the body null
    assert started.id == lst.id

    def ready() -> Any:
        try:
            return outbound.get_outbound_contactlist_export(lst.id)
        except ApiException as exc:
            if exc.status != 404:  # not ready yet is 404; anything else is a failure
                raise
            return None

    export = _wait(ready, "the export")
    assert export.export_timestamp is not None
    redirect = httpx.get(
        export.uri, headers={"Authorization": f"Bearer {sandbox_token}"}, timeout=10
    )
    assert redirect.status_code == 303  # to the signed storage URL, fetched without the token
    csv_reply = httpx.get(redirect.headers["Location"], timeout=10)
    assert csv_reply.content.startswith(b"\xef\xbb\xbfinin-outbound-id,customerId")

    outbound.delete_outbound_contactlist_contacts(lst.id, ["c1"])
    assert sandbox.store.contact_count(lst.id) == 0
    outbound.delete_outbound_contactlist(lst.id)
    with pytest.raises(ApiException) as caught:
        outbound.get_outbound_contactlist(lst.id)
    assert caught.value.status == 404
