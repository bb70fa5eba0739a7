"""Repairs of decoded text that keep the rest of the file as it is.

Mixed encodings: a UTF-8 file with a few bytes pasted in from a Windows-1252 source. Opening
the whole file as cp1252 would turn every other accented letter into mojibake ("é" into
"Ã©"); the repair reads the file as UTF-8 and only each invalid byte sequence as cp1252
(the codec error handler :data:`FALLBACK_ERRORS`).

Mojibake: text that was UTF-8, read once as cp1252 or Latin-1 and saved again ("CafÃ©",
"donâ€™t"). It is found by a regex of the shapes such text takes (a Latin-1 letter from
``Â`` to ``ï`` followed by what a UTF-8 continuation byte looks like in cp1252), and
repaired cell by cell with ftfy's ``fix_encoding``, a well-kept library made for exactly this.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from outbound_desk.files.model import Issue, Severity

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

#: Codec error handler: an invalid byte sequence is read in this fallback code page.
FALLBACK_ERRORS = "outbound_desk.files.fallback_cp1252"
FALLBACK_ENCODING = "cp1252"


def _fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return bytes(bad).decode(FALLBACK_ENCODING, errors="replace"), exc.end


codecs.register_error(FALLBACK_ERRORS, _fallback)


def decode_with_fallback(data: bytes) -> str:
    """*data* read as UTF-8, each invalid sequence as cp1252."""
    return data.decode("utf-8", errors=FALLBACK_ERRORS)


# What a UTF-8 lead byte (C2-EF) followed by a continuation byte (80-BF) looks like once read
# as cp1252 (or Latin-1): "Ã©", "Â£", "â€™", "Ã‰", "Ð¸".
_CONTINUATION = (
    "\u0080-\u00bf"  # Latin-1 view of 80-BF, and C1 controls
    "\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
)
MOJIBAKE_PATTERN = f"[\u00c2-\u00ef][{_CONTINUATION}]"
_MOJIBAKE = re.compile(MOJIBAKE_PATTERN)
#: The same shapes in the UTF-8 bytes of a block: "Â".."ï" are C3 82..C3 AF; the
#: continuation's look-alikes start with C2, C5, C6, CB or E2 80/82/84.
MOJIBAKE_BYTES = re.compile(rb"[\xc3][\x82-\xaf](?:[\xc2\xc5\xc6\xcb]|\xe2[\x80\x82\x84])")


def looks_like_mojibake(text: str) -> bool:
    return _MOJIBAKE.search(text) is not None


def fixed(text: str) -> str:
    """*text* with its mojibake undone (ftfy), or as it is."""
    import ftfy

    return str(ftfy.fix_encoding(text))


def mojibake_issue(row: int | None, column: str | None, before: str, after: str) -> Issue:
    where = f" (record {row}" + (f", column {column!r})" if column else ")")
    return Issue(
        row,
        column,
        "mojibake",
        f"{_short(before)!r}{where} looks like UTF-8 text once read as cp1252 (mojibake); "
        f"repaired it reads {_short(after)!r}: use --fix-mojibake, or Fix mojibake in the "
        "preview",
        Severity.WARNING,
    )


def fixed_issue(row: int | None, column: str | None, before: str, after: str) -> Issue:
    where = f"record {row}" + (f", column {column!r}" if column else "")
    return Issue(
        row,
        column,
        "mojibake_fixed",
        f"{where}: {_short(before)!r} repaired to {_short(after)!r} (mojibake)",
        Severity.INFO,
    )


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mojibake_in_rows(
    rows: list[list[str]], columns: Sequence[str], first: int, *, fix: bool
) -> list[Issue]:
    """Mojibake in preview records (numbered from *first*); fixed in place with *fix*."""
    issues: list[Issue] = []
    for n, row in enumerate(rows, start=first):
        for j, value in enumerate(row):
            if value and _MOJIBAKE.search(value):
                after = fixed(value)
                if after == value:
                    continue
                column = columns[j] if j < len(columns) else None
                if fix:
                    row[j] = after
                    issues.append(fixed_issue(n, column, value, after))
                else:
                    issues.append(mojibake_issue(n, column, value, after))
    return issues


def mojibake_in_table(
    table: pa.Table, records: npt.NDArray[np.int64], *, fix: bool
) -> tuple[pa.Table, list[Issue]]:
    """Mojibake in a chunk's table: issues for each cell (the cell repaired with *fix*).

    Arrow's regex finds the candidate cells; only those go through ftfy.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    issues: list[Issue] = []
    out = table
    for i, name in enumerate(table.column_names):
        column = table.column(i)
        hits = pc.indices_nonzero(pc.match_substring_regex(column, MOJIBAKE_PATTERN))
        if not len(hits):
            continue
        values = column.to_pylist() if fix else None
        for pos in hits.to_pylist():
            before = column[pos].as_py()
            after = fixed(before)
            if after == before:
                continue
            row = int(records[pos])
            if values is not None:
                values[pos] = after
                issues.append(fixed_issue(row, name, before, after))
            else:
                issues.append(mojibake_issue(row, name, before, after))
        if values is not None:
            out = out.set_column(i, name, pa.array(values, type=pa.string()))
    return out, issues
