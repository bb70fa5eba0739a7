"""Export: start, 404 until ready, then a redirect to a signed storage URL serving a BOM'd CSV
with the system columns; the storage refuses a request that carries a bearer token."""

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
    assert ready["uri"].endswith("/api/v2/downloads/" + ready["uri"].rsplit("/", 1)[1])
    assert httpx.get(ready["uri"]).status_code == 401  # the download needs the bearer token
    redirect = api.get(ready["uri"])
    assert redirect.status_code == 303  # DownloadsApi.get_download: "Issues a redirect"
    assert redirect.content == b""
    storage = redirect.headers["Location"]
    assert "/api/v2/" not in storage
    assert "X-Amz-Signature=" in storage
    refused = api.get(storage)  # the api client sends its bearer token: a signed URL says no
    assert refused.status_code == 400
    assert refused.json()["code"] == "InvalidArgument"
    download = httpx.get(storage)
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


def test_export_download_true_and_issue_redirect_false(api: httpx.Client) -> None:
    lst = make_list(api, columns=["customerId", "firstName", "phone"])
    api.post(f"{LISTS}/{lst['id']}/contacts", json=[contact("c1")])
    api.post(f"{LISTS}/{lst['id']}/export")
    ready = wait_for(
        lambda: (r := api.get(f"{LISTS}/{lst['id']}/export")).status_code == 200 and r.json(),
        "the export",
    )
    direct = api.get(f"{LISTS}/{lst['id']}/export", params={"download": "true"})
    assert direct.status_code == 303
    assert httpx.get(direct.headers["Location"]).content.startswith(b"\xef\xbb\xbfinin-outbound-id")
    as_json = api.get(ready["uri"], params={"issueRedirect": "false"})
    assert as_json.status_code == 200
    assert httpx.get(as_json.json()["url"]).status_code == 200


def test_storage_urls_need_their_signature(api: httpx.Client) -> None:
    lst = make_list(api, columns=["customerId", "firstName", "phone"])
    api.post(f"{LISTS}/{lst['id']}/export")
    ready = wait_for(
        lambda: (r := api.get(f"{LISTS}/{lst['id']}/export")).status_code == 200 and r.json(),
        "the export",
    )
    storage = httpx.URL(api.get(ready["uri"]).headers["Location"])
    forged = storage.copy_set_param("X-Amz-Signature", "forged")
    assert httpx.get(forged).status_code == 403
    assert httpx.get(storage.copy_with(query=None)).status_code == 403
