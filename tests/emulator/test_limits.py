"""The sandbox has the platform's limits, with the platform's error bodies (issue 16 item 12).

Before: request bodies were read whole (a 300 MB presigned PUT took the sandbox to 9.5 GB), a
200 MB list name was accepted, and deep JSON nesting answered 500.
"""

from __future__ import annotations

import dataclasses
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest

from outbound_desk.emulator import Limits, Sandbox, SandboxConfig

from .helpers import LISTS, contact, list_body, make_list, token_for, wait_for

MiB = 1024 * 1024


@pytest.fixture
def small() -> Iterator[tuple[Sandbox, httpx.Client]]:
    """A sandbox whose byte limits are small, so tests reach them cheaply."""
    limits = dataclasses.replace(Limits(), max_upload_bytes=MiB, max_json_bytes=64 * 1024)
    with Sandbox.start(SandboxConfig(limits=limits, seed=False)) as sb:
        token = token_for(sb.base_url, sb.client_id, sb.client_secret)
        with httpx.Client(
            base_url=sb.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            yield sb, client


def _chunks(total: int, size: int = 256 * 1024, head: bytes = b"") -> Iterator[bytes]:
    yield head
    sent = len(head)
    while sent < total:
        step = min(size, total - sent)
        yield b"x" * (step - 1) + b"\n"
        sent += step


def test_a_list_name_longer_than_the_limit_is_refused(api: httpx.Client) -> None:
    reply = api.post(LISTS, json=list_body("n" * 257))
    assert reply.status_code == 400
    body = reply.json()
    assert body["code"] == "invalid.value"
    assert body["details"][0]["fieldName"] == "name"
    assert "256" in body["message"]
    assert make_list(api, "n" * 256)["name"] == "n" * 256


def test_a_huge_json_body_is_refused_413_without_being_read(api: httpx.Client) -> None:
    # 11 MiB of list name: past the 10 MiB JSON limit (a 200 MB name was accepted before).
    reply = api.post(LISTS, json=list_body("n" * (11 * MiB)))
    assert reply.status_code == 413
    body = reply.json()
    assert body["code"] == "request.entity.too.large"
    assert body["status"] == 413
    assert body["messageParams"] == {"limit": str(10 * MiB)}


def test_a_streamed_json_body_without_a_length_is_capped(
    small: tuple[Sandbox, httpx.Client],
) -> None:
    _, client = small
    head = b'{"name": "'
    reply = client.post(
        LISTS,
        content=_chunks(1 * MiB, 16 * 1024, head),  # chunked: no Content-Length to go by
        headers={"Content-Type": "application/json"},
    )
    assert reply.status_code == 413
    assert reply.json()["code"] == "request.entity.too.large"


@pytest.mark.parametrize("depth", [65, 100_000])
def test_deeply_nested_json_is_a_400_not_a_500(api: httpx.Client, depth: int) -> None:
    lst = make_list(api)
    nested = "[" * depth + "]" * depth
    reply = api.post(
        f"{LISTS}/{lst['id']}/contacts",
        content=nested.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert reply.status_code == 400
    assert reply.json()["code"] == "bad.request"
    assert "nested" in reply.json()["message"]


def test_json_nested_within_the_limit_is_read(api: httpx.Client) -> None:
    lst = make_list(api)
    # 64 levels of arrays is still JSON the sandbox reads (and then refuses as a contact).
    nested = "[" * 64 + "]" * 64
    reply = api.post(
        f"{LISTS}/{lst['id']}/contacts",
        content=nested.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert reply.status_code == 400
    assert "nested" not in reply.json()["message"]


def test_a_contact_id_longer_than_the_limit_is_refused(api: httpx.Client) -> None:
    lst = make_list(api)
    long_id = {**contact(None), "id": "k" * 513}
    reply = api.post(f"{LISTS}/{lst['id']}/contacts", json=[long_id])
    assert reply.status_code == 400
    assert reply.json()["details"][0]["fieldName"] == "id"
    just_fits = {**contact(None), "id": "k" * 512}
    assert api.post(f"{LISTS}/{lst['id']}/contacts", json=[just_fits]).status_code == 200


def _presign(client: httpx.Client, list_id: str) -> dict[str, object]:
    reply = client.post(f"{LISTS}/uploads", json={"id": list_id, "contentType": "text/csv"})
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def test_a_presigned_put_past_the_limit_is_refused_as_s3_does(
    small: tuple[Sandbox, httpx.Client],
) -> None:
    sb, client = small
    lst = make_list(client)
    upload = _presign(client, lst["id"])
    headers = dict(upload["headers"])  # type: ignore[call-overload]
    declared = httpx.put(str(upload["url"]), content=b"x" * (MiB + 1), headers=headers)
    assert declared.status_code == 400
    assert declared.json()["code"] == "EntityTooLarge"
    # Streamed without a Content-Length, it is cut off at the limit too.
    upload = _presign(client, lst["id"])
    streamed = httpx.put(
        str(upload["url"]),
        content=_chunks(3 * MiB, head=b"customerId,firstName,phone\n"),
        headers=dict(upload["headers"]),  # type: ignore[call-overload]
    )
    assert streamed.status_code == 400
    assert streamed.json()["code"] == "EntityTooLarge"
    assert sb.store.contact_count(lst["id"]) == 0


def test_a_legacy_upload_past_the_limit_is_refused(small: tuple[Sandbox, httpx.Client]) -> None:
    _, client = small
    lst = make_list(client)
    reply = client.post(
        "/uploads/v2/contactlist",
        data={"id": lst["id"], "fileType": "contactlist"},
        files={"file": ("big.csv", b"x" * (3 * MiB), "text/csv")},
    )
    assert reply.status_code == 413
    assert reply.json()["code"] == "request.entity.too.large"


def test_a_big_presigned_put_is_streamed_to_disk_not_held_in_memory(
    api: httpx.Client, sandbox: Sandbox
) -> None:
    """48 MiB through the sandbox (in this process) peaks far below 48 MiB of Python memory."""
    lst = make_list(api)
    upload = _presign(api, lst["id"])
    total = 48 * MiB
    # A header the list does not have: the import fails at once, so nothing is stored.
    tracemalloc.start()
    try:
        reply = httpx.put(
            str(upload["url"]),
            content=_chunks(total, head=b"nope\n"),
            headers=dict(upload["headers"]),  # type: ignore[call-overload]
            timeout=60,
        )
        assert reply.status_code == 200

        def failed() -> dict[str, object] | None:
            status = api.get(f"{LISTS}/{lst['id']}/importstatus").json()
            return status if status.get("state") == "FAILED" else None

        status = wait_for(failed, "the import to fail")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(status["failureReason"]).startswith("COLUMN_MISMATCH")
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB for a {total / MiB:.0f} MiB upload"
