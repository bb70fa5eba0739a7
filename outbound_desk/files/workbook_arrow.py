""".xlsx sheets read by fastexcel straight into Arrow, converted a column at a time.

fastexcel (Rust, on calamine) hands each column over as one typed Arrow array: no Python
object per cell. It guesses one type per column (over every row), so a column that mixes
numbers and text arrives as text, and a number's text in it is not ours (``1.5E+18`` is
written out in full, a boolean in a column of numbers reads as ``1``). What the cell types
were in such columns comes from one pass of the sheet's XML (:func:`_scan`): a regex finds
the cells that are not text in the columns that arrived as text, the booleans in those that
arrived as numbers, and the error cells. Those cells, a minority, are converted in Python by
the same rules as ``files.workbook``; all the others are converted by numpy and Arrow.

A sheet this reader cannot read exactly the same way as calamine cells converted one by one
(dates or durations, cells written in an XML shape the regex does not know, a text that a
typed column could not hold) is read by ``files.workbook``'s calamine path instead:
:func:`read` returns ``None`` before it has yielded anything.

Memory: fastexcel, like calamine, reads the whole sheet before the first row comes out: the
shared strings, then its cells (about 0.4 kB per row of seven columns while it loads), then
the typed Arrow arrays (about 0.1 kB per such row); the text is converted
:data:`BATCH_ROWS` rows at a time. Sheets whose XML is over
``files.workbook.STREAM_SHEET_BYTES`` are read by ``files.workbook_stream`` instead, in memory
bounded by a batch.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from outbound_desk.base.cancel import Progress
from outbound_desk.files.model import FileProfile, Issue, RecordChunk

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

IsCancelled = Callable[[], bool]

#: Rows converted at a time (as ``files.workbook.BATCH_ROWS``: the same batches, so the same
#: lost-zeros answers, which learn from the rows before).
BATCH_ROWS = 50_000
#: Column types converted here; any other (dates, durations) goes to the calamine path.
_TYPES = frozenset(("float", "string", "boolean", "null"))
#: The one text a typed column may fail to hold that is still read exactly: an empty string.
_EMPTY_STRING = 'String("")\''


def _letters(index: int) -> str:
    """A 0-based column index as Excel's letters (0 -> A, 27 -> AB)."""
    out = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


@dataclass(slots=True)
class _Scan:
    """What the sheet's XML says about the cells the Arrow arrays cannot tell apart."""

    #: (sheet row, sheet column) -> the error's text ("#N/A").
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    #: Sheet column -> {sheet row: the cell's value}, for cells that are not text in a column
    #: that arrived as text (floats and booleans), and booleans in columns of numbers.
    typed: dict[int, dict[int, float | bool]] = field(default_factory=dict)
    #: The same, each column's rows sorted (made by :meth:`rows_in` on first use).
    _sorted: dict[int, tuple[Any, list[float | bool]]] = field(default_factory=dict)

    def rows_in(self, column: int, lo: int, hi: int) -> dict[int, float | bool]:
        """The typed cells of a sheet column in sheet rows *lo* to *hi*."""
        import numpy as np

        cells = self.typed.get(column)
        if not cells:
            return {}
        if column not in self._sorted:
            rows = np.fromiter(cells, dtype=np.int64, count=len(cells))
            order = np.argsort(rows, kind="stable")
            values = list(cells.values())
            self._sorted[column] = (rows[order], [values[i] for i in order.tolist()])
        rows, values = self._sorted[column]
        a, b = np.searchsorted(rows, [lo, hi + 1]).tolist()
        return dict(zip(rows[a:b].tolist(), values[a:b], strict=True))


_ATTR_T = re.compile(rb'\bt="([a-zA-Z]+)"')
_ATTR_S = re.compile(rb'\bs="([0-9]+)"')


#: What fastexcel writes for a cell that is not text, in a column that arrived as text: a
#: number (never in scientific notation), a boolean, a date or time. Only the cells whose
#: text looks like one of these are looked up in the XML.
_NOT_TEXT = r"^(?:-?[0-9]+(?:\.[0-9]+)?|true|false|[+-]?[0-9]{4,}-[0-9]{2}-[0-9]{2}.*)$"
_BOOL_CELL = re.compile(
    rb'<c r="([A-Z]+)(\d+)"[^>]*?t="b"[^>]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)?<v>([01])</v>'
)


def _candidates(
    batch: pa.RecordBatch, kinds: list[str], first_column: int, first: int
) -> list[tuple[int, int]]:
    """(sheet row, sheet column) of each cell of a text column whose text could be a number,
    a boolean or a date, in the order the XML holds them (row by row, left to right)."""
    import numpy as np
    import pyarrow.compute as pc

    rows: list[Any] = []
    cols: list[Any] = []
    for j, kind in enumerate(kinds):
        if kind != "string":
            continue
        column = batch.column(j)
        hits = pc.indices_nonzero(pc.fill_null(pc.match_substring_regex(column, _NOT_TEXT), False))
        if len(hits):
            rows.append(hits.to_numpy() + first)
            cols.append(np.full(len(hits), first_column + j, dtype=np.int64))
    if not rows:
        return []
    r, c = np.concatenate(rows), np.concatenate(cols)
    order = np.lexsort((c, r))
    return list(zip(r[order].tolist(), c[order].tolist(), strict=True))


def _scan(
    path: str,
    part: str,
    candidates: list[tuple[int, int]],
    number_columns: set[int],
    date_styles: dict[int, str],
) -> _Scan | None:
    """One pass of a sheet's XML, 4 MB at a time: each candidate cell looked up by its
    reference, the error cells, the booleans in columns of numbers. ``None`` when the sheet
    holds what :func:`read` does not convert (a date or time in a text column) or a
    candidate is not where it should be; ``files.workbook._IrregularSheetError`` when it
    holds an error cell the reference pattern cannot place (the stream reader reads it)."""
    from outbound_desk.files.workbook import _column_index, _error_cells

    out = _Scan()
    letters: dict[int, bytes] = {}
    todo = iter(candidates)
    nxt = next(todo, None)
    tail = b""
    with zipfile.ZipFile(path) as z, z.open(part) as f:
        while True:
            block = f.read(4 << 20)
            data = tail + block
            cut = data.rfind(b"</row>") if block else len(data) - 6
            cut = len(data) if cut < 0 else cut + 6
            piece, tail = data[:cut], data[cut:]
            _error_cells(piece, out.errors, part)  # raises for cells it cannot place
            if number_columns and b't="b"' in piece:
                if piece.count(b"<c ") != piece.count(b'<c r="'):
                    return None  # a cell the pattern would not see
                for m in _BOOL_CELL.finditer(piece):
                    col = _column_index(m.group(1).decode())
                    if col in number_columns:
                        out.typed.setdefault(col, {})[int(m.group(2))] = m.group(3) == b"1"
            if nxt is not None:
                last = piece.rfind(b'<c r="')
                ref = _CELL_REF_AT.match(piece, last + 6) if last >= 0 else None
                last_row = int(ref.group(2)) if ref is not None else 0
                pos = 0
                while nxt is not None and nxt[0] <= last_row:
                    row, col = nxt
                    name = letters.get(col)
                    if name is None:
                        name = letters[col] = _letters(col).encode()
                    found = _typed_cell(piece, b'<c r="%s%d"' % (name, row), pos, date_styles)
                    if found is None:
                        return None
                    pos, value = found
                    if value is not None:
                        out.typed.setdefault(col, {})[row] = value
                    nxt = next(todo, None)
            if not block:
                break
    return None if nxt is not None else out


_CELL_REF_AT = re.compile(rb"([A-Z]+)(\d+)")


def _typed_cell(
    piece: bytes, ref: bytes, pos: int, date_styles: dict[int, str]
) -> tuple[int, float | bool | None] | None:
    """The cell *ref* (at or after *pos*): where its start tag ends and its value when it is
    a number or a boolean (``None`` for text); ``None`` when it is a date, or not found."""
    at = piece.find(ref, pos)
    if at < 0:
        return None
    start = at + len(ref)
    end = piece.find(b">", start)
    if end < 0 or piece[end - 1] == 47:  # "/": an empty cell where fastexcel has a value
        return None
    attrs = piece[start:end]
    kind = b"n"
    if b"t=" in attrs:
        m = _ATTR_T.search(attrs)
        kind = m.group(1) if m is not None else b"n"
        if kind in (b"s", b"str", b"inlineStr"):
            return end, None
    if piece.startswith(b"<v>", end + 1):  # the value right after the tag, no formula
        v = end + 4
    else:
        close = piece.find(b"</c>", end)
        v = piece.find(b"<v>", end, close) + 3
        if v < 3:
            return None
    value = piece[v : piece.find(b"<", v)]
    if kind == b"b":
        return end, value == b"1"
    if kind != b"n" or not value:
        return None  # an ISO date (t="d"), an error, a type this reader does not know
    if date_styles and b"s=" in attrs:
        m = _ATTR_S.search(attrs)
        if m is not None and int(m.group(1)) in date_styles:
            return None  # a date or time: the calamine path converts those
    try:
        return end, float(value)
    except ValueError:
        return None


def read(
    profile: FileProfile,
    part: str,
    progress: Progress | None,
    cancelled: IsCancelled | None,
) -> Iterator[RecordChunk] | None:
    """The sheet's data rows in batches of :data:`BATCH_ROWS`, as ``files.workbook`` gives
    them; ``None`` (nothing read) when this reader cannot read the sheet exactly."""
    try:
        import fastexcel
    except ImportError:  # a dependency, but the calamine path reads every workbook too
        return None

    from outbound_desk.files.workbook import _XlsxHead

    # fastexcel says through `logging` when it reads a column of mixed cells as text, which
    # is what this reader expects: not a warning for the person running the app.
    logging.getLogger("fastexcel").setLevel(logging.ERROR)

    info = profile.workbook
    assert info is not None
    skip = profile.data_start - 1
    try:
        with zipfile.ZipFile(profile.path) as z:
            date_styles, _ = _XlsxHead._styles(z, set(z.namelist()))
        reader = fastexcel.read_excel(profile.path)
    except Exception:  # fastexcel's errors have no common base: calamine will say what is wrong
        return None
    as_text: dict[int | str, Any] = {}
    loaded = _load(reader, info.sheet, skip, info.first_column, as_text)
    if loaded is not None and loaded[2]:
        # A column of numbers with some text in it: fastexcel typed it by its numbers (its
        # guess is not always the wider type). Read again, those columns as text.
        as_text.update(dict.fromkeys(loaded[2], "string"))
        loaded = _load(reader, info.sheet, skip, info.first_column, as_text)
    del reader
    if loaded is None or loaded[2]:
        return None
    batch, kinds, _ = loaded
    types: list[str] = [k for _, k in kinds]
    scanned = _scan(
        profile.path,
        part,
        _candidates(batch, types, info.first_column, skip + 1),
        {i for i, kind in kinds if kind == "float"},
        date_styles,
    )
    if scanned is None:
        return None
    if not _agrees(batch, types, info.first_column, scanned, skip + 1):
        return None
    return _batches(profile, batch, types, scanned, skip + 1, progress, cancelled)


def _load(
    reader: Any, sheet: str, skip: int, first_column: int, dtypes: dict[int | str, Any]
) -> tuple[pa.RecordBatch, list[tuple[int, str]], list[int]] | None:
    """The sheet's data rows as typed columns, each column's sheet index and type, and the
    columns typed as numbers that hold text (to read again as text); ``None`` when fastexcel
    cannot read it, or gives types this reader does not convert."""
    try:
        loaded = reader.load_sheet(
            sheet,
            header_row=None,
            skip_rows=skip,
            use_columns=f"{_letters(first_column)}:",
            schema_sample_rows=None,
            dtype_coercion="coerce",
            dtypes=dtypes or None,
            eager=False,
        )
        kinds = [(c.absolute_index, c.dtype) for c in loaded.selected_columns]
        if any(kind not in _TYPES for _, kind in kinds):
            return None
        positions = [index for index, _ in kinds]
        if positions != list(range(first_column, first_column + len(positions))):
            return None
        batch, errors = loaded.to_arrow_with_errors()
    except Exception:  # as in read()
        return None
    texts: set[int] = set()
    for e in errors.errors if errors is not None else []:
        if "got 'Error(" in e.detail:
            continue  # an error cell: the scan has its text
        if not e.detail.endswith(_EMPTY_STRING):
            texts.add(kinds[e.position[1]][0])
    return batch, kinds, sorted(texts)


def _agrees(
    batch: pa.RecordBatch, kinds: list[str], first_column: int, scanned: _Scan, first: int
) -> bool:
    """Whether each cell the scan typed is where fastexcel has a cell of that value (the
    scan and the arrays agree on where every row and column is)."""
    import numpy as np
    import pyarrow as pa

    for j, kind in enumerate(kinds):
        cells = scanned.typed.get(first_column + j)
        if not cells:
            continue
        rows = np.fromiter(cells, dtype=np.int64, count=len(cells)) - first
        if len(rows) and (rows.min() < 0 or rows.max() >= batch.num_rows):
            return False
        shown = batch.column(j).take(pa.array(rows)).to_pylist()
        for value, got in zip(cells.values(), shown, strict=True):
            if got is None:
                return False
            if kind == "string":
                if isinstance(value, bool):
                    if got != ("true" if value else "false"):
                        return False
                    continue
                try:
                    if float(got) != value:
                        return False
                except ValueError:
                    return False
            elif float(got) != float(value):
                return False
    return True


def _batches(
    profile: FileProfile,
    sheet: pa.RecordBatch,
    kinds: list[str],
    scanned: _Scan,
    first_record: int,
    progress: Progress | None,
    cancelled: IsCancelled | None,
) -> Iterator[RecordChunk]:
    import numpy as np

    from outbound_desk.files.workbook import _Columns, _empty_table, _finish_batch

    info = profile.workbook
    assert info is not None
    total = max(sheet.num_rows, 1)
    state = _Columns()
    pending_blanks: list[int] = []
    done = 0
    for lo in range(0, sheet.num_rows, BATCH_ROWS):
        if cancelled is not None and cancelled():
            from outbound_desk.files.model import Cancelled

            raise Cancelled
        part = sheet.slice(lo, BATCH_ROWS)
        records = np.arange(first_record + lo, first_record + lo + part.num_rows, dtype=np.int64)
        table, recs, issues, raw, blanks = _convert(part, kinds, records, profile, state, scanned)
        chunk, pending_blanks = _finish_batch(
            table, recs, issues, raw, blanks, pending_blanks, profile
        )
        done += part.num_rows
        if progress is not None:
            progress(done, total, "reading")
        yield chunk
    if not done:
        yield RecordChunk(_empty_table(profile.columns), np.zeros(0, dtype=np.int64), [], {})


def _convert(
    part: pa.RecordBatch,
    kinds: list[str],
    records: npt.NDArray[np.int64],
    profile: FileProfile,
    state: Any,
    scanned: _Scan,
) -> tuple[pa.Table, npt.NDArray[np.int64], list[Issue], dict[int, list[str]], list[int]]:
    """A batch of typed columns as the string table ``files.workbook._convert`` gives."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from outbound_desk.files.workbook import _cell_text, _row_width, _too_wide

    names = profile.columns
    info = profile.workbook
    assert info is not None
    width = len(names)
    n = part.num_rows
    columns = [part.column(j) for j in range(part.num_columns)]
    while len(columns) < width:
        columns.append(pa.nulls(n, pa.string()))
        kinds = [*kinds, "null"]
    lo, hi = int(records[0]), int(records[-1])
    typed = [scanned.rows_in(info.first_column + j, lo, hi) for j in range(len(kinds))]
    filled = [_filled(c) for c in columns]
    blank = ~np.logical_or.reduce(filled[:width]) if width else np.zeros(n, dtype=bool)
    wide = np.logical_or.reduce(filled[width:]) if len(filled) > width else None
    issues: list[Issue] = []
    raw: dict[int, list[str]] = {}
    if wide is not None and wide.any():
        for i in np.flatnonzero(wide).tolist():
            rec = int(records[i])
            row = [_value(columns[j], kinds[j], typed[j], i, rec) for j in range(len(columns))]
            last = _row_width(row)
            issues.append(_too_wide(rec, last, width))
            raw[rec] = [_cell_text(v) for v in row[:last]]
        blank = blank | wide
        blanks = records[~np.logical_or.reduce(filled)].tolist()
    else:
        blanks = records[blank].tolist()
    keep = ~blank
    everything = bool(keep.all())
    kept = records if everything else records[keep]
    mask = None if everything else pa.array(keep)
    by_col: dict[int, dict[int, str]] = {}
    for (at_row, at_col), err in scanned.errors.items():
        if lo <= at_row <= hi:
            by_col.setdefault(at_col, {})[at_row] = err
    arrays = {}
    for j, name in enumerate(names):
        column = columns[j] if mask is None else pc.filter(columns[j], mask)
        arrays[name] = _column(
            column,
            kinds[j],
            typed[j],
            j,
            name,
            kept,
            state,
            profile.digit_lengths.get(name),
            by_col.get(info.first_column + j, {}),
            issues,
        )
    table = pa.table(arrays) if names else pa.table({})
    return table, kept, issues, raw, blanks


def _filled(column: pa.Array) -> Any:
    """Which cells hold a value (an empty string is none, as calamine's ``""``)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        has = pc.fill_null(pc.not_equal(column, ""), False)
    else:
        has = pc.is_valid(column)
    return np.asarray(has.to_numpy(zero_copy_only=False), dtype=bool)


def _value(column: pa.Array, kind: str, typed: dict[int, float | bool], i: int, rec: int) -> Any:
    """One cell as calamine gives it (for the rare rows set aside whole)."""
    if rec in typed:
        return typed[rec]
    value = column[i].as_py()
    if value is None:
        return ""
    return value


def _column(
    column: pa.Array,
    kind: str,
    typed: dict[int, float | bool],
    j: int,
    name: str,
    records: npt.NDArray[np.int64],
    state: Any,
    usual: int | None,
    errors: dict[int, str],
    issues: list[Issue],
) -> pa.Array:
    """One typed column as text, with the issues ``files.workbook._convert_column`` gives."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from outbound_desk.files.workbook import _flag_zeros_and_errors, _learn_zeros

    n = len(column)
    # Positions (in this batch) of the cells whose value the scan gave, and those values.
    rows = np.fromiter(typed, dtype=np.int64, count=len(typed))
    at = np.searchsorted(records, rows)
    inside = at < n
    inside[inside] = records[at[inside]] == rows[inside]
    values = list(typed.values())
    hits = [
        (p, values[k])
        for k, p in zip(np.flatnonzero(inside).tolist(), at[inside].tolist(), strict=True)
    ]
    numbers: npt.NDArray[np.int64]
    if kind == "float":
        array, numbers = _float_column(column, hits, name, records, issues)
    elif kind == "boolean":
        array = pc.fill_null(pc.if_else(column, "true", "false"), "")
        numbers = np.zeros(0, dtype=np.int64)
    elif kind == "null":
        array = pa.array([""] * n, type=pa.string())
        numbers = np.zeros(0, dtype=np.int64)
    else:
        array, numbers = _text_column(column, hits, name, records, issues)
    _learn_zeros(array, j, state)
    usual = state.usual_zero_length(j) or usual
    return _flag_zeros_and_errors(array, numbers, usual, name, records, errors, issues)


def _float_column(
    column: pa.Array,
    hits: list[tuple[int, float | bool]],
    name: str,
    records: npt.NDArray[np.int64],
    issues: list[Issue],
) -> tuple[pa.Array, npt.NDArray[np.int64]]:
    """A column of numbers (booleans among them are in *hits*) as text, and where the
    numbers are."""
    import numpy as np
    import pyarrow as pa

    values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    present = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    flags = [(p, v) for p, v in hits if isinstance(v, bool)]
    for p, _ in flags:
        present[p] = False
    texts = _number_texts(values, present, name, records, issues)
    for p, v in flags:
        texts[p] = "true" if v else "false"
    return pa.array(texts, type=pa.string()), np.flatnonzero(present)


def _text_column(
    column: pa.Array,
    hits: list[tuple[int, float | bool]],
    name: str,
    records: npt.NDArray[np.int64],
    issues: list[Issue],
) -> tuple[pa.Array, npt.NDArray[np.int64]]:
    """A column that arrived as text: the numbers and booleans in it (*hits*) as our text,
    error texts ("#N/A" typed or exported as text) as issues; and where the numbers are."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from outbound_desk.files.workbook import EXCEL_ERRORS, _error_cell, _replace_values

    array = pc.fill_null(column.cast(pa.string()), "")
    bad = pc.is_in(array, value_set=pa.array(sorted(EXCEL_ERRORS), type=pa.string()))
    spots: list[tuple[int, str]] = []
    found: list[tuple[int, Issue]] = []
    if pc.any(bad).as_py():
        for p in pc.indices_nonzero(bad).to_pylist():
            text = array[p].as_py()
            found.append((p, _error_cell(text, name, int(records[p]))))
            spots.append((p, ""))
    numbers = np.asarray([p for p, v in hits if not isinstance(v, bool)], dtype=np.int64)
    if len(numbers):
        values = np.asarray([v for _, v in hits if not isinstance(v, bool)], dtype=np.float64)
        rounded: list[Issue] = []
        texts = _number_texts(
            values, np.ones(len(values), dtype=bool), name, records[numbers], rounded
        )
        found.extend((int(np.searchsorted(records, i.row or 0)), i) for i in rounded)
        spots.extend(zip(numbers.tolist(), texts.tolist(), strict=True))
    spots.extend((p, "true" if v else "false") for p, v in hits if isinstance(v, bool))
    if found:
        found.sort(key=lambda f: f[0])
        issues.extend(i for _, i in found)
    if spots:
        spots.sort(key=lambda s: s[0])
        array = _replace_values(array, [p for p, _ in spots], [t for _, t in spots])
    return array, numbers


def _one_number(value: float, name: str, record: int, issues: list[Issue]) -> str:
    from outbound_desk.files.workbook import _lost, _number_text

    text, rounded = _number_text(value)
    if rounded:
        issues.append(_lost(f"{value:.15g}", name, record))
    return text


def _number_texts(
    values: npt.NDArray[np.float64],
    present: npt.NDArray[np.bool_],
    name: str,
    records: npt.NDArray[np.int64],
    issues: list[Issue],
) -> npt.NDArray[np.object_]:
    """The texts of a column of numbers ("" where empty): integral ones within Excel's 15
    digits by numpy and Arrow, the others (fractions, rounded digits) one by one."""
    import numpy as np
    import pyarrow as pa

    from outbound_desk.files.workbook import _EXACT_LIMIT

    with np.errstate(invalid="ignore"):
        exact = present & (np.abs(values) < _EXACT_LIMIT) & (values == np.trunc(values))
    texts = np.full(len(values), "", dtype=object)
    if exact.any():
        digits = pa.array(values[exact].astype(np.int64)).cast(pa.string())
        texts[exact] = np.asarray(digits.to_numpy(zero_copy_only=False), dtype=object)
    for p in np.flatnonzero(present & ~exact).tolist():
        texts[p] = _one_number(float(values[p]), name, int(records[p]), issues)
    return texts
