"""The sandbox accepts what the real API accepts and refuses what it refuses (issue 12).

Each fact is from the official SDK 269 models and operations (GENESYS_API.md); where the
platform's behaviour is unknown the sandbox can show each possibility (``Behaviour``).
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest

from outbound_desk.emulator import Sandbox

from .helpers import LISTS, contact, make_list, wait_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _names(api: httpx.Client, **params: str) -> list[str]:
    reply = api.get(LISTS, params={**params, "allowEmptyResult": "true"})
    assert reply.status_code == 200, reply.text
    return sorted(e["name"] for e in reply.json()["entities"])


def test_every_filter_type_is_accepted(api: httpx.Client) -> None:
    for name in ("Alpha One", "Beta Two", "Gamma One"):
        make_list(api, name)
    assert _names(api, name="beta two", filterType="Equals") == ["Beta Two"]
    assert _names(api, name="^(alpha|gamma)", filterType="RegEx") == ["Alpha One", "Gamma One"]
    assert _names(api, name="a o", filterType="Contains") == ["Alpha One", "Gamma One"]
    assert _names(api, name="al", filterType="Prefix") == ["Alpha One"]
    assert _names(api, name="al", filterType="BeginsWith") == ["Alpha One"]
    assert _names(api, name=" one", filterType="EndsWith") == ["Alpha One", "Gamma One"]
    assert _names(api, name="beta two", filterType="LessThan") == ["Alpha One"]
    assert _names(api, name="beta two", filterType="LessThanEqualTo") == ["Alpha One", "Beta Two"]
    assert _names(api, name="beta two", filterType="GreaterThan") == ["Gamma One"]
    assert _names(api, name="beta two", filterType="GreaterThanEqualTo") == [
        "Beta Two",
        "Gamma One",
    ]
    refused = api.get(LISTS, params={"name": "x", "filterType": "Like"})
    assert refused.status_code == 400
    assert "RegEx" in refused.json()["message"]  # the message lists what is accepted
    bad_regex = api.get(LISTS, params={"name": "(", "filterType": "RegEx"})
    assert bad_regex.status_code == 400
    assert bad_regex.json()["details"][0]["fieldName"] == "name"


def test_allow_empty_result_is_honoured_and_both_readings_can_be_shown(
    api: httpx.Client, sandbox: Sandbox
) -> None:
    make_list(api, "Spring")
    # A look-up that finds nothing is an error unless allowEmptyResult=true asks for a page.
    missing = api.get(LISTS, params={"name": "autumn"})
    assert missing.status_code == 404
    assert missing.json()["code"] == "no.results"
    empty = api.get(LISTS, params={"name": "autumn", "allowEmptyResult": "true"})
    assert empty.status_code == 200
    assert empty.json()["entities"] == []
    assert api.get(LISTS, params={"name": "spring"}).json()["total"] == 1
    # A plain listing is a page, even an empty one.
    assert api.get(LISTS, params={"pageNumber": 5}).json()["entities"] == []
    sandbox.set_behaviour(empty_result="page")
    assert api.get(LISTS, params={"name": "autumn"}).json()["entities"] == []


def test_datetime_columns_are_accepted(api: httpx.Client) -> None:
    lst = make_list(
        api,
        columns=["customerId", "firstName", "phone", "due"],
        columnDataTypeSpecifications=[{"columnName": "due", "columnDataType": "DATETIME"}],
    )
    assert lst["columnDataTypeSpecifications"][0]["columnDataType"] == "DATETIME"
    bad = api.post(
        LISTS,
        json={
            "name": "Bad",
            "columnNames": ["phone", "due"],
            "phoneColumns": [{"columnName": "phone", "type": "cell"}],
            "columnDataTypeSpecifications": [{"columnName": "due", "columnDataType": "DATE"}],
        },
    )
    assert bad.status_code == 400
    assert "DATETIME" in bad.json()["message"]


def test_phone_number_status_is_filled_per_phone_column(api: httpx.Client) -> None:
    lst = make_list(
        api,
        columns=["customerId", "firstName", "phone", "mobile"],
        phoneColumns=[
            {"columnName": "phone", "type": "home"},
            {"columnName": "mobile", "type": "cell"},
        ],
    )
    stored = api.post(f"{LISTS}/{lst['id']}/contacts", json=[contact("c1")]).json()
    expected = {"phone": {"callable": True}, "mobile": {"callable": True}}
    assert stored[0]["phoneNumberStatus"] == expected
    read = api.get(f"{LISTS}/{lst['id']}/contacts/c1").json()
    assert read["phoneNumberStatus"] == expected
    # A client may set it (WritableDialerContact.phoneNumberStatus); an update without it keeps it.
    home_off = {**contact("c1"), "phoneNumberStatus": {"phone": {"callable": False}}}
    stored = api.post(f"{LISTS}/{lst['id']}/contacts", json=[home_off]).json()
    assert stored[0]["phoneNumberStatus"] == {**expected, "phone": {"callable": False}}
    api.post(f"{LISTS}/{lst['id']}/contacts", json=[contact("c1", "Adele")])
    read = api.get(f"{LISTS}/{lst['id']}/contacts/c1").json()
    assert read["phoneNumberStatus"]["phone"] == {"callable": False}
    assert read["data"]["firstName"] == "Adele"
    wrong = {**contact("c2"), "phoneNumberStatus": {"firstName": {"callable": False}}}
    refused = api.post(f"{LISTS}/{lst['id']}/contacts", json=[wrong])
    assert refused.status_code == 400
    assert refused.json()["details"][0]["fieldName"] == "phoneNumberStatus.firstName"


def _search(api: httpx.Client, list_id: str, *predicates: dict[str, Any]) -> list[str]:
    reply = api.post(
        f"{LISTS}/{list_id}/contacts/search",
        json={"criteria": {"filterType": "AND", "clauses": [{"predicates": list(predicates)}]}},
    )
    assert reply.status_code == 200, reply.text
    return sorted(c["id"] for c in reply.json()["entities"])


def test_search_takes_in_with_in_set_and_between_with_min_max(api: httpx.Client) -> None:
    lst = make_list(api, columns=["customerId", "firstName", "phone", "balance"])
    rows = [contact(f"c{n}", f"Name{n}", balance=str(n * 10)) for n in range(1, 6)]
    api.post(f"{LISTS}/{lst['id']}/contacts", json=rows)
    in_set = {"column": "firstName", "operator": "IN", "range": {"inSet": ["name2", "Name4"]}}
    assert _search(api, lst["id"], in_set) == ["c2", "c4"]
    between = {
        "column": "balance",
        "columnType": "numeric",
        "operator": "BETWEEN",
        "range": {"min": "20", "max": "40"},
    }
    assert _search(api, lst["id"], between) == ["c2", "c3", "c4"]
    exclusive = {**between, "range": {"min": "20", "max": "40", "maxInclusive": False}}
    assert _search(api, lst["id"], exclusive) == ["c2", "c3"]
    # IN and BETWEEN take range, not value.
    reply = api.post(
        f"{LISTS}/{lst['id']}/contacts/search",
        json={
            "criteria": {
                "clauses": [
                    {"predicates": [{"column": "firstName", "operator": "IN", "value": "Name2"}]}
                ]
            }
        },
    )
    assert reply.status_code == 400
    assert "range.inSet" in reply.json()["message"]


def _criteria(value: str) -> dict[str, Any]:
    return {
        "clauses": [{"predicates": [{"column": "firstName", "operator": "EQUALS", "value": value}]}]
    }


def _finished(api: httpx.Client, list_id: str, job_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        body = api.get(f"{LISTS}/{list_id}/contacts/bulk/jobs/{job_id}").json()
        return body if body["state"] != "InProgress" else None

    return dict(wait_for(done, "the bulk job"))


def test_bulk_remove_refuses_contact_ids(api: httpx.Client) -> None:
    lst = make_list(api)
    api.post(f"{LISTS}/{lst['id']}/contacts", json=[contact("c1")])
    reply = api.post(f"{LISTS}/{lst['id']}/contacts/bulk/remove", json={"contactIds": ["c1"]})
    assert reply.status_code == 400
    assert reply.json()["details"][0]["fieldName"] == "contactIds"
    # Bulk update does take ids (ContactBulkEditRequest.contactIds).
    edit = api.post(
        f"{LISTS}/{lst['id']}/contacts/bulk/update",
        json={"contactIds": ["c1"], "contact": {"data": {"firstName": "Zed"}}},
    )
    assert edit.status_code == 200


def test_bulk_jobs_make_a_backup_download_and_the_listing_keeps_ten(
    api: httpx.Client, sandbox: Sandbox
) -> None:
    lst = make_list(api)
    api.post(f"{LISTS}/{lst['id']}/contacts", json=[contact("c1"), contact("c2", "Ben")])
    job = api.post(
        f"{LISTS}/{lst['id']}/contacts/bulk/remove", json={"criteria": _criteria("Ada")}
    ).json()
    done = _finished(api, lst["id"], job["id"])
    assert done["type"] == "BulkDelete"
    assert done["state"] == "Complete"
    backup = httpx.get(done["downloadURI"], headers=api.headers, follow_redirects=False)
    if backup.is_redirect:  # the platform's downloads redirect to signed storage
        backup = httpx.get(backup.headers["location"])
    assert backup.status_code == 200
    lines = backup.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("inin-outbound-id,customerId")
    assert [line.split(",")[0] for line in lines[1:]] == ["c1"]  # what was removed
    quiet = api.post(
        f"{LISTS}/{lst['id']}/contacts/bulk/update",
        json={
            "criteria": _criteria("Ben"),
            "contact": {"data": {"firstName": "Bo"}},
            "generateDownloadURI": False,
        },
    ).json()
    assert "downloadURI" not in _finished(api, lst["id"], quiet["id"])
    ids = [job["id"], quiet["id"]]
    for n in range(10):
        started = api.post(
            f"{LISTS}/{lst['id']}/contacts/bulk/update",
            json={"criteria": _criteria("nobody"), "contact": {"data": {"firstName": f"X{n}"}}},
        ).json()
        ids.append(started["id"])
    listing = api.get(f"{LISTS}/{lst['id']}/contacts/bulk/jobs").json()
    assert [j["id"] for j in listing["entities"]] == ids[::-1][:10]  # newest first
    assert listing["total"] == 10


def test_a_failed_bulk_job_has_an_error_info_failure_reason(
    api: httpx.Client, sandbox: Sandbox
) -> None:
    lst = make_list(api)
    api.post(f"{LISTS}/{lst['id']}/contacts", json=[contact("c1")])
    job = api.post(
        f"{LISTS}/{lst['id']}/contacts/bulk/update",
        json={"contactIds": ["c1"], "contact": {"data": {"firstName": "Zed"}}},
    ).json()
    sandbox.store.delete_list(lst["id"])  # the list goes away under the running job

    def failed() -> dict[str, Any] | None:
        with sandbox.org.lock:
            state = dict(sandbox.org.jobs[lst["id"]][job["id"]])
        return state if state["state"] == "Failed" else None

    state = wait_for(failed, "the job to fail")
    assert state["type"] == "BulkEdit"
    assert state["failureReason"]["code"] == "not.found"
    assert lst["id"] in state["failureReason"]["message"]


def _xlsx(rows: list[list[Any]]) -> bytes:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return out.getvalue()


def _import_status(api: httpx.Client, list_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        status = api.get(f"{LISTS}/{list_id}/importstatus").json()
        return None if status.get("state") == "IN_PROGRESS" else status

    return dict(wait_for(done, "the import"))


@pytest.mark.parametrize("behaviour", ["parse", "fail"])
def test_excel_uploads_are_accepted_and_imported_or_failed_clearly(
    api: httpx.Client, sandbox: Sandbox, behaviour: str
) -> None:
    pytest.importorskip("python_calamine")
    sandbox.set_behaviour(excel_import=behaviour)
    lst = make_list(api)
    reply = api.post(
        f"{LISTS}/uploads",
        json={"id": lst["id"], "contentType": XLSX, "contactIdName": "customerId"},
    )
    assert reply.status_code == 200, reply.text
    upload = reply.json()
    assert upload["headers"]["Content-Type"] == XLSX
    assert upload["uploadKey"].endswith(".xlsx")
    book = _xlsx([["customerId", "firstName", "phone"], ["K1", "Ada", 15125550100]])
    assert httpx.put(upload["url"], content=book, headers=upload["headers"]).status_code == 200
    status = _import_status(api, lst["id"])
    if behaviour == "parse":
        assert status == {"totalRecords": 1, "completedRecords": 1, "percentComplete": 100}
        stored = api.get(f"{LISTS}/{lst['id']}/contacts/K1").json()
        assert stored["data"] == {"customerId": "K1", "firstName": "Ada", "phone": "15125550100"}
    else:
        assert status["state"] == "FAILED"
        assert status["failureReason"].startswith("UNSUPPORTED_FILE_TYPE")


def test_a_csv_sent_as_excel_fails_the_import_with_a_reason(api: httpx.Client) -> None:
    pytest.importorskip("python_calamine")
    lst = make_list(api)
    upload = api.post(f"{LISTS}/uploads", json={"id": lst["id"], "contentType": XLSX}).json()
    httpx.put(upload["url"], content=b"customerId,firstName,phone\n", headers=upload["headers"])
    status = _import_status(api, lst["id"])
    assert status["state"] == "FAILED"
    assert status["failureReason"].startswith("INVALID_FILE")


@pytest.mark.parametrize(("behaviour", "status"), [("409", 409), ("400", 400)])
def test_a_stale_version_answers_either_documented_code(
    api: httpx.Client, sandbox: Sandbox, behaviour: str, status: int
) -> None:
    sandbox.set_behaviour(stale_version=behaviour)
    lst = make_list(api)
    reply = api.put(f"{LISTS}/{lst['id']}", json={**lst, "version": 7})
    assert reply.status_code == status
    assert "version" in reply.json()["message"]


def test_unknown_data_keys_can_be_refused_or_ignored(api: httpx.Client, sandbox: Sandbox) -> None:
    lst = make_list(api)
    odd = contact("c1", shoeSize="44")
    assert api.post(f"{LISTS}/{lst['id']}/contacts", json=[odd]).status_code == 400
    sandbox.set_behaviour(unknown_data_keys="ignore")
    stored = api.post(f"{LISTS}/{lst['id']}/contacts", json=[odd]).json()
    assert "shoeSize" not in stored[0]["data"]


@pytest.mark.parametrize("answer", ["json", "empty"])
def test_the_client_uploads_through_the_legacy_service_whatever_its_200_carries(
    sandbox: Sandbox, answer: str
) -> None:
    from outbound_desk.genesys import ClientCredentials, GenesysClient, sandbox_region

    sandbox.set_behaviour(legacy_upload_body=answer)
    with GenesysClient(
        sandbox_region(sandbox.base_url),
        ClientCredentials(sandbox.client_id, sandbox.client_secret),
    ) as client:
        lst = client.contact_lists.create(
            _spec_named("Legacy", ["customerId", "firstName", "phone"])
        )
        reply = client.imports.upload_legacy(
            lst.id,
            b"customerId,firstName,phone\nK1,Ada,+15125550100\n",
            contact_id_name="customerId",
        )
        assert reply == ({"id": lst.id, "fileType": "contactlist"} if answer == "json" else None)
        client.imports.wait(lst.id, expected_size=1, timeout_s=30)
    assert sandbox.store.contact_count(lst.id) == 1


def _spec_named(name: str, columns: list[str]) -> Any:
    from outbound_desk.genesys import ContactListSpec, PhoneColumn

    return ContactListSpec(name, columns, [PhoneColumn("phone", "cell")])


def test_column_changes_can_be_allowed_or_refused(api: httpx.Client, sandbox: Sandbox) -> None:
    lst = make_list(api)
    grown = api.put(
        f"{LISTS}/{lst['id']}", json={**lst, "columnNames": [*lst["columnNames"], "city"]}
    )
    assert grown.status_code == 200
    sandbox.set_behaviour(column_changes="refuse")
    current = grown.json()
    refused = api.put(
        f"{LISTS}/{lst['id']}", json={**current, "columnNames": [*current["columnNames"], "zip"]}
    )
    assert refused.status_code == 400
    assert refused.json()["details"][0]["fieldName"] == "columnNames"
    renamed = api.put(f"{LISTS}/{lst['id']}", json={**current, "name": "Renamed"})
    assert renamed.status_code == 200  # other fields still change
