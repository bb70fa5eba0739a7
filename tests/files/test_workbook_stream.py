"""The .xlsx reader of the sheet's XML stream (files.workbook_stream) gives, batch by batch,
what the whole-sheet readers give (fastexcel into Arrow, and calamine's cells converted one
by one): the same rows, records, issues and rows set aside; and its memory does not grow
with the sheet."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outbound_desk.files import FileError, Overrides, iter_chunks, sniff, workbook_arrow
from outbound_desk.files import workbook as wbmod
from outbound_desk.files import workbook_stream as stream
from tests.files.test_workbook import CONTACTS, xlsx

Chunks = tuple[list[Any], list[Any], list[Any], list[Any]]


def _chunks(path: Path, profile: Any, chunk_rows: int) -> Chunks:
    wbmod.clear_cache()
    chunks = list(iter_chunks(profile, chunk_rows=chunk_rows))
    wbmod.clear_cache()
    return (
        [c.table.to_pylist() for c in chunks],
        [c.records.tolist() for c in chunks],
        [[(i.row, i.column, i.code, i.message, i.severity) for i in c.issues] for c in chunks],
        [c.raw for c in chunks],
    )


def readers(
    path: Path, mp: pytest.MonkeyPatch, chunk_rows: int = 7, **overrides: Any
) -> dict[str, Chunks]:
    """The chunks of each reader: the stream, the default whole-sheet path (fastexcel, or
    calamine where fastexcel cannot read it exactly), and calamine alone."""
    profile = sniff(path, Overrides(**overrides))
    out = {}
    for name, use_stream, use_arrow in (
        ("stream", True, True),
        ("default", False, True),
        ("calamine", False, False),
    ):
        mp.setattr(wbmod, "USE_STREAM_READER", use_stream)
        mp.setattr(wbmod, "USE_ARROW_READER", use_arrow)
        out[name] = _chunks(path, profile, chunk_rows)
    mp.setattr(wbmod, "USE_STREAM_READER", None)
    mp.setattr(wbmod, "USE_ARROW_READER", True)
    return out


def agree(path: Path, mp: pytest.MonkeyPatch, **overrides: Any) -> Chunks:
    got = readers(path, mp, **overrides)
    assert got["stream"] == got["default"]
    assert got["stream"] == got["calamine"]
    return got["stream"]


def _rows(got: Chunks) -> list[dict[str, str]]:
    return [row for chunk in got[0] for row in chunk]


def _codes(got: Chunks) -> set[str]:
    return {issue[2] for chunk in got[2] for issue in chunk}


# ---------------------------------------------------------------------------------- corpus


def _mixed(path: Path, errors: bool = True, **opts: Any) -> Path:
    rows: list[list[Any]] = [["Contact export", None, None], [], ["id", "phone", "zip", "flag"]]
    rows[2] += ["note", "when", "amount"]
    for i in range(60):
        rows.append(
            [
                1000 + i if i != 7 else True,
                4155550000 + i if i % 3 else f"(415) 555-{i:04d}",
                f"{i:05d}" if i % 5 else 2134 + i,
                ("=NA()", "#N/A") if i == 11 and errors else bool(i % 2),
                "#REF!"
                if i == 13 and errors
                else (12345678901234567 if i == 17 else f"n&<{i}>\"'"),
                dt.date(2024, 1, 1 + i % 28) if i % 4 else dt.datetime(2024, 2, 3, 4, 5, 6),
                0.1 * i if i % 6 else 1.5e20,
            ]
        )
    rows[25] = []
    rows[30] = [None] * 7 + ["past the header"]
    rows.append([1099, ("=A1", "text from a formula"), None, None, None, dt.time(13, 30), -0.0])
    return xlsx(path, {"S": rows}, **opts)


def _texts(path: Path) -> Path:
    return xlsx(
        path,
        {
            "S": [
                ["name", "other"],
                ["a\x01b", "_x0041_ stays"],
                ["x\r\ny", "  padded  "],
                ["Zoë 日本語 😀", "tab\there"],
                ["&amp; literally", "<tag>"],
                ["", "only the second"],
                ["00123", 123],
            ]
        },
    )


def _rich(path: Path) -> Path:
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("S")
    bold = book.add_format({"bold": True})
    ws.write_row(0, 0, ["id", "name"])
    for r in range(1, 6):
        ws.write_number(r, 0, r)
        ws.write_rich_string(r, 1, "plain ", bold, f"bold{r}", " & tail")
    book.close()
    return path


def _dates(path: Path, **opts: Any) -> Path:
    book = xlsxwriter.Workbook(str(path), opts)
    ws = book.add_worksheet("S")
    codes = ["yyyy-mm-dd", "hh:mm:ss", "yyyy-mm-dd hh:mm", "[h]:mm:ss", "[mm]:ss", "0.00"]
    codes += ['"Day" 0', "d-mmm;@", "General", "mm:ss.000"]
    formats = [book.add_format({"num_format": c}) for c in codes]
    builtin = [book.add_format({"num_format": n}) for n in (14, 20, 22, 46, 47)]
    values = [0.25, 45000, 45000.25, -1.5, 0, 1, 59, 60, 61, 2958465, 2958466, 0.9999999999]
    ws.write_row(0, 0, [f"c{j}" for j in range(len(formats) + len(builtin))])
    for r, v in enumerate(values, start=1):
        for j, f in enumerate(formats + builtin):
            ws.write_number(r, j, v, f)
    book.close()
    return path


def _openpyxl(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    for row in CONTACTS:
        ws.append(row)
    ws.append([None, None, None, None, None, "only a note", "beside"])
    ws.cell(row=9, column=2, value="far below")
    book.save(path)
    return path


def _below(path: Path) -> Path:
    rows: list[list[Any]] = [[], [], [None, None, "id", "phone"]]
    rows += [[None, None, 1, 5551234567], [None, None, 2, "n/a"], [None, "left", 3, 44]]
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("S")
    blank = book.add_format({"bold": True})
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is not None:
                ws.write(r, c, v)
    ws.write_blank(20, 2, None, blank)  # formatted, empty: no value, no row
    ws.set_row(30, None, blank)
    book.close()
    return path


def _rewritten(
    path: Path,
    source: Path,
    change: Callable[[bytes], bytes],
    parts: tuple[str, ...] = ("xl/worksheets/sheet1.xml",),
) -> Path:
    """*source* with its first sheet's XML (or the *parts* named) changed by *change*."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename in parts:
                data = change(data)
            zout.writestr(item, data)
    return path


def _prefixed(xml: bytes) -> bytes:
    """The sheet with its elements under the prefix ``x:`` (the .NET SDK writes so)."""
    xml = xml.replace(b'xmlns="http://schemas', b'xmlns:x="http://schemas', 1)
    return re.sub(rb"<(/?)([a-zA-Z]+)([ >/])", rb"<\1x:\2\3", xml)


def _no_refs(xml: bytes) -> bytes:
    """The sheet's cells and rows without their references (allowed: they follow on)."""
    return re.sub(rb'<c r="[A-Z]+[0-9]+"', b"<c", re.sub(rb'<row r="[0-9]+"', b"<row", xml))


def _spread(xml: bytes) -> bytes:
    """Attributes in another order and spread by white space."""
    return re.sub(rb'<c r="([A-Z]+[0-9]+)" t="s">', rb'<c\n  t="s"   r="\1" >', xml)


CORPUS: dict[str, Callable[[Path], Path]] = {
    "contacts": lambda p: xlsx(p, {"S": CONTACTS}),
    "contacts-inline": lambda p: xlsx(p, {"S": CONTACTS}, constant_memory=True),
    "mixed": _mixed,
    "mixed-inline": lambda p: _mixed(p, constant_memory=True),
    "texts": _texts,
    "rich": _rich,
    "dates": _dates,
    "dates-1904": lambda p: _dates(p, date_1904=True),
    "openpyxl": _openpyxl,
    "below-empty-rows": _below,
    # (Without error cells: the other readers find those by a regex that wants references
    # and no prefix.)
    "prefixed": lambda p: _rewritten(
        p, _mixed(p.with_suffix(".src.xlsx"), errors=False), _prefixed
    ),
    "no-references": lambda p: _rewritten(
        p, _mixed(p.with_suffix(".src.xlsx"), errors=False), _no_refs
    ),
    "spread-attributes": lambda p: _rewritten(p, _mixed(p.with_suffix(".src.xlsx")), _spread),
    # A ">" left as it is in texts (XML allows it): the tags cannot be paired by position.
    "greater-than": lambda p: _rewritten(
        p,
        _mixed(p.with_suffix(".src.xlsx")),
        lambda x: x.replace(b"&gt;", b">"),
        ("xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"),
    ),
    "greater-than-inline": lambda p: _rewritten(
        p,
        _mixed(p.with_suffix(".src.xlsx"), constant_memory=True),
        lambda x: x.replace(b"&gt;", b">"),
    ),
    "xlsm": lambda p: xlsx(p.with_suffix(".xlsm"), {"S": CONTACTS}),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_the_corpus_reads_the_same_from_the_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = CORPUS[name](tmp_path / f"{name}.xlsx")
    agree(path, monkeypatch)


@pytest.mark.parametrize("name", ["mixed", "mixed-inline", "no-references", "below-empty-rows"])
@pytest.mark.parametrize("batch", [1, 4, 9])
def test_batches_and_blocks_cut_anywhere_read_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, batch: int
) -> None:
    # Batches of a few rows (lost zeros learnt across them, blank rows waiting for the next
    # batch, empty batches) and blocks of a few hundred bytes (cut between any two rows).
    path = CORPUS[name](tmp_path / f"{name}.xlsx")
    monkeypatch.setattr(wbmod, "BATCH_ROWS", batch)
    monkeypatch.setattr(workbook_arrow, "BATCH_ROWS", batch)
    monkeypatch.setattr(stream, "BLOCK_BYTES", 300)
    agree(path, monkeypatch)


def test_what_the_stream_reads_is_what_a_csv_export_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = agree(_mixed(tmp_path / "m.xlsx"), monkeypatch)
    assert {"lost_leading_zeros", "cell_error", "excel_rounded", "ragged_row", "blank_row"} <= (
        _codes(got)
    )
    flat = _rows(got)
    assert [flat[0]["id"], flat[7]["id"]] == ["1000", "true"]
    assert flat[1]["note"] == "n&<1>\"'"
    assert flat[1]["when"] == "2024-01-02"
    assert flat[0]["when"] == "2024-02-03T04:05:06"
    assert flat[-1]["phone"] == "text from a formula"
    assert flat[-1]["when"] == "13:30:00"
    texts = _rows(agree(_texts(tmp_path / "t.xlsx"), monkeypatch))
    assert [r["name"] for r in texts[:3]] == ["a\x01b", "x\r\ny", "Zoë 日本語 😀"]
    assert texts[0]["other"] == "_x0041_ stays"
    rich = _rows(agree(_rich(tmp_path / "r.xlsx"), monkeypatch))
    assert rich[0]["name"] == "plain bold1 & tail"


@pytest.mark.parametrize("change", [_no_refs, _prefixed])
def test_error_cells_without_references_or_under_a_prefix_are_still_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[bytes], bytes]
) -> None:
    path = _rewritten(tmp_path / "n.xlsx", _mixed(tmp_path / "src.xlsx"), change)
    got = readers(path, monkeypatch)["stream"]
    errors = [(i[0], i[1]) for chunk in got[2] for i in chunk if i[2] == "cell_error"]
    if change is _prefixed:
        assert errors == [(15, "flag"), (17, "note")]
        assert got == readers(_mixed(tmp_path / "m.xlsx"), monkeypatch)["stream"]
    else:
        # The empty second row had no <row> element: without numbers, the rows follow on.
        assert errors == [(14, "flag"), (16, "note")]


@pytest.mark.parametrize("change", [_prefixed, _no_refs])
def test_a_small_sheet_with_such_error_cells_is_read_by_the_stream_by_default(
    tmp_path: Path, change: Callable[[bytes], bytes]
) -> None:
    """Below the streaming size fastexcel and calamine read the sheet, but they read error
    cells as empty and the reference regex cannot place these: the stream reads it instead,
    so ``#N/A`` is an issue on every path, never an empty value."""
    path = _rewritten(tmp_path / "n.xlsx", _mixed(tmp_path / "src.xlsx"), change)
    wbmod.clear_cache()
    chunks = list(iter_chunks(sniff(path), chunk_rows=7))
    errors = [(i.row, i.column) for c in chunks for i in c.issues if i.code == "cell_error"]
    assert len(errors) == 2
    assert [e[1] for e in errors] == ["flag", "note"]


def test_dates_times_and_durations_as_calamine_gives_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import python_calamine

    for opts in ({}, {"date_1904": True}):
        path = _dates(tmp_path / f"d{len(opts)}.xlsx", **opts)
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        expected = [
            [wbmod._cell_text(v) for v in r] for r in book.get_sheet_by_index(0).to_python()
        ]
        book.close()
        got = _rows(agree(path, monkeypatch, has_header=True))
        assert [list(r.values()) for r in got] == expected[1:]


def test_a_dtd_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = b'<?xml version="1.0"?>\n<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">]>\n'

    def change(xml: bytes) -> bytes:
        return bomb + xml[xml.find(b"<worksheet") :]

    source = xlsx(tmp_path / "src.xlsx", {"S": CONTACTS})
    path = _rewritten(tmp_path / "dtd.xlsx", source, change)
    profile = sniff(source)
    profile.path = str(path)
    monkeypatch.setattr(wbmod, "USE_STREAM_READER", True)
    with pytest.raises(FileError) as err:
        list(iter_chunks(profile))
    assert err.value.code == "workbook_corrupt"
    assert "DTD" in str(err.value)


def test_a_sheet_damaged_inside_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _sheet(tmp_path / "d.xlsx", 3_000)
    profile = sniff(path)
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(path.read_bytes())
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    monkeypatch.setattr(wbmod, "USE_STREAM_READER", True)
    with pytest.raises(FileError) as err:
        list(iter_chunks(profile))
    assert err.value.code == "workbook_corrupt"


def test_big_sheets_are_streamed_and_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = xlsx(tmp_path / "c.xlsx", {"S": CONTACTS})
    profile = sniff(path)
    used: list[bool] = []
    real = stream.read

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        used.append(out is not None)
        return out

    monkeypatch.setattr(stream, "read", spy)
    wbmod.clear_cache()
    list(iter_chunks(profile))
    assert not used  # small: fastexcel, kept for the next pass
    assert wbmod._cache is not None
    monkeypatch.setattr(wbmod, "STREAM_SHEET_BYTES", 100)
    wbmod.clear_cache()
    list(iter_chunks(profile))
    assert used == [True]
    assert wbmod._cache is None  # streamed: nothing kept


def test_a_streamed_sheets_table_and_scan_come_from_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preview's read (``ScanPass``) of a sheet too big to keep reads its XML once and
    gives the scan ``scan_workbook`` would (a second pass would stream the sheet again)."""
    from outbound_desk.files import ScanPass, scan

    path = xlsx(tmp_path / "c.xlsx", {"S": CONTACTS})
    monkeypatch.setattr(wbmod, "STREAM_SHEET_BYTES", 100)
    profile = sniff(path)
    reads: list[str] = []
    real = stream.read

    def spy(*args: Any, **kwargs: Any) -> Any:
        reads.append("sheet")
        return real(*args, **kwargs)

    wanted = scan(profile)
    monkeypatch.setattr(stream, "read", spy)
    wbmod.clear_cache()
    one = ScanPass(profile, chunk_rows=2)
    chunks = list(one.chunks())
    assert reads == ["sheet"]
    got = one.scanned
    assert got is not None
    assert (got.rows, got.sha256, got.issue_counts) == (
        wanted.rows,
        wanted.sha256,
        wanted.issue_counts,
    )
    assert [(i.code, i.row, i.column) for i in got.issues] == [
        (i.code, i.row, i.column) for i in wanted.issues
    ]
    assert sum(c.table.num_rows + len(c.raw) for c in chunks) == wanted.rows


def test_the_first_batch_reads_only_the_shared_strings_it_refers_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writers put a string in the table where it first appears: the first batch of a big
    sheet needs the first few of them, and gets its rows without reading the rest (they are
    read as later batches ask, and the chunks are those of the other readers)."""
    rows = [["id", "name"]] + [[f"C{i:05d}", f"name {i}"] for i in range(6000)]
    path = xlsx(tmp_path / "s.xlsx", {"S": rows})
    parsed: list[int] = []
    real = stream._si_texts

    def counting(piece: bytes) -> Any:
        out = real(piece)
        parsed.append(len(out))
        return out

    monkeypatch.setattr(stream, "_si_texts", counting)
    monkeypatch.setattr(stream, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(wbmod, "BATCH_ROWS", 500)
    monkeypatch.setattr(wbmod, "USE_STREAM_READER", True)
    wbmod.clear_cache()
    chunks = iter_chunks(sniff(path), chunk_rows=500)
    first = next(chunks)
    assert first.table.column("name").to_pylist()[:2] == ["name 0", "name 1"]
    assert 0 < sum(parsed) < 12_000 // 4  # a quarter of the table at most
    rest = list(chunks)
    assert sum(parsed) == 2 + 12_000  # the header's two, every id and name: each once
    names = [n for c in [first, *rest] for n in c.table.column("name").to_pylist()]
    assert names == [f"name {i}" for i in range(6000)]


# ---------------------------------------------------------------------------------- properties

cells = st.one_of(
    st.none(),
    st.integers(-(10**15) + 1, 10**15 - 1),
    st.integers(10**15, 10**19),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.dates(dt.date(1900, 3, 1), dt.date(2199, 12, 31)),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2199, 12, 31)),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8),
    st.sampled_from(["00123", "0042", "123", "#N/A", "#REF!", "true", "-7", "1.50", "a&b", ""]),
    st.tuples(st.just("=1+1"), st.sampled_from([2, "two", 10**16, True, "#DIV/0!"])),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(cells, min_size=0, max_size=6), min_size=1, max_size=25),
    st.booleans(),
    st.integers(1, 30),
)
def test_the_stream_gives_what_the_other_readers_give(
    table: list[list[Any]], inline: bool, batch: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        opts = {"constant_memory": True} if inline else {}
        path = xlsx(Path(tmp) / "p.xlsx", {"S": [["a", "b", "c", "d"], *table]}, **opts)
        mp.setattr(wbmod, "BATCH_ROWS", batch)
        mp.setattr(workbook_arrow, "BATCH_ROWS", batch)
        mp.setattr(stream, "BLOCK_BYTES", 512)
        got = readers(path, mp, has_header=True, skip_rows=0)
    assert got["stream"] == got["calamine"]
    assert got["stream"] == got["default"]


def test_every_value_reads_back_intact_or_flagged_from_the_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.files.test_workbook_properties import test_every_value_reads_back_intact_or_flagged

    monkeypatch.setattr(wbmod, "USE_STREAM_READER", True)
    test_every_value_reads_back_intact_or_flagged()


# ---------------------------------------------------------------------------------- memory


def _sheet(path: Path, rows: int) -> Path:
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("S")
    ws.write_row(0, 0, ["id", "phone", "city", "zip"])
    for r in range(1, rows + 1):
        ws.write_number(r, 0, 10**8 + r)
        ws.write_number(r, 1, 4155550000 + r)
        ws.write_string(r, 2, ("Boston", "Austin", "Fresno")[r % 3])
        ws.write_string(r, 3, f"{r % 97:05d}")
    book.close()
    return path


def _peak(path: Path) -> tuple[int, int]:
    """Peak bytes traced (Python and numpy) and the most Arrow bytes held at once while the
    sheet's chunks are read one after the other, and the number of chunks."""
    import pyarrow as pa

    profile = sniff(path)
    held = 0
    chunks = 0
    tracemalloc.start()
    try:
        base = pa.total_allocated_bytes()
        for chunk in iter_chunks(profile, chunk_rows=500):
            held = max(held, pa.total_allocated_bytes() - base)
            chunks += 1
            del chunk
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak + held, chunks


def test_the_stream_holds_a_batch_not_the_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wbmod, "USE_STREAM_READER", True)
    monkeypatch.setattr(wbmod, "BATCH_ROWS", 1_000)
    monkeypatch.setattr(stream, "BLOCK_BYTES", 32 << 10)
    small, n_small = _peak(_sheet(tmp_path / "small.xlsx", 4_000))
    big, n_big = _peak(_sheet(tmp_path / "big.xlsx", 16_000))
    assert (n_small, n_big) == (8, 32)
    # Four times the rows, not four times the memory (the whole-sheet readers' grows so).
    assert big < 1.5 * small, (small, big)
    monkeypatch.setattr(wbmod, "USE_STREAM_READER", False)
    whole_small, _ = _peak(tmp_path / "small.xlsx")
    whole_big, _ = _peak(tmp_path / "big.xlsx")
    assert whole_big > 2 * whole_small, (whole_small, whole_big)
