""".xlsx sheets read from their XML stream, a block at a time, in memory bounded by a batch.

calamine and fastexcel read a whole sheet before the first row comes out (a million rows of
seven columns: 740 MB at the peak). This reader decompresses the sheet's XML a few MB at a
time, cut at ``</row>``, and yields the batches ``files.workbook`` gives (the same rows,
records, issues and rows set aside, batch by batch): what it holds is one batch of cells
(:data:`files.workbook.BATCH_ROWS` rows), one block of XML, and the workbook's **shared
strings**, which it reads whole first, as an Arrow string array: a cell anywhere in the sheet
may refer to any of them, so they cannot be streamed (their share of the memory is that of
the distinct texts: 49 MB for the benchmark's million contacts, mostly unique e-mail
addresses; twice that for a moment while the blocks' arrays are joined into one).

No Python object per cell: a block's tags are found with numpy (the positions of ``<``,
``>`` and ``"``, then the two bytes after each ``<``), each cell's reference, type, style
and value are read by offsets from those positions, the values are gathered into one Arrow
array, shared-string indices become texts by ``take``, numbers are parsed by an Arrow cast,
XML entities (and Excel's ``_xHHHH_`` escapes) are undone only in values holding ``&``
(``_x``). A block written in any other shape than the one Excel, openpyxl and xlsxwriter
write (a cell or row without its reference, a namespace prefix, an unknown tag, a ``>`` left
in a text) is read by an XML parser instead (defusedxml), cell by cell: the same cells, only
slower. A DTD, and so any entity expansion, is refused; a sheet not in UTF-8 is left to
fastexcel (:func:`read` returns ``None``). The cells' texts
are then made column by column by the same functions as the other two readers
(``files.workbook._flag_zeros_and_errors``, ``files.workbook_arrow._number_texts`` ...), and
dates, times and durations as python-calamine gives them (:func:`moment`).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from outbound_desk.base.cancel import Progress
from outbound_desk.files.model import FileError, FileProfile, Issue, RecordChunk

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

IsCancelled = Callable[[], bool]

#: Decompressed XML read at a time (a block is cut at its last ``</row>``). Its working
#: memory is about 25 bytes per byte; 2 MB is as fast as 4 or 8 (1M rows: 5.7 s, 5.9 s, 6.0 s).
BLOCK_BYTES = 2 << 20

# Cell kinds, as the other readers' cells: text (shared, inline or a formula's string),
# number, boolean, error (its text kept, the cell empty), a date/time/duration (its text).
TEXT, NUMBER, BOOL, ERROR, MOMENT = 0, 1, 2, 3, 4

_ENTITY = re.compile(rb"&(#[0-9]+|#x[0-9a-fA-F]+|lt|gt|amp|quot|apos);")
_NAMED = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"', b"apos": "'"}
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_T_TEXT = re.compile(rb"<t(?:\s[^>]*)?>([^<]*)</t>|<t(?:\s[^>]*)?/>|<rPh\b.*?</rPh>", re.S)


def _unescape_xml(raw: bytes) -> str:
    """XML text (its five named entities and character references) as text."""

    def one(m: re.Match[bytes]) -> str:
        name = m.group(1)
        if name.startswith(b"#x"):
            return chr(int(name[2:], 16))
        if name.startswith(b"#"):
            return chr(int(name[1:]))
        return _NAMED[name]

    return _ENTITY.sub(lambda m: one(m).encode("utf-8"), raw).decode("utf-8")


def unescape_ooxml(text: str) -> str:
    """Excel's ``_xHHHH_`` escapes (a control character, or ``_x005F_`` for a ``_``) undone,
    as calamine undoes them in shared and inline strings."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _rich_text(body: bytes) -> str:
    """A shared or inline string's text from its XML: its ``t`` elements' text, phonetic
    guides (``rPh``) left out."""
    parts = [
        m.group(1) or b"" for m in _T_TEXT.finditer(body) if not m.group(0).startswith(b"<rPh")
    ]
    return unescape_ooxml(_unescape_xml(b"".join(parts)))


def _texts(values: pa.Array) -> pa.Array:
    """Raw XML texts (binary) as strings: entities undone where a ``&`` is, ``_xHHHH_``
    escapes where ``_x`` is."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = values.cast(pa.string())
    amp = pc.match_substring(out, "&")
    esc = pc.match_substring(out, "_x")
    spots = pc.or_(amp, esc)
    if not pc.any(spots).as_py():
        return out
    where = pc.indices_nonzero(spots).to_numpy()
    fixed = [
        unescape_ooxml(_unescape_xml(v.encode("utf-8")))
        for v in out.take(pa.array(where)).to_pylist()
    ]
    from outbound_desk.files.workbook import _replace_values

    return _replace_values(out, where, fixed)


# ---------------------------------------------------------------------------------- dates


def moment(value: float, duration: bool, date1904: bool) -> Any:
    """A date-formatted number as python-calamine gives it: a duration format (``[h]:mm``)
    a ``timedelta``; any other a ``time`` below 1, a ``date`` when whole, else a
    ``datetime``, to the millisecond (Excel's 1900 leap-year bug kept: serial 60 is the
    29th of February 1900 that never was, days before it are one later); the number itself
    when the date is out of Python's range."""
    try:
        if duration:
            return dt.timedelta(milliseconds=round(value * 86_400_000))
        days = value + 1462 if date1904 else value
        if days < 60:
            days += 1
        stamp = dt.datetime(1899, 12, 30) + dt.timedelta(milliseconds=round(days * 86_400_000))
    except (OverflowError, ValueError):
        return value
    if value < 1:
        return stamp.time()
    if value == int(value):
        return stamp.date()
    return stamp


_BUILTIN_DATE_IDS = frozenset((*range(14, 23), *range(27, 37), 45, 47, *range(50, 59)))
_BUILTIN_DURATION_IDS = frozenset((46,))


def format_kind(fid: int, code: str | None) -> int:
    """How calamine reads a number of this number format: 0 a number, 1 a date or time,
    2 a duration (its first section: a date letter outside quotes, brackets and escapes is
    a date, an elapsed-time bracket ``[h]``, ``[mm]``, ``[s]`` a duration)."""
    if code is None:
        if fid in _BUILTIN_DURATION_IDS:
            return 2
        return 1 if fid in _BUILTIN_DATE_IDS else 0
    quoted = escaped = False
    bracket = ""
    in_bracket = False
    for ch in code:
        if escaped:
            escaped = False
        elif quoted:
            quoted = ch != '"'
        elif in_bracket:
            if ch == "]":
                in_bracket = False
                low = bracket.lower()
                if low and low[0] in "hms" and low == low[0] * len(low):
                    return 2
                bracket = ""
            else:
                bracket += ch
        elif ch in "_\\*":
            escaped = True
        elif ch == '"':
            quoted = True
        elif ch == "[":
            in_bracket = True
        elif ch == ";":
            return 0
        elif ch in "dmhysDMHYS":
            return 1
    return 0


def number_formats(z: zipfile.ZipFile, names: set[str]) -> tuple[dict[int, int], bool]:
    """Each cell style's :func:`format_kind` (only the dates and durations), and whether
    the workbook counts dates from 1904."""
    from outbound_desk.files.workbook import _xf_formats

    formats, date1904 = _xf_formats(z, names)
    kinds = {i: format_kind(fid, code) for i, (fid, code) in formats.items()}
    return {i: k for i, k in kinds.items() if k}, date1904


# ---------------------------------------------------------------------------------- cells


@dataclass(slots=True)
class Cells:
    """Cells of the sheet in XML order: their sheet row (1-based), sheet column (0-based),
    kind, text (text, errors and dates: the text; the others ``""``) and number (numbers and
    booleans)."""

    row: npt.NDArray[np.int64]
    col: npt.NDArray[np.int64]
    kind: npt.NDArray[np.uint8]
    text: pa.Array
    number: npt.NDArray[np.float64]

    @staticmethod
    def empty() -> Cells:
        import numpy as np
        import pyarrow as pa

        return Cells(
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.uint8),
            pa.array([], pa.string()),
            np.zeros(0, np.float64),
        )

    def __len__(self) -> int:
        return len(self.row)

    def take(self, where: Any) -> Cells:
        import pyarrow as pa

        return Cells(
            self.row[where],
            self.col[where],
            self.kind[where],
            self.text.take(pa.array(where)),
            self.number[where],
        )

    def slice(self, lo: int, hi: int) -> Cells:
        return Cells(
            self.row[lo:hi],
            self.col[lo:hi],
            self.kind[lo:hi],
            self.text.slice(lo, hi - lo),
            self.number[lo:hi],
        )

    @staticmethod
    def concat(parts: Sequence[Cells]) -> Cells:
        import numpy as np
        import pyarrow as pa

        if len(parts) == 1:
            return parts[0]
        if not parts:
            return Cells.empty()
        return Cells(
            np.concatenate([p.row for p in parts]),
            np.concatenate([p.col for p in parts]),
            np.concatenate([p.kind for p in parts]),
            pa.concat_arrays([p.text for p in parts]),
            np.concatenate([p.number for p in parts]),
        )


@dataclass(slots=True)
class _Book:
    """What a sheet's cells need from the rest of the workbook."""

    strings: SharedStrings  # the shared strings, read as far as asked
    styles: dict[int, int]  # style index -> format_kind (dates and durations only)
    date1904: bool


def _finish(
    row: Any, col: Any, kind: Any, raw: pa.Array, style: Any, book: _Book, strings: Any
) -> Cells:
    """Cells from their raw XML values: shared-string indices (where *strings*) to their
    texts, numbers parsed, date-formatted numbers to their dates."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from outbound_desk.files.workbook import _replace_values

    n = len(row)
    number = np.full(n, np.nan)
    text = pc.if_else(pa.array(np.isin(kind, (TEXT, ERROR)) & ~strings), _texts(raw), "")
    where = np.flatnonzero(strings)
    if len(where):
        try:
            index = raw.take(pa.array(where)).cast(pa.string()).cast(pa.int64()).to_numpy()
        except (pa.ArrowInvalid, ValueError):
            raise FileError(
                "a cell refers to a shared string by something not a number",
                code="workbook_corrupt",
            ) from None
        table = book.strings.upto(int(index.max()) + 1)
        # An index past the table reads as an empty text (as the preview's reader has it).
        bad = (index < 0) | (index >= len(table))
        got = table.take(pa.array(np.where(bad, 0, index))) if len(table) else None
        if got is None or bad.any():
            got = pc.if_else(pa.array(bad), "", got if got is not None else "")
        text = _scatter(text, where, got)
    nums = np.flatnonzero((kind == NUMBER) | (kind == BOOL))
    if len(nums):
        values = raw.take(pa.array(nums)).cast(pa.string())
        try:
            parsed = values.cast(pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            parsed = np.array([_float(v) for v in values.to_pylist()], dtype=np.float64)
        number[nums] = parsed
        bad = np.isnan(parsed) & (kind[nums] == NUMBER)
        if bad.any():
            # Not a number after all: kept as its text.
            kind = kind.copy()
            kind[nums[bad]] = TEXT
            text = _replace_values(text, nums[bad], values.filter(pa.array(bad)).to_pylist())
        if book.styles:
            kind, text = _dates(kind, text, number, style, book)
    return Cells(np.asarray(row, np.int64), np.asarray(col, np.int64), kind, text, number)


def _dates(kind: Any, text: pa.Array, number: Any, style: Any, book: _Book) -> tuple[Any, Any]:
    """Numbers in a date, time or duration format as their texts (kind MOMENT)."""
    import numpy as np

    from outbound_desk.files.workbook import _cell_text, _replace_values

    lookup = np.zeros(max(book.styles) + 1, dtype=np.int64)
    for s, k in book.styles.items():
        lookup[s] = k
    inside = (style < len(lookup)) & (kind == NUMBER) & ~np.isnan(number)
    at = np.flatnonzero(inside)
    at = at[lookup[style[at]] > 0]
    if not len(at):
        return kind, text
    got = [
        moment(v, k == 2, book.date1904)
        for v, k in zip(number[at].tolist(), lookup[style[at]].tolist(), strict=True)
    ]
    dated = np.array([not isinstance(v, float) for v in got], dtype=bool)
    if dated.any():
        kind = kind.copy()
        kind[at[dated]] = MOMENT
        texts = [_cell_text(v) for v, d in zip(got, dated.tolist(), strict=True) if d]
        text = _replace_values(text, at[dated], texts)
    return kind, text


def _scatter(base: pa.Array, where: Any, values: pa.Array) -> pa.Array:
    """*base* with *values* at the (ascending) positions *where*."""
    import numpy as np
    import pyarrow as pa

    n = len(base)
    idx = np.arange(n, dtype=np.int64)
    idx[where] = n + np.arange(len(where), dtype=np.int64)
    return pa.concat_arrays([base, values.cast(pa.string())]).take(pa.array(idx))


def _float(text: str | None) -> float:
    try:
        return float(text) if text is not None else float("nan")
    except ValueError:
        return float("nan")


# A tag is known by the two bytes after its "<" (what may stand outside an inline string).
_KNOWN_TAGS = frozenset(
    (
        b"c ",
        b"/c",
        b"v>",
        b"/v",
        b"f>",
        b"f ",
        b"f/",
        b"/f",
        b"is",
        b"/i",
        b"ro",
        b"/r",
    )
)


def fast_cells(piece: bytes, book: _Book) -> Cells | None:
    """The cells of a block of ``sheetData`` (whole rows) found by offsets, no XML parser;
    ``None`` when the block is written in a shape this does not read (then
    :func:`slow_cells` reads it)."""
    import numpy as np

    if not piece.strip():
        return Cells.empty()
    pad = piece + b"\0" * 24
    b = np.frombuffer(pad, dtype=np.uint8)
    size = len(piece)
    lt = np.flatnonzero(b[:size] == 60)
    gt = np.flatnonzero(b[:size] == 62)
    if not len(lt) or len(lt) != len(gt):
        return None
    # Every tag is a known one (inline strings' insides aside).
    a1, a2 = b[lt + 1], b[lt + 2]
    pair = a1.astype(np.uint16) << 8 | a2
    is_open = pair == (ord("i") << 8 | ord("s"))
    is_close = pair == (ord("/") << 8 | ord("i"))
    inside = np.cumsum(is_open.astype(np.int64) - is_close.astype(np.int64)) - is_open
    known = np.isin(pair, [k[0] << 8 | k[1] for k in _KNOWN_TAGS])
    if not bool(np.all(known | (inside > 0))):
        return None
    outside = inside <= 0
    rows_at = lt[(pair == (ord("r") << 8 | ord("o"))) & outside]
    if len(rows_at) and not bool(
        np.all(b[rows_at + 4] == 32) & np.all(b[rows_at + 5] == 114) & np.all(b[rows_at + 7] == 34)
    ):
        return None  # a row without its number first: the parser counts them
    cs = lt[(pair == (ord("c") << 8 | ord(" "))) & outside]
    n = len(cs)
    if not n:
        return Cells.empty()
    # <c r="ABC123"
    if not (np.all(b[cs + 3] == 114) and np.all(b[cs + 4] == 61) and np.all(b[cs + 5] == 34)):
        return None
    # The reference: one to three letters, then one to seven digits up to the next quote.
    quotes = np.flatnonzero(b[:size] == 34)
    start = cs + 6
    qend = quotes[np.minimum(np.searchsorted(quotes, start), len(quotes) - 1)]
    length = qend - start
    l0, l1, l2 = (b[start + k].astype(np.int64) - 64 for k in range(3))
    up1 = (l1 >= 1) & (l1 <= 26)
    up2 = up1 & (l2 >= 1) & (l2 <= 26)
    nlet = 1 + up1.astype(np.int64) + up2
    ndig = length - nlet
    if not np.all((l0 >= 1) & (l0 <= 26) & (ndig >= 1) & (ndig <= 7)):
        return None
    col = np.where(up2, (l0 * 26 + l1) * 26 + l2, np.where(up1, l0 * 26 + l1, l0)) - 1
    row = np.zeros(n, dtype=np.int64)
    digits = start + nlet
    for k in range(int(ndig.max())):
        d = b[digits + k].astype(np.int64) - 48
        has = ndig > k
        if not np.all(~has | ((d >= 0) & (d <= 9))):
            return None
        row = np.where(has, row * 10 + d, row)
    attrs = cs + 6 + nlet + ndig + 1  # after the reference's closing quote
    end = gt[np.searchsorted(gt, cs)]  # the start tag's ">"
    closed = b[end - 1] == 47  # "<c .../>": no value
    # t="..." and s="..." among the attributes.
    kind = np.full(n, NUMBER, dtype=np.uint8)
    strings = np.zeros(n, dtype=bool)
    inline = np.zeros(n, dtype=bool)
    tpos = _find(b, size, b' t="')
    if len(tpos):
        at = np.searchsorted(tpos, attrs)
        at = np.minimum(at, len(tpos) - 1)
        has = (tpos[at] >= attrs - 1) & (tpos[at] < end)
        t0 = b[tpos[at] + 4]
        t1 = b[tpos[at] + 5]
        typed = np.flatnonzero(has)
        c0, c1 = t0[typed], t1[typed]
        given = np.full(len(typed), 255, dtype=np.uint8)
        given[(c0 == ord("s")) & (c1 == 34)] = TEXT
        given[(c0 == ord("s")) & (c1 == ord("t"))] = TEXT  # "str": a formula's text
        given[(c0 == ord("n")) & (c1 == 34)] = NUMBER
        given[(c0 == ord("b")) & (c1 == 34)] = BOOL
        given[(c0 == ord("e")) & (c1 == 34)] = ERROR
        given[c0 == ord("i")] = TEXT  # inlineStr
        if np.any(given == 255):
            return None  # t="d" (an ISO date) or an unknown type
        kind[typed] = given
        strings[typed] = (c0 == ord("s")) & (c1 == 34)
        inline[typed] = c0 == ord("i")
    style = np.zeros(n, dtype=np.int64)
    spos = _find(b, size, b' s="')
    if len(spos):
        at = np.minimum(np.searchsorted(spos, attrs), len(spos) - 1)
        has = (spos[at] >= attrs - 1) & (spos[at] < end)
        sw = b[spos[at][:, None] + 4 + np.arange(7)]
        sd = (sw >= 48) & (sw <= 57)
        slen = np.argmin(sd, axis=1)
        for d in range(6):
            style = np.where(has & (slen > d), style * 10 + (sw[:, d].astype(np.int64) - 48), style)
    # The value: the first <v> after the start tag, before the cell's </c>.
    vstart = lt[(pair == (ord("v") << 8 | ord(">"))) & outside]
    cclose = lt[(pair == (ord("/") << 8 | ord("c"))) & outside]
    if not len(cclose) and not closed.all():
        return None
    stop = (
        cclose[np.minimum(np.searchsorted(cclose, end), max(len(cclose) - 1, 0))]
        if len(cclose)
        else end
    )
    value_lo = end.copy()
    value_hi = end.copy()
    has_value = np.zeros(n, dtype=bool)
    if len(vstart):
        at = np.minimum(np.searchsorted(vstart, end), len(vstart) - 1)
        v = vstart[at]
        ok = ~closed & (v > end) & (v < stop) & ~inline
        value_lo = np.where(ok, v + 3, end)
        nxt = lt[np.minimum(np.searchsorted(lt, value_lo), len(lt) - 1)]
        value_hi = np.where(ok, nxt, end)
        has_value = ok
    if inline.any():
        ins = lt[is_open]
        at = np.minimum(np.searchsorted(ins, end), max(len(ins) - 1, 0))
        ok = inline & ~closed & (ins[at] > end) & (ins[at] < stop) if len(ins) else inline & False
        has_value = has_value | ok
    keep = np.flatnonzero(has_value)
    if len(keep) < n:
        row, col, kind, style = row[keep], col[keep], kind[keep], style[keep]
        strings, inline = strings[keep], inline[keep]
        value_lo, value_hi = value_lo[keep], value_hi[keep]
        end, stop = end[keep], stop[keep]
    cells = _finish(row, col, kind, _gather(b, value_lo, value_hi), style, book, strings)
    if inline.any():
        from outbound_desk.files.workbook import _replace_values

        where = np.flatnonzero(inline)
        spans = zip((end[where] + 1).tolist(), stop[where].tolist(), strict=True)
        cells.text = _replace_values(cells.text, where, [_rich_text(pad[a:z]) for a, z in spans])
    return cells


def _find(b: Any, size: int, needle: bytes) -> Any:
    """Positions of *needle* (4 bytes) in the first *size* bytes of *b*."""
    import numpy as np

    hit = b[: size - 3] == needle[0]
    for k in range(1, len(needle)):
        hit &= b[k : size - 3 + k] == needle[k]
    return np.flatnonzero(hit)


def _gather(b: Any, lo: Any, hi: Any) -> pa.Array:
    """The byte spans ``[lo, hi)`` of *b* as one binary array, copied once by Arrow: spans in
    order (an empty one anywhere between its neighbours) are the even values of an array
    over *b* itself whose offsets are lo0, hi0, lo1, hi1 ..."""
    import numpy as np
    import pyarrow as pa

    n = len(lo)
    if not n:
        return pa.array([], type=pa.binary())
    bounds = np.empty(2 * n, dtype=np.int64)
    bounds[0::2] = lo
    bounds[1::2] = hi
    if np.all(bounds[1:] >= bounds[:-1]):
        over = pa.Array.from_buffers(
            pa.large_binary(), 2 * n - 1, [None, pa.py_buffer(bounds), pa.py_buffer(b)]
        )
        return over.take(pa.array(np.arange(0, 2 * n, 2))).cast(pa.binary())
    lengths = (hi - lo).astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    idx = np.repeat(lo - offsets[:-1], lengths) + np.arange(int(offsets[-1]), dtype=np.int64)
    return pa.Array.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(b[idx].tobytes())]
    ).cast(pa.binary())


# ---------------------------------------------------------------------------------- slow path


def slow_cells(piece: bytes, head: bytes, book: _Book, row: int) -> tuple[Cells, int]:
    """The cells of a block read by an XML parser (defusedxml): any shape the format allows
    (cells or rows without their reference, namespace prefixes); and the block's last row
    (*row*: the row before the block's, for rows without their reference)."""
    import defusedxml.ElementTree as SafeXml
    import numpy as np
    import pyarrow as pa

    try:
        root = SafeXml.fromstring(head + piece + _closing(head))
    except SafeXml.ParseError as exc:
        raise FileError(f"the sheet's XML is damaged ({exc})", code="workbook_corrupt") from None
    rows: list[int] = []
    cols: list[int] = []
    kinds: list[int] = []
    raws: list[bytes] = []
    styles: list[int] = []
    strings: list[bool] = []
    inline: dict[int, str] = {}
    r = row
    c = -1
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "row":
            r = int(el.get("r", r + 1))
            c = -1
        elif tag == "c":
            from outbound_desk.files.workbook import _CELL_REF, _column_index

            ref = _CELL_REF.match(el.get("r", ""))
            if ref is not None:
                r, c = int(ref.group(2)), _column_index(ref.group(1))
            else:
                c += 1
            t = el.get("t", "n")
            value = None
            if t == "inlineStr":
                node = next((x for x in el if x.tag.rsplit("}", 1)[-1] == "is"), None)
                if node is None:
                    continue
                inline[len(rows)] = unescape_ooxml(_element_text(node))
                value = b""
            else:
                v = next((x for x in el if x.tag.rsplit("}", 1)[-1] == "v"), None)
                if v is None or v.text is None:
                    continue
                value = v.text.encode("utf-8")
            rows.append(r)
            cols.append(c)
            kinds.append(
                {"s": TEXT, "str": TEXT, "inlineStr": TEXT, "b": BOOL, "e": ERROR}.get(t, NUMBER)
            )
            strings.append(t == "s")
            styles.append(int(el.get("s", "0") or 0))
            # Texts from the parser are final: escape them back for _finish's entity pass.
            raws.append(_escape(value) if t != "s" else value)
    raw = pa.array(raws, type=pa.binary())
    cells = _finish(
        np.array(rows, np.int64),
        np.array(cols, np.int64),
        np.array(kinds, np.uint8),
        raw,
        np.array(styles, np.int64),
        book,
        np.array(strings, dtype=bool),
    )
    if inline:
        from outbound_desk.files.workbook import _replace_values

        cells.text = _replace_values(cells.text, list(inline), list(inline.values()))
    return cells, r


def _escape(value: bytes) -> bytes:
    return value.replace(b"&", b"&amp;")


def _element_text(node: Any) -> str:
    """An ``is`` or ``si`` element's text: its own ``t``, or its runs' (no phonetic guide)."""
    parts = []
    for child in node:
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(x.text or "" for x in child if x.tag.rsplit("}", 1)[-1] == "t")
    return "".join(parts)


def _closing(head: bytes) -> bytes:
    """The end tags of the elements *head* opens (the root, then ``sheetData``)."""
    tags = re.findall(rb"<([A-Za-z_][\w.:-]*)[\s>]", head)
    return b"".join(b"</%s>" % t for t in reversed(tags))


# ---------------------------------------------------------------------------------- blocks

_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_SHEET_DATA = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?sheetData\b[^>]*?(/?)>")
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)\b[^>]*>")


def _refuse(data: bytes) -> None:
    if _DOCTYPE.search(data):
        raise FileError(
            "the workbook's XML declares a DTD (entities), which a workbook never needs; "
            "open it in Excel and save it again",
            code="workbook_corrupt",
        )


def _opening(f: IO[bytes]) -> tuple[bytes, bytes, bool, bytes] | None:
    """Read up to the start of ``sheetData``: (what was read after it, the root's and
    ``sheetData``'s start tags, whether the fast reader may read the blocks, the namespace
    prefix); ``None`` for a sheet without data."""
    data = b""
    while True:
        m = _SHEET_DATA.search(data)
        if m is not None:
            break
        more = f.read(BLOCK_BYTES)
        if not more:
            _refuse(data)
            return None
        data += more
    _refuse(data[: m.start()])
    root = _ROOT.search(data)
    if root is None or root.start() > m.start():
        raise FileError("the sheet's XML has no root element", code="workbook_corrupt")
    if m.group(2) == b"/":
        return None  # <sheetData/>
    prefix = m.group(1) or b""
    return data[m.end() :], root.group(0) + m.group(0), not prefix, prefix


def blocks(f: IO[bytes]) -> Iterator[tuple[bytes, bytes, bool]]:
    """The sheet's ``sheetData`` content in blocks of whole rows: (block, the start tags a
    parser needs before it, whether the fast reader may read it)."""
    opened = _opening(f)
    if opened is None:
        return
    data, head, fast, prefix = opened
    name = prefix + b":" if prefix else b""
    close_rows, end_tag = b"</" + name + b"row>", b"</" + name + b"sheetData>"
    eof = False
    while True:
        while not eof and len(data) < BLOCK_BYTES:
            more = f.read(BLOCK_BYTES)
            eof = not more
            data += more
        stop = data.find(end_tag)
        if stop >= 0:
            yield data[:stop], head, fast
            return
        cut = data.rfind(close_rows)
        if eof or cut < 0:
            if eof:
                yield data, head, fast  # a sheet cut short: what it holds
                return
            more = f.read(BLOCK_BYTES)  # a row longer than a block
            eof = not more
            data += more
            continue
        cut += len(close_rows)
        yield data[:cut], head, fast
        data = data[cut:]


def utf8_sheet(path: str, part: str) -> bool:
    """Whether a sheet's XML is UTF-8 (as every writer makes it); the blocks are cut as
    UTF-8 bytes."""
    with zipfile.ZipFile(path) as z, z.open(part) as f:
        start = f.read(256)
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    m = re.match(rb"\s*<\?xml[^>]*?encoding=[\"']([^\"']+)", start)
    return m is None or m.group(1).lower() in (b"utf-8", b"utf8")


def shared_strings(z: zipfile.ZipFile, names: set[str]) -> SharedStrings:
    """The workbook's shared strings, read as far as the cells ask (:class:`SharedStrings`)."""
    import pyarrow as pa

    part = "xl/sharedStrings.xml"
    if part not in names:
        return SharedStrings(pa.array([], pa.string()))
    with z.open(part) as f:
        start = f.read(4096)
    _refuse(start[: start.find(b"<sst")] if b"<sst" in start else start)
    if b"<sst" not in start or re.search(rb"encoding=[\"'](?!(?i:utf-?8))", start[:200]):
        return SharedStrings(_parsed_strings(z, part))  # a prefix, or another encoding
    return SharedStrings(pa.array([], pa.string()), z.open(part))


class SharedStrings:
    """The shared strings as one Arrow string array, read a block at a time as far as the
    cells ask (:meth:`upto`).

    Writers put a string in the table where it first appears in the sheet, so the first
    batch of a million-row sheet refers to the first few percent of its 49 MB of strings:
    read whole before the first batch they took 1.6 of its 2.1 s (the first rows of the
    app's table came at 2.6 s). Each read takes at least as many again as it holds, so the
    array is joined anew a logarithmic number of times (Arrow's take from a chunked array
    would join its chunks at every call).
    """

    def __init__(self, first: pa.Array, stream: Any = None) -> None:
        self.array = first
        self._stream = stream
        self._tail = b""

    def upto(self, n: int) -> pa.Array:
        """The strings, at least the first *n* of them when the table holds that many."""
        import pyarrow as pa

        if n <= len(self.array) or self._stream is None:
            return self.array
        want = max(n, 2 * len(self.array), 1)
        got = len(self.array)
        pieces = [self.array]
        while self._stream is not None and got < want:
            block = self._stream.read(BLOCK_BYTES)
            data = self._tail + block
            cut = data.rfind(b"</si>") + 5 if block else len(data)
            if block and cut < 5:
                self._tail = data
                continue
            piece, self._tail = data[:cut], data[cut:]
            texts = _si_texts(piece)
            pieces.append(texts)
            got += len(texts)
            if not block:
                self.close()
        self.array = pa.concat_arrays(pieces)
        return self.array

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


_SI = re.compile(
    rb"<si>(?:<t>([^<]*)</t>|<t xml:space=\"preserve\">([^<]*)</t>|(.*?))</si>|<si/>", re.S
)


def _si_texts(piece: bytes) -> pa.Array:
    """A block of ``<si>`` items as texts (rich ones, a minority, one by one)."""
    fast = _si_fast(piece)
    return fast if fast is not None else _si_regex(piece)


def _code(pair: str) -> int:
    return ord(pair[0]) << 8 | ord(pair[1])


def _si_fast(piece: bytes) -> pa.Array | None:
    """:func:`_si_texts` by offsets (as :func:`fast_cells`): each item whose one ``t``
    element is all its text, by numpy; ``None`` when a ``>`` stands in a text (the tags
    cannot be paired by position)."""
    import numpy as np

    from outbound_desk.files.workbook import _replace_values

    pad = piece + b"\0" * 8
    b = np.frombuffer(pad, dtype=np.uint8)
    size = len(piece)
    lt = np.flatnonzero(b[:size] == 60)
    gt = np.flatnonzero(b[:size] == 62)
    if len(lt) != len(gt) or not (np.all(gt > lt) and np.all(lt[1:] > gt[:-1])):
        return None
    pair = b[lt + 1].astype(np.int64) << 8 | b[lt + 2]
    si = np.flatnonzero((pair == _code("si")) & ((b[lt + 3] == 62) | (b[lt + 3] == 47)))
    if not len(si):
        return _texts(_gather(b, si, si))
    closed = b[gt[si] - 1] == 47
    nxt = np.minimum(si[:, None] + np.arange(1, 4), len(lt) - 1)
    p1, p2, p3 = pair[nxt[:, 0]], pair[nxt[:, 1]], pair[nxt[:, 2]]
    simple = (
        ~closed
        & ((p1 == _code("t>")) | (p1 == _code("t ")))
        & (p2 == _code("/t"))
        & (p3 == _code("/s"))
        & (b[gt[nxt[:, 0]] - 1] != 47)
    )
    lo = np.where(simple, gt[nxt[:, 0]] + 1, gt[si])
    hi = np.where(simple, lt[nxt[:, 1]], gt[si])
    out = _texts(_gather(b, lo, hi))
    rich = np.flatnonzero(~closed & ~simple)
    if len(rich):
        ends = lt[(pair == _code("/s")) & (b[lt + 3] == ord("i"))]
        starts = gt[si[rich]] + 1
        stops = ends[np.minimum(np.searchsorted(ends, starts), len(ends) - 1)]
        texts = [_rich_text(pad[x:y]) for x, y in zip(starts.tolist(), stops.tolist(), strict=True)]
        out = _replace_values(out, rich, texts)
    return out


def _si_regex(piece: bytes) -> pa.Array:
    import pyarrow as pa

    from outbound_desk.files.workbook import _replace_values

    items = _SI.findall(piece)
    simple = [a or b for a, b, _ in items]
    out = _texts(pa.array(simple, type=pa.binary()))
    rich = [(i, c) for i, (_, _, c) in enumerate(items) if c]
    if rich:
        out = _replace_values(out, [i for i, _ in rich], [_rich_text(c) for _, c in rich])
    return out


def _parsed_strings(z: zipfile.ZipFile, part: str) -> pa.Array:
    import defusedxml.ElementTree as SafeXml
    import pyarrow as pa

    out = []
    with z.open(part) as f:
        for _, el in SafeXml.iterparse(f, events=("end",)):
            if el.tag.rsplit("}", 1)[-1] == "si":
                out.append(unescape_ooxml(_element_text(el)))
                el.clear()
    return pa.array(out, type=pa.string())


# ---------------------------------------------------------------------------------- batches


def sheet_cells(path: str, part: str) -> Iterator[Cells]:
    """The sheet's cells (those holding a value), a block at a time, in XML order; a
    damaged workbook (its ZIP, its compressed data) is one ``workbook_corrupt`` error."""
    import zlib

    from outbound_desk.files.workbook import _sheet_error

    try:
        yield from _sheet_cells(path, part)
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError) as exc:
        raise _sheet_error(path, exc) from None


def _sheet_cells(path: str, part: str) -> Iterator[Cells]:
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        styles, date1904 = number_formats(z, names)
        book = _Book(shared_strings(z, names), styles, date1904)
        row = 0  # the last row read (rows may leave out their number: they follow on)
        try:
            with z.open(part) as f:
                for piece, head, fast in blocks(f):
                    cells = fast_cells(piece, book) if fast else None
                    if cells is None:
                        cells, row = slow_cells(piece, head, book, row)
                    else:
                        row = _last_row(piece, row)
                    yield cells
        finally:
            book.strings.close()


def _last_row(piece: bytes, row: int) -> int:
    """The number of a block's last row (the fast reader reads blocks whose rows have it)."""
    at = piece.rfind(b'<row r="')
    if at < 0:
        return row
    m = re.match(rb'<row r="([0-9]+)"', piece[at : at + 24])
    return int(m.group(1)) if m is not None else row


def read(
    profile: FileProfile,
    part: str,
    progress: Progress | None,
    cancelled: IsCancelled | None,
) -> Iterator[RecordChunk] | None:
    """The sheet's data rows in batches of ``files.workbook.BATCH_ROWS`` sheet rows, as the
    other readers give them; ``None`` (nothing read) for a sheet not in UTF-8."""
    try:
        if not utf8_sheet(profile.path, part):
            return None
    except (zipfile.BadZipFile, KeyError, OSError):
        return None
    return _read(profile, part, progress, cancelled)


def _read(
    profile: FileProfile,
    part: str,
    progress: Progress | None,
    cancelled: IsCancelled | None,
) -> Iterator[RecordChunk]:
    import numpy as np

    from outbound_desk.files import workbook as wb

    info = profile.workbook
    assert info is not None
    state = wb._Columns()
    pending: list[int] = []
    lo = profile.data_start
    span = wb.BATCH_ROWS
    held: list[Cells] = []
    last_row = 0  # the last row holding a value (where calamine's sheet ends)
    total = max(info.last_row or 0, 1)
    yielded = False

    def batch(hi: int) -> RecordChunk:
        nonlocal held, pending
        cells = Cells.concat(held)
        held = []
        chunk, pending = _batch(cells, lo, hi, profile, state, pending)
        if progress is not None:
            progress(hi - profile.data_start, max(total, hi) - profile.data_start, "reading")
        return chunk

    for cells in sheet_cells(profile.path, part):
        if cancelled is not None and cancelled():
            from outbound_desk.files.model import Cancelled

            raise Cancelled
        if not len(cells):
            continue
        if np.any(np.diff(cells.row) < 0):
            cells = cells.take(np.argsort(cells.row, kind="stable"))
        last_row = max(last_row, int(cells.row[-1]))
        cells = cells.slice(int(np.searchsorted(cells.row, lo)), len(cells))
        while len(cells):
            cut = int(np.searchsorted(cells.row, lo + span))
            if cut == len(cells):
                held.append(cells)
                break
            held.append(cells.slice(0, cut))
            cells = cells.slice(cut, len(cells))
            yield batch(lo + span)
            yielded = True
            lo += span
    if last_row >= lo:
        yield batch(last_row + 1)
        yielded = True
    if not yielded:
        yield RecordChunk(wb._empty_table(profile.columns), np.zeros(0, dtype=np.int64), [], {})


def _batch(
    cells: Cells,
    lo: int,
    hi: int,
    profile: FileProfile,
    state: Any,
    pending: list[int],
) -> tuple[RecordChunk, list[int]]:
    """Sheet rows *lo* to *hi* (exclusive) of *cells* as the batch the other readers give."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from outbound_desk.files import workbook as wb
    from outbound_desk.files.workbook_arrow import _number_texts

    info = profile.workbook
    assert info is not None
    names = profile.columns
    width = len(names)
    first = info.first_column
    rel = cells.col - first
    cells_kept = np.flatnonzero(rel >= 0)
    if len(cells_kept) < len(cells):
        cells = cells.take(cells_kept)
        rel = rel[cells_kept]
    filled = (cells.kind == NUMBER) | (cells.kind == BOOL) | (cells.kind == MOMENT)
    is_text = cells.kind == TEXT
    if is_text.any():
        filled |= is_text & np.asarray(
            pc.not_equal(cells.text, "").to_numpy(zero_copy_only=False), dtype=bool
        )
    in_table = np.unique(cells.row[filled & (rel < width)])
    wide_rows = np.unique(cells.row[filled & (rel >= width)])
    issues: list[Issue] = []
    raw: dict[int, list[str]] = {}
    if len(wide_rows):
        kept = np.setdiff1d(in_table, wide_rows, assume_unique=True)
        for r in wide_rows.tolist():
            at = np.flatnonzero(cells.row == r)
            row_cells = cells.take(at)
            texts = _row_texts(row_cells, rel[at])
            last = wb._row_width(texts)
            issues.append(wb._too_wide(r, last, width))
            raw[r] = texts[:last]
        any_filled = np.union1d(in_table, wide_rows)
    else:
        kept = in_table
        any_filled = in_table
    records = np.arange(lo, hi, dtype=np.int64)
    blanks = np.setdiff1d(records, any_filled, assume_unique=True).tolist()
    n = len(kept)
    # Cells of the kept rows, and their position in the batch's table.
    use = np.flatnonzero(np.isin(cells.row, kept) & (rel < width))
    pos = np.searchsorted(kept, cells.row[use])
    kind = cells.kind[use]
    col = rel[use]
    text = cells.text.take(pa.array(use)) if len(use) < len(cells) else cells.text
    number = cells.number[use]
    base = pc.if_else(
        pa.array(kind == BOOL), pc.if_else(pa.array(number != 0), "true", "false"), text
    )
    base = pc.if_else(pa.array((kind == ERROR) | (kind == NUMBER)), "", base)
    base_ext = pa.concat_arrays([base.cast(pa.string()), pa.array([""], pa.string())])
    errors_at = np.flatnonzero(kind == ERROR)
    order = np.argsort(col, kind="stable")
    bounds = np.searchsorted(col[order], np.arange(width + 1))
    arrays = {}
    for j, name in enumerate(names):
        mine = order[bounds[j] : bounds[j + 1]]
        idx = np.full(n, len(base), dtype=np.int64)
        idx[pos[mine]] = mine
        array = base_ext.take(pa.array(idx))
        k = kind[mine]
        # Text cells holding an error's text ("#N/A" typed, or exported as text).
        texts = mine[k == TEXT]
        if len(texts):
            bad = pc.is_in(text.take(pa.array(texts)), value_set=_error_texts())
            if pc.any(bad).as_py():
                hit = texts[np.asarray(bad.to_numpy(zero_copy_only=False), dtype=bool)]
                for c in hit.tolist():
                    issues.append(wb._error_cell(text[c].as_py(), name, int(kept[pos[c]])))
                array = wb._replace_values(array, np.sort(pos[hit]), [""] * len(hit))
        nums = mine[k == NUMBER]
        numbers = pos[nums]
        if len(nums):
            got = _number_texts(
                number[nums], np.ones(len(nums), dtype=bool), name, kept[numbers], issues
            )
            array = _scatter(array, numbers, pa.array(got.tolist(), type=pa.string()))
        wb._learn_zeros(array, j, state)
        usual = state.usual_zero_length(j) or profile.digit_lengths.get(name)
        errors = {
            int(kept[pos[c]]): text[c].as_py() or "#ERROR"
            for c in np.intersect1d(mine, errors_at, assume_unique=True).tolist()
        }
        arrays[name] = wb._flag_zeros_and_errors(array, numbers, usual, name, kept, errors, issues)
    table = pa.table(arrays) if names else pa.table({})
    return wb._finish_batch(table, kept, issues, raw, blanks, pending, profile)


def _row_texts(cells: Cells, rel: Any) -> list[str]:
    """One row's cells as texts from the table's first column on (a row set aside)."""
    from outbound_desk.files.workbook import _number_text

    out = [""] * (int(rel.max()) + 1 if len(rel) else 0)
    for i, j in enumerate(rel.tolist()):
        k = int(cells.kind[i])
        if k == NUMBER:
            out[j] = _number_text(float(cells.number[i]))[0]
        elif k == BOOL:
            out[j] = "true" if cells.number[i] else "false"
        elif k == ERROR:
            out[j] = ""
        else:
            out[j] = cells.text[i].as_py()
    return out


def _error_texts() -> pa.Array:
    """Excel's error values, as an Arrow array."""
    import pyarrow as pa

    from outbound_desk.files.workbook import EXCEL_ERRORS

    return pa.array(sorted(EXCEL_ERRORS), type=pa.string())
