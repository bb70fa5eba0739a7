"""``sniff``: a file's profile from bounded samples, in well under a second at any size."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator

from outbound_desk.files import checks
from outbound_desk.files.dialect import (
    complete_records,
    count_fields,
    detect_dialect,
    detect_header,
    detect_line_ending,
    split_records,
    unique_columns,
)
from outbound_desk.files.encoding import (
    EncodingGuess,
    codec_name,
    detect_bom,
    guess_encoding,
    read_samples,
)
from outbound_desk.files.model import (
    LONG_RECORD_BYTES,
    MAX_COLUMNS,
    MAX_NAME_LENGTH,
    MAX_RECORD_FIELDS,
    Dialect,
    FileError,
    FileProfile,
    Issue,
    Overrides,
)
from outbound_desk.files.reader import incomplete_tail
from outbound_desk.files.repair import decode_with_fallback, looks_like_mojibake, mojibake_in_rows

#: Data records kept for the preview.
PREVIEW_RECORDS = 200
#: Decoded characters of the head the dialect is detected on.
DIALECT_CHARS = 256 * 1024

_UNIT = {"utf-16-le": 2, "utf-16-be": 2, "utf-32-le": 4, "utf-32-be": 4}


def _stat(path: str) -> int:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileError(f"no such file: {path}", code="missing") from None
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror or exc}", code="unreadable") from None
    if not os.path.isfile(path):
        raise FileError(f"not a regular file: {path}", code="not_a_file")
    if st.st_size == 0:
        raise FileError(f"the file is empty (0 bytes): {path}", code="empty")
    return st.st_size


def _decode_piece(
    piece: bytes, offset: int, size: int, guess: EncodingGuess, repair: bool = False
) -> str:
    """Decode a sample taken anywhere in the file, dropping characters cut at its edges."""
    unit = _UNIT.get(guess.encoding, 1)
    if offset == 0:
        piece = piece[guess.bom_length :]
        start = guess.bom_length
    else:
        start = offset
        misalign = (offset - guess.bom_length) % unit
        if misalign:
            piece = piece[unit - misalign :]
        if guess.encoding == "utf-8":
            i = 0
            while i < min(3, len(piece)) and 0x80 <= piece[i] <= 0xBF:
                i += 1
            piece = piece[i:]
    if start + len(piece) < size:
        tail = incomplete_tail(piece, guess.encoding)
        piece = piece[: len(piece) - tail] if tail else piece
        if unit > 1:
            piece = piece[: len(piece) - len(piece) % unit]
    if repair and guess.encoding == "utf-8":
        return decode_with_fallback(piece)  # mixed encodings: invalid bytes read as cp1252
    # (Plain "replace": the preview needs the text only, not a list of every invalid span.)
    text = piece.decode(guess.encoding, errors="replace")
    return text


def _drop_first_line(text: str) -> str:
    cut = text.find("\n")
    return text[cut + 1 :] if cut >= 0 else ""


def _stray_quote_rows(text: str, dialect: Dialect) -> bool:
    if dialect.quotechar not in text:
        return False  # most files: no quote at all, and a find is far cheaper than the regex
    q = re.escape(dialect.quotechar)
    d = re.escape(dialect.delimiter)
    return re.search(f"[^{d}{q}\\r\\n]{q}[^{d}{q}\\r\\n]", text) is not None


def _stray_quote_records(
    text: str, dialect: Dialect, columns: list[str], has_header: bool, limit: int = 100
) -> list[tuple[int, str | None]]:
    """(record, column) of the values that hold a quote without being quoted, in *text*
    (the file's head, decoded), as the reader numbers records (a quoted line break stays in
    its record)."""
    import csv

    if dialect.quotechar not in text:
        return []
    q = dialect.quotechar
    lines = iter(text.splitlines(keepends=True))
    taken: list[str] = []

    def feed() -> Iterator[str]:
        for line in lines:
            taken.append(line)
            yield line

    reader = csv.reader(
        feed(),
        delimiter=dialect.delimiter,
        quotechar=q,
        doublequote=dialect.doublequote,
        escapechar=dialect.escapechar,
        strict=False,
    )
    out: list[tuple[int, str | None]] = []
    record = 0
    try:
        for _ in reader:
            record += 1
            raw, taken[:] = "".join(taken), []
            if q not in raw:
                continue
            for j, value in enumerate(raw.rstrip("\r\n").split(dialect.delimiter)):
                if len(value) > 1 and not value.startswith(q) and q in value:
                    name = (
                        columns[j]
                        if j < len(columns) and not (has_header and record == 1)
                        else None
                    )
                    out.append((record, name))
                    break
            if len(out) >= limit:
                break
    except csv.Error:
        pass
    return out


def _workbook_format(path: str) -> str | None:
    from outbound_desk.files.workbook import detect_format

    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror or exc}", code="unreadable") from None
    return detect_format(path, head)


def _check_first_record(text: str, dialect: Dialect, at_eof: bool) -> None:
    """Refuse a first record far wider or longer than any contact list's header, before it
    is parsed: 40,000 names or a 50 MB line of ``abc,`` took minutes and gigabytes."""
    fields = count_fields(text, dialect, MAX_RECORD_FIELDS)
    if fields > MAX_RECORD_FIELDS:
        raise FileError(
            f"the first record has more than {MAX_RECORD_FIELDS:,} fields, and a contact list "
            f"holds at most {MAX_COLUMNS} columns: this is not a contact list, or the "
            "delimiter is wrong (choose it with --delimiter)",
            code="too_many_columns",
            row=1,
        )
    line_break = _LINE_BREAK.search(text)
    length = line_break.start() if line_break else len(text)
    if length > LONG_RECORD_BYTES or (line_break is None and not at_eof):
        raise FileError(
            f"the first record is longer than {min(length, LONG_RECORD_BYTES):,} characters "
            f"(read to detect the format), where a header of {MAX_COLUMNS} names of "
            f"{MAX_NAME_LENGTH} characters is far shorter: check the delimiter and the quoting",
            code="record_too_long",
            row=1,
        )


_LINE_BREAK = re.compile("[\r\n]")


def sniff(path: str | os.PathLike[str], overrides: Overrides | None = None) -> FileProfile:
    """Profile *path* from samples of its start, middle and end (no full read).

    Raises ``FileError`` for a missing, empty, binary or truncated file.
    """
    path = os.fspath(path)
    overrides = overrides or Overrides()
    size = _stat(path)
    workbook = _workbook_format(path)
    if workbook is not None:
        from outbound_desk.files.workbook import sniff_workbook

        return sniff_workbook(path, workbook, size, overrides)
    try:
        samples = read_samples(path, size)
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror or exc}", code="unreadable") from None

    head = samples[0][1]
    if overrides.encoding:
        name = codec_name(overrides.encoding)
        bom = detect_bom(head)
        has_bom = bom is not None and codec_name(bom[0]) == name
        guess = EncodingGuess(name, has_bom, bom[1] if bom and has_bom else 0, 1.0, None)
    else:
        guess = guess_encoding(samples, size)

    # A file cut in the middle of a character, or an odd number of UTF-16 bytes, is truncated.
    tail_offset, tail = samples[-1]
    body = tail if tail_offset > 0 else tail[guess.bom_length :]
    if incomplete_tail(body, guess.encoding):
        raise FileError(
            f"the file is truncated: it ends in the middle of a {guess.encoding} character; "
            "copy or export it again",
            code="truncated",
            offset=size - 1,
        )

    repair = overrides.repair_encoding
    head_text = _decode_piece(head, 0, size, guess, repair)
    if not head_text.strip() and size <= len(head):
        raise FileError(f"the file holds no data, only blank space: {path}", code="empty")
    at_eof = len(head) >= size
    head_text = complete_records(head_text, at_eof)

    issues: list[Issue] = []
    detected = detect_dialect(head_text[:DIALECT_CHARS])
    dialect = Dialect(
        overrides.delimiter or detected.delimiter,
        overrides.quotechar or detected.quotechar,
        detected.doublequote,
        detected.escapechar,
    )
    _check_first_record(head_text, dialect, at_eof)
    records = split_records(head_text, dialect, limit=PREVIEW_RECORDS + 50)
    complete = records if at_eof or len(records) < 2 else records[:-1]
    has_header = (
        overrides.has_header if overrides.has_header is not None else detect_header(complete)
    )
    nonblank = [r for r in complete if any(r)]
    if not nonblank:
        raise FileError(f"the file holds no records, only blank lines: {path}", code="empty")

    header: list[str] | None
    if has_header:
        header = list(records[0])
        columns = unique_columns(header)
        issues.extend(checks.header_issues(header))
        data = complete[1:]
        first_data = 2
    else:
        header = None
        width = Counter(len(r) for r in nonblank).most_common(1)[0][0]
        columns = [f"column_{i}" for i in range(1, width + 1)]
        if width > MAX_COLUMNS:
            issues.append(checks.too_many_fields(1, width))
        data = complete
        first_data = 1

    # Samples from the rest of the file: they confirm the dialect and feed the column stats.
    later: list[list[str]] = []
    for offset, piece in samples[1:]:
        text = _drop_first_line(_decode_piece(piece, offset, size, guess, repair))
        later.extend(split_records(complete_records(text, offset + len(piece) >= size), dialect))
    if later:
        widths = Counter(map(len, filter(any, later)))
        if widths and widths.most_common(1)[0][0] != len(columns):
            issues.append(
                Issue(
                    None,
                    None,
                    "inconsistent_dialect",
                    f"records later in the file mostly have {widths.most_common(1)[0][0]} "
                    f"fields, not {len(columns)}: the delimiter or quoting may change inside "
                    "the file; check the delimiter",
                )
            )

    stray = _stray_quote_rows(head_text, dialect) or any(
        _stray_quote_rows(piece.decode("latin-1"), dialect) for _, piece in samples[1:]
    )
    preview: list[list[str]] = []
    for number, record in enumerate(data, start=first_data):
        if not any(record):
            issues.append(checks.blank(number))
            continue
        if len(record) != len(columns):
            issues.append(checks.ragged(number, len(record), len(columns)))
        if len(preview) < PREVIEW_RECORDS:
            preview.append(record)
    if stray:
        # Every issue names its record (issue 15): the head's stray quotes are located; only
        # one seen in a later sample has no record number to give.
        located = _stray_quote_records(head_text, dialect, columns, has_header)
        issues.extend(checks.stray_quote(row, column) for row, column in located)
        if not located:
            issues.append(checks.stray_quote(None))
    issues.extend(
        # The preview's rows are data's: fixed in place, numbered as the file's records.
        mojibake_in_rows(data, columns, first_data, fix=overrides.fix_mojibake)
        if any(looks_like_mojibake(v) for r in data for v in r)
        else []
    )
    digit_lengths = checks.usual_digit_lengths(columns, data + later)
    profile = FileProfile(
        path=path,
        size_bytes=size,
        encoding=guess.encoding,
        bom=guess.bom,
        encoding_confidence=guess.confidence,
        encoding_runner_up=guess.runner_up,
        dialect=dialect,
        has_header=has_header,
        header=header,
        columns=columns,
        line_ending=detect_line_ending(head_text, dialect.quotechar),
        preview=preview,
        stray_quotes=stray,
        digit_lengths=digit_lengths,
        overrides=overrides,
    )
    issues.extend(_preview_value_issues(profile, first_data, data))
    issues.sort(key=lambda i: (i.row is None, i.row or 0))
    profile.issues = issues
    profile.issue_counts = dict(Counter(i.code for i in issues))
    return profile


def _preview_value_issues(profile: FileProfile, first: int, data: list[list[str]]) -> list[Issue]:
    import numpy as np
    import pandas as pd

    width = len(profile.columns)
    numbered = [(n, r) for n, r in enumerate(data, start=first) if len(r) == width and any(r)]
    if not numbered:
        return []
    frame = pd.DataFrame([r for _, r in numbered], columns=profile.columns, dtype="str")
    records = np.asarray([n for n, _ in numbered], dtype=np.int64)
    return checks.frame_issues(frame, records, excel=True, digit_lengths=profile.digit_lengths)
