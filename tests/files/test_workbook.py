"""Workbooks (.xlsx, .xlsm, .xls, .ods) read as the same profile and chunks a CSV gives.

The corpus is written here with xlsxwriter (cached formula values and error cells included),
openpyxl and odfpy; the one .xls was made with LibreOffice (tests/files/data/contacts.xls:
nothing on PyPI writes .xls well).
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from outbound_desk.cli import main
from outbound_desk.files import FileError, Overrides, iter_chunks, scan, sniff
from outbound_desk.files import workbook as wbmod
from tests.files.conftest import read_all, run_cli

DATA = Path(__file__).parent / "data"


def xlsx(path: Path, sheets: dict[str, list[list[Any]]], **opts: Any) -> Path:
    """A workbook of *sheets*; a cell ``("=F()", value)`` is a formula with its cached value,
    ``dt.date``/``dt.datetime`` cells get a date format; sheet names starting "~" are hidden."""
    book = xlsxwriter.Workbook(str(path), opts)
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    clock = book.add_format({"num_format": "hh:mm:ss"})
    for name, rows in sheets.items():
        ws = book.add_worksheet(name.lstrip("~"))
        if name.startswith("~"):
            ws.hide()
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, tuple):
                    ws.write_formula(r, c, v[0], None, v[1])
                elif isinstance(v, dt.datetime):
                    ws.write_datetime(r, c, v, stamp)
                elif isinstance(v, dt.date):
                    ws.write_datetime(r, c, v, date)
                elif isinstance(v, dt.time):
                    ws.write_datetime(r, c, v, clock)
                elif isinstance(v, str):
                    ws.write_string(r, c, v)
                else:
                    ws.write(r, c, v)
    book.close()
    return path


def issues_of(profile: Any, code: str) -> list[Any]:
    return [i for i in profile.issues if i.code == code]


CONTACTS = [
    ["customerId", "phone", "zip", "signedUp", "vip", "note"],
    [1001, 4155551234, "02134", dt.date(2024, 1, 2), True, "a"],
    [1002, 2125550100, "10001", dt.date(2023, 12, 31), False, "b"],
    [1003, 3125550199, 2134, dt.date(2022, 6, 30), False, "c"],
]


def test_typed_cells_read_as_a_csv_export_should_have_held_them(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "t.xlsx",
        {
            "S": [
                ["id", "amount", "when", "stamp", "at", "flag", "doubled", "text"],
                [
                    123456789012345,
                    1.5,
                    dt.date(2024, 2, 29),
                    dt.datetime(2024, 1, 2, 3, 4, 5),
                    dt.time(13, 30),
                    True,
                    ("=A2*2", 246913578024690),
                    "0042",
                ],
                [7, 0.1 + 0.2, None, None, None, False, ("=A3*2", 14), "x"],
            ]
        },
    )
    profile = sniff(path)
    assert profile.workbook is not None
    assert profile.workbook.format == "xlsx"
    assert profile.columns == ["id", "amount", "when", "stamp", "at", "flag", "doubled", "text"]
    rows, records = read_all(profile)
    assert rows == [
        [
            "123456789012345",
            "1.5",
            "2024-02-29",
            "2024-01-02T03:04:05",
            "13:30:00",
            "true",
            "246913578024690",
            "0042",
        ],
        ["7", "0.3", "", "", "", "false", "14", "x"],
    ]
    assert records == [2, 3]  # sheet rows, as Excel shows them
    assert profile.preview == rows
    assert scan(profile).issue_counts == {}


def test_digits_excel_rounded_are_flagged_with_row_column_and_what_was_lost(
    tmp_path: Path,
) -> None:
    path = xlsx(
        tmp_path / "r.xlsx",
        {"S": [["id", "phone"], [1234567890123456789, 4155551234], [1, 4.15555e9]]},
    )
    profile = scan(sniff(path))
    (lost,) = issues_of(profile, "excel_rounded")
    assert (lost.row, lost.column) == (2, "id")
    assert "1.23456789012346e+18" in lost.message
    assert "15 significant digits" in lost.message
    rows, _ = read_all(profile)
    assert rows == [["1234567890123460000", "4155551234"], ["1", "4155550000"]]


def test_numbers_in_a_column_that_keeps_leading_zeros_as_text_are_lost_zeros(
    tmp_path: Path,
) -> None:
    profile = scan(sniff(xlsx(tmp_path / "z.xlsx", {"S": CONTACTS})))
    (zeros,) = issues_of(profile, "lost_leading_zeros")
    assert (zeros.row, zeros.column) == (4, "zip")
    assert "02134" in zeros.message


def test_error_cells_are_issues_and_read_as_empty(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "e.xlsx",
        {
            "S": [
                ["id", "phone", "lookup"],
                [1, 4155551234, ("=VLOOKUP(A2,X!A:B,2,0)", "#N/A")],
                [2, ("=B9/0", "#DIV/0!"), ("=Gone!A1", "#REF!")],
                [3, 4155551235, "#VALUE!"],
            ]
        },
    )
    profile = scan(sniff(path))
    errors = {(i.row, i.column): i.message for i in issues_of(profile, "cell_error")}
    assert set(errors) == {(2, "lookup"), (3, "phone"), (3, "lookup"), (4, "lookup")}
    assert "#N/A" in errors[(2, "lookup")]
    assert "#REF!" in errors[(3, "lookup")]
    rows, _ = read_all(profile)
    assert [r[1:] for r in rows] == [["4155551234", ""], ["", ""], ["4155551235", ""]]


def test_title_rows_are_found_and_skipped_and_the_count_can_be_forced(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "title.xlsx",
        {
            "S": [
                ["Q3 campaign export"],
                ["exported 2024-07-01 by the CRM", None, None],
                [],
                *CONTACTS,
            ]
        },
    )
    profile = sniff(path)
    assert profile.workbook is not None
    assert profile.columns == CONTACTS[0]
    assert profile.workbook.first_row == 4
    assert profile.workbook.skipped == 3
    (note,) = issues_of(profile, "title_rows_skipped")
    assert "sheet row 4" in note.message
    _, records = read_all(profile)
    assert records == [5, 6, 7]
    # Overridden: the header is taken from row 2 on.
    forced = sniff(path, Overrides(skip_rows=1, has_header=True))
    assert forced.header == ["exported 2024-07-01 by the CRM"]


@pytest.mark.parametrize("streamed", [False, True], ids=["calamine", "xml-stream"])
def test_sheet_picker_first_sheet_with_data_hidden_listed_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    if streamed:  # as for a workbook with a big sheet: no calamine before the first rows
        monkeypatch.setattr(wbmod, "STREAM_PREVIEW_BYTES", 0)
    path = xlsx(
        tmp_path / "s.xlsx",
        {
            "Empty": [],
            "~Lookup": [["code", "name"], ["x", "y"]],
            "Contacts": CONTACTS,
            "Other": [["a", "b"], [1, 2]],
        },
    )
    profile = sniff(path)
    assert profile.workbook is not None
    assert profile.workbook.sheet == "Contacts"
    sheets = {s.name: (s.hidden, s.has_data) for s in profile.workbook.sheets}
    assert sheets == {
        "Empty": (False, False),
        "Lookup": (True, True),
        "Contacts": (False, True),
        "Other": (False, True),
    }
    assert sniff(path, Overrides(sheet="Other")).columns == ["a", "b"]
    assert sniff(path, Overrides(sheet="1")).columns == ["code", "name"]  # by 0-based index
    with pytest.raises(FileError, match=r"no sheet 'Nope'.*'Lookup' \(hidden\)"):
        sniff(path, Overrides(sheet="Nope"))
    with pytest.raises(FileError, match="empty"):
        sniff(path, Overrides(sheet="Empty"))


def test_empty_trailing_rows_and_columns_are_ignored_and_values_past_the_header_rejected(
    tmp_path: Path,
) -> None:
    path = xlsx(
        tmp_path / "w.xlsx",
        {"S": [["id", "name", None], [1, "a", ""], [], [2, "b", None, "stray"], ["", ""]]},
    )
    profile = scan(sniff(path))
    assert profile.columns == ["id", "name"]
    rows, records = read_all(profile)
    assert rows == [["1", "a"]]
    assert records == [2]
    (ragged,) = issues_of(profile, "ragged_row")
    assert ragged.row == 4
    assert profile.rows == 2  # the broken row counts; the trailing empty one does not


def test_streaming_head_of_a_big_sheet_agrees_with_calamine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        ["Report"],
        [],
        ["id", "phone", "when", "ok", "calc", "err", "name"],
        *[
            [i, 4155550000 + i, dt.date(2024, 1, 1 + i % 28), i % 2 == 0, ("=A1", i), None, f"n{i}"]
            for i in range(50)
        ],
    ]
    rows[5][5] = ("=1/0", "#DIV/0!")
    for opts in ({}, {"constant_memory": True}):  # shared strings, then inline strings
        path = xlsx(tmp_path / f"h{len(opts)}.xlsx", {"S": rows}, **opts)
        expected = sniff(path)
        monkeypatch.setattr(wbmod, "STREAM_PREVIEW_BYTES", 0)
        streamed = sniff(path)
        monkeypatch.undo()
        assert streamed.workbook is not None
        assert expected.workbook is not None
        assert streamed.workbook.sheets == expected.workbook.sheets
        assert streamed.columns == expected.columns
        assert streamed.preview == expected.preview
        assert streamed.workbook.first_row == expected.workbook.first_row == 3
        assert [i.as_dict() for i in streamed.issues] == [i.as_dict() for i in expected.issues]


def test_ods_and_xlsm_and_xls(tmp_path: Path) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Contacts")
    for row in CONTACTS[:3]:
        tr = TableRow()
        for v in row[:3]:
            if isinstance(v, int):
                cell = TableCell(valuetype="float", value=v)
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(v)))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    ods = tmp_path / "c.ods"
    doc.save(str(ods))
    profile = sniff(ods)
    assert profile.workbook is not None
    assert profile.workbook.format == "ods"
    assert read_all(profile)[0] == [
        ["1001", "4155551234", "02134"],
        ["1002", "2125550100", "10001"],
    ]

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in CONTACTS:
        sheet.append(row)
    xlsm = tmp_path / "c.xlsm"
    book.save(xlsm)
    profile = sniff(xlsm)
    assert profile.workbook is not None
    assert profile.workbook.format == "xlsm"
    assert read_all(profile)[0][0] == ["1001", "4155551234", "02134", "2024-01-02", "true", "a"]

    profile = scan(sniff(DATA / "contacts.xls"))
    assert profile.workbook is not None
    assert profile.workbook.format == "xls"
    assert [s.hidden for s in profile.workbook.sheets] == [False, True]
    assert read_all(profile)[0] == [
        ["1001", "4155551234", "02134", "2024-01-02", "true"],
        ["1002", "2125550100", "10001", "2023-12-31", "false"],
        ["1003", "3125550199", "2134", "2022-06-30", "false"],
    ]
    assert [(i.row, i.column) for i in issues_of(profile, "lost_leading_zeros")] == [(4, "zip")]


def test_chunks_are_the_same_shape_a_csv_gives(tmp_path: Path) -> None:
    rows = [["id", "phone"], *[[i, 2125550000 + i] for i in range(1, 26)]]
    profile = sniff(xlsx(tmp_path / "c.xlsx", {"S": rows}))
    chunks = list(iter_chunks(profile, chunk_rows=10, columns=["phone"]))
    assert [c.table.num_rows for c in chunks] == [10, 10, 5]
    assert chunks[0].table.column_names == ["phone"]
    assert str(chunks[0].table.schema.field("phone").type) == "string"
    assert chunks[2].records.tolist() == list(range(22, 27))
    assert chunks[0].frame.iloc[0, 0] == "2125550001"


def _schema(tmp_path: Path) -> Path:
    schema = tmp_path / "s.json"
    schema.write_text(
        json.dumps(
            {
                "name": "wb",
                "id_column": "customerId",
                "fields": [
                    {"name": "customerId", "type": "string"},
                    {"name": "phone", "type": "string", "format": "E.164"},
                    {"name": "zip", "type": "string"},
                ],
            }
        )
    )
    return schema


def _corrupt(tmp_path: Path) -> Path:
    good = xlsx(tmp_path / "good.xlsx", {"S": CONTACTS})
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(good.read_bytes()[:900])
    return bad


def _encrypted(tmp_path: Path) -> Path:
    # What Office writes for a password-protected .xlsx: an OLE container holding an
    # EncryptionInfo and an EncryptedPackage stream (directory names in UTF-16).
    path = tmp_path / "locked.xlsx"
    body = bytearray(4096)
    body[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    name = "EncryptedPackage".encode("utf-16-le")
    body[1024 : 1024 + len(name)] = name
    path.write_bytes(bytes(body))
    return path


@pytest.mark.parametrize(
    ("make", "words"),
    [(_corrupt, "not a readable workbook"), (_encrypted, "password-protected")],
)
def test_corrupt_or_encrypted_workbook_is_one_clear_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, words: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(FileError, match=words):
        sniff(path)
    schema = str(_schema(tmp_path))
    for command in (["inspect", str(path)], ["validate", str(path), "--schema", schema]):
        code, _, err = run_cli(*command)
        assert code == 1
        err = err.strip()
        assert words in err
        assert len(err.splitlines()) == 1
        assert "Traceback" not in err


def test_a_zip_that_is_no_workbook_is_still_refused_as_binary(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(FileError, match="ZIP archive"):
        sniff(path)


def test_inspect_json_names_sheet_header_row_and_skipped_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = xlsx(tmp_path / "i.xlsx", {"Notes": [["x"]], "Contacts": [["Title"], *CONTACTS]})
    assert main(["inspect", str(path), "--json", "--sheet", "Contacts"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "xlsx"
    assert out["workbook"]["sheet"] == "Contacts"
    assert out["workbook"]["header_row"] == 2
    assert out["workbook"]["skipped_rows"] == 1
    assert out["rows"] == 3
    assert out["columns"] == CONTACTS[0]
    assert len(out["sha256"]) == 64
    assert main(["inspect", str(path)]) == 0  # the first sheet with data: "Notes"
    text = capsys.readouterr().out
    assert "Sheet:       Notes" in text
    assert "Contacts" in text
    assert main(["inspect", str(path), "--sheet", "9"]) == 1
    assert "no sheet '9'" in capsys.readouterr().err


def test_validate_a_workbook_gives_e164_and_the_csv_normalised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = _schema(tmp_path)
    path = xlsx(
        tmp_path / "v.xlsx",
        {"S": [["Export"], *[r[:3] for r in CONTACTS]]},
    )
    out = tmp_path / "out.csv"
    code, stdout, _ = run_cli(
        "validate", str(path), "--schema", str(schema), "--out", str(out), "--json"
    )
    report = json.loads(stdout)
    assert code == 0, report
    assert (report["rows"], report["valid"]) == (3, 3)
    assert out.read_text(encoding="utf-8").splitlines() == [
        "customerId,phone,zip",
        "1001,+14155551234,02134",
        "1002,+12125550100,10001",
        "1003,+13125550199,2134",
    ]
