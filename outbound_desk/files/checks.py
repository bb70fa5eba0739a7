"""Issue builders and the checks that run on whole columns of a frame at once."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from outbound_desk.files.model import (
    KEPT_RECORD_BYTES,
    MAX_COLUMNS,
    MAX_NAME_LENGTH,
    MAX_RECORD_FIELDS,
    MAX_VALUE_LENGTH,
    Issue,
    Severity,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    import pyarrow as pa

SCIENTIFIC = r"[+-]?\d(?:[.,]\d+)?[eE]\+\d{2}"  # what Excel shows: 4.15555E+10
FLOAT_NUMBER = r"\+?\d{6,15}\.0+"
DIGITS = r"\d+"


def ragged(row: int, fields: int, expected: int) -> Issue:
    more_or_less = "too many" if fields > expected else "too few"
    kept = (
        f"; the rejects file keeps its first {MAX_RECORD_FIELDS:,} fields"
        if fields > MAX_RECORD_FIELDS
        else ""
    )
    return Issue(
        row,
        None,
        "ragged_row",
        f"record {row} has {fields:,} fields where the header has {expected} ({more_or_less}): "
        "a value holding the delimiter without quotes, or a missing or extra delimiter; "
        f"fix the record or quote the value{kept}",
    )


def record_too_long(row: int, length: int, unit: str = "characters") -> Issue:
    return Issue(
        row,
        None,
        "record_too_long",
        f"record {row} is {length:,} {unit} long; the platform takes at most "
        f"{MAX_COLUMNS} values of {MAX_VALUE_LENGTH} characters: the record is rejected, and "
        f"only its first {KEPT_RECORD_BYTES:,} bytes are kept (in the rejects file). A quote "
        "that is never closed makes everything after it one value: check the quoting",
    )


def blank(row: int, count: int = 1) -> Issue:
    """Blank records *row* .. *row* + *count* - 1 (one issue for a run of them)."""
    what = (
        f"record {row} is blank"
        if count == 1
        else f"records {row} to {row + count - 1} ({count:,}) are blank"
    )
    return Issue(
        row,
        None,
        "blank_row",
        f"{what}; they are skipped" if count > 1 else f"{what}; it is skipped",
        Severity.WARNING,
    )


def trailing_blank(first: int, count: int) -> Issue:
    lines = "line" if count == 1 else "lines"
    return Issue(
        first,
        None,
        "trailing_blank_lines",
        f"the file ends with {count} blank {lines} (from record {first}); they are skipped, "
        "since the platform refuses trailing blank rows",
        Severity.WARNING,
    )


def nul(row: int, column: str | None) -> Issue:
    return Issue(
        row,
        column,
        "nul_byte",
        f"record {row}{_in(column)} holds NUL bytes, which have been removed; if many records "
        "do, the file may be in another encoding (try --encoding utf-16)",
        Severity.WARNING,
    )


def invalid_bytes(
    row: int | None,
    column: str | None,
    offset: int | None,
    bad: bytes,
    encoding: str,
    count: int | None = None,
) -> Issue:
    """Invalid bytes in one value: *bad* are its first ones, *count* all of them."""
    where = f" at byte offset {offset}" if offset is not None else ""
    record = f" (record {row}{_in(column)})" if row is not None else ""
    more = (
        f" ({count:,} invalid bytes in this value in all)"
        if count is not None and count > len(bad)
        else ""
    )
    if encoding == "utf-8" and bad[:1] == b"\xed" and len(bad) >= 3 and 0xA0 <= bad[1] <= 0xBF:
        hint = (
            "these are UTF-16 surrogates written as UTF-8 (CESU-8, as some Java and MySQL "
            "exports write characters outside the BMP such as emoji): export the file again "
            "as real UTF-8"
        )
    elif encoding == "utf-8":
        # Never advise opening the whole file as cp1252: its valid UTF-8 letters would all
        # turn into mojibake ("é" into "Ã©"). Repair just these bytes (issue 15).
        hint = (
            "the rest of the file reads as UTF-8, so repair just these bytes as cp1252 "
            "(--repair-encoding, or Repair encoding in the preview) rather than opening the "
            "whole file as cp1252, which would garble its other accented letters"
        )
    elif encoding.startswith("utf"):
        hint = "the file may be damaged; export it again"
    else:
        hint = "choose the encoding the file was saved in"
    return Issue(
        row,
        column,
        "invalid_bytes",
        f"bytes {bad.hex(' ')}{where}{record} are not valid {encoding} and read as "
        f"'\ufffd'{more}; {hint}",
        Severity.ERROR,
        offset,
    )


def unterminated(row: int) -> Issue:
    return Issue(
        row,
        None,
        "unterminated_quote",
        f"record {row} opens a quoted value that is never closed, so the rest of the file "
        "reads as one value; close or remove the quote",
    )


def stray_quote(row: int | None, column: str | None = None) -> Issue:
    where = (
        f"record {row}{_in(column)} has"
        if row is not None
        else "a record past the first megabyte of the file has"
    )
    return Issue(
        row,
        column,
        "stray_quote",
        f"{where} a quote character inside a value that is not quoted; it is kept as "
        "written, but check the record",
        Severity.WARNING,
    )


def _in(column: str | None) -> str:
    return f", column {column!r}" if column is not None else ""


def header_issues(header: Sequence[str]) -> list[Issue]:
    out: list[Issue] = []
    if len(header) > MAX_COLUMNS:
        out.append(
            Issue(
                1,
                None,
                "too_many_columns",
                f"the file has {len(header)} columns; a contact list holds at most "
                f"{MAX_COLUMNS}: drop or merge columns before uploading",
            )
        )
    counts = Counter(h.strip().casefold() for h in header)
    reported: set[str] = set()
    for i, name in enumerate(header, start=1):
        if not name.strip():
            out.append(
                Issue(
                    1,
                    f"column_{i}",
                    "empty_header",
                    f"column {i} has no name in the header; name it or remove the column",
                )
            )
            continue
        key = name.strip().casefold()
        if counts[key] > 1 and key not in reported:
            reported.add(key)
            out.append(
                Issue(
                    1,
                    name,
                    "duplicate_header",
                    f"the column name {name!r} appears {counts[key]} times (names are "
                    "compared without case); column names must be unique",
                )
            )
        if len(name) > MAX_NAME_LENGTH:
            out.append(
                Issue(
                    1,
                    name[:40] + "...",
                    "header_too_long",
                    f"column {i}'s name is {len(name)} characters long; the platform allows "
                    f"{MAX_NAME_LENGTH}: shorten it",
                )
            )
    return out


def too_many_fields(row: int, count: int) -> Issue:
    return Issue(
        row,
        None,
        "too_many_columns",
        f"records have {count} fields; a contact list holds at most {MAX_COLUMNS} columns",
    )


def frame_issues(
    frame: pd.DataFrame,
    records: npt.NDArray[np.int64],
    *,
    excel: bool,
    digit_lengths: dict[str, int] | None = None,
) -> list[Issue]:
    """Value-level issues of a frame: over-long values and, with *excel*, Excel damage."""
    if frame.empty:
        return []
    import pyarrow as pa

    columns = [
        (str(name), pa.array(frame.iloc[:, i], type=pa.large_string()))
        for i, name in enumerate(frame.columns)
    ]
    return column_issues(columns, records, excel=excel, digit_lengths=digit_lengths)


def column_issues(
    columns: Sequence[tuple[str, pa.Array | pa.ChunkedArray]],
    records: npt.NDArray[np.int64],
    *,
    excel: bool,
    too_long: bool = True,
    digit_lengths: dict[str, int] | None = None,
    numbers: bool = True,
) -> list[Issue]:
    """``frame_issues`` over Arrow string columns ``(name, values)``, without pandas.

    Arrow kernels find the few candidate cells (a substring or length test that every hit
    must pass); the exact rule, a Python regular expression as before, runs on those alone.
    *too_long* off skips the value length check (the reader already made it); *numbers* off
    says no cell holds ``e+``, ``E+`` or ``.0`` (the reader saw the raw bytes), so neither
    scientific notation nor a decimal number can be there.
    """
    out: list[Issue] = []
    if not columns or not len(records):
        return out
    import pyarrow.compute as pc

    digit_lengths = digit_lengths or {}
    for column, values in columns:
        # A value over the limit in characters is over it in bytes too; byte lengths come
        # from the offsets alone, without reading the text.
        long_bytes = too_long and _hits(pc.greater(pc.binary_length(values), MAX_VALUE_LENGTH))
        if long_bytes:
            for idx in _hits(pc.greater(pc.utf8_length(values), MAX_VALUE_LENGTH)):
                value = values[idx].as_py()
                out.append(
                    Issue(
                        int(records[idx]),
                        column,
                        "value_too_long",
                        f"the value is {len(value)} characters long; the platform "
                        f"allows {MAX_VALUE_LENGTH}: shorten it",
                    )
                )
        if excel:
            out.extend(_excel_issues(values, records, column, digit_lengths, numbers=numbers))
    out.sort(key=lambda i: i.row or 0)
    return out


def _hits(mask: pa.Array | pa.ChunkedArray) -> list[int]:
    """Positions where a boolean Arrow mask is true (none: no copy at all)."""
    import pyarrow.compute as pc

    if not pc.any(mask).as_py():
        return []
    return [int(i) for i in pc.indices_nonzero(mask).to_pylist()]


def _exact(
    values: pa.Array | pa.ChunkedArray, candidates: list[int], pattern: re.Pattern[str]
) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for idx in candidates:
        value = values[idx].as_py()
        if pattern.fullmatch(value) is not None:
            out.append((idx, value))
    return out


_SCIENTIFIC = re.compile(SCIENTIFIC)
_FLOAT_NUMBER = re.compile(FLOAT_NUMBER)
_DIGITS = re.compile(DIGITS)


def _excel_issues(
    values: pa.Array | pa.ChunkedArray,
    records: npt.NDArray[np.int64],
    column: str,
    digit_lengths: dict[str, int],
    *,
    numbers: bool,
) -> list[Issue]:
    import pyarrow.compute as pc

    out: list[Issue] = []
    # Every scientific-notation value holds "E+" (any case); every float one holds ".0".
    sci = _hits(pc.match_substring(values, "e+", ignore_case=True)) if numbers else []
    for idx, value in _exact(values, sci, _SCIENTIFIC):
        out.append(
            Issue(
                int(records[idx]),
                column,
                "scientific_notation",
                f"{value!r} is a number in scientific notation: Excel "
                "rounded it and its last digits are lost; export the column as text from "
                "the source system",
            )
        )
    flt = _hits(pc.match_substring(values, ".0")) if numbers else []
    for idx, value in _exact(values, flt, _FLOAT_NUMBER):
        out.append(
            Issue(
                int(records[idx]),
                column,
                "float_phone",
                f"{value!r} is a number stored as a decimal (Excel); drop the "
                "trailing '.0' or export the column as text",
                Severity.WARNING,
            )
        )
    usual = digit_lengths.get(column)
    if usual:
        lengths = pc.utf8_length(values)
        short = _hits(pc.and_(pc.greater(lengths, 0), pc.less(lengths, usual)))
        for idx, value in _exact(values, short, _DIGITS):
            out.append(
                Issue(
                    int(records[idx]),
                    column,
                    "lost_leading_zeros",
                    f"{value!r} has {len(value)} digits where this column usually has "
                    f"{usual}: Excel may have dropped leading zeros (was it "
                    f"{value.zfill(usual)!r}?); export the column as text",
                    Severity.WARNING,
                )
            )
    return out


_POSTAL = re.compile(r"(?i)zip|postal|post_?code|plz")


def usual_digit_lengths(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> dict[str, int]:
    """For digit columns whose leading zeros matter, their full length.

    Zeros matter when a full-length value starts with ``0`` (so shorter ones may have lost
    theirs), or when the column is a postal code. Plain counters (1, 2, ... 150000) have no
    such value and are left alone.
    """
    width = len(columns)
    # Column by column (comprehensions over each column, not a loop over every cell).
    table = list(zip(*(row for row in rows if len(row) == width), strict=True)) or [()] * width
    lengths: list[Counter[int]] = []
    zero_led: list[int] = []
    filled: list[int] = []
    for column in table:
        values = list(filter(None, column))
        numeric = list(filter(str.isascii, filter(str.isdigit, values)))
        filled.append(len(values))
        lengths.append(Counter(map(len, numeric)))
        zero_led.append(sum(v[0] == "0" for v in numeric))
    out: dict[str, int] = {}
    for i, name in enumerate(columns):
        digits = sum(lengths[i].values())
        if digits < 5 or digits < 0.9 * filled[i]:
            continue
        full = max(lengths[i])
        if full < 3 or min(lengths[i]) < full - 3:
            continue
        if (zero_led[i] and lengths[i][full] >= 0.2 * digits) or _POSTAL.search(name):
            out[name] = full
    return out
