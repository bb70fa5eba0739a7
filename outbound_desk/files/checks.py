"""Issue builders and the checks that run on whole columns of a frame at once."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from outbound_desk.files.model import (
    MAX_COLUMNS,
    MAX_NAME_LENGTH,
    MAX_VALUE_LENGTH,
    Issue,
    Severity,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

SCIENTIFIC = r"[+-]?\d(?:[.,]\d+)?[eE]\+\d{2}"  # what Excel shows: 4.15555E+10
FLOAT_NUMBER = r"\+?\d{6,15}\.0+"
DIGITS = r"\d+"


def ragged(row: int, fields: int, expected: int) -> Issue:
    more_or_less = "too many" if fields > expected else "too few"
    return Issue(
        row,
        None,
        "ragged_row",
        f"record {row} has {fields} fields where the header has {expected} ({more_or_less}): "
        "a value holding the delimiter without quotes, or a missing or extra delimiter; "
        "fix the record or quote the value",
    )


def blank(row: int) -> Issue:
    return Issue(
        row,
        None,
        "blank_row",
        f"record {row} is blank; it is skipped",
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
    row: int | None, column: str | None, offset: int | None, bad: bytes, encoding: str
) -> Issue:
    where = f" at byte offset {offset}" if offset is not None else ""
    record = f" (record {row}{_in(column)})" if row is not None else ""
    hint = (
        "if the file was saved by Excel on Windows, open it with encoding cp1252"
        if encoding.startswith("utf")
        else "choose the encoding the file was saved in"
    )
    return Issue(
        row,
        column,
        "invalid_bytes",
        f"bytes {bad.hex(' ')}{where}{record} are not valid {encoding} and read as '\ufffd'; "
        f"{hint}",
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


def stray_quote(row: int | None) -> Issue:
    return Issue(
        row,
        None,
        "stray_quote",
        f"record {row} has a quote character inside a value that is not quoted; it is kept "
        "as written, but check the record",
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
    out: list[Issue] = []
    if frame.empty:
        return out
    for column in frame.columns:
        values = frame[column]
        too_long = values.str.len() > MAX_VALUE_LENGTH
        for idx in too_long.to_numpy().nonzero()[0]:
            out.append(
                Issue(
                    int(records[idx]),
                    str(column),
                    "value_too_long",
                    f"the value is {len(str(values.iat[int(idx)]))} characters long; the platform "
                    f"allows {MAX_VALUE_LENGTH}: shorten it",
                )
            )
        if not excel:
            continue
        out.extend(_excel_issues(values, records, str(column), digit_lengths or {}))
    out.sort(key=lambda i: i.row or 0)
    return out


def _excel_issues(
    values: pd.Series[str],
    records: npt.NDArray[np.int64],
    column: str,
    digit_lengths: dict[str, int],
) -> list[Issue]:
    out: list[Issue] = []
    sci = values.str.fullmatch(SCIENTIFIC).to_numpy(dtype=bool, na_value=False)
    for idx in sci.nonzero()[0]:
        out.append(
            Issue(
                int(records[idx]),
                column,
                "scientific_notation",
                f"{str(values.iat[int(idx)])!r} is a number in scientific notation: Excel "
                "rounded it and its last digits are lost; export the column as text from "
                "the source system",
            )
        )
    flt = values.str.fullmatch(FLOAT_NUMBER).to_numpy(dtype=bool, na_value=False)
    for idx in flt.nonzero()[0]:
        out.append(
            Issue(
                int(records[idx]),
                column,
                "float_phone",
                f"{str(values.iat[int(idx)])!r} is a number stored as a decimal (Excel); drop the "
                "trailing '.0' or export the column as text",
                Severity.WARNING,
            )
        )
    usual = digit_lengths.get(column)
    if usual:
        short = (values.str.fullmatch(DIGITS) & (values.str.len() < usual)).to_numpy(
            dtype=bool, na_value=False
        )
        for idx in short.nonzero()[0]:
            value = str(values.iat[int(idx)])
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
    lengths: list[Counter[int]] = [Counter() for _ in columns]
    zero_led = [0] * len(columns)
    filled = [0] * len(columns)
    for row in rows:
        if len(row) != len(columns):
            continue
        for i, value in enumerate(row):
            if value:
                filled[i] += 1
                if value.isdigit() and value.isascii():
                    lengths[i][len(value)] += 1
                    zero_led[i] += value[0] == "0"
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
