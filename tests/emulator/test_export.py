"""Export: start, 404 until ready, then a BOM'd CSV with the system columns."""

from __future__ import annotations

import csv
import io

import httpx

from .helpers import LISTS, contact, make_list, wait_for


def test_export_round_trip(api: httpx.Client) -> None:
    lst = make_list(api, columns=["customerId", "firstName", "phone", "mobile"])
    mobile = {"columnName": "mobile", "type": "cell"}
    current = api.get(f"{LISTS}/{lst['id']}").json()
    current["phoneColumns"].append(mobile)
    api.put(f"{LISTS}/{lst['id']}", json=current)
    api.post(f"{LISTS}/{lst['id']}/contacts", json=[contact("c1"), contact("c2", 'Bé, "B"')])

    assert api.get(f"{LISTS}/{lst['id']}/export").status_code == 404  # nothing started
    started = api.post(
        f"{LISTS}/{lst['id']}/export",
        content=b"null",  # what the SDK sends
        headers={"Content-Type": "application/json"},
    )
    assert started.status_code == 200
    assert started.json()["id"] == lst["id"]
    ready = wait_for(
        lambda: (r := api.get(f"{LISTS}/{lst['id']}/export")).status_code == 200 and r.json(),
        "the export",
    )
    assert ready["exportTimestamp"].endswith("Z")
    assert httpx.get(ready["uri"]).status_code == 401  # the download needs the bearer token
    download = api.get(ready["uri"])
    assert download.status_code == 200
    assert download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "inin-outbound-id",
        "customerId",
        "firstName",
        "phone",
        "mobile",
        "ContactCallable",
        "Callable-phone",
        "AutomaticTimeZone-phone",
        "CallRecordLastAttempt-phone",
        "CallRecordLastResult-phone",
        "Callable-mobile",
        "AutomaticTimeZone-mobile",
        "CallRecordLastAttempt-mobile",
        "CallRecordLastResult-mobile",
    ]
    assert [r[:4] for r in rows[1:]] == [
        ["c1", "c1", "Ada", "+15125550100"],
        ["c2", "c2", 'Bé, "B"', "+15125550100"],
    ]
    assert rows[1][5] == "1"
