"""Workbooks (.xlsx, .xlsm, .xls, .ods) read as the same profile and chunks a CSV gives.

python-calamine (Rust) reads the cells (an .xlsx sheet's data rows: fastexcel, straight into
Arrow, ``files.workbook_arrow``); each cell becomes the text a CSV export should have held:
an integral number its exact digits (no ``.0``), dates and times ISO 8601, booleans
``true``/``false``, a formula its cached value. What Excel already damaged is flagged with the
sheet row and the column: numbers with more than 15 significant digits (Excel keeps 15, the
rest are gone), numbers in a column whose text values keep their leading zeros (the number
lost them), error cells (``#N/A``, ``#REF!`` ...).

Records are numbered by sheet row, as Excel shows them, so "row 7" is row 7 in Excel too.
Title or note rows above the header are found and skipped (``Overrides.skip_rows`` forces
how many); empty rows and columns around the table are ignored.

calamine (and fastexcel) read a whole sheet into memory before the first row comes out
(about 0.55 kB per row of six columns); the preview of a big .xlsx sheet therefore reads its
first rows straight from the sheet's XML stream (:func:`_XlsxHead`), which takes
milliseconds at any size, and the rows of an .xlsx sheet whose XML is over
:data:`STREAM_SHEET_BYTES` are read from that stream too (``files.workbook_stream``), in
memory bounded by a batch of rows plus the workbook's shared strings. .xls and .ods sheets
cannot be streamed (an .xls is one binary OLE file, an .ods's ``content.xml`` holds every
sheet; python-calamine reads both whole).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from outbound_desk.base.cancel import Progress
from outbound_desk.files import checks
from outbound_desk.files.dialect import detect_header, unique_columns
from outbound_desk.files.model import (
    ISSUES_KEPT_PER_CODE,
    MAX_COLUMNS,
    Dialect,
    FileError,
    FileProfile,
    Issue,
    Overrides,
    RecordChunk,
    Severity,
    SheetInfo,
    WorkbookInfo,
)
from outbound_desk.files.repair import mojibake_in_table

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

IsCancelled = Callable[[], bool]

#: Data rows kept for the preview (as for text files).
PREVIEW_RECORDS = 200
#: Rows looked at above the table for title or note rows.
TITLE_SCAN_ROWS = 30
#: A sheet whose XML is bigger than this is previewed from its XML stream, not by calamine.
STREAM_PREVIEW_BYTES = 8 * 1024 * 1024

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_SUFFIXES = {".xlsx": "xlsx", ".xlsm": "xlsm", ".xls": "xls", ".ods": "ods"}
#: Excel's error values, as a cell (or a text export of one) shows them.
EXCEL_ERRORS = frozenset(
    (
        "#N/A",
        "#REF!",
        "#VALUE!",
        "#DIV/0!",
        "#NAME?",
        "#NULL!",
        "#NUM!",
        "#SPILL!",
        "#CALC!",
        "#GETTING_DATA",
        "#FIELD!",
        "#BLOCKED!",
        "#UNKNOWN!",
        "#BUSY!",
        "#CONNECT!",
    )
)
#: Integral numbers up to this are exact in a double and within Excel's 15 digits.
_EXACT_LIMIT = 10**15

Cell = Any  # int | float | str | bool | date | datetime | time | timedelta


def detect_format(path: str, head: bytes) -> str | None:
    """The workbook format of a file (from its first bytes and name), or ``None``."""
    suffix = os.path.splitext(path)[1].lower()
    if head.startswith(_OLE_MAGIC):
        # An .xls, or an encrypted .xlsx (Office wraps those in an OLE container).
        return _SUFFIXES.get(suffix, "xls") if suffix != ".ods" else "xls"
    if not head.startswith(_ZIP_MAGIC):
        return None
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "xl/workbook.xml" in names:
                return "xlsm" if suffix == ".xlsm" else "xlsx"
            if {"content.xml", "mimetype"} <= names and b"spreadsheet" in z.read("mimetype"):
                return "ods"
            if "xl/workbook.bin" in names:
                return "xlsb"
    except (zipfile.BadZipFile, OSError, KeyError):
        if suffix in _SUFFIXES:
            return _SUFFIXES[suffix]  # a damaged workbook: calamine says what is wrong
    return None


def _encrypted(path: str) -> bool:
    """Whether an OLE file is an encrypted Office document (its EncryptedPackage stream)."""
    name = "EncryptedPackage".encode("utf-16-le")
    try:
        with open(path, "rb") as f:
            data = f.read(4 << 20)
    except OSError:
        return False
    return name in data


def _open(path: str, fmt: str) -> Any:
    import python_calamine as calamine

    if fmt == "xlsb":
        raise FileError(
            f"{os.path.basename(path)} is an Excel binary workbook (.xlsb); save it as .xlsx "
            "and open that",
            code="workbook_unsupported",
        )
    if fmt in ("xls", "xlsx", "xlsm") and _is_ole(path) and _encrypted(path):
        raise FileError(_password_message(path), code="workbook_encrypted")
    try:
        return calamine.CalamineWorkbook.from_path(path)
    except calamine.PasswordError:
        raise FileError(_password_message(path), code="workbook_encrypted") from None
    except (calamine.CalamineError, ValueError, OSError) as exc:
        raise FileError(_corrupt_message(path, exc), code="workbook_corrupt") from None


def _is_ole(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(8) == _OLE_MAGIC
    except OSError:
        return False


def _password_message(path: str) -> str:
    return (
        f"{os.path.basename(path)} is password-protected: open it in Excel, remove the "
        "password (File > Info > Protect Workbook) and save it again"
    )


def _corrupt_message(path: str, exc: BaseException) -> str:
    why = " ".join(str(exc).split())[:160] or type(exc).__name__
    return (
        f"{os.path.basename(path)} is not a readable workbook ({why}); open it in Excel or "
        "LibreOffice and save it again"
    )


def _sheet_error(path: str, exc: BaseException) -> FileError:
    return FileError(_corrupt_message(path, exc), code="workbook_corrupt")


# ---------------------------------------------------------------------------------- cells


@dataclass(slots=True)
class _Columns:
    """What the reader learns about the columns as it goes (for lost leading zeros)."""

    #: Length of the all-digit text values with a leading zero seen per column position.
    zero_lengths: dict[int, Counter[int]] = field(default_factory=dict)

    def usual_zero_length(self, j: int) -> int | None:
        seen = self.zero_lengths.get(j)
        return seen.most_common(1)[0][0] if seen else None


def _iso_duration(value: dt.timedelta) -> str:
    seconds = value.total_seconds()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.6f}".rstrip("0").rstrip(".")
    return f"{sign}PT{int(hours)}H{int(minutes)}M{text}S"


def _number_text(value: float) -> tuple[str, bool]:
    """A number's text, and whether Excel must have rounded it (more than 15 digits)."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value), False
    if value.is_integer():
        if abs(value) < _EXACT_LIMIT:
            return str(int(value)), False
        # Excel keeps 15 significant digits: the ones after them are what the double holds.
        return str(int(Decimal(f"{value:.15g}"))), True
    return f"{value:.15g}", False


def _lost(shown: str, column: str | None, row: int) -> Issue:
    return Issue(
        row,
        column,
        "excel_rounded",
        f"the number {shown} has more than 15 digits: Excel keeps 15 significant digits, so "
        f"any after the 15th are lost (row {row}{checks._in(column)}); format the column as "
        "Text in the source and enter or import the values again",
    )


def _error_cell(value: str, column: str | None, row: int) -> Issue:
    return Issue(
        row,
        column,
        "cell_error",
        f"the cell holds the error {value} (a formula that failed, row {row}"
        f"{checks._in(column)}); fix the formula or the value in the workbook",
    )


def _zeros(value: str, usual: int, column: str | None, row: int) -> Issue:
    return Issue(
        row,
        column,
        "lost_leading_zeros",
        f"{value} is a number where this column holds text with leading zeros: Excel "
        f"dropped them (was it {value.zfill(usual)}?); format the column as Text and enter "
        "the value again",
        Severity.WARNING,
    )


def _cell_text(value: Cell) -> str:
    """A cell's text, without any check (header cells, title rows)."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is float:
        return _number_text(value)[0]
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if isinstance(value, dt.timedelta):
        return _iso_duration(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return "" if value is None else str(value)


def _convert_column(
    values: Sequence[Cell],
    j: int,
    name: str,
    records: npt.NDArray[np.int64],
    state: _Columns,
    usual: int | None,
    errors: dict[int, str],
    issues: list[Issue],
) -> pa.Array:
    """One column's cells as text; issues for what Excel damaged. *errors* are this
    column's error cells by sheet row."""
    import pyarrow as pa

    kinds = set(map(type, values))
    array: pa.Array | None = None
    numbers: list[int] | None = None  # positions of number cells, when some are not
    if kinds == {float}:
        array = _integral_texts(values)
    if array is None and kinds <= {str}:
        array = pa.array(values, type=pa.string())
        if not EXCEL_ERRORS.isdisjoint(values):
            out = list(values)
            for i, v in enumerate(out):
                if v in EXCEL_ERRORS:
                    issues.append(_error_cell(v, name, int(records[i])))
                    out[i] = ""
            array = pa.array(out, type=pa.string())
        _learn_zeros(array, j, state)
        numbers = []
    if array is None:
        out = []
        numbers = []
        append = out.append
        for i, v in enumerate(values):
            kind = type(v)
            if kind is str:
                if v in EXCEL_ERRORS:
                    issues.append(_error_cell(v, name, int(records[i])))
                    v = ""
                append(v)
            elif kind is float:
                text, rounded = _number_text(v)
                if rounded:
                    issues.append(_lost(f"{v:.15g}", name, int(records[i])))
                append(text)
                numbers.append(i)
            elif kind is bool:
                append("true" if v else "false")
            elif kind is int:
                text = str(v)
                if len(text.lstrip("-")) > 15:
                    issues.append(_lost(text, name, int(records[i])))
                append(text)
                numbers.append(i)
            else:
                append(_cell_text(v))
        array = pa.array(out, type=pa.string())
        _learn_zeros(array, j, state)
    usual = state.usual_zero_length(j) or usual
    return _flag_zeros_and_errors(array, numbers, usual, name, records, errors, issues)


def _flag_zeros_and_errors(
    array: pa.Array,
    numbers: Sequence[int] | npt.NDArray[np.int64] | None,
    usual: int | None,
    name: str,
    records: npt.NDArray[np.int64],
    errors: dict[int, str],
    issues: list[Issue],
) -> pa.Array:
    """A converted column's last checks, the same for both readers: the number cells
    (*numbers*: their positions; None: every cell) shorter than the column's *usual* digit
    count are lost zeros, and the error cells (*errors*, by sheet row) become issues and
    empty values."""
    import numpy as np
    import pyarrow as pa

    if usual and (numbers is None or len(numbers)):
        digits = array if numbers is None else array.take(pa.array(numbers))
        for k in _short_digits(digits, usual):
            i = k if numbers is None else int(numbers[k])
            issues.append(_zeros(array[i].as_py(), usual, name, int(records[i])))
    if errors:
        rows = np.fromiter(errors, dtype=np.int64, count=len(errors))
        where = np.searchsorted(records, rows)
        hits = [
            (int(pos), int(row))
            for pos, row in zip(where.tolist(), rows.tolist(), strict=True)
            if pos < len(records) and records[pos] == row
        ]
        if hits:
            for _, row in hits:
                issues.append(_error_cell(errors[row], name, row))
            array = _replace_values(array, [pos for pos, _ in hits], [""] * len(hits))
    return array


def _replace_values(array: pa.Array, positions: Any, texts: Sequence[str]) -> pa.Array:
    """*array* with the values at *positions* (ascending) replaced by *texts*."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    mask = np.zeros(len(array), dtype=bool)
    mask[positions] = True
    return pc.replace_with_mask(array, pa.array(mask), pa.array(texts, type=array.type))


def _short_digits(array: pa.Array, usual: int) -> list[int]:
    """Positions of all-digit values shorter than *usual*."""
    import pyarrow.compute as pc

    short = pc.and_(
        pc.less(pc.utf8_length(array), usual), pc.match_substring_regex(array, r"^[0-9]+$")
    )
    hits: list[int] = pc.indices_nonzero(short).to_pylist()
    return hits


def _integral_texts(values: Sequence[float]) -> pa.Array | None:
    """The digits of a column of integral numbers within 15 digits (numpy and Arrow, no
    Python per cell); ``None`` when some number is not such (the exact path says what)."""
    import numpy as np
    import pyarrow as pa

    arr = np.asarray(values, dtype=np.float64)
    if not (np.all(np.abs(arr) < _EXACT_LIMIT) and np.all(arr == np.trunc(arr))):
        return None
    return pa.array(arr.astype(np.int64)).cast(pa.string())


def _learn_zeros(texts: pa.Array, j: int, state: _Columns) -> None:
    """Remember the lengths of the all-digit texts that start with "0": the column keeps
    zeros as text, so its numbers lost theirs."""
    import pyarrow.compute as pc

    zeros = pc.match_substring_regex(texts, r"^0[0-9]+$")
    if pc.any(zeros).as_py():
        lengths = pc.utf8_length(texts.filter(zeros)).to_pylist()
        state.zero_lengths.setdefault(j, Counter()).update(lengths)


# ---------------------------------------------------------------------------------- sheets


def _sheets(book: Any, path: str) -> list[SheetInfo]:
    out = []
    for i, meta in enumerate(book.sheets_metadata):
        typ = str(meta.typ).rsplit(".", 1)[-1]
        if typ not in ("WorkSheet", "MacroSheet"):
            continue  # chart and dialog sheets hold no table
        hidden = str(meta.visible).rsplit(".", 1)[-1] != "Visible"
        out.append(SheetInfo(meta.name, i, hidden))
    return out


def _pick_sheet(sheets: list[SheetInfo], wanted: str | None, path: str) -> SheetInfo:
    if not sheets:
        raise FileError(f"{os.path.basename(path)} has no worksheet", code="empty")
    if wanted is None:
        return sheets[0]
    for s in sheets:
        if s.name == wanted:
            return s
    for s in sheets:
        if s.name.casefold() == wanted.casefold():
            return s
    if wanted.isdigit() or (wanted.startswith("-") and wanted[1:].isdigit()):
        n = int(wanted)
        if -len(sheets) <= n < len(sheets):
            return sheets[n]
    names = ", ".join(repr(s.name) + (" (hidden)" if s.hidden else "") for s in sheets)
    raise FileError(
        f"no sheet {wanted!r} in {os.path.basename(path)}; its sheets are {names} "
        "(give a name or a 0-based position)",
        code="no_such_sheet",
    )


@dataclass(slots=True)
class _Head:
    """The first rows of a sheet, and where they are."""

    rows: list[list[Cell]]  # each padded to the same width
    first_row: int  # sheet row (1-based) of rows[0]
    first_column: int  # 0-based sheet column of each row's first cell
    last_row: int | None  # the sheet's last row with data, when known
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, abs col)


def _calamine_head(sheet: Any, nrows: int) -> _Head:
    rows = sheet.to_python(skip_empty_area=True, nrows=nrows)
    start = sheet.start or (0, 0)
    end = sheet.end
    return _Head(
        [list(r) for r in rows],
        start[0] + 1,
        start[1],
        end[0] + 1 if end is not None else None,
    )


# ---------------------------------------------------------------------------------- sniff


def _row_width(row: Sequence[Cell]) -> int:
    """Position after the last non-empty cell."""
    for i in range(len(row) - 1, -1, -1):
        v = row[i]
        if v is not None and v != "":
            return i + 1
    return 0


def _filled(row: Sequence[Cell]) -> int:
    return sum(1 for v in row if v is not None and v != "")


def _find_table(rows: list[list[Cell]]) -> int:
    """Index of the header (or first record) below any title or note rows."""
    nonblank = [i for i, r in enumerate(rows) if _filled(r)]
    if len(nonblank) < 2:
        return nonblank[0] if nonblank else 0
    window = nonblank[:TITLE_SCAN_ROWS]
    counts = [_filled(rows[i]) for i in nonblank[: TITLE_SCAN_ROWS + 20]]
    usual = Counter(counts[1:]).most_common(1)[0][0] if len(counts) > 1 else counts[0]
    if usual < 2:
        return nonblank[0]
    for i in window:
        if _filled(rows[i]) >= max(2, (usual + 1) // 2 + (usual > 3)):
            return i
    return nonblank[0]


def _typed_header(first: Sequence[Cell], rest: Sequence[Sequence[Cell]]) -> bool | None:
    """Header by cell types: all text above a column of numbers, dates or booleans."""
    if any(type(v) is not str for v in first if v not in (None, "")):
        return False
    for j, name in enumerate(first):
        if not name:
            continue
        below = [r[j] for r in rest[:50] if j < len(r) and r[j] not in (None, "")]
        if below and sum(type(v) is not str for v in below) >= 0.5 * len(below):
            return True
    return None


def sniff_workbook(path: str, fmt: str, size: int, overrides: Overrides) -> FileProfile:
    """The profile of a workbook's sheet, from its first rows."""
    want = TITLE_SCAN_ROWS + PREVIEW_RECORDS + 60
    big = _big_xlsx_sheets(path, fmt)
    if big:
        # calamine reads all shared strings when it opens a workbook (1.5 s for a sheet of
        # a million rows): the first rows come straight from the XML instead.
        listed = _xlsx_sheet_list(path)
        # (Whether a sheet has rows is known from its first row: instant at any size.)
        sheets = [SheetInfo(s.name, s.index, s.hidden, _has_rows(path, part)) for s, part in listed]
        chosen = _choose(sheets, overrides.sheet, path)
        head = _XlsxHead(path, listed[chosen.index][1]).read(want)
    else:
        chosen, sheets, head = _calamine_sniff(path, fmt, overrides, want)
    if not any(_filled(r) for r in head.rows):
        raise FileError(
            f"sheet {chosen.name!r} of {os.path.basename(path)} is empty; choose another "
            "sheet (--sheet)",
            code="empty",
        )
    if overrides.skip_rows is not None:
        start = max(overrides.skip_rows + 1 - head.first_row, 0)
    else:
        start = _find_table(head.rows)
    rows = head.rows[start:]
    first_row = head.first_row + start
    texts = [[_cell_text(v) for v in r] for r in rows]
    if overrides.has_header is not None:
        has_header = overrides.has_header
    else:
        typed = _typed_header(rows[0], rows[1:]) if rows else None
        has_header = typed if typed is not None else detect_header(texts)
    issues: list[Issue] = []
    if has_header:
        width = _row_width(rows[0]) if rows else 0
        header: list[str] | None = texts[0][:width]
        assert header is not None
        columns = unique_columns(header)
        issues.extend(checks.header_issues(header))
        data_rows, data_texts = rows[1:], texts[1:]
    else:
        header = None
        width = max((_row_width(r) for r in rows), default=0)
        columns = [f"column_{i}" for i in range(1, width + 1)]
        if width > MAX_COLUMNS:
            issues.append(checks.too_many_fields(first_row, width))
        data_rows, data_texts = rows, texts
    skipped = first_row - 1 if overrides.skip_rows is None else overrides.skip_rows
    skipped_titles = start  # rows of the sheet's data area above the table
    if skipped_titles and overrides.skip_rows is None:
        issues.append(
            Issue(
                None,
                None,
                "title_rows_skipped",
                f"{skipped_titles} title or note row(s) above the "
                f"{'header' if has_header else 'first row'} (sheet row {first_row}) are "
                "skipped; use --skip-rows N (or the preview's setting) to say otherwise",
                Severity.INFO,
            )
        )
    data_start = first_row + 1 if has_header else first_row
    records = list(range(data_start, data_start + len(data_rows)))
    state = _Columns()
    digit_lengths = checks.usual_digit_lengths(columns, [r[:width] for r in data_texts])
    table, recs, cell_issues, raw, blanks = _convert(
        data_rows, records, columns, head.first_column, state, digit_lengths, head.errors
    )
    table, found = mojibake_in_table(table, recs, fix=overrides.fix_mojibake)
    issues.extend(cell_issues + found)
    issues.extend(checks.blank(r) for r in blanks)
    preview = [list(r.values()) for r in table.slice(0, PREVIEW_RECORDS).to_pylist()]
    profile = FileProfile(
        path=path,
        size_bytes=size,
        encoding="utf-8",
        bom=False,
        encoding_confidence=1.0,
        encoding_runner_up=None,
        dialect=Dialect(),
        has_header=has_header,
        header=header,
        columns=columns,
        line_ending="none",
        preview=preview,
        digit_lengths=digit_lengths,
        overrides=overrides,
        workbook=WorkbookInfo(
            format=fmt,
            sheets=tuple(sheets),
            sheet=chosen.name,
            first_row=first_row,
            skipped=skipped,
            first_column=head.first_column,
            last_row=head.last_row,
        ),
    )
    del raw
    issues.sort(key=lambda i: (i.row is None, i.row or 0))
    profile.issues = issues
    profile.issue_counts = dict(Counter(i.code for i in issues))
    return profile


def _choose(sheets: list[SheetInfo], wanted: str | None, path: str) -> SheetInfo:
    """The sheet asked for, or the first visible one with data."""
    if wanted is not None:
        return _pick_sheet(sheets, wanted, path)
    chosen = next((s for s in sheets if s.has_data is not False and not s.hidden), None)
    chosen = chosen or next((s for s in sheets if s.has_data is not False), None)
    if chosen is None:
        raise FileError(f"every sheet of {os.path.basename(path)} is empty", code="empty")
    return chosen


def _calamine_sniff(
    path: str, fmt: str, overrides: Overrides, want: int
) -> tuple[SheetInfo, list[SheetInfo], _Head]:
    book = _open(path, fmt)
    try:
        sheets: list[SheetInfo] = []
        loaded: dict[int, Any] = {}
        for s in _sheets(book, path):
            try:
                sheet = book.get_sheet_by_index(s.index)
            except Exception as exc:  # calamine's errors have no common base
                raise _sheet_error(path, exc) from None
            loaded[s.index] = sheet
            sheets.append(SheetInfo(s.name, s.index, s.hidden, sheet.height > 0))
        chosen = _choose(sheets, overrides.sheet, path)
        head = _calamine_head(loaded[chosen.index], want)
        if fmt in ("xlsx", "xlsm"):
            # An irregular sheet's first rows show those cells empty; the scan (the stream)
            # flags them.
            with contextlib.suppress(_IrregularSheetError):
                head.errors = _xlsx_errors(path, chosen)
    finally:
        book.close()
    return chosen, sheets, head


def _convert(
    rows: Sequence[Sequence[Cell]],
    records: Sequence[int],
    names: Sequence[str],
    first_column: int,
    state: _Columns,
    digit_lengths: dict[str, int],
    errors: dict[tuple[int, int], str],
) -> tuple[pa.Table, npt.NDArray[np.int64], list[Issue], dict[int, list[str]], list[int]]:
    """Rows of cells as a string table; blank rows left out, rows too wide set aside."""
    import numpy as np
    import pyarrow as pa

    width = len(names)
    n = len(rows)
    raw: dict[int, list[str]] = {}
    blanks: list[int] = []
    issues: list[Issue] = []
    # Column by column (C loops over tuples and object arrays), not row by row.
    by_column = list(zip(*rows, strict=False)) if n else []
    while len(by_column) < width:
        by_column.append(("",) * n)
    objects = [np.array(col, dtype=object) for col in by_column]
    filled = [np.asarray(col != "", dtype=bool) for col in objects]
    blank = ~np.logical_or.reduce(filled[:width]) if width and n else np.zeros(n, dtype=bool)
    wide = np.logical_or.reduce(filled[width:]) if len(filled) > width else None
    recs = np.asarray(records, dtype=np.int64)
    if wide is not None and wide.any():
        for i in np.flatnonzero(wide).tolist():
            row = rows[i]
            last = _row_width(row)
            issues.append(_too_wide(int(recs[i]), last, width))
            raw[int(recs[i])] = [_cell_text(v) for v in row[:last]]
        blank = blank | wide
        blank_only = ~np.logical_or.reduce(filled) if n else blank
        blanks = recs[blank_only].tolist()
    else:
        blanks = recs[blank].tolist()
    keep = ~blank
    everything = bool(keep.all())
    kept_records = recs if everything else recs[keep]
    columns: list[Any] = [
        by_column[j] if everything else objects[j][keep].tolist() for j in range(width)
    ]
    arrays = {}
    by_col: dict[int, dict[int, str]] = {}
    for (at_row, at_col), err in errors.items():
        by_col.setdefault(at_col, {})[at_row] = err
    for j, name in enumerate(names):
        arrays[name] = _convert_column(
            columns[j],
            j,
            name,
            kept_records,
            state,
            digit_lengths.get(name),
            by_col.get(first_column + j, {}),
            issues,
        )
    table = pa.table(arrays) if names else pa.table({})
    return table, kept_records, issues, raw, blanks


def _too_wide(record: int, fields: int, width: int) -> Issue:
    return Issue(
        record,
        None,
        "ragged_row",
        f"row {record} has values in {fields} columns where the header has {width}: a value "
        "beyond the table's last column; move it into the table or delete it",
    )


# ---------------------------------------------------------------------------------- chunks


def _load_sheet(profile: FileProfile) -> tuple[Any, Any]:
    info = profile.workbook
    assert info is not None
    book = _open(profile.path, info.format)
    try:
        sheet = book.get_sheet_by_name(info.sheet)
    except Exception as exc:  # calamine's errors have no common base
        book.close()
        raise _sheet_error(profile.path, exc) from None
    return book, sheet


#: Rows converted at a time (the chunks asked for are cut from these).
BATCH_ROWS = 50_000

_cache_lock = threading.Lock()
#: The last sheet read by fastexcel or calamine, converted: (key, batches). They must read a
#: whole sheet before its first row, so the passes of one validation (rows, then the id
#: column's duplicates), the preview's row loader and its scan reuse it instead of reading
#: the workbook again. An Arrow string table is a fraction of the cells calamine holds (1M
#: rows of 7 columns: about 120 MB). A sheet read from its XML stream is not kept.
_cache: tuple[tuple[Any, ...], list[RecordChunk]] | None = None


def _cache_key(profile: FileProfile) -> tuple[Any, ...]:
    info = profile.workbook
    assert info is not None
    st = os.stat(profile.path)
    return (
        os.path.abspath(profile.path),
        st.st_mtime_ns,
        st.st_size,
        info.sheet,
        profile.data_start,
        info.first_column,
        tuple(profile.columns),
        tuple(sorted(profile.digit_lengths.items())),
        profile.overrides.fix_mojibake,
    )


def clear_cache() -> None:
    """Forget the last sheet read (its memory goes back)."""
    global _cache
    with _cache_lock:
        _cache = None


def iter_workbook_chunks(
    profile: FileProfile,
    *,
    chunk_rows: int = 50_000,
    columns: Sequence[str] | None = None,
    progress: Progress | None = None,
    cancelled: IsCancelled | None = None,
) -> Iterator[RecordChunk]:
    """A workbook sheet's data rows as :class:`RecordChunk` s, as ``iter_chunks`` gives."""
    global _cache
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    if columns is not None:
        unknown = [c for c in columns if c not in profile.columns]
        if unknown:
            raise ValueError(f"no such columns in the file: {unknown}")
    wanted = list(columns) if columns is not None else list(profile.columns)
    try:
        key = _cache_key(profile)
    except OSError as exc:
        raise FileError(
            f"cannot read {profile.path}: {exc.strerror or exc}", code="unreadable"
        ) from None
    with _cache_lock:
        hit = _cache[1] if _cache is not None and _cache[0] == key else None
    batches: Iterator[RecordChunk]
    store: list[RecordChunk] | None = None
    if hit is not None:
        batches = _replay(hit, progress, cancelled)
    else:
        streamed = _streamed(profile, progress, cancelled)
        if streamed is not None:
            # Read from the XML stream: nothing kept (the memory is a batch's, not the
            # sheet's), the next pass reads the sheet again.
            batches = streamed
        else:
            batches = _read_batches(profile, progress, cancelled)
            store = []
    for batch in batches:
        if store is not None:
            store.append(batch)
        yield from _cut(batch, chunk_rows, wanted)
    if store is not None:
        with _cache_lock:
            _cache = (key, store)


def _replay(
    batches: list[RecordChunk], progress: Progress | None, cancelled: IsCancelled | None
) -> Iterator[RecordChunk]:
    total = sum(b.table.num_rows + len(b.raw) for b in batches) or 1
    done = 0
    for batch in batches:
        if cancelled is not None and cancelled():
            from outbound_desk.files.model import Cancelled

            raise Cancelled
        done += batch.table.num_rows + len(batch.raw)
        if progress is not None:
            progress(done, total, "reading")
        yield batch


def _cut(batch: RecordChunk, chunk_rows: int, wanted: list[str]) -> Iterator[RecordChunk]:
    table = batch.table.select(wanted)
    n = table.num_rows
    if n <= chunk_rows:
        yield RecordChunk(table, batch.records, list(batch.issues), dict(batch.raw))
        return
    for lo in range(0, n, chunk_rows):
        hi = min(lo + chunk_rows, n)
        part = batch.records[lo:hi]
        first = -1 if lo == 0 else int(part[0])
        last = 1 << 62 if hi == n else int(part[-1])
        issues = [i for i in batch.issues if i.row is None or first <= i.row <= last]
        raw = {r: v for r, v in batch.raw.items() if first <= r <= last}
        yield RecordChunk(table.slice(lo, hi - lo), part, issues, raw)


def _read_batches(
    profile: FileProfile, progress: Progress | None, cancelled: IsCancelled | None
) -> Iterator[RecordChunk]:
    """The sheet's rows converted, :data:`BATCH_ROWS` rows at a time: an .xlsx sheet by
    fastexcel into Arrow (``files.workbook_arrow``) when it can read it exactly, any other
    by calamine's cells."""
    info = profile.workbook
    assert info is not None
    try:
        # Both readers place the error cells before their first batch: nothing is yielded
        # before this may raise.
        if info.format in ("xlsx", "xlsm") and USE_ARROW_READER:
            part = _sheet_part(profile.path, info)
            if part is not None:
                from outbound_desk.files import workbook_arrow

                batches = workbook_arrow.read(profile, part, progress, cancelled)
                if batches is not None:
                    yield from batches
                    return
        yield from _calamine_batches(profile, progress, cancelled)
    except _IrregularSheetError:
        # Error cells calamine reads as empty and the reference regex cannot place: the
        # stream reader finds them (whatever the sheet's size).
        from outbound_desk.files import workbook_stream

        part = _sheet_part(profile.path, info)
        streamed = (
            None if part is None else workbook_stream.read(profile, part, progress, cancelled)
        )
        if streamed is None:
            raise FileError(
                f"{profile.path}: error cells (#N/A...) this reader cannot place; save the "
                "sheet again from Excel or LibreOffice",
                code="workbook_corrupt",
            ) from None
        yield from streamed


#: Whether .xlsx sheets are read by fastexcel (tests compare the two readers).
USE_ARROW_READER = True
#: Whether .xlsx sheets are read from their XML stream (``files.workbook_stream``): ``None``
#: those whose XML is bigger than :data:`STREAM_SHEET_BYTES`; True or False, every one or
#: none (tests compare the readers).
USE_STREAM_READER: bool | None = None
#: The sheets read from their XML stream, in memory bounded by a batch: those whose XML is
#: bigger than this. Smaller ones are read whole by fastexcel, whose batches are kept for
#: the next pass (``_cache``).
STREAM_SHEET_BYTES = 32 * 1024 * 1024


def _streamed(
    profile: FileProfile, progress: Progress | None, cancelled: IsCancelled | None
) -> Iterator[RecordChunk] | None:
    """The sheet's batches from its XML stream, when it is read so; else ``None``."""
    info = profile.workbook
    assert info is not None
    if info.format not in ("xlsx", "xlsm") or USE_STREAM_READER is False:
        return None
    part = _sheet_part(profile.path, info)
    if part is None:
        return None
    if USE_STREAM_READER is None:
        try:
            with zipfile.ZipFile(profile.path) as z:
                size = z.getinfo(part).file_size
        except (zipfile.BadZipFile, KeyError, OSError):
            return None
        if size <= STREAM_SHEET_BYTES:
            return None
    from outbound_desk.files import workbook_stream

    return workbook_stream.read(profile, part, progress, cancelled)


def _sheet_part(path: str, info: WorkbookInfo) -> str | None:
    """The XML part of the profile's sheet in an .xlsx."""
    try:
        with zipfile.ZipFile(path) as z:
            parts = _sheet_parts(z)
        index = next(s.index for s in info.sheets if s.name == info.sheet)
        return parts[index]
    except (zipfile.BadZipFile, KeyError, OSError, StopIteration, IndexError, SyntaxError):
        return None


def _calamine_batches(
    profile: FileProfile, progress: Progress | None, cancelled: IsCancelled | None
) -> Iterator[RecordChunk]:
    """The sheet read by calamine and converted, :data:`BATCH_ROWS` rows at a time."""
    import itertools

    import numpy as np

    info = profile.workbook
    assert info is not None
    book, sheet = _load_sheet(profile)
    try:
        start = sheet.start or (0, 0)
        height = sheet.height
        shift = info.first_column - start[1]
        errors = _xlsx_errors(profile.path, info) if info.format in ("xlsx", "xlsm") else {}
        rows: Iterator[list[Cell]] = sheet.iter_rows()
        sheet_row = start[0] + 1
        if start[0] > 0:
            # python-calamine's iter_rows starts at the sheet's first row, not at the first
            # row with data as `start` and to_python do: the rows above come out empty.
            first = next(rows, None)
            if first is not None and not _filled(first):
                sheet_row = 2
            elif first is not None:
                rows = itertools.chain([first], rows)
        skip = max(profile.data_start - sheet_row, 0)
        for _ in itertools.islice(rows, skip):
            pass
        record = sheet_row + skip
        total = max(height - skip, 1)
        state = _Columns()
        pending_blanks: list[int] = []
        done = 0
        while True:
            if cancelled is not None and cancelled():
                from outbound_desk.files.model import Cancelled

                raise Cancelled
            batch = list(itertools.islice(rows, BATCH_ROWS))
            if not batch:
                break
            if shift:
                batch = [r[shift:] for r in batch]
            records = range(record, record + len(batch))
            record += len(batch)
            table, recs, issues, raw, blanks = _convert(
                batch,
                records,
                profile.columns,
                info.first_column,
                state,
                profile.digit_lengths,
                errors,
            )
            del batch
            chunk, pending_blanks = _finish_batch(
                table, recs, issues, raw, blanks, pending_blanks, profile
            )
            done += len(records)
            if progress is not None:
                progress(done, total, "reading")
            yield chunk
        if not done:
            yield RecordChunk(_empty_table(profile.columns), np.zeros(0, dtype=np.int64), [], {})
    finally:
        book.close()


def _finish_batch(
    table: pa.Table,
    recs: npt.NDArray[np.int64],
    issues: list[Issue],
    raw: dict[int, list[str]],
    blanks: list[int],
    pending: list[int],
    profile: FileProfile,
) -> tuple[RecordChunk, list[int]]:
    """A converted batch as the chunk every reader gives: mojibake found (or fixed), blank
    rows between data rows reported (those after the last data row wait for the next batch:
    at the very end of the sheet they are no rows), issues in row order; and the blank rows
    still waiting."""
    table, found = mojibake_in_table(table, recs, fix=profile.overrides.fix_mojibake)
    issues.extend(found)
    last = max([*recs[-1:].tolist(), *raw], default=None)
    waiting = pending + blanks
    if last is None:
        pending = waiting
    else:
        issues.extend(checks.blank(r) for r in waiting if r < last)
        pending = [r for r in waiting if r > last]
    issues.sort(key=lambda i: i.row or 0)
    return RecordChunk(table, recs, issues, raw), pending


def _empty_table(names: Sequence[str]) -> pa.Table:
    import pyarrow as pa

    return pa.table({n: pa.array([], type=pa.string()) for n in names})


class WorkbookScan:
    """The scan's answers (rows, every cell issue, the workbook file's SHA-256) tallied from
    chunks that someone reads anyway: the preview's one read of a sheet gives its table and its
    scan together, as a CSV file's does (a streamed sheet is not kept, so a second pass would
    read it all again)."""

    def __init__(self, profile: FileProfile) -> None:
        self._profile = profile
        # The header's and the file's issues stay; the data rows' are found again, all of them.
        self._kept = [i for i in profile.issues if i.row is None or i.row < profile.data_start]
        self._counts: Counter[str] = Counter(i.code for i in self._kept)
        self._rows = 0

    def add(self, chunk: RecordChunk) -> None:
        self._rows += chunk.table.num_rows + len(chunk.raw)
        for issue in chunk.issues:
            self._counts[issue.code] += 1
            if self._counts[issue.code] <= ISSUES_KEPT_PER_CODE:
                self._kept.append(issue)

    def result(self) -> FileProfile:
        out = self._profile.copy()
        out.issues = sorted(self._kept, key=lambda i: (i.row is None, i.row or 0))
        out.issue_counts = dict(self._counts)
        out.rows = self._rows
        out.sha256 = file_sha256(self._profile.path)
        return out


def scan_workbook(
    profile: FileProfile,
    *,
    progress: Progress | None = None,
    cancelled: IsCancelled | None = None,
) -> FileProfile:
    """One pass over the sheet: its rows, every cell issue, the workbook file's SHA-256."""
    tally = WorkbookScan(profile)
    for chunk in iter_workbook_chunks(profile, progress=progress, cancelled=cancelled):
        tally.add(chunk)
    return tally.result()


def file_sha256(path: str) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            hasher.update(block)
    return hasher.hexdigest()


# ---------------------------------------------------------------------------------- .xlsx XML

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_BUILTIN_DATES = frozenset((*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)))
_DATE_CHARS = re.compile(r"[dmyhs]", re.IGNORECASE)
_FORMAT_NOISE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _sheet_parts(z: zipfile.ZipFile) -> list[str]:
    """The XML part of each sheet of the workbook, in workbook order."""
    import defusedxml.ElementTree as SafeXml

    book = SafeXml.fromstring(z.read("xl/workbook.xml"))
    rels = SafeXml.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_NS_PKG}Relationship")}
    parts = []
    for s in book.iter(f"{_NS_MAIN}sheet"):
        target = targets.get(s.get(f"{_NS_REL}id"), "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        parts.append(os.path.normpath(target).replace(os.sep, "/"))
    return parts


def _xlsx_sheet_list(path: str) -> list[tuple[SheetInfo, str]]:
    """Each worksheet of an .xlsx (name, position, hidden) with its XML part."""
    import defusedxml.ElementTree as SafeXml

    with zipfile.ZipFile(path) as z:
        book = SafeXml.fromstring(z.read("xl/workbook.xml"))
        parts = _sheet_parts(z)
    out = []
    for i, (sheet, part) in enumerate(zip(book.iter(f"{_NS_MAIN}sheet"), parts, strict=True)):
        hidden = sheet.get("state", "visible") != "visible"
        out.append((SheetInfo(sheet.get("name", f"Sheet{i + 1}"), i, hidden), part))
    return out


def _has_rows(path: str, part: str) -> bool:
    return bool(_XlsxHead(path, part).read(1).rows)


def _big_xlsx_sheets(path: str, fmt: str) -> dict[int, str]:
    """Sheets (by workbook position) whose XML is too big to load for a preview."""
    if fmt not in ("xlsx", "xlsm"):
        return {}
    try:
        with zipfile.ZipFile(path) as z:
            sizes = {i.filename: i.file_size for i in z.infolist()}
            parts = _sheet_parts(z)
    except (zipfile.BadZipFile, KeyError, OSError, SyntaxError):
        return {}
    return {i: part for i, part in enumerate(parts) if sizes.get(part, 0) > STREAM_PREVIEW_BYTES}


class _XlsxHead:
    """The first rows of an .xlsx sheet read from its XML stream (no whole-sheet load).

    Cell values come out as calamine gives them: numbers as floats, shared and inline
    strings as text, booleans, dates and times by their cell format; error cells as empty
    text, remembered in ``errors``.
    """

    def __init__(self, path: str, part: str) -> None:
        self.path = path
        self.part = part

    def read(self, nrows: int) -> _Head:
        import defusedxml.ElementTree as SafeXml

        with zipfile.ZipFile(self.path) as z:
            names = set(z.namelist())
            date_styles, date1904 = self._styles(z, names)
            strings = _SharedStrings(
                z, "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in names else None
            )
            cells: list[tuple[int, int, Cell]] = []
            errors: dict[tuple[int, int], str] = {}
            rows_seen = 0
            with z.open(self.part) as f:
                for _, el in SafeXml.iterparse(f, events=("end",)):
                    tag = el.tag
                    if tag == f"{_NS_MAIN}c":
                        m = _CELL_REF.match(el.get("r", ""))
                        if m is None:
                            continue
                        row, col = int(m.group(2)), _column_index(m.group(1))
                        value = self._value(el, strings, date_styles, date1904)
                        if el.get("t") == "e":
                            errors[(row, col)] = value or "#ERROR"
                            value = ""
                        if value is not None:
                            cells.append((row, col, value))
                        el.clear()
                    elif tag == f"{_NS_MAIN}row":
                        rows_seen += 1
                        el.clear()
                        if rows_seen >= nrows:
                            break
                    elif tag == f"{_NS_MAIN}dimension":
                        self.dimension = el.get("ref")
            strings.close()
        return self._grid(cells, errors, nrows)

    def _grid(
        self, cells: list[tuple[int, int, Cell]], errors: dict[tuple[int, int], str], nrows: int
    ) -> _Head:
        filled = [(r, c, v) for r, c, v in cells if v != ""] or cells
        if not filled:
            return _Head([], 1, 0, None, errors)
        top = min(r for r, _, _ in filled)
        left = min(c for _, c, _ in filled)
        right = max(c for _, c, _ in cells)
        bottom = max(r for r, _, _ in cells)
        grid = [[""] * (right - left + 1) for _ in range(bottom - top + 1)]
        for r, c, v in cells:
            if r >= top and c >= left:
                grid[r - top][c - left] = v
        last = None
        dim = getattr(self, "dimension", None)
        if dim and ":" in dim:
            m = _CELL_REF.match(dim.split(":")[1])
            if m is not None:
                last = int(m.group(2))
        return _Head(grid[:nrows], top, left, last, errors)

    @staticmethod
    def _styles(z: zipfile.ZipFile, names: set[str]) -> tuple[dict[int, str], bool]:
        formats, date1904 = _xf_formats(z, names)
        out: dict[int, str] = {}
        for i, (fid, code) in formats.items():
            if code is not None:
                kind = _date_kind(code)
            elif fid in _BUILTIN_DATES:
                kind = (
                    "time"
                    if fid in (18, 19, 20, 21, 45, 46, 47)
                    else ("datetime" if fid == 22 else "date")
                )
            else:
                kind = None
            if kind:
                out[i] = kind
        return out, date1904

    @staticmethod
    def _value(
        el: Any, strings: _SharedStrings, date_styles: dict[int, str], date1904: bool
    ) -> Cell:
        t = el.get("t", "n")
        if t == "inlineStr":
            node = el.find(f"{_NS_MAIN}is")
            return "".join(node.itertext()) if node is not None else ""
        v = el.find(f"{_NS_MAIN}v")
        text = v.text if v is not None and v.text is not None else None
        if text is None:
            return None
        if t == "s":
            return strings.get(int(text))
        if t in ("str", "e"):
            return text
        if t == "b":
            return text == "1"
        try:
            number = float(text)
        except ValueError:
            return text
        kind = date_styles.get(int(el.get("s", "0")))
        if kind:
            return _serial_date(number, kind, date1904)
        return number


def _xf_formats(
    z: zipfile.ZipFile, names: set[str]
) -> tuple[dict[int, tuple[int, str | None]], bool]:
    """Each cell style's number format (its id, and its code when the workbook defines it),
    and whether the workbook counts dates from 1904."""
    import defusedxml.ElementTree as SafeXml

    date1904 = False
    try:
        book = SafeXml.fromstring(z.read("xl/workbook.xml"))
        pr = book.find(f"{_NS_MAIN}workbookPr")
        date1904 = pr is not None and pr.get("date1904") in ("1", "true")
    except (KeyError, SafeXml.ParseError):
        pass
    if "xl/styles.xml" not in names:
        return {}, date1904
    root = SafeXml.fromstring(z.read("xl/styles.xml"))
    custom: dict[int, str] = {}
    fmts = root.find(f"{_NS_MAIN}numFmts")
    if fmts is not None:
        for nf in fmts:
            custom[int(nf.get("numFmtId", "0"))] = nf.get("formatCode", "")
    out: dict[int, tuple[int, str | None]] = {}
    xfs = root.find(f"{_NS_MAIN}cellXfs")
    if xfs is not None:
        for i, xf in enumerate(xfs):
            fid = int(xf.get("numFmtId", "0"))
            out[i] = (fid, custom.get(fid))
    return out, date1904


def _date_kind(code: str) -> str | None:
    bare = _FORMAT_NOISE.sub("", code)
    if not _DATE_CHARS.search(bare):
        return None
    has_date = bool(re.search(r"[dy]", bare, re.IGNORECASE)) or bool(
        re.search(r"(?<![hH:])m+(?![:sS])", bare) and not re.search(r"[hs]", bare, re.IGNORECASE)
    )
    has_time = bool(re.search(r"[hs]", bare, re.IGNORECASE))
    if has_date and has_time:
        return "datetime"
    return "date" if has_date else "time"


def _serial_date(number: float, kind: str, date1904: bool) -> Cell:
    base = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
    try:
        moment = base + dt.timedelta(days=number)
    except OverflowError:
        return number
    moment = moment.replace(microsecond=round(moment.microsecond / 1000) * 1000 % 1_000_000)
    if kind == "date":
        return moment.date()
    if kind == "time":
        return moment.time()
    return moment


class _SharedStrings:
    """The shared strings an .xlsx sheet refers to, read only as far as they are asked for."""

    def __init__(self, z: zipfile.ZipFile, part: str | None) -> None:
        import defusedxml.ElementTree as SafeXml

        self.items: list[str] = []
        self._f = z.open(part) if part else None
        self._events: Iterator[tuple[str, Any]] | None = (
            SafeXml.iterparse(self._f, events=("end",)) if self._f is not None else None
        )

    def get(self, index: int) -> str:
        while len(self.items) <= index and self._events is not None:
            for _, el in self._events:
                if el.tag == f"{_NS_MAIN}si":
                    self.items.append(_si_text(el))
                    el.clear()
                    if len(self.items) > index:
                        break
            else:
                self.close()
        return self.items[index] if index < len(self.items) else ""

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
        self._events = None


def _si_text(si: Any) -> str:
    """A shared string's text: its own ``t``, or its runs' (phonetic guides left out)."""
    parts = []
    for child in si:
        if child.tag == f"{_NS_MAIN}t":
            parts.append(child.text or "")
        elif child.tag == f"{_NS_MAIN}r":
            parts.extend(t.text or "" for t in child.iter(f"{_NS_MAIN}t"))
    return "".join(parts)


_ERROR_CELL = re.compile(
    rb'<c r="([A-Z]+)(\d+)"[^>]*?t="e"[^>]*>(?:<f[^>]*/>|<f[^>]*>.*?</f>)?<v>([^<]*)</v>'
)
#: An error cell in any spelling the XML allows: under a namespace prefix (``<x:c``, as the
#: .NET SDK writes), without its reference (cells then follow on), attributes in any order.
_ERROR_CELL_LOOSE = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\b[^>]*?\bt="e"')


class _IrregularSheetError(Exception):
    """The sheet holds error cells that :data:`_ERROR_CELL` cannot place (no reference, a
    prefix): only the stream reader, which counts rows and cells itself, finds them."""


def _error_cells(piece: bytes, out: dict[tuple[int, int], str], part: str) -> None:
    """Add the error cells of *piece* (whole cells of a sheet's XML) to *out* ((sheet row,
    column) -> "#N/A"); :class:`_IrregularSheetError` when it holds one the pattern cannot
    place. The whole-sheet readers' one look at error cells (calamine and fastexcel read them
    as empty cells)."""
    if b't="e"' not in piece:
        return
    placed = 0
    for m in _ERROR_CELL.finditer(piece):
        out[(int(m.group(2)), _column_index(m.group(1).decode()))] = m.group(3).decode() or "#ERROR"
        placed += 1
    if placed < len(_ERROR_CELL_LOOSE.findall(piece)):
        raise _IrregularSheetError(part)


def _xlsx_errors(path: str, info: WorkbookInfo | SheetInfo) -> dict[tuple[int, int], str]:
    """Where a sheet's error cells are ((sheet row, column) -> "#N/A"); calamine reads them
    as empty cells. One pass of the sheet's XML through a regex, only looking closer at the
    pieces that hold an error cell."""
    try:
        with zipfile.ZipFile(path) as z:
            parts = _sheet_parts(z)
            if isinstance(info, SheetInfo):
                index = info.index
            else:
                index = next(s.index for s in info.sheets if s.name == info.sheet)
            part = parts[index]
            out: dict[tuple[int, int], str] = {}
            tail = b""
            with z.open(part) as f:
                while True:
                    block = f.read(4 << 20)
                    if not block:
                        break
                    data = tail + block
                    cut = data.rfind(b"</c>")
                    cut = len(data) if cut < 0 else cut + 4
                    piece, tail = data[:cut], data[cut:]
                    _error_cells(piece, out, part)
            return out
    except (zipfile.BadZipFile, KeyError, OSError, StopIteration, IndexError, SyntaxError):
        return {}
