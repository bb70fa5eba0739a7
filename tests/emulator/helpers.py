"""Small builders and a poller shared by the sandbox tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

LISTS = "/api/v2/outbound/contactlists"


def list_body(
    name: str = "Renewals", columns: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "columnNames": ["customerId", "firstName", "phone"] if columns is None else columns,
        "phoneColumns": [{"columnName": "phone", "type": "cell"}],
        **extra,
    }


def make_list(
    api: httpx.Client, name: str = "Renewals", columns: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    reply = api.post(LISTS, json=list_body(name, columns, **extra))
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def contact(cid: str | None, first: str = "Ada", **data: str) -> dict[str, Any]:
    body: dict[str, Any] = {"data": {"firstName": first, "phone": "+15125550100", **data}}
    if cid is not None:
        body["id"] = cid
        body["data"]["customerId"] = cid
    return body


def token_for(base_url: str, client_id: str, client_secret: str) -> str:
    reply = httpx.post(
        base_url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, client_secret),
        timeout=10,
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])


def wait_for(predicate: Callable[[], Any], what: str, timeout_s: float = 15.0) -> Any:
    """Poll *predicate* until it returns something truthy (no fixed sleeps in tests)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
