from __future__ import annotations

import json
from pathlib import Path

import pytest

from outbound_desk.contacts import Field, ListSchema, SchemaError, load_schema
from tests.contacts.conftest import SCHEMA


def test_schema_json_round_trip(schema_file: Path) -> None:
    schema = load_schema(schema_file)
    assert schema.columns == ["customerId", "firstName", "phoneNumber", "homePhone", "emailAddress"]
    assert schema.phone_columns == ["phoneNumber", "homePhone"]
    assert schema.email_columns == ["emailAddress"]
    assert schema.required_columns == ["customerId", "phoneNumber"]
    assert schema.id_column == "customerId"
    assert schema.to_dict() == SCHEMA


def test_to_genesys_puts_formats_in_their_column_lists(schema: ListSchema) -> None:
    body = schema.to_genesys()
    assert body == {
        "name": "Spring campaign",
        "columnNames": ["customerId", "firstName", "phoneNumber", "homePhone", "emailAddress"],
        "phoneColumns": [
            {"columnName": "phoneNumber", "type": "cell"},
            {"columnName": "homePhone", "type": "home"},
        ],
        "emailColumns": [{"columnName": "emailAddress", "type": "work"}],
    }


def test_from_genesys_round_trip_keeps_columns_and_types(schema: ListSchema) -> None:
    body = schema.to_genesys()
    body.update({"id": "abc", "version": 3, "selfUri": "/x"})  # read-only fields are ignored
    back = ListSchema.from_genesys(body)
    assert back.columns == schema.columns
    assert back.phone_columns == schema.phone_columns
    assert back.email_columns == schema.email_columns
    assert back.required_columns == []  # the platform has no required columns
    assert back.id_column is None
    assert back.to_genesys() == schema.to_genesys()


def test_from_genesys_keeps_free_text_phone_types() -> None:
    s = ListSchema.from_genesys(
        {
            "name": "L",
            "columnNames": ["a", "p"],
            "phoneColumns": [{"columnName": "p", "type": "Mobile"}],
        }
    )
    assert s.field("p").phone_type == "Mobile"
    assert s.to_genesys()["phoneColumns"] == [{"columnName": "p", "type": "Mobile"}]


def test_from_genesys_rejects_phone_column_not_in_columns() -> None:
    with pytest.raises(SchemaError, match="not in columnNames"):
        ListSchema.from_genesys(
            {"columnNames": ["a"], "phoneColumns": [{"columnName": "b", "type": "cell"}]}
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fields": []}, "non-empty list 'fields'"),
        ({"name": ""}, "non-empty string 'name'"),
        ({"id_column": "nope"}, "id_column 'nope' is not one of the fields"),
        ({"fields": [{"name": "a", "format": "phone"}]}, "format 'phone'"),
        ({"fields": [{"name": "a", "type": "int"}]}, "only 'string'"),
        ({"fields": [{"name": "a", "required": "yes"}]}, "true or false"),
        ({"fields": [{"name": "a", "format": "E.164", "phone_type": "fax"}]}, "phone_type"),
        ({"fields": [{"name": "a"}, {"name": "A"}], "id_column": None}, "appears twice"),
    ],
)
def test_bad_schema_says_what_is_wrong(change: dict[str, object], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        ListSchema.from_dict({**SCHEMA, **change})


def test_load_schema_reports_json_position(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    p.write_text('{"name": "x",\n "fields": [}', encoding="utf-8")
    with pytest.raises(SchemaError, match=r"line 2"):
        load_schema(p)
    with pytest.raises(SchemaError, match="cannot read"):
        load_schema(tmp_path / "missing.json")


def test_from_header_guesses_phones_emails_and_id() -> None:
    s = ListSchema.from_header(
        ["CustomerID", "Name", "Mobile Phone", "HomeTel", "E-mail", "notes", "contact"],
        samples={
            "contact": ["(212) 555-0123", "+1 416 555 0199", "646-555-0142"],
            "notes": ["call after 5", "vip", ""],
        },
    )
    assert s.phone_columns == ["Mobile Phone", "HomeTel", "contact"]
    assert s.field("HomeTel").phone_type == "home"
    assert s.email_columns == ["E-mail"]
    assert s.id_column == "CustomerID"
    assert all(not f.required for f in s.fields)


def test_limit_problems() -> None:
    many = ListSchema("x", tuple(Field(f"c{i}") for i in range(51)))
    assert any("51 columns" in p for p in many.limit_problems())
    long_name = ListSchema("x", (Field("n" * 129),))
    assert any("129 characters" in p for p in long_name.limit_problems())
    assert ListSchema("x", (Field("n" * 128),)).limit_problems() == []


def test_schema_file_in_resources_loads() -> None:
    root = Path(__file__).resolve().parents[2] / "resources" / "schemas"
    files = sorted(root.glob("*.json"))
    assert files
    for f in files:
        assert load_schema(f).columns
        json.loads(f.read_text())
