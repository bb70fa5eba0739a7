"""Headerless files mapped by what their values look like (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from outbound_desk.contacts import ListSchema, diff_columns, samples_of, suggest_mapping
from outbound_desk.files import sniff
from tests.files.conftest import run_cli

SCHEMA = {
    "name": "guess",
    "id_column": "customerId",
    "fields": [
        {"name": "customerId", "type": "string", "required": True},
        {"name": "firstName", "type": "string"},
        {"name": "lastName", "type": "string"},
        {"name": "phoneNumber", "type": "string", "format": "E.164", "required": True},
        {"name": "email", "type": "string", "format": "email"},
        {"name": "zip", "type": "string"},
    ],
}
FIRST = ["Ann", "Bob", "Cy", "Di", "Ed", "Flo"]


def headerless(path: Path) -> Path:
    # The phone first, then the email, the ZIP, the id, first and last names: nothing in
    # the list's order.
    lines = [
        f"(212) 555-{1000 + i:04d},p{i}@example.com,{10001 + i:05d},C{i:06d},"
        f"{FIRST[i % 6]},Smith-{chr(65 + i % 26)}"
        for i in range(30)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_headerless_columns_are_mapped_by_their_values_with_a_confidence(tmp_path: Path) -> None:
    profile = sniff(headerless(tmp_path / "h.csv"))
    assert profile.has_header is False
    schema = ListSchema.from_dict(SCHEMA)
    diff = diff_columns(profile.columns, schema, has_header=False, samples=samples_of(profile))
    guessed = {r.file_column: (r.list_column, r.kind) for r in diff.renamed}
    assert guessed["column_1"] == ("phoneNumber", "values:phone")
    assert guessed["column_2"] == ("email", "values:email")
    assert guessed["column_3"] == ("zip", "values:zip")
    assert guessed["column_4"] == ("customerId", "values:id")
    assert {guessed["column_5"][0], guessed["column_6"][0]} == {"firstName", "lastName"}
    assert all(r.score >= 0.6 for r in diff.renamed if r.kind != "position")
    mapping = suggest_mapping(diff, schema, profile.columns)
    assert mapping.targets["column_1"] == "phoneNumber"
    assert not mapping.unresolved


def test_without_samples_a_headerless_file_still_maps_by_position() -> None:
    schema = ListSchema.from_dict(SCHEMA)
    diff = diff_columns(["column_1", "column_2"], schema, has_header=False)
    assert diff.matched == ("column_1", "column_2")
    assert suggest_mapping(diff, schema, ["column_1", "column_2"]).targets == {
        "column_1": "customerId",
        "column_2": "firstName",
    }


def test_validate_a_headerless_file_whose_phone_comes_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(SCHEMA))
    path = headerless(tmp_path / "h.csv")
    out = tmp_path / "out.csv"
    code, stdout, _ = run_cli(
        "validate", str(path), "--schema", str(schema), "--out", str(out), "--json"
    )
    report = json.loads(stdout)
    assert code == 0, report
    assert (report["rows"], report["valid"]) == (30, 30)  # was 0/30 by position
    first = out.read_text(encoding="utf-8").splitlines()[1].split(",")
    assert first[0] == "C000000"
    assert first[3] == "+12125551000"
    # A guess can be changed: --map overrides it.
    code, _, _ = run_cli(
        "validate", str(path), "--schema", str(schema), "--json",
        "--map", "column_5=lastName", "--map", "column_6=firstName",
    )  # fmt: skip
    assert code == 0
