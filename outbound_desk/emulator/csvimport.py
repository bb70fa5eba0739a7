"""Reading an uploaded CSV the way the platform's import does, failing with a reason."""

from __future__ import annotations

import csv
import dataclasses
import io

from outbound_desk.emulator.store import Limits


class BadFileError(Exception):
    """The file cannot be imported; ``str(exc)`` is the import status ``failureReason``."""


@dataclasses.dataclass
class ParsedFile:
    """The rows of an upload, keyed by the list's own column names."""

    rows: list[tuple[str | None, dict[str, str]]]


def parse_upload(
    raw: bytes,
    columns: list[str],
    contact_id_name: str | None,
    limits: Limits,
) -> ParsedFile:
    """Check *raw* against the list's *columns* and return its rows, or raise BadFileError.

    Rules (GENESYS_API.md, "CSV upload"): UTF-8 (a BOM is allowed), a header row whose names
    are unique and match the list's columns case-insensitively, extra columns allowed and
    ignored, standard CSV quoting. The ``contact_id_name`` column's value becomes the id.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadFileError(
            f"INVALID_FILE_ENCODING: the file is not UTF-8 (byte offset {exc.start}); "
            "save it as UTF-8 and upload again"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
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
        rows: list[tuple[str | None, dict[str, str]]] = []
        width = len(header)
        for record in reader:
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # a blank line carries no contact
            if len(record) != width:
                raise BadFileError(
                    f"INVALID_ROW: record {reader.line_num} has {len(record)} fields; "
                    f"the header has {width}"
                )
            for value in record:
                if len(value) > limits.max_value_chars:
                    raise BadFileError(
                        f"VALUE_TOO_LONG: record {reader.line_num} has a value of "
                        f"{len(value)} characters; at most {limits.max_value_chars} are allowed"
                    )
            contact_id = record[id_index].strip() if id_index is not None else None
            rows.append((contact_id or None, {c: record[i] for c, i in picks}))
    except csv.Error as exc:
        raise BadFileError(f"INVALID_CSV: record {reader.line_num}: {exc}") from None
    return ParsedFile(rows)
