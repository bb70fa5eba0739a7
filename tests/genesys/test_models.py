from __future__ import annotations

import pytest

from outbound_desk.genesys import (
    BulkJob,
    Contact,
    ContactList,
    ContactListSpec,
    ExportError,
    ImportStatus,
    PhoneColumn,
    is_import_finished,
    parse_export,
)


def test_contact_list_round_trip_keeps_unknown_fields() -> None:
    body = {
        "id": "L1",
        "name": "N",
        "version": 4,
        "columnNames": ["a", "ph"],
        "phoneColumns": [{"columnName": "ph", "type": "cell", "callableTimeColumn": "tz"}],
        "size": 12,
        "importStatus": {"state": "IN_PROGRESS", "percentComplete": 40},
        "division": {"id": "d1", "name": "Home"},
        "automaticTimeZoneMapping": True,
        "dateCreated": "2026-01-01T00:00:00.000Z",
    }
    cl = ContactList.from_api(body)
    assert cl.size == 12
    assert cl.import_status is not None
    assert cl.import_status.in_progress
    assert cl.phone_columns == (PhoneColumn("ph", "cell", "tz"),)
    out = cl.to_api()
    assert out["automaticTimeZoneMapping"] is True
    assert out["version"] == 4
    assert (cl.division_id, cl.division_name) == ("d1", "Home")
    assert out["division"] == {"id": "d1"}  # the name is read-only: the id is what a PUT needs
    assert "size" not in out
    assert "importStatus" not in out
    assert cl.has_columns(["PH", "A"])
    assert not cl.has_columns(["a"])


def test_spec_and_contact_to_api() -> None:
    spec = ContactListSpec("S", ["id", "phone"], [PhoneColumn("phone", "home")], division_id="d")
    assert spec.to_api() == {
        "name": "S",
        "columnNames": ["id", "phone"],
        "phoneColumns": [{"columnName": "phone", "type": "home"}],
        "division": {"id": "d"},
    }
    contact = Contact(data={"phone": "+1"}, id="c1")
    assert contact.to_api("L9") == {"id": "c1", "contactListId": "L9", "data": {"phone": "+1"}}
    assert Contact.from_api({"id": "x", "data": {"n": 5, "m": None}}).data == {"n": "5", "m": ""}


@pytest.mark.parametrize(
    ("status", "size", "expected", "seen", "finished"),
    [
        ({"state": "IN_PROGRESS", "percentComplete": 50}, 10, 10, True, False),
        ({"state": "FAILED", "failureReason": "bad header"}, 0, 10, False, True),
        ({}, 10, 10, False, True),  # a fast import never showed progress: the size says done
        ({}, 4, 10, False, False),  # not started yet
        ({"percentComplete": 100}, 4, 10, False, False),  # the last import's 100 %
        ({"percentComplete": 100}, 8, 10, True, True),  # ours, with rejected rows
        ({"percentComplete": 100}, None, None, False, True),
        ({"percentComplete": 30}, None, None, False, False),
    ],
)
def test_import_finished_rules(
    status: dict[str, object], size: int | None, expected: int | None, seen: bool, finished: bool
) -> None:
    parsed = ImportStatus.from_api(status)
    assert is_import_finished(parsed, size, expected, seen_progress=seen) is finished


def test_parse_export_with_bom_and_system_columns() -> None:
    data = (
        "\ufeffinin-outbound-id,id,phone,ContactCallable,Callable-phone\r\n"
        'c-1,A1,+15551234567,1,1\r\nc-2,A2,"+1555, x",0\r\n\r\n'
    ).encode()
    table = parse_export(data)
    assert table.columns == ("id", "phone", "ContactCallable", "Callable-phone")
    assert [r.contact_id for r in table.rows] == ["c-1", "c-2"]
    assert table.by_id()["c-2"] == {
        "id": "A2",
        "phone": "+1555, x",
        "ContactCallable": "0",
        "Callable-phone": "",
    }
    with pytest.raises(ExportError, match="inin-outbound-id"):
        parse_export(b"id,phone\n1,2\n")
    # An empty download is a failed export, not a list without contacts.
    with pytest.raises(ExportError, match="empty"):
        parse_export(b"")
    with pytest.raises(ExportError, match="UTF-8"):
        parse_export(b"inin-outbound-id,name\r\nc-1,\xff\xfe\r\n")


def test_bulk_job_states() -> None:
    assert BulkJob.from_api({"id": "j", "state": "Complete"}).done
    assert BulkJob.from_api({"id": "j", "state": "Failed"}).failed
    assert not BulkJob.from_api({"id": "j", "state": "InProgress"}).done
