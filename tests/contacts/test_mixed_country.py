"""Mixed-country files: the row's country sets its phones' region; extensions reported."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from outbound_desk.contacts import ListSchema, PhoneNormaliser
from outbound_desk.contacts.regions import region_of
from outbound_desk.contacts.rules import check_columns
from tests.files.conftest import run_cli

SCHEMA = {
    "name": "mixed",
    "id_column": "id",
    "fields": [
        {"name": "id", "type": "string", "required": True},
        {"name": "phone", "type": "string", "format": "E.164"},
        {"name": "country", "type": "string"},
    ],
}


def test_country_cells_name_regions_as_codes_or_names() -> None:
    assert region_of("GB") == "GB"
    assert region_of("gb") == "GB"
    assert region_of("United Kingdom") == "GB"
    assert region_of("UK") == "GB"
    assert region_of("Deutschland") == "DE"
    assert region_of("France") == "FR"
    assert region_of("DEU") == "DE"
    assert region_of("México") == "MX"
    assert region_of("Atlantis") is None
    assert region_of("") is None


def _check(rows: list[tuple[str, str, str]]) -> tuple[list[str], dict[int, list[str]]]:
    schema = ListSchema.from_dict(SCHEMA)
    columns = {
        name: pa.array([r[i] for r in rows], type=pa.string())
        for i, name in enumerate(("id", "phone", "country"))
    }
    with PhoneNormaliser("US", workers=1) as normaliser:
        out, problems = check_columns(columns, len(rows), schema, normaliser)
    codes = {pos: [code for _, code, _ in v] for pos, v in problems.by_row().items()}
    return out["phone"].to_pylist(), codes


def test_each_row_is_normalised_in_its_own_countrys_region() -> None:
    phones, problems = _check(
        [
            ("1", "020 7946 0958", "GB"),
            ("2", "(212) 555-0123", "US"),
            ("3", "030 901820", "Germany"),
            ("4", "(212) 555-0124", ""),  # no country: the default region
            ("5", "01 42 68 53 00", "France"),
            ("6", "+44 20 7946 0959", "US"),  # an international number stays what it says
        ]
    )
    assert phones == [
        "+442079460958",
        "+12125550123",
        "+4930901820",
        "+12125550124",
        "+33142685300",
        "+442079460959",
    ]
    assert problems == {}


def test_extensions_are_reported_not_dropped() -> None:
    phones, problems = _check(
        [
            ("1", "(212) 555-0123 x123", "US"),
            ("2", "212-555-0124 ext. 4", "US"),
            ("3", "(212) 555-0125", "US"),
        ]
    )
    assert problems == {0: ["phone_extension"], 1: ["phone_extension"]}
    assert phones[2] == "+12125550125"


def test_validate_a_mixed_country_file(tmp_path: Path) -> None:
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps(SCHEMA))
    path = tmp_path / "m.csv"
    path.write_text(
        "id,phone,country\n1,020 7946 0958,United Kingdom\n2,(212) 555-0123,US\n"
        "3,0412 345 678,AU\n4,(212) 555-0199 x7,US\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    code, stdout, _ = run_cli(
        "validate", str(path), "--schema", str(schema), "--out", str(out), "--json"
    )
    report = json.loads(stdout)
    assert code == 1  # the row with an extension is rejected, with its reason
    assert (report["valid"], report["invalid"]) == (3, 1)
    assert report["issue_counts"]["phone_extension"] == 1
    assert out.read_text(encoding="utf-8").splitlines()[1:] == [
        "1,+442079460958,United Kingdom",
        "2,+12125550123,US",
        "3,+61412345678,AU",
    ]
