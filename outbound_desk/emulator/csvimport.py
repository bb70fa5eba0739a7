"""Reading an uploaded file the way the platform's import does, failing with a reason.

The file is on disk (the upload was streamed there, never held whole in memory) and is read
twice: :func:`iter_rows` checks it completely before anything is applied (a failed import
applies nothing), then yields its rows again to apply them in steps.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from outbound_desk.emulator.store import Limits

#: Presigned upload content types (SDK 269 ContactListUploadUrlRequest.contentType).
CSV_TYPE = "text/csv"
EXCEL_TYPES = (
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
CONTENT_TYPES = (CSV_TYPE, *EXCEL_TYPES)

Row = tuple[str | None, dict[str, str]]


class BadFileError(Exception):
    """The file cannot be imported; ``str(exc)`` is the import status ``failureReason``."""


def check_encoding(path: Path, chunk_bytes: int = 1 << 20) -> None:
    """Raise :class:`BadFileError` naming the byte offset of the first invalid UTF-8 byte."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as f:
        while True:
            chunk = f.read(chunk_bytes)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                raise BadFileError(
                    f"INVALID_FILE_ENCODING: the file is not UTF-8 (byte offset "
                    f"{offset + exc.start}); save it as UTF-8 and upload again"
                ) from None
            if not chunk:
                return
            offset += len(chunk)


def iter_rows(
    path: Path,
    columns: list[str],
    contact_id_name: str | None,
    limits: Limits,
    content_type: str = CSV_TYPE,
) -> Iterator[Row]:
    """The rows of *path* keyed by the list's own column names, or :class:`BadFileError`.

    Rules (GENESYS_API.md, "CSV upload"): UTF-8 (a BOM is allowed), a header row whose names
    are unique and match the list's columns case-insensitively, extra columns allowed and
    ignored, standard CSV quoting. The ``contact_id_name`` column's value becomes the id.
    An Excel file's first sheet is read the same way (with python-calamine).
    """
    if content_type in EXCEL_TYPES:
        yield from _check_records(_excel_records(path), columns, contact_id_name, limits)
        return
    check_encoding(path)
    with path.open(encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text, strict=True)
        try:
            yield from _check_records(
                ((reader.line_num, r) for r in reader), columns, contact_id_name, limits
            )
        except csv.Error as exc:
            raise BadFileError(f"INVALID_CSV: record {reader.line_num}: {exc}") from None


def _check_records(
    records: Iterator[tuple[int, list[str]]],
    columns: list[str],
    contact_id_name: str | None,
    limits: Limits,
) -> Iterator[Row]:
    first = next(records, None)
    header = first[1] if first is not None else None
    if header is None or not any(h.strip() for h in header):
        raise BadFileError("MISSING_HEADER: the file is empty or has no header row")
    if len(header) > limits.max_columns:
        raise BadFileError(
            f"CONTACT_COLUMNS_LIMIT_EXCEEDED: the file has {len(header)} columns; "
            f"at most {limits.max_columns} are allowed"
        )
    folded = [h.strip().casefold() for h in header]
    dupes = sorted({h for h in folded if folded.count(h) > 1})
    if dupes:
        raise BadFileError(f"DUPLICATE_COLUMN_NAMES: the header repeats {', '.join(dupes)}")
    position = {h: i for i, h in enumerate(folded)}
    missing = [c for c in columns if c.casefold() not in position]
    if missing:
        raise BadFileError(
            "COLUMN_MISMATCH: the header lacks the list columns " + ", ".join(missing)
        )
    id_index: int | None = None
    if contact_id_name:
        if contact_id_name.casefold() not in position:
            raise BadFileError(
                f"CONTACT_ID_COLUMN_NOT_FOUND: the header has no column {contact_id_name!r}"
            )
        id_index = position[contact_id_name.casefold()]
    picks = [(c, position[c.casefold()]) for c in columns]
    width = len(header)
    for line_num, record in records:
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # a blank line carries no contact
        if len(record) != width:
            raise BadFileError(
                f"INVALID_ROW: record {line_num} has {len(record)} fields; the header has {width}"
            )
        for value in record:
            if len(value) > limits.max_value_chars:
                raise BadFileError(
                    f"VALUE_TOO_LONG: record {line_num} has a value of {len(value)} "
                    f"characters; at most {limits.max_value_chars} are allowed"
                )
        contact_id = record[id_index].strip() if id_index is not None else None
        yield (contact_id or None, {c: record[i] for c, i in picks})


def _excel_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        import python_calamine
    except ImportError:
        raise BadFileError(
            "UNSUPPORTED_FILE_TYPE: this sandbox cannot read Excel files (python-calamine is "
            "not installed); upload the sheet as CSV"
        ) from None
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        rows = workbook.get_sheet_by_index(0).to_python()
    except Exception as exc:  # calamine's own errors: not a workbook, damaged, encrypted
        raise BadFileError(f"INVALID_FILE: the Excel file cannot be read: {exc}") from None
    width: int | None = None
    for n, row in enumerate(rows, start=1):
        cells = [_cell_text(c) for c in row]
        if width is None:
            while cells and cells[-1] == "":
                cells.pop()  # calamine pads every row to the sheet's used width
            width = len(cells)
        elif len(cells) > width and not any(cells[width:]):
            cells = cells[:width]
        elif len(cells) < width:
            cells += [""] * (width - len(cells))
        yield n, cells


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)
