"""The streaming reader: records of any size of file, in order, with their record numbers.

The file is decoded to UTF-8 piece by piece and cut into blocks that end on a record
boundary (a line break outside quotes, found by counting quote characters). A clean block is
parsed by pyarrow's C++ CSV parser, which is what makes a million rows take about a second;
a block with anything odd in it (a record with the wrong number of fields, NUL bytes, bytes
invalid in the file's encoding, an unterminated quote) is parsed again by the stdlib ``csv``
module, which tells exactly which record is which. A file whose samples showed quote
characters inside unquoted values cannot be cut by counting quotes, so it is read whole by the
stdlib reader (slower, exact).
"""

from __future__ import annotations

import codecs
import hashlib
import io
import itertools
import os
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from outbound_desk.base.cancel import Progress
from outbound_desk.files import checks
from outbound_desk.files.dialect import capped_lines, csv_reader, text_lines
from outbound_desk.files.model import (
    KEPT_RECORD_BYTES,
    LONG_RECORD_BYTES,
    MAX_RECORD_FIELDS,
    Cancelled,
    Dialect,
    FileError,
    FileProfile,
    Issue,
    RecordChunk,
)
from outbound_desk.files.repair import (
    FALLBACK_ERRORS,
    MOJIBAKE_BYTES,
    decode_with_fallback,
    mojibake_in_table,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from outbound_desk.files.cache import ChunkCache

IsCancelled = Callable[[], bool]

MIN_BLOCK_BYTES = 1 << 20
#: Records the stdlib reader's path hands on at a time (see ``_Reader._parse``).
SLOW_BATCH = 16_384
# Line breaks tried one by one (with quote counts) before a vectorised pass over the block.
_QUICK_TRIES = 16
MAX_BLOCK_BYTES = 32 << 20
# What every value in scientific notation or stored as a decimal number holds.
_NUMBER_HINT = r"[eE]\+|\.0"

_collected = threading.local()


def _collect_errors(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: remember where each invalid sequence was, read it as U+FFFD."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _collected.bad.append((exc.start, exc.end))
    return "\ufffd", exc.end


_ERRORS = "outbound_desk.files.collect"
codecs.register_error(_ERRORS, _collect_errors)


def decode_collecting(data: bytes, encoding: str) -> tuple[str, list[tuple[int, int]]]:
    """Decode *data*, reading invalid sequences as U+FFFD; return them as (start, end) spans."""
    try:
        return data.decode(encoding), []
    except UnicodeDecodeError:
        _collected.bad = []
        try:
            return data.decode(encoding, errors=_ERRORS), _collected.bad
        finally:
            del _collected.bad


# Invalid bytes are read as lone surrogates U+DC00 + byte (PEP 383's surrogateescape, which
# the UTF-8 codec does in C; the handler below does it for the other codecs), not as U+FFFD:
# a strict decoder never yields a lone surrogate, so a marker is always damage and a U+FFFD
# always a character the file holds. In the UTF-8 blocks the markers are the 3-byte
# sequences ED B0..B3 xx ("surrogatepass"); the parsers turn each into U+FFFD once reported.
MARKS = "outbound_desk.files.mark"
_MARKER = re.compile("[\udc00-\udcff]")
_MARKER_RUN = re.compile("[\udc00-\udcff]+")


def _mark_errors(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: each invalid byte becomes U+DC00 + byte; with a list set in
    ``_collected.marks``, the offset of each such byte is appended to it."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    marks = getattr(_collected, "marks", None)
    if marks is not None:
        marks.extend(range(exc.start, exc.end))
    return "".join(chr(0xDC00 + b) for b in bad), exc.end


codecs.register_error(MARKS, _mark_errors)


def decode_marking(data: bytes, encoding: str) -> tuple[bytes, npt.NDArray[np.int64] | None]:
    """*data* as UTF-8 with invalid bytes as markers, and the offset in *data* of each marker
    (``None`` when there is none)."""
    import numpy as np

    if encoding == "utf-8":
        if is_utf8(data):
            return data, None
        utf8 = data.decode("utf-8", "surrogateescape").encode("utf-8", "surrogatepass")
        at = marker_positions(utf8)
        # Each marker is 3 bytes for the 1 byte it stands for.
        return utf8, at - 2 * np.arange(len(at), dtype=np.int64)
    try:
        return data.decode(encoding).encode(), None
    except UnicodeDecodeError:
        pass
    _collected.marks = []
    try:
        text = data.decode(encoding, errors=MARKS)
        offsets = np.asarray(_collected.marks, dtype=np.int64)
    finally:
        del _collected.marks
    return text.encode("utf-8", "surrogatepass"), offsets


def marker_positions(utf8: bytes) -> npt.NDArray[np.int64]:
    """Where the invalid-byte markers (ED B0..B3 xx) start in a UTF-8 block."""
    import numpy as np

    if b"\xed" not in utf8:
        return np.zeros(0, dtype=np.int64)
    u = np.frombuffer(utf8, dtype=np.uint8)
    hits = (u[:-1] == 0xED) & ((u[1:] & 0xFC) == 0xB0)
    return np.flatnonzero(hits).astype(np.int64)


def is_utf8(data: bytes) -> bool:
    """Is *data* valid UTF-8, as Python's strict codec decides it (surrogates, overlong forms
    and code points past U+10FFFF refused; tests/files compare the two on random bytes)?

    Arrow's validation, without decoding: a big file's every block is checked, and
    ``bytes.decode`` would make a string of it only to throw it away, holding the
    interpreter lock all the while.
    """
    import numpy as np
    import pyarrow as pa

    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    raw = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        raw.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def incomplete_tail(data: bytes, encoding: str) -> int:
    """How many bytes at the end of *data* are the start of a character cut in two."""
    if encoding == "utf-8":
        for back in range(1, min(4, len(data)) + 1):
            b = data[-back]
            if b < 0x80:
                return 0
            if b >= 0xC0:
                need = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
                return back if need > back else 0
        return 0
    if encoding.startswith("utf-16"):
        tail = len(data) % 2
        if len(data) - tail >= 2:
            unit = data[len(data) - tail - 2 : len(data) - tail]
            hi = unit[1] if encoding == "utf-16-le" else unit[0]
            if 0xD8 <= hi <= 0xDB:  # a high surrogate waits for its pair
                tail += 2
        return tail
    if encoding.startswith("utf-32"):
        return len(data) % 4
    return 0


class _HashingReader(io.RawIOBase):
    """A raw file that hashes and counts what is read through it."""

    def __init__(self, path: str, hasher: Any, on_read: Callable[[int], None]) -> None:
        self._f = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._hasher = hasher
        self._on_read = on_read
        self.done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._f.readinto(buffer)
        if n:
            view = memoryview(buffer)[:n]
            if self._hasher is not None:
                self._hasher.update(view)
            self.done += n
            self._on_read(self.done)
        return n or 0

    def close(self) -> None:
        self._f.close()
        super().close()


@dataclass(slots=True)
class _Piece:
    data: bytes  # UTF-8, invalid bytes as markers (see MARKS)
    marks: npt.NDArray[np.int64] | None  # raw file offset of each marker, in order
    done: int  # raw bytes read so far
    eof: bool


class _Marks:
    """The raw offsets of the markers not yet given to a block, in file order."""

    def __init__(self) -> None:
        self._parts: list[npt.NDArray[np.int64]] = []
        self._pos = 0  # into self._parts[0]

    def add(self, offsets: npt.NDArray[np.int64] | None) -> None:
        if offsets is not None and len(offsets):
            self._parts.append(offsets)

    def __bool__(self) -> bool:
        return bool(self._parts)

    def take(self, n: int) -> npt.NDArray[np.int64]:
        import numpy as np

        out: list[npt.NDArray[np.int64]] = []
        while n > 0 and self._parts:
            head = self._parts[0]
            got = head[self._pos : self._pos + n]
            out.append(got)
            n -= len(got)
            self._pos += len(got)
            if self._pos >= len(head):
                self._parts.pop(0)
                self._pos = 0
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


@dataclass(slots=True)
class _Long:
    """A record longer than ``LONG_RECORD_BYTES``: its first bytes, and what was skipped."""

    kept: bytes
    marks: npt.NDArray[np.int64]
    length: int  # bytes so far
    parity: int  # of the quotes so far


@dataclass(slots=True)
class _Parsed:
    """One block's records, before they are cut into chunks."""

    table: pa.Table
    records: npt.NDArray[np.int64]
    issues: list[Issue] = field(default_factory=list)
    raw: dict[int, list[str]] = field(default_factory=dict)
    blanks: Sequence[int] | npt.NDArray[np.int64] = field(default_factory=list)
    count: int = 0  # records in the block, blank and broken ones included
    numbers: bool = True  # whether a value may hold "e+", "E+" or ".0" (Excel damage)
    marks_used: int = 0  # invalid-byte markers met in these records
    mojibake: bool = True  # whether a value may hold mojibake ("CafÃ©")


class _Reader:
    """One pass over a file; ``blocks()`` yields parsed blocks in file order."""

    def __init__(
        self,
        profile: FileProfile,
        *,
        block_bytes: int,
        hasher: Any = None,
        progress: Progress | None = None,
        cancelled: IsCancelled | None = None,
        number_hints: bool = False,
        threads: bool = True,
        issue_cap: int | None = None,
        skipped: Counter[str] | None = None,
    ) -> None:
        self.profile = profile
        # With a cap (scan), issues past it are counted in *skipped*, not built.
        self.issue_cap = issue_cap
        self.built: Counter[str] = Counter()
        self.skipped: Counter[str] = skipped if skipped is not None else Counter()
        self.number_hints = number_hints
        self.threads = threads
        self.block_bytes = block_bytes
        self.hasher = hasher
        self.progress = progress
        self.cancelled = cancelled
        self.total = profile.size_bytes
        self.names = list(profile.columns)
        self.ncols = len(self.names)
        self.quote = profile.dialect.quotechar.encode()
        self.escaped_quote = (
            (profile.dialect.escapechar + profile.dialect.quotechar).encode()
            if profile.dialect.escapechar
            else None
        )
        self.bom_length = _bom_length(profile)
        # Mixed encodings repaired: invalid UTF-8 read as cp1252 (how many, where the first).
        self.repair = profile.overrides.repair_encoding and profile.encoding == "utf-8"
        self.repaired = 0
        self.first_repaired: int | None = None

    def want(self, code: str) -> bool:
        """Whether to build an issue of *code* (false past the cap: then it is counted)."""
        if self.issue_cap is None:
            return True
        if self.built[code] < self.issue_cap:
            self.built[code] += 1
            return True
        self.skipped[code] += 1
        return False

    # ------------------------------------------------------------------ bytes to UTF-8
    def _check(self, done: int) -> None:
        if self.cancelled is not None and self.cancelled():
            raise Cancelled
        if self.progress is not None:
            self.progress(done, self.total, "reading")

    def _pieces(self) -> Iterator[_Piece]:
        encoding = self.profile.encoding
        with open(self.profile.path, "rb") as f:
            carry = b""
            offset = 0  # raw offset of carry[0]
            done = 0
            first = True
            while True:
                self._check(done)
                chunk = f.read(self.block_bytes)
                done += len(chunk)
                if self.hasher is not None:
                    self.hasher.update(chunk)
                eof = len(chunk) == 0 or done >= self.total
                if first:
                    chunk = chunk[self.bom_length :]
                    offset = self.bom_length
                    first = False
                data = carry + chunk
                cut = len(data) - (0 if eof else incomplete_tail(data, encoding))
                if eof and incomplete_tail(data, encoding):
                    raise FileError(
                        f"the file is truncated: it ends in the middle of a {encoding} "
                        f"character (byte offset {offset + len(data) - 1}); save it again",
                        code="truncated",
                        offset=offset + len(data) - 1,
                    )
                body, carry = data[:cut], data[cut:]
                marks = None
                if self.repair and not is_utf8(body):
                    _, found = decode_collecting(body, encoding)
                    if found and self.first_repaired is None:
                        self.first_repaired = offset + found[0][0]
                    self.repaired += len(found)
                    utf8 = decode_with_fallback(body).encode()
                else:
                    # Valid UTF-8 is used as it is: no decoding, no re-encoding.
                    utf8, marks = decode_marking(body, encoding)
                    if marks is not None:
                        marks += offset
                offset += cut
                yield _Piece(utf8, marks, done, eof)
                if eof:
                    return

    # ------------------------------------------------------------------ record boundaries
    def _parity(self, data: bytes, start: int, end: int) -> int:
        n = data.count(self.quote, start, end)
        if self.escaped_quote:
            n -= data.count(self.escaped_quote, start, end)
        return n

    def _last_boundary(self, data: bytes) -> int:
        """Index just after the last line break outside quotes, or -1."""
        nl = b"\n" if b"\n" in data else b"\r"
        cut = data.rfind(nl)
        if cut < 0:
            return -1
        if self.quote not in data:
            return cut + 1
        parity = self._parity(data, 0, cut) % 2
        for _ in range(_QUICK_TRIES):
            if parity == 0:
                return cut + 1
            prev = data.rfind(nl, 0, cut)
            if prev < 0:
                return -1
            parity = (parity - self._parity(data, prev, cut)) % 2
            cut = prev
        # A value holding thousands of line breaks: one vectorised pass instead of a loop.
        ends = self._breaks_outside_quotes(data[:cut], nl, 0)
        return int(ends[-1]) + 1 if len(ends) else -1

    def _first_boundary(self, data: bytes) -> int:
        """Index just after the first record (the header), or len(data)."""
        nl = b"\n" if b"\n" in data else b"\r"
        pos = data.find(nl)
        for _ in range(_QUICK_TRIES):
            if pos < 0:
                return len(data)
            if self._parity(data, 0, pos) % 2 == 0:
                return pos + 1
            pos = data.find(nl, pos + 1)
        end = self._record_end(data, 0)
        return end if end >= 0 else len(data)

    def _breaks_outside_quotes(self, data: bytes, nl: bytes, parity: int) -> npt.NDArray[np.intp]:
        """Positions of the line breaks *nl* in *data* outside quotes (*parity*: of the quotes
        before *data*)."""
        import numpy as np

        u = np.frombuffer(data, dtype=np.uint8)
        quotes = u == self.quote[0]
        if self.escaped_quote:
            quotes[1:] &= u[:-1] != self.escaped_quote[0]
        odd = np.bitwise_xor.accumulate(quotes.view(np.uint8)) ^ parity
        return np.flatnonzero((u == nl[0]) & (odd == 0))

    def _record_end(self, data: bytes, parity: int) -> int:
        """Index just after the first line break in *data* outside quotes, when the quotes
        before *data* left *parity*; or -1. (numpy: a record may span millions of lines.)"""
        nl = b"\n" if b"\n" in data else b"\r"
        first = data.find(nl)
        if first < 0:
            return -1
        if self.quote not in data:
            return first + 1 if parity == 0 else -1
        ends = self._breaks_outside_quotes(data, nl, parity)
        return int(ends[0]) + 1 if len(ends) else -1

    def _start_long(self, buffer: bytes, marks: _Marks) -> _Long:
        kept = buffer[:KEPT_RECORD_BYTES]
        kept = kept[: len(kept) - incomplete_tail(kept, "utf-8")]
        if self.profile.dialect.escapechar:
            kept = kept.rstrip(self.profile.dialect.escapechar.encode())
        kept_marks = marks.take(len(marker_positions(kept)))
        marks.take(len(marker_positions(buffer[len(kept) :])))  # skipped with the rest
        return _Long(kept, kept_marks, len(buffer), self._parity(buffer, 0, len(buffer)) % 2)

    def _finish_long(self, long: _Long, start: int, unterminated: bool) -> _Parsed:
        """The long record, cut to its first bytes and closed, as one rejected record."""
        closed = long.kept
        if self._parity(closed, 0, len(closed)) % 2:
            closed += self.quote
        text = closed.decode("utf-8", "surrogatepass")
        fields = [
            f
            for record in csv_reader(io.StringIO(text, newline=""), self.profile.dialect)
            for f in record
        ]
        return self._parse_records(
            [(fields or [""], long.length)],
            start,
            long.marks,
            unterminated,
            check_nul="\x00" in text,
            cut_unit="bytes",  # of the UTF-8 text: the record was never decoded whole
        )

    def blocks(self) -> Iterator[_Parsed]:
        if self.profile.stray_quotes:
            yield from self._exact_blocks()
            return
        buffer = b""
        marks = _Marks()
        record = 1
        header_pending = self.profile.has_header
        long: _Long | None = None
        for piece in self._pieces():
            marks.add(piece.marks)
            data = piece.data
            if long is not None:
                # Inside a record too long to hold: look for its end, keep nothing of it.
                end = self._record_end(data, long.parity)
                skipped = data if end < 0 else data[:end]
                marks.take(len(marker_positions(skipped)))
                long.length += len(skipped)
                long.parity = (long.parity + self._parity(skipped, 0, len(skipped))) % 2
                if end < 0 and not piece.eof:
                    continue
                parsed = self._finish_long(long, record, unterminated=end < 0 and long.parity == 1)
                record += parsed.count
                yield parsed
                long = None
                data = data[len(skipped) :]
            buffer += data
            if header_pending:
                if not piece.eof and self._last_boundary(buffer) < 0:
                    if len(buffer) > LONG_RECORD_BYTES:
                        raise FileError(
                            f"the header (record 1) is longer than {LONG_RECORD_BYTES:,} "
                            "bytes: check the delimiter and the quoting",
                            code="record_too_long",
                            row=1,
                        )
                    continue
                head = self._first_boundary(buffer)
                marks.take(len(marker_positions(buffer[:head])))
                buffer = buffer[head:]
                record, header_pending = 2, False
            cut = len(buffer) if piece.eof else self._last_boundary(buffer)
            if cut <= 0:
                if not piece.eof and len(buffer) > LONG_RECORD_BYTES:
                    long = self._start_long(buffer, marks)
                    buffer = b""
                continue
            block, buffer = buffer[:cut], buffer[cut:]
            block_marks = marks.take(len(marker_positions(block))) if marks else None
            unterminated = piece.eof and self._parity(block, 0, len(block)) % 2 == 1
            mojibake = MOJIBAKE_BYTES.search(block) is not None
            for parsed in self._parse(block, record, block_marks, unterminated):
                parsed.mojibake = mojibake
                record += parsed.count
                yield parsed

    # ------------------------------------------------------------------ parsing
    def _parse(
        self,
        block: bytes,
        start: int,
        marks: npt.NDArray[np.int64] | None,
        unterminated: bool,
    ) -> Iterator[_Parsed]:
        """A block's records: one part from Arrow, or parts of at most ``SLOW_BATCH``
        records from the stdlib reader (a 1 MiB block of one-byte broken records is half a
        million Python lists and issues: they go on in slices, not all at once)."""
        if not block:
            yield self._empty(start)
            return
        if (marks is None or not len(marks)) and not unterminated and b"\x00" not in block:
            parsed = self._parse_fast(block, start)
            if parsed is not None:
                yield parsed
                return
        text = block.decode("utf-8", "surrogatepass")
        records = self._records(lambda cuts: text_lines(text, block, self.profile.dialect, cuts))
        batch = list(itertools.islice(records, SLOW_BATCH))
        used = 0  # markers given to earlier parts
        while True:
            ahead = next(records, None)
            parsed = self._parse_records(
                batch,
                start,
                None if marks is None else marks[used:],
                unterminated and ahead is None,
                check_nul="\x00" in text,
            )
            used += parsed.marks_used
            start += parsed.count
            yield parsed
            if ahead is None:
                return
            batch = [ahead, *itertools.islice(records, SLOW_BATCH - 1)]

    def _records(
        self, lines: Callable[[dict[int, int]], Iterable[str]]
    ) -> Iterator[tuple[list[str], int]]:
        """The stdlib reader's records over ``lines(cuts)``, each with the length it had when
        one of its lines was too long and cut (``cuts[line number]``; else 0)."""
        cuts: dict[int, int] = {}
        source = lines(cuts)
        reader: Any = csv_reader(source, self.profile.dialect)  # .line_num: lines read
        for fields in reader:
            cut = 0
            while cuts and next(iter(cuts)) <= reader.line_num:
                cut = max(cut, cuts.pop(next(iter(cuts))))
            yield fields, cut

    def _empty(self, start: int) -> _Parsed:
        import numpy as np

        return _Parsed(_table(self.names, []), np.zeros(0, dtype=np.int64))

    def _parse_fast(self, block: bytes, start: int) -> _Parsed | None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pacsv

        broken = False

        def on_invalid(_row: Any) -> str:
            nonlocal broken
            broken = True
            return "skip"

        d = self.profile.dialect
        try:
            table = pacsv.read_csv(
                io.BytesIO(block),
                read_options=pacsv.ReadOptions(
                    column_names=[f"f{i}" for i in range(self.ncols)],
                    block_size=1 << 22,
                    use_threads=self.threads,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=d.delimiter,
                    quote_char=d.quotechar,
                    double_quote=d.doublequote,
                    escape_char=d.escapechar or False,
                    newlines_in_values=True,
                    ignore_empty_lines=False,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={f"f{i}": pa.string() for i in range(self.ncols)},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid:
            return None
        if broken:
            return None
        table = table.rename_columns(self.names)
        count = table.num_rows
        records = np.arange(start, start + count, dtype=np.int64)
        blanks: Sequence[int] | npt.NDArray[np.int64] = []
        if count and self.ncols:
            empty = pc.equal(pc.utf8_length(table.column(0)), 0)
            for i in range(1, self.ncols):
                if not pc.any(empty).as_py():
                    break
                empty = pc.and_(empty, pc.equal(pc.utf8_length(table.column(i)), 0))
            if pc.any(empty).as_py():
                mask = empty.to_numpy(zero_copy_only=False)
                blanks = records[mask]
                table = table.filter(pc.invert(empty))
                records = records[~mask]
        numbers = True
        if self.number_hints and not d.escapechar:
            # One pass of RE2 over the block's bytes instead of three kernels per column:
            # in a clean file no cell can be in scientific notation or a decimal number.
            # (An escape character could sit between "E" and "+", hence not with one.)
            probe = pa.array([block], type=pa.large_binary())
            numbers = bool(pc.any(pc.match_substring_regex(probe, _NUMBER_HINT)).as_py())
        return _Parsed(table, records, blanks=blanks, count=count, numbers=numbers)

    def _parse_records(
        self,
        reader: Iterable[tuple[list[str], int]],
        start: int,
        marks: npt.NDArray[np.int64] | None,
        unterminated: bool,
        *,
        check_nul: bool,
        check_marks: bool = False,
        cut_unit: str = "characters",
    ) -> _Parsed:
        """Records ``(fields, cut)`` of the stdlib reader as a block; *marks* are the file
        offsets of the block's invalid-byte markers (``None``: none, or not known, with
        *check_marks*)."""
        import numpy as np

        names = self.names
        encoding = self.profile.encoding
        rows: list[list[str]] = []
        records: list[int] = []
        issues: list[Issue] = []
        raw: dict[int, list[str]] = {}
        blanks: list[int] = []
        check_bad = check_marks or (marks is not None and len(marks) > 0)
        next_mark = 0  # index into marks of the next marker in the block
        record = start - 1
        for fields, cut in reader:
            record += 1
            if not any(fields) and not cut:
                blanks.append(record)
                continue
            if check_nul:
                for i, value in enumerate(fields):
                    if "\x00" in value:
                        fields[i] = value.replace("\x00", "")
                        if self.want("nul_byte"):
                            issues.append(checks.nul(record, _name(names, i)))
            if check_bad:
                for i, value in enumerate(fields):
                    if _MARKER.search(value) is None:
                        continue
                    run = _MARKER_RUN.search(value)
                    fields[i], count = _MARKER.subn("\ufffd", value)
                    offset = None
                    if marks is not None and next_mark < len(marks):
                        offset = int(marks[next_mark])
                    next_mark += count
                    if self.want("invalid_bytes"):
                        first = bytes(ord(c) - 0xDC00 for c in run.group()[:16]) if run else b""
                        issues.append(
                            checks.invalid_bytes(
                                record, _name(names, i), offset, first, encoding, count
                            )
                        )
            if cut:
                if self.want("record_too_long"):
                    issues.append(checks.record_too_long(record, cut, cut_unit))
                raw[record] = fields[:MAX_RECORD_FIELDS]
                continue
            if len(fields) != self.ncols:
                if self.want("ragged_row"):
                    issues.append(checks.ragged(record, len(fields), self.ncols))
                raw[record] = fields[:MAX_RECORD_FIELDS]
                continue
            rows.append(fields)
            records.append(record)
        count = record - start + 1
        if unterminated and count > 0:
            last = record
            if records and records[-1] == last:
                raw[last] = rows.pop()
                records.pop()
            issues.append(checks.unterminated(last))
        return _Parsed(
            _table(names, rows),
            np.asarray(records, dtype=np.int64),
            issues,
            raw,
            blanks,
            count,
            marks_used=next_mark,
        )

    def _exact_blocks(self) -> Iterator[_Parsed]:
        """The whole file through the stdlib reader, for files that defeat quote counting."""
        hashing = _HashingReader(self.profile.path, self.hasher, self._check)
        encoding = self.profile.encoding
        with hashing:
            buffered = io.BufferedReader(hashing, buffer_size=1 << 20)
            buffered.read(self.bom_length)
            text = io.TextIOWrapper(
                buffered,
                encoding=encoding,
                # Markers, not U+FFFD: a U+FFFD the file holds is no damage (see MARKS).
                errors=FALLBACK_ERRORS
                if self.repair
                else "surrogateescape"
                if encoding == "utf-8"
                else MARKS,
                newline="",
            )
            reader = self._records(lambda cuts: _stream_lines(text, self.profile.dialect, cuts))
            record = 1
            if self.profile.has_header:
                next(reader, None)
                record = 2
            batch = min(max(self.block_bytes // 64, 1000), SLOW_BATCH)
            while True:
                rows = list(itertools.islice(reader, batch))
                if not rows:
                    return
                parsed = self._parse_records(
                    rows, record, None, False, check_nul=True, check_marks=True
                )
                record += parsed.count
                yield parsed


def _stream_lines(stream: io.TextIOBase, dialect: Dialect, cuts: dict[int, int]) -> Iterable[str]:
    return capped_lines(stream.readline, LONG_RECORD_BYTES, KEPT_RECORD_BYTES, dialect, cuts)


def _name(names: Sequence[str], index: int) -> str | None:
    return names[index] if index < len(names) else None


def _table(names: Sequence[str], rows: list[list[str]]) -> pa.Table:
    import pyarrow as pa

    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table({n: pa.array(c, type=pa.string()) for n, c in zip(names, columns, strict=True)})


def _bom_length(profile: FileProfile) -> int:
    if not profile.bom:
        return 0
    return {"utf-8": 3, "utf-16-le": 2, "utf-16-be": 2, "utf-32-le": 4, "utf-32-be": 4}.get(
        profile.encoding, 0
    )


def use_lean_allocator() -> None:
    """Make Arrow allocate with jemalloc where this build of pyarrow has it.

    Arrow's default here (mimalloc) keeps the memory of freed chunks for reuse, and the
    threads of a big validation each keep their own: validating 10,000,000 rows peaked at
    555 MB with it and at 462 MB with jemalloc set to give freed pages back after 0.1 s
    (benchmarks/README.md). Called once at start by the command line and the app (and their
    child processes); elsewhere Arrow's default stays. Wheels without jemalloc (Windows)
    keep their default.
    """
    import pyarrow as pa

    _fewer_malloc_arenas()
    if "jemalloc" in pa.supported_memory_backends():
        pa.set_memory_pool(pa.jemalloc_memory_pool())
        # Freed pages go back after 0.1 s instead of Arrow's default 1 s: 10M rows peaked at
        # 462 MB instead of 508 MB, for about 5 % more time (0 ms: 432 MB, 15 % more).
        pa.jemalloc_set_decay_ms(100)


#: glibc's mallopt parameter for the number of malloc arenas.
_M_ARENA_MAX = -8


def _fewer_malloc_arenas() -> None:
    """On glibc, two malloc arenas instead of up to eight per core.

    numpy's temporaries are malloc'd by whichever thread makes them, and glibc gives each
    thread its own arena, which keeps the memory freed in it: with the checking threads of a
    big validation that cost 40 MB of peak RSS on 10,000,000 rows (476 MB against 434 MB),
    for no measurable speed. Must run before those threads start; elsewhere a no-op.
    """
    import ctypes
    import ctypes.util

    if sys.platform != "linux":
        return
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return
    except (ValueError, OSError):
        return  # not glibc (musl has no such name)
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        ctypes.CDLL(name).mallopt(_M_ARENA_MAX, 2)
    except (OSError, AttributeError):
        return  # not glibc after all: nothing to tune


def block_bytes_for(profile: FileProfile, chunk_rows: int) -> int:
    """Raw bytes that hold about *chunk_rows* records, from the preview's record sizes."""
    if profile.preview:
        per_record = sum(len(v) + 1 for r in profile.preview for v in r) / len(profile.preview)
        if profile.encoding.startswith("utf-16"):
            per_record *= 2
        elif profile.encoding.startswith("utf-32"):
            per_record *= 4
    else:
        per_record = 100.0
    # A little under chunk_rows records per block: most blocks are then one chunk, not a full
    # chunk and a small remainder, each with its own per-chunk costs downstream.
    return int(min(max(per_record * 0.9 * chunk_rows, MIN_BLOCK_BYTES), MAX_BLOCK_BYTES))


class _Blanks:
    """Blank records wait here until a data record follows; trailing ones are reported once.

    They wait as runs ``[first, count]``: a file of a hundred million blank lines must not
    make a list of a hundred million numbers.
    """

    def __init__(self, want: Callable[[str], bool] | None = None) -> None:
        self.pending: list[list[int]] = []
        self.want = want

    def _wait(self, blanks: Sequence[int] | npt.NDArray[np.int64]) -> None:
        import numpy as np

        if not len(blanks):
            return
        at = np.asarray(blanks, dtype=np.int64)
        starts = np.concatenate(([0], np.flatnonzero(np.diff(at) != 1) + 1))
        lengths = np.diff(np.concatenate((starts, [len(at)])))
        runs = self.pending
        for first, count in zip(at[starts].tolist(), lengths.tolist(), strict=True):
            if runs and runs[-1][0] + runs[-1][1] == first:
                runs[-1][1] += count
            else:
                runs.append([first, count])

    def feed(self, parsed: _Parsed) -> list[Issue]:
        data = [int(r) for r in parsed.records[-1:]] + list(parsed.raw)
        self._wait(parsed.blanks)
        if not data:
            return []
        last_data = max(data)
        out: list[Issue] = []
        keep: list[list[int]] = []
        for first, count in self.pending:
            before = min(count, max(last_data - first, 0))
            if before and (self.want is None or self.want("blank_row")):
                out.append(checks.blank(first, before))  # a run of blank records: one issue
            if before < count:
                keep.append([first + before, count - before])
        self.pending = keep
        return out

    def finish(self) -> list[Issue]:
        if not self.pending:
            return []
        count = sum(n for _, n in self.pending)
        return [checks.trailing_blank(self.pending[0][0], count)]


def iter_chunks(
    profile: FileProfile,
    *,
    chunk_rows: int = 50_000,
    columns: Sequence[str] | None = None,
    progress: Progress | None = None,
    cancelled: IsCancelled | None = None,
    threads: bool = True,
    hasher: Any = None,
) -> Iterator[RecordChunk]:
    """The file's data records in chunks of at most *chunk_rows* frame rows, in file order.

    *columns* picks (and orders) a subset of ``profile.columns``. Blank records are skipped and
    reported; records with the wrong number of fields are in ``raw``. Memory stays bounded by
    the chunk size. Raises ``Cancelled`` when *cancelled* returns true between blocks, and
    ``FileError`` for a file that cannot be read. *threads*: Arrow may parse a block on
    several cores (a caller whose own threads already keep the cores busy passes False:
    validating 1M rows with two checking threads took 5 % more CPU and time with them).
    A workbook's profile (``profile.workbook``) is read by ``files.workbook``. A CSV file's
    bytes, as read, are fed to *hasher* (a ``hashlib`` object), as ``scan`` does: an upload
    compares the two to know it sent the file it checked.
    """
    if profile.workbook is not None:
        from outbound_desk.files.workbook import iter_workbook_chunks

        yield from iter_workbook_chunks(
            profile, chunk_rows=chunk_rows, columns=columns, progress=progress, cancelled=cancelled
        )
        return
    yield from _chunks(profile, chunk_rows, columns, progress, cancelled, hasher, threads)


def _chunks(
    profile: FileProfile,
    chunk_rows: int,
    columns: Sequence[str] | None,
    progress: Progress | None,
    cancelled: IsCancelled | None,
    hasher: Any,
    threads: bool = True,
) -> Iterator[RecordChunk]:
    for part in _parts(profile, chunk_rows, columns, progress, cancelled, hasher, threads=threads):
        yield RecordChunk(part.table, part.records, part.issues, part.raw)


@dataclass(slots=True)
class _Part:
    """A chunk as the reader makes it, with its block's number hint (``scan`` reads it);
    ``iter_chunks`` hands it on as a :class:`RecordChunk`."""

    table: pa.Table
    records: npt.NDArray[np.int64]
    issues: list[Issue]
    raw: dict[int, list[str]]
    numbers: bool = True  # see _Parsed.numbers


def _parts(
    profile: FileProfile,
    chunk_rows: int,
    columns: Sequence[str] | None,
    progress: Progress | None,
    cancelled: IsCancelled | None,
    hasher: Any,
    *,
    number_hints: bool = False,
    threads: bool = True,
    issue_cap: int | None = None,
    skipped: Counter[str] | None = None,
) -> Iterator[_Part]:
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    if columns is not None:
        unknown = [c for c in columns if c not in profile.columns]
        if unknown:
            raise ValueError(f"no such columns in the file: {unknown}")
    wanted = list(columns) if columns is not None else list(profile.columns)
    reader = _Reader(
        profile,
        block_bytes=block_bytes_for(profile, chunk_rows),
        hasher=hasher,
        progress=progress,
        cancelled=cancelled,
        number_hints=number_hints,
        threads=threads,
        issue_cap=issue_cap,
        skipped=skipped,
    )
    blanks = _Blanks(reader.want if issue_cap is not None else None)
    try:
        for parsed in reader.blocks():
            issues = parsed.issues + blanks.feed(parsed)
            table = parsed.table.select(wanted)
            if parsed.mojibake:
                table, found = mojibake_in_table(
                    table, parsed.records, fix=profile.overrides.fix_mojibake
                )
                issues = issues + found
            for part in _split(table, parsed.records, issues, parsed.raw, chunk_rows):
                part.numbers = parsed.numbers
                yield part
    except OSError as exc:
        raise FileError(
            f"cannot read {profile.path}: {exc.strerror or exc}", code="unreadable"
        ) from None
    tail = blanks.finish()
    if reader.repaired:
        tail.append(_repaired_issue(reader.repaired, reader.first_repaired))
    if tail:
        import numpy as np

        yield _Part(_table(wanted, []), np.zeros(0, dtype=np.int64), tail, {})
    if progress is not None:
        progress(profile.size_bytes, profile.size_bytes, "reading")


def _repaired_issue(count: int, first: int | None) -> Issue:
    from outbound_desk.files.model import Severity

    where = f" (the first at byte offset {first})" if first is not None else ""
    return Issue(
        None,
        None,
        "encoding_repaired",
        f"{count} byte sequence(s) that are not UTF-8{where} were read as cp1252; the rest "
        "of the file as UTF-8",
        Severity.INFO,
        first,
    )


def _columns(table: pa.Table) -> list[tuple[str, pa.ChunkedArray]]:
    return [(str(name), table.column(i)) for i, name in enumerate(table.column_names)]


def _split(
    table: pa.Table,
    records: npt.NDArray[np.int64],
    issues: list[Issue],
    raw: dict[int, list[str]],
    chunk_rows: int,
) -> Iterator[_Part]:
    n = table.num_rows
    if n <= chunk_rows:
        issues.sort(key=lambda i: i.row or 0)
        issues = issues + checks.column_issues(_columns(table), records, excel=False)
        yield _Part(table, records, issues, raw)
        return
    for lo in range(0, n, chunk_rows):
        hi = min(lo + chunk_rows, n)
        part = records[lo:hi]
        first = -1 if lo == 0 else int(part[0])
        last = 1 << 62 if hi == n else int(part[-1])
        mine = [i for i in issues if i.row is None or first <= i.row <= last]
        mine_raw = {r: v for r, v in raw.items() if first <= r <= last}
        piece = table.slice(lo, hi - lo)
        mine = mine + checks.column_issues(_columns(piece), part, excel=False)
        yield _Part(piece, part, mine, mine_raw)


def scan(
    profile: FileProfile,
    *,
    progress: Progress | None = None,
    cancelled: IsCancelled | None = None,
) -> FileProfile:
    """One streaming pass: exact row count, SHA-256 of the bytes, and every issue.

    Returns a new profile; the one given is not changed. Issues are kept up to
    ``ISSUES_KEPT_PER_CODE`` per code, and ``issue_counts`` counts all of them.
    """
    from outbound_desk.files.identity import FileIdentity

    try:
        before: FileIdentity | None = FileIdentity.of(profile.path)
    except OSError:
        before = None  # the read below says what is wrong
    if profile.workbook is not None:
        from outbound_desk.files.workbook import scan_workbook

        scanned = scan_workbook(profile, progress=progress, cancelled=cancelled)
    else:
        scanned = _scan(profile, progress, cancelled)
    scanned.identity = before
    return scanned


class ScanPass:
    """The chunks of ``iter_chunks`` and, from the same read, what ``scan`` gives.

    ``for chunk in ScanPass(profile).chunks(): ...``; once the chunks are exhausted,
    :attr:`scanned` is the profile ``scan`` would have returned (exact row count, SHA-256,
    every issue, the file's identity taken before the read). A caller that needs the rows (the
    preview's table) and the scan reads the file once instead of twice; a workbook's too (its
    scan tallied from the same chunks: ``files.workbook.WorkbookScan``).

    *keep* (a ``files.cache.ChunkCache`` for this profile and *chunk_rows*) is given every
    chunk as ``iter_chunks`` would make it, for a validation to take without reading the file
    again; from a chunk whose issues the scan capped (``ISSUES_KEPT_PER_CODE`` of a code, the
    rest only counted) on, it keeps nothing.
    """

    def __init__(
        self,
        profile: FileProfile,
        *,
        chunk_rows: int = 50_000,
        progress: Progress | None = None,
        cancelled: IsCancelled | None = None,
        keep: ChunkCache | None = None,
    ) -> None:
        self.profile = profile
        self.chunk_rows = chunk_rows
        self.progress = progress
        self.cancelled = cancelled
        self.keep = keep
        self.scanned: FileProfile | None = None
        self._read = (0, profile.size_bytes)  # bytes read, of the total, last reported

    def _progress(self, done: int, total: int, phase: str) -> None:
        self._read = (done, total)
        if self.progress is not None:
            self.progress(done, total, phase)

    def chunks(self) -> Iterator[RecordChunk]:
        from outbound_desk.files.identity import FileIdentity

        profile = self.profile
        try:
            before: FileIdentity | None = FileIdentity.of(profile.path)
        except OSError:
            before = None  # the read below says what is wrong
        keep = self.keep
        if keep is not None:
            keep.begin(before)
        finished = False
        try:
            if profile.workbook is not None:
                from outbound_desk.files.workbook import WorkbookScan, iter_workbook_chunks

                tally = WorkbookScan(profile)
                for chunk in iter_workbook_chunks(
                    profile,
                    chunk_rows=self.chunk_rows,
                    progress=self._progress,
                    cancelled=self.cancelled,
                ):
                    tally.add(chunk)
                    if keep is not None:
                        keep.keep(chunk, *self._read)
                    yield chunk
                if keep is not None:
                    keep.finish()
                scanned = tally.result()
            else:
                holder: list[FileProfile] = []
                skipped: Counter[str] = Counter()
                for chunk in _scan_parts(
                    profile, self.chunk_rows, self._progress, self.cancelled, holder, skipped
                ):
                    if keep is not None:
                        if skipped:
                            keep.drop("the file has more issues of a kind than the scan keeps")
                        keep.keep(chunk, *self._read)
                    yield chunk
                if keep is not None:
                    keep.finish()
                scanned = holder[0]
            finished = True
        finally:
            if keep is not None and not finished:
                keep.drop("the read stopped before the end of the file")
        scanned.identity = before
        self.scanned = scanned


def _scan(
    profile: FileProfile, progress: Progress | None, cancelled: IsCancelled | None
) -> FileProfile:
    holder: list[FileProfile] = []
    for _ in _scan_parts(profile, 50_000, progress, cancelled, holder):
        pass
    return holder[0]


def _scan_parts(
    profile: FileProfile,
    chunk_rows: int,
    progress: Progress | None,
    cancelled: IsCancelled | None,
    out_holder: list[FileProfile],
    skipped: Counter[str] | None = None,
) -> Iterator[RecordChunk]:
    """The file's chunks; once exhausted, *out_holder* holds the scanned profile. *skipped*
    counts, as the read goes, the issues past the cap that were counted without being built."""
    from outbound_desk.files.model import ISSUES_KEPT_PER_CODE

    hasher = hashlib.sha256()
    out = profile.copy()
    # Header issues came from the header itself; everything else is recounted here.
    kept = [i for i in profile.issues if i.row == 1 and profile.has_header]
    counts: dict[str, int] = {}
    for issue in kept:
        counts[issue.code] = counts.get(issue.code, 0) + 1
    rows = 0

    def add(issue: Issue) -> None:
        n = counts.get(issue.code, 0)
        counts[issue.code] = n + 1
        if n < ISSUES_KEPT_PER_CODE:
            kept.append(issue)

    if skipped is None:
        skipped = Counter()  # issues past the cap, counted without being built
    for part in _parts(
        profile,
        chunk_rows,
        None,
        progress,
        cancelled,
        hasher,
        number_hints=True,
        issue_cap=ISSUES_KEPT_PER_CODE,
        skipped=skipped,
    ):
        rows += part.table.num_rows + len(part.raw)
        for issue in part.issues:
            add(issue)
        # Value lengths are already among the part's issues.
        for issue in checks.column_issues(
            _columns(part.table),
            part.records,
            excel=True,
            too_long=False,
            digit_lengths=profile.digit_lengths,
            numbers=part.numbers,
        ):
            add(issue)
        yield RecordChunk(part.table, part.records, part.issues, part.raw)
    for issue in profile.issues:
        if issue.code == "stray_quote":
            add(issue)
    for code, n in skipped.items():
        counts[code] = counts.get(code, 0) + n
    kept.sort(key=lambda i: (i.row is None, i.row or 0))
    out.issues = kept
    out.issue_counts = counts
    out.rows = rows
    out.sha256 = hasher.hexdigest()
    out_holder.append(out)
