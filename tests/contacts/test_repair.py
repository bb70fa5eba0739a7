"""Safe repairs for "Save fixed copy" (issue 14): what is repaired, what is left, counts."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from outbound_desk.contacts import (
    ListSchema,
    ValidationOptions,
    diff_columns,
    suggest_mapping,
    validate_file,
)
from outbound_desk.contacts.repair import (
    SCIENTIFIC_LOST,
    describe,
    expand_scientific,
    plan_repairs,
)
from outbound_desk.files import sniff

HEADER = "customerId,firstName,phoneNumber,homePhone,emailAddress\n"


def _fix(tmp_path: Path, text: str, schema: ListSchema, edits=None, region: str = "US"):
    src = tmp_path / "in.csv"
    src.write_text(text, encoding="utf-8")
    profile = sniff(src)
    mapping = suggest_mapping(
        diff_columns(profile.columns, schema, has_header=profile.has_header),
        schema,
        profile.columns,
    )
    plan = plan_repairs(profile, schema, mapping, edits=edits)
    out, rej = tmp_path / "out.csv", tmp_path / "rej.csv"
    report = validate_file(
        profile,
        schema,
        mapping,
        ValidationOptions(region=region),
        out=out,
        rejects=rej,
        repair=plan,
    )
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8"))))
    rejects = list(csv.reader(io.StringIO(rej.read_text("utf-8"))))
    return report, plan, rows, rejects


def test_scientific_is_written_out_only_when_no_digit_was_lost() -> None:
    assert expand_scientific("1.4155550123E+10") == "14155550123"
    assert expand_scientific("1,4155550123e10") == "14155550123"
    assert expand_scientific("4.15555E+10") is None  # six digits of eleven: lost
    assert expand_scientific("1.41555501234E+10") is None  # a fraction, not a number
    assert expand_scientific("415-555-0123") is None


def test_fixed_copy_repairs_spreadsheet_phones_and_trims(
    tmp_path: Path, schema: ListSchema
) -> None:
    report, plan, rows, rejects = _fix(
        tmp_path,
        HEADER
        + "c1,  Ann ,14155550123.0,,\n"
        + "c2,Bob,1.4155550124E+10,,\n"
        + "c3,Cy,4.15555E+10,,\n"
        + "c4,Di,(415) 555-0125,,\n",
        schema,
    )
    assert report.valid == 3
    assert report.invalid == 1
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["c1"][1:3] == ["Ann", "+14155550123"]
    assert by_id["c2"][2] == "+14155550124"
    assert by_id["c4"][2] == "+14155550125"
    # The one with digits lost stays out, in the rejects file with its original value.
    assert [r[0] for r in rejects[1:]] == ["4"]
    assert rejects[1][3] == "4.15555E+10"
    assert plan.counts["decimal_zero"] == 1
    assert plan.counts["scientific"] == 1
    assert plan.counts[SCIENTIFIC_LOST] == 1
    assert plan.counts["trimmed"] == 1
    assert plan.counts["e164"] == 3  # the one with digits lost is not counted
    text = describe(plan.counts)
    assert "1 phone without a spreadsheet's '.0'" in text
    assert "digits lost" in text


def test_leading_zeros_come_back_where_the_width_is_certain(tmp_path: Path) -> None:
    schema = ListSchema.from_dict(
        {
            "name": "uk",
            "fields": [
                {"name": "customerId", "type": "string", "required": True},
                {"name": "zip", "type": "string", "required": False},
                {"name": "phoneNumber", "type": "string", "format": "E.164", "required": True},
            ],
            "id_column": "customerId",
        }
    )
    lines = ["customerId,zip,phoneNumber"]
    for i in range(20):
        lines.append(f"c{i},{90210 + i},0740012{i:04d}")
    lines.append("c98,2134,7400129999")  # both lost their leading zero
    report, plan, rows, _ = _fix(tmp_path, "\n".join(lines) + "\n", schema, region="GB")
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["c98"][1] == "02134"
    assert by_id["c98"][2] == "+447400129999"
    assert plan.counts["leading_zeros"] == 2
    assert report.invalid == 0


def test_no_zeros_invented_where_the_width_is_not_certain(
    tmp_path: Path, schema: ListSchema
) -> None:
    # NANP numbers with and without their 1: the 10-digit ones lost no zero.
    lines = [HEADER.strip()]
    for i in range(20):
        lines.append(f"c{i},A,1415555{i:04d},,")
    lines.append("c99,B,4155550199,,")
    _report, plan, rows, _ = _fix(tmp_path, "\n".join(lines) + "\n", schema)
    assert plan.widths == {}
    assert plan.counts["leading_zeros"] == 0
    assert {r[0]: r for r in rows[1:]}["c99"][2] == "+14155550199"


def test_edits_go_into_the_fixed_copy(tmp_path: Path, schema: ListSchema) -> None:
    report, plan, rows, rejects = _fix(
        tmp_path,
        HEADER + "c1,Ann,not a phone,,\nc2,Bob,4155550124,,\n",
        schema,
        edits={(2, "phoneNumber"): "415 555 0123"},
    )
    assert report.valid == 2
    assert rejects[1:] == []
    assert {r[0]: r for r in rows[1:]}["c1"][2] == "+14155550123"
    assert plan.counts["edited"] == 1
