"""Export downloads: the redirect to signed storage is followed without the token, and an
empty or unreadable file is an error, never a saved file (issue 12, item 1)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from outbound_desk.emulator import Sandbox
from outbound_desk.genesys import (
    ClientCredentials,
    Contact,
    ContactListSpec,
    ExportError,
    GenesysClient,
    PhoneColumn,
    export_list_to_file,
    sandbox_region,
)

from .conftest import Recorder

CSV = "\ufeffinin-outbound-id,customerId,phone,ContactCallable\r\nc-1,C1,+15551234567,1\r\n"
STORAGE = "https://prod-export.s3.amazonaws.com/contactlists/L1.csv?X-Amz-Signature=sig123"
MakeClient = Callable[..., tuple[GenesysClient, Recorder]]


def _platform(storage: Callable[[httpx.Request], httpx.Response]) -> Callable[..., httpx.Response]:
    """The API host answers the download with a 303 to *STORAGE*; *storage* answers there."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.mypurecloud.com":
            assert request.url.path == "/api/v2/downloads/d-1"
            return httpx.Response(303, headers={"Location": STORAGE})
        return storage(request)

    return handler


def _signed_storage(request: httpx.Request) -> httpx.Response:
    if "Authorization" in request.headers:  # as S3 answers a signed URL with a token
        return httpx.Response(400, text="<Error><Code>InvalidArgument</Code></Error>")
    return httpx.Response(200, content=CSV.encode())


def test_download_follows_the_redirect_without_the_token(make_client: MakeClient) -> None:
    client, recorder = make_client(_platform(_signed_storage))
    data = client.exports.download("https://api.mypurecloud.com/api/v2/downloads/d-1")
    assert data == CSV.encode()
    first, second = recorder.api_requests()
    assert first.url.host == "api.mypurecloud.com"
    assert first.headers["Authorization"] == "Bearer tok-1"
    assert second.url == httpx.URL(STORAGE)
    assert "Authorization" not in second.headers  # the token never reaches the storage host


def test_a_redirect_on_the_api_host_itself_is_followed_without_the_token(
    make_client: MakeClient,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/downloads/d-1":
            return httpx.Response(302, headers={"Location": "/storage/d-1?sig=x"})
        return _signed_storage(request)

    client, recorder = make_client(handler)
    assert client.exports.download("https://api.mypurecloud.com/api/v2/downloads/d-1")
    second = recorder.api_requests()[1]
    assert str(second.url) == "https://api.mypurecloud.com/storage/d-1?sig=x"
    assert "Authorization" not in second.headers


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (httpx.Response(200, content=b""), "empty"),
        (httpx.Response(200, text="<html><body>Sign in</body></html>"), "inin-outbound-id"),
        (httpx.Response(200, content=b"inin-outbound-id,name\r\nc-1,\xff\r\n"), "UTF-8"),
        (httpx.Response(403, text="<Error><Code>AccessDenied</Code></Error>"), "AccessDenied"),
    ],
)
def test_an_empty_or_unreadable_download_is_an_error(
    make_client: MakeClient, answer: httpx.Response, match: str
) -> None:
    client, _ = make_client(_platform(lambda request: answer))
    with pytest.raises(ExportError, match=match) as caught:
        client.exports.download("https://api.mypurecloud.com/api/v2/downloads/d-1")
    assert "sig123" not in str(caught.value)  # the signature is a credential: never shown


def test_a_redirect_without_location_is_an_error_not_an_empty_file(
    make_client: MakeClient,
) -> None:
    client, _ = make_client(lambda request: httpx.Response(303))
    with pytest.raises(ExportError, match="Location"):
        client.exports.download("https://api.mypurecloud.com/api/v2/downloads/d-1")


def test_a_storage_5xx_or_lost_connection_is_retried(make_client: MakeClient) -> None:
    answers: list[httpx.Response | Exception] = [
        httpx.Response(503),
        httpx.ReadError("connection reset"),
    ]

    def storage(request: httpx.Request) -> httpx.Response:
        if answers:
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return _signed_storage(request)

    client, recorder = make_client(_platform(storage))
    assert client.exports.download("https://api.mypurecloud.com/api/v2/downloads/d-1")
    storage_hits = [r for r in recorder.api_requests() if r.url.host.endswith("amazonaws.com")]
    assert len(storage_hits) == 3


# ---------------------------------------------------------------- against the sandbox


def _client(sb: Sandbox) -> GenesysClient:
    return GenesysClient(
        sandbox_region(sb.base_url),
        ClientCredentials(sb.client_id, sb.client_secret),
        backoff_base_s=0.01,
        backoff_cap_s=0.05,
    )


def _list_with(client: GenesysClient, n: int) -> str:
    made = client.contact_lists.create(
        ContactListSpec("Exported", ["customerId", "name", "phone"], [PhoneColumn("phone", "cell")])
    )
    people = [
        Contact(
            id=f"C{i:05d}",
            data={"customerId": f"C{i:05d}", "name": f'Name,\n"{i}" x', "phone": "+15125550100"},
        )
        for i in range(n)
    ]
    for start in range(0, n, 1_000):
        client.contacts.add(made.id, people[start : start + 1_000])
    return made.id


def test_export_to_file_writes_every_contact(sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    phases: list[str] = []
    with _client(sandbox) as client:
        list_id = _list_with(client, 1_500)
        saved = export_list_to_file(
            client, list_id, target, progress=lambda d, t, p: phases.append(p), timeout_s=20
        )
    data = target.read_bytes()
    assert saved.rows == 1_500
    assert saved.columns[:4] == ("inin-outbound-id", "customerId", "name", "phone")
    assert saved.sha256 == hashlib.sha256(data).hexdigest()
    assert saved.size_bytes == len(data)
    assert json.loads(json.dumps(saved.as_json())) == {
        "list_id": list_id,
        "rows": 1_500,
        "columns": list(saved.columns),
        "path": str(target),
        "sha256": saved.sha256,
    }
    with _client(sandbox) as client:
        table = client.exports.parse(data)
    assert sorted(table.by_id()) == [f"C{i:05d}" for i in range(1_500)]
    assert table.by_id()["C00007"]["name"] == 'Name,\n"7" x'
    assert phases[0] == "starting the export"
    assert phases[-1] == "saved"
    assert "downloading" in phases
    # The download went through the redirect: one GET of /api/v2/downloads, one of storage.
    paths = [(m, p, s) for m, p, s in sandbox.request_log if "download" in p]
    assert [s for _m, p, s in paths if p.startswith("/api/v2/downloads/")] == [303]
    assert [s for _m, p, s in paths if p.startswith("/storage/")] == [200]
    assert not (tmp_path / "out.csv.partial").exists()


@pytest.mark.parametrize("fault", ["empty", "html"])
def test_a_broken_export_saves_nothing(sandbox: Sandbox, tmp_path: Path, fault: str) -> None:
    target = tmp_path / "out.csv"
    target.write_text("an older export\n")
    sandbox.set_download_fault(fault)
    with _client(sandbox) as client:
        list_id = _list_with(client, 3)
        with pytest.raises(ExportError):
            export_list_to_file(client, list_id, target, timeout_s=20)
    assert target.read_text() == "an older export\n"  # not replaced by a broken file
    assert list(tmp_path.iterdir()) == [target]  # no .partial left behind


def test_a_redirect_to_plain_http_is_refused(make_client: MakeClient) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.mypurecloud.com":
            return httpx.Response(303, headers={"Location": STORAGE.replace("https:", "http:")})
        raise AssertionError("the signed URL must not be fetched over plain HTTP")

    client, _ = make_client(handler)
    with pytest.raises(ExportError, match="not https") as caught:
        client.exports.download("https://api.mypurecloud.com/api/v2/downloads/d-1")
    assert "sig123" not in str(caught.value)
