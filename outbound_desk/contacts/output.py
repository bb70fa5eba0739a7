"""Writing the normalised CSV fast.

The format is ``files.writer``'s (UTF-8 without BOM, comma, minimal quoting, CRLF), and the
rejects file is written with ``files.writer.NormalisedWriter`` itself. The normalised file has
its own writer for two reasons: ``NormalisedWriter.write_frame`` goes through
``DataFrame.to_csv``, about 2 s per million rows here (a quarter of the whole validation), while
the Arrow kernels below build the same bytes in a fraction of that; and the file is written to
a ``.partial`` file renamed into place only when complete, so a cancelled run never leaves a
half file that looks finished.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from outbound_desk.contacts._arrow import bytes_in, large_strings, mask, string_buffers
from outbound_desk.files.writer import FORMULA_START, LINE_TERMINATOR


def csv_lines(frame: pd.DataFrame) -> pa.Array:
    """Each of *frame*'s rows as one UTF-8 CSV line (terminator included), byte for byte what
    ``csv.writer`` (minimal quoting, ``LINE_TERMINATOR``) writes, built by Arrow kernels
    instead of a Python loop per row."""
    return arrow_csv_lines([large_strings(frame[c]) for c in frame.columns])


def arrow_csv_lines(columns: Sequence[pa.Array | pa.ChunkedArray]) -> pa.Array:
    """:func:`csv_lines` of a row set given as Arrow string columns of equal length."""
    q, empty = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())
    cols = []
    for column in columns:
        a = large_strings(column)
        needs = _needs_quotes(a)
        if len(columns) == 1:
            # A lone empty field would be a blank line, which readers skip: csv quotes it.
            lone = mask(pc.equal(pc.utf8_length(a), 0))
            needs = lone if needs is None else needs | lone
        if needs is None or not needs.any():
            cols.append(a)
            continue
        quoted = pc.binary_join_element_wise(q, pc.replace_substring(a, '"', '""'), q, empty)
        cols.append(pc.if_else(pa.array(needs), quoted, a))
    # The terminator goes on the last field (a pass over one column, not over whole lines).
    end = pa.scalar(LINE_TERMINATOR, pa.large_string())
    cols[-1] = pc.binary_join_element_wise(cols[-1], empty, end)
    line = pc.binary_join_element_wise(*cols, pa.scalar(",", pa.large_string()))
    return line.combine_chunks() if isinstance(line, pa.ChunkedArray) else line


def json_objects(frame: pd.DataFrame) -> pa.Array:
    """Each of *frame*'s rows as one JSON object of its columns, byte for byte
    ``json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` of the
    row's ``{column: value}`` dict (the payload hash's canonical form), built by Arrow kernels:
    no dict, and no Python string, per row.

    Every value must be a string; a frame with a missing value (None, NaN) is left to the
    caller (:func:`has_missing`), whose ``json.dumps`` writes it as ``null``/``NaN``.
    """
    names = [str(c) for c in frame.columns]
    return arrow_json_objects(
        names, [large_strings(frame.iloc[:, k]) for k in range(len(names))], len(frame)
    )


def arrow_json_objects(
    names: Sequence[str], columns: Sequence[pa.Array | None], rows: int
) -> pa.Array:
    """:func:`json_objects` of *rows* rows given as Arrow string columns (no nulls); a None
    column is "" in every row."""
    text = pa.large_string()
    if not names:
        return pa.array(["{}"] * rows, type=text)
    order = sorted(range(len(names)), key=lambda k: names[k])
    pieces: list[pa.Array | pa.Scalar] = []
    pending = "{"
    for k in order:
        pending += json.dumps(names[k], ensure_ascii=False) + ':"'
        column = columns[k]
        if column is None:
            pending += '",'
            continue
        pieces += [pa.scalar(pending, text), _json_escaped(large_strings(column))]
        pending = '",'
    pieces.append(pa.scalar(pending[:-1] + "}", text))
    if len(pieces) == 1:  # every column empty
        return pa.array([pending[:-1] + "}"] * rows, type=text)
    joined = pc.binary_join_element_wise(*pieces, pa.scalar("", text))
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def utf8_values(values: pa.Array | pa.ChunkedArray) -> Iterator[bytes]:
    """The UTF-8 bytes of each value of a string array (nulls as b""), one ``bytes`` each,
    made in a Python loop (the interpreter lock changes hands meanwhile, unlike in
    ``to_pylist``, one C call for the whole array)."""
    values = large_strings(values)
    n = len(values)
    if not n:
        return
    offsets, _data = string_buffers(values)
    buf = values.buffers()[2]
    start, end = int(offsets[0]), int(offsets[-1])
    raw = b"" if buf is None else buf.to_pybytes()[start:end]
    bounds = (offsets - start).tolist()
    for a, b in itertools.pairwise(bounds):
        yield raw[a:b]


def has_missing(frame: pd.DataFrame) -> bool:
    """Whether any cell of *frame* is missing (None, NaN, pandas' NA)."""
    return bool(len(frame)) and bool(frame.isna().to_numpy().any())


#: What ``json.dumps`` writes for each character it escapes (ensure_ascii=False): the quote,
#: the backslash and the control characters below U+0020.
_JSON_ESCAPE = {
    **{chr(c): f"\\u{c:04x}" for c in range(0x20)},
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}


def _json_escaped(a: pa.Array) -> pa.Array:
    """The values of *a* (``large_string``) as the inside of JSON strings (json.dumps's
    escapes). Values without a character to escape, nearly all, are kept as they are."""
    offsets, data = string_buffers(a)
    data = data[int(offsets[0]) : int(offsets[-1])]
    special = (data < 0x20) | (data == ord('"')) | (data == ord("\\"))
    if not special.any():
        return a
    # The backslash first, so the backslashes of the other escapes are not doubled.
    present = sorted({chr(b) for b in np.unique(data[special]).tolist()}, key=lambda ch: ch != "\\")
    for ch in present:
        a = pc.replace_substring(a, ch, _JSON_ESCAPE[ch])
    return a


def neutralise_arrow(values: pa.Array) -> pa.Array:
    """``files.writer.neutralise`` of every value: a leading formula character gets a ``'``."""
    values = values.cast(pa.large_string())
    starts = pc.match_substring_regex(values, _FORMULA_RE)
    if not pc.any(starts).as_py():
        return values
    marked = pc.binary_join_element_wise(
        pa.scalar("'", pa.large_string()), values, pa.scalar("", pa.large_string())
    )
    return pc.if_else(starts, marked, values)


# RE2 class of FORMULA_START, each character as a hex escape (tab and CR included).
_FORMULA_RE = "^[" + "".join(f"\\x{ord(c):02x}" for c in FORMULA_START) + "]"


_SPECIAL = [ord(ch) for ch in '",\r\n']  # bytes that make csv.writer quote a field


def _needs_quotes(a: pa.Array) -> np.ndarray[Any, np.dtype[np.bool_]] | None:
    """Which values of *a* (``large_string``, no nulls) hold a quote, comma, CR or LF; None
    when none does. A scan of the bytes with numpy: a regex per value costs ten times more.
    (ASCII bytes: never inside a multi-byte UTF-8 character.)"""
    n = len(a)
    if not n:
        return None
    offsets, data = string_buffers(a)
    data = data[int(offsets[0]) : int(offsets[-1])]
    where = np.flatnonzero(bytes_in(data, _SPECIAL))
    if not len(where):
        return None
    needs = np.zeros(n, dtype=bool)
    # The value holding byte k is the last one starting at or before k.
    needs[np.searchsorted(offsets - offsets[0], where, side="right") - 1] = True
    return needs


def lines_bytes(lines: pa.Array) -> bytes:
    """The lines of :func:`csv_lines` (or a selection of them) as one run of bytes."""
    lines = large_strings(lines)
    if not len(lines):
        return b""
    offsets, data = string_buffers(lines)
    return data[int(offsets[0]) : int(offsets[-1])].tobytes()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """*frame*'s rows as UTF-8 CSV (:func:`csv_lines` joined)."""
    return lines_bytes(csv_lines(frame))


class CsvSink:
    """A CSV file written in pieces, with its SHA-256 computed on the way."""

    def __init__(self, path: str | os.PathLike[str], header: Sequence[str]) -> None:
        self.path = Path(path)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._fh = open(self._partial, "wb")  # noqa: SIM115 - closed in close()/abort()
        self._hash = hashlib.sha256()
        self.rows = 0
        self.sha256: str | None = None
        self._write_text(self._rows_text([list(header)]))

    def rows_text(self, rows: Iterable[Sequence[str]]) -> str:
        """*rows* as this file's CSV text (``csv.writer``, the file's line terminator)."""
        return self._rows_text(rows)

    def write_text_rows(self, texts: Sequence[str]) -> None:
        """Rows already made into CSV text, one row each (:meth:`rows_text`)."""
        if texts:
            self._write_text("".join(texts))
            self.rows += len(texts)

    def _rows_text(self, rows: Iterable[Sequence[str]]) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator=LINE_TERMINATOR).writerows(rows)
        return buf.getvalue()

    def _write_text(self, text: str) -> None:
        data = text.encode("utf-8")
        self._hash.update(data)
        self._fh.write(data)

    def write_frame(self, frame: pd.DataFrame) -> None:
        if len(frame):
            self.write_lines(csv_lines(frame))

    def write_lines(self, lines: pa.Array) -> None:
        """Rows already made into CSV lines (:func:`csv_lines`)."""
        if len(lines):
            data = lines_bytes(lines)
            self._hash.update(data)
            self._fh.write(data)
            self.rows += len(lines)

    def write_rows(self, rows: Sequence[Sequence[str]]) -> None:
        if rows:
            self._write_text(self._rows_text(rows))
            self.rows += len(rows)

    def close(self) -> str:
        """Finish the file, move it into place and return its SHA-256."""
        self._fh.close()
        os.replace(self._partial, self.path)
        self.sha256 = self._hash.hexdigest()
        return self.sha256

    def abort(self) -> None:
        self._fh.close()
        self._partial.unlink(missing_ok=True)

    def __enter__(self) -> CsvSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._fh.closed:
            self.abort()
