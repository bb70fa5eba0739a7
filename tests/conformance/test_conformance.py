"""The conformance check itself: it catches what it exists to catch and records what it checks."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from outbound_desk.emulator import Sandbox
from outbound_desk.emulator.recorder import RECORD_ENV
from outbound_desk.genesys import ClientCredentials, GenesysClient, sandbox_region
from tests.conformance.sdk import Sdk, check_value, sdk_root
from tests.conformance.traffic import check_recording, read_recording

pytest_plugins = ["pytester"]

ROOT = sdk_root()
pytestmark = pytest.mark.skipif(
    ROOT is None, reason="the official SDK (a dev dependency) is missing"
)


@pytest.fixture(scope="module")
def sdk() -> Sdk:
    assert ROOT is not None
    return Sdk(ROOT)


def _problems(sdk: Sdk, type_name: str, value: Any) -> list[str]:
    return [str(v) for v in check_value(sdk, type_name, value)]


# ---------------------------------------------------------------- the model walk
def test_a_conformant_body_passes(sdk: Sdk) -> None:
    body = {
        "id": "j1",
        "state": "Failed",
        "type": "BulkDelete",
        "totalRecords": 3,
        "failureReason": {"message": "boom", "code": "bad.request"},
        "downloadURI": "https://example.com/x.csv",
    }
    assert _problems(sdk, "ContactsBulkOperationJob", body) == []


def test_an_unknown_key_is_caught_at_every_depth(sdk: Sdk) -> None:
    listing = {
        "entities": [
            {"id": "a", "data": {"phone": "1"}},
            {
                "id": "b",
                "phoneNumberStatus": {"phone": {"callable": True, "shoeSize": 44}},
                "mystery": 1,
            },
        ],
        "total": 2,
    }
    problems = _problems(sdk, "ContactListingResponse", listing)
    assert len(problems) == 2
    assert problems[0].startswith("entities[1].phoneNumberStatus.phone.shoeSize: PhoneNumberStatus")
    assert problems[1].startswith("entities[1].mystery: DialerContact has no key 'mystery'")


def test_a_value_of_the_wrong_type_is_caught(sdk: Sdk) -> None:
    problems = _problems(
        sdk,
        "ContactsBulkOperationJob",
        {"failureReason": "a string, as the client read it", "totalRecords": "3"},
    )
    assert problems == [
        "failureReason: expected a ErrorInfo object, got str 'a string, as the client read it'",
        "totalRecords: expected an integer, got str '3'",
    ]
    assert _problems(sdk, "list[DialerContact]", {"id": "x"}) == [
        "(body): expected a list (list[DialerContact]), got an object"
    ]
    assert _problems(sdk, "DialerContact", {"data": {"phone": 5}, "callable": "yes"}) == [
        "data.phone: expected a string (str), got int 5",
        "callable: expected a boolean, got str 'yes'",
    ]


def test_an_enum_value_outside_allowed_values_is_caught(sdk: Sdk) -> None:
    assert _problems(sdk, "ImportStatus", {"state": "COMPLETED"}) == [
        "state: 'COMPLETED' is not one of ImportStatus.state's values ['IN_PROGRESS', 'FAILED']"
    ]
    # The SDK compares case-insensitively; the check is exact, as the platform writes them.
    assert len(_problems(sdk, "ContactsBulkOperationJob", {"state": "complete"})) == 1
    # A null enum crashes the SDK's deserialiser: leave the key out.
    assert "leave the key out" in _problems(sdk, "ImportStatus", {"state": None})[0]
    spec = {"columnName": "due", "columnDataType": "DATE"}
    assert "DATETIME" in _problems(sdk, "ColumnDataTypeSpecification", spec)[0]


def test_dates_must_be_iso_strings(sdk: Sdk) -> None:
    assert _problems(sdk, "ExportUri", {"exportTimestamp": "2026-12-02T15:00:00.000Z"}) == []
    assert _problems(sdk, "ExportUri", {"exportTimestamp": 1764687600}) == [
        "exportTimestamp: expected a string (datetime), got int 1764687600"
    ]
    assert _problems(sdk, "ExportUri", {"exportTimestamp": "yesterday"}) == [
        "exportTimestamp: 'yesterday' is not an ISO-8601 date-time"
    ]


def test_operations_are_found_by_method_and_path_template(sdk: Sdk) -> None:
    uploads = sdk.operation_for("POST", "/api/v2/outbound/contactlists/uploads")
    assert uploads is not None
    assert (uploads.body_type, uploads.response_type) == (
        "ContactListUploadUrlRequest",
        "UploadUrlResponse",
    )
    contacts = sdk.operation_for("POST", "/api/v2/outbound/contactlists/L1/contacts")
    assert contacts is not None
    assert contacts.body_type == "list[WritableDialerContact]"
    lists = sdk.operation_for("GET", "/api/v2/outbound/contactlists")
    assert lists is not None
    assert "allowEmptyResult" in lists.query_params
    assert sdk.operation_for("PATCH", "/api/v2/outbound/contactlists/L1") is None


# ---------------------------------------------------------------- recordings
def _entry(**fields: Any) -> dict[str, Any]:
    entry = {
        "method": "GET",
        "path": "/api/v2/outbound/contactlists/L1/importstatus",
        "query": "",
        "status": 200,
        "userAgent": "outbound-desk/0.1.0",
        "request": None,
        "response": None,
        "test": "tests/x.py::test_y (call)",
    }
    entry.update(fields)
    if not isinstance(entry["request"], str | None):
        entry["request"] = json.dumps(entry["request"])
    if not isinstance(entry["response"], str | None):
        entry["response"] = json.dumps(entry["response"])
    return entry


def test_a_recording_is_checked_in_both_directions(sdk: Sdk) -> None:
    contacts_path = "/api/v2/outbound/contactlists/L1/contacts"
    entries = [
        _entry(response={"state": "DONE", "percentComplete": 100}),
        _entry(response={"state": "DONE"}),  # the same finding twice: one line, counted
        _entry(
            method="POST",
            path=contacts_path,
            request=[{"data": {"phone": "1"}, "priority": True}],
            response=[],
        ),
        # A test's deliberately wrong body, sent with another client: not ours, not checked.
        _entry(
            method="POST", path=contacts_path, userAgent="python-httpx/0.28", request=[{"x": 1}]
        ),
        _entry(path="/api/v2/outbound/contactlists", query="pageSize=5&mode=append", response={}),
        _entry(status=400, response={"message": "m", "code": "bad.request", "hint": "x"}),
        _entry(path="/api/v2/outbound/lists", response={"entities": []}),
        _entry(path="/api/v2/outbound/lists", status=404, response=None),
        _entry(method="POST", path="/oauth/token", response={"access_token": "t"}),
        _entry(method="POST", path="/api/v2/outbound/contactlists/L1/clear", response={"id": "L1"}),
        _entry(path="/api/v2/outbound/contactlists/L1", responseType="text/plain", responseBytes=2),
        _entry(method="DELETE", path="/api/v2/outbound/contactlists/L1", status=204),
    ]
    report = check_recording(sdk, entries, exceptions={})
    lines = [str(f) for f in report.findings]
    assert lines == [
        "GET /api/v2/outbound/lists answered: (body): the SDK has no such operation"
        "  (e.g. tests/x.py::test_y (call))",
        "get_outbound_contactlist answered: (body): a text/plain body where the SDK reads "
        "ContactList JSON  (e.g. tests/x.py::test_y (call))",
        "get_outbound_contactlist_importstatus answered: state: 'DONE' is not one of "
        "ImportStatus.state's values ['IN_PROGRESS', 'FAILED'] [x2]"
        "  (e.g. tests/x.py::test_y (call))",
        "get_outbound_contactlist_importstatus answered 400: hint: ErrorBody has no key 'hint' "
        "(it has: code, contextId, details, entityId, entityName, errors, limit, message, "
        "messageParams, messageWithParams, status)  (e.g. tests/x.py::test_y (call))",
        "get_outbound_contactlists sent: ?: query parameters the SDK does not have: ['mode']"
        "  (e.g. tests/x.py::test_y (call))",
        "post_outbound_contactlist_clear answered: (body): the SDK expects no body here"
        "  (e.g. tests/x.py::test_y (call))",
        "post_outbound_contactlist_contacts sent: [*].priority: WritableDialerContact has no key "
        "'priority' (it has: callable, contactListId, contactableStatus, data, dateCreated, "
        "dateExpiration, id, latestEmailEvaluations, latestSmsEvaluations, "
        "latestWhatsAppEvaluations, phoneNumberStatus, retentionDays, retentionType)"
        "  (e.g. tests/x.py::test_y (call))",
    ]
    assert report.outside_api == 1
    assert report.checked_requests == 1


def test_a_documented_exception_is_not_a_finding(sdk: Sdk) -> None:
    entries = [_entry(response={"state": "IN_PROGRESS", "eta": 3})]
    assert len(check_recording(sdk, entries, exceptions={}).findings) == 1
    allowed = {("ImportStatus", "eta"): "a made-up key, for this test"}
    assert check_recording(sdk, entries, exceptions=allowed).findings == []


def test_the_sandbox_records_every_exchange_with_the_client_marked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sdk: Sdk
) -> None:
    recording = tmp_path / "traffic.jsonl"
    monkeypatch.setenv(RECORD_ENV, str(recording))
    with (
        Sandbox.start(seed=True) as sb,
        GenesysClient(
            sandbox_region(sb.base_url),
            ClientCredentials(sb.client_id, sb.client_secret),
            # A caller-made httpx client (as the app's session makes one) without our agent.
            http_client=httpx.Client(timeout=10),
        ) as client,
    ):
        lists = client.contact_lists.list()
        assert lists
        raw = httpx.post(
            f"{sb.base_url}/api/v2/outbound/contactlists",
            json={"name": "x", "noSuchKey": 1},
            headers={"Authorization": "Bearer nope"},
        )
        assert raw.status_code == 401
        client.http.close()
    entries = list(read_recording(recording))
    by_path = {(e["method"], e["path"]): e for e in entries}
    listing = by_path[("GET", "/api/v2/outbound/contactlists")]
    assert listing["userAgent"].startswith("outbound-desk/")
    assert json.loads(listing["response"])["entities"]
    assert listing["test"].startswith("tests/conformance/test_conformance.py::")
    refused = by_path[("POST", "/api/v2/outbound/contactlists")]
    assert refused["status"] == 401
    assert refused["request"] is None  # not our client: its body is not kept
    assert json.loads(refused["response"])["code"] == "authentication.required"
    report = check_recording(sdk, entries)
    assert report.findings == []
    assert report.checked_responses >= 2


def test_the_session_fails_and_prints_each_finding(pytester: pytest.Pytester) -> None:
    """The plugin as the suite uses it: a finding in the recording fails a green run."""
    pytester.makeconftest(
        """
        from tests.conformance.plugin import ConformancePlugin

        def pytest_configure(config):
            config.pluginmanager.register(ConformancePlugin(), "sdk-conformance")
        """
    )
    bad = json.dumps(_entry(response={"state": "DONE"}))
    pytester.makepyfile(
        textwrap.dedent(
            f"""
            import os
            from outbound_desk.emulator.recorder import RECORD_ENV

            def test_writes_a_bad_exchange():
                with open(os.environ[RECORD_ENV], "a", encoding="utf-8") as f:
                    f.write({bad!r} + "\\n")
            """
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*sandbox traffic that disagrees with the SDK*",
            "get_outbound_contactlist_importstatus answered: state: 'DONE' is not one of*",
            "recording kept in *",
            "*1 passed*",
        ]
    )
    kept = next(line for line in result.outlines if line.startswith("recording kept in "))
    shutil.rmtree(Path(kept.removeprefix("recording kept in ")).parent)
