"""How the records of a decoded sample are written: delimiter, quoting, header, line endings.

Every decision is made by parsing the sample with each candidate and keeping the one whose
records agree best on their number of fields, so that a comma inside a quoted value or a
decimal comma in a semicolon file does not fool it.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from outbound_desk.files.model import KEPT_RECORD_BYTES, LONG_RECORD_BYTES, Dialect

# The stdlib reader refuses fields over 128 KiB with "field larger than field limit"; this
# package bounds records itself (``reader.LONG_RECORD_BYTES``) and reports long values as
# issues, so the stdlib limit only turned a long value into a traceback. (The limit is the
# ``csv`` module's, for the whole process; a C long may be 32-bit, hence 2**31 - 1.)
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))

#: Delimiters tried first, in order of preference when they score the same.
STANDARD_DELIMITERS = (",", ";", "\t", "|")
#: Tried only when none of the standard ones splits the records.
OTHER_DELIMITERS = (":", "^", "~", "#", "!", " ")
#: Records looked at to choose the delimiter.
SNIFF_RECORDS = 500

_NUMBER = re.compile(r"^[+\-(]?\s*\d[\d\s.,()/\-]*$")
_NUMBER_E = re.compile(r"^[+\-]?\d+(?:[.,]\d+)?[eE][+\-]?\d+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_HEADER_WORDS = re.compile(
    r"(?i)(^|[^a-z])(id|name|phone|mobile|cell|tel|email|e-mail|mail|city|zip|postal|"
    r"address|street|country|state|first|last|number|customer|contact|account|date|"
    r"time|zone|company|title|code|type|status|key)"
)


def split_records(text: str, dialect: Dialect, limit: int | None = None) -> list[list[str]]:
    """Parse *text* with the stdlib reader (exact for every dialect this package supports).

    A line longer than ``LONG_RECORD_BYTES`` is cut to its first ``KEPT_RECORD_BYTES`` (see
    ``capped_lines``): a sample may hold a 30 MB line of delimiters.
    """
    reader = csv_reader(
        text_lines(text, text.encode("utf-8", "surrogatepass"), dialect, {}), dialect
    )
    out: list[list[str]] = []
    try:
        for record in reader:
            out.append(record)
            if limit is not None and len(out) >= limit:
                break
    except csv.Error:
        pass  # an unterminated quote at the end of a sample: keep what parsed
    return out


def csv_reader(lines: Iterable[str], dialect: Dialect) -> Iterator[list[str]]:
    """The stdlib reader for *dialect*; it reads lone CR, LF and CRLF line ends alike."""
    return csv.reader(
        lines,
        delimiter=dialect.delimiter,
        quotechar=dialect.quotechar,
        doublequote=dialect.doublequote,
        escapechar=dialect.escapechar,
        strict=False,
    )


def complete_records(text: str, at_eof: bool) -> str:
    """Cut *text* after its last line break unless it is the whole rest of the file."""
    if at_eof:
        return text
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[: cut + 1] if cut >= 0 else text


def _consistency(records: list[list[str]]) -> tuple[float, int]:
    counts = [len(r) for r in records if r and any(r)]
    if not counts:
        return 0.0, 0
    fields, freq = Counter(counts).most_common(1)[0]
    return freq / len(counts), fields


def detect_quoting(text: str) -> tuple[str, bool, str | None]:
    """``(quotechar, doublequote, escapechar)`` for a sample."""
    # (A quote character that is not in the text at all needs no regex to count zero.)
    dq = len(re.findall(r'(?:^|[,;\t|])"|"(?:[,;\t|]|$)', text, re.MULTILINE)) if '"' in text else 0
    sq = len(re.findall(r"(?:^|[,;\t|])'|'(?:[,;\t|]|$)", text, re.MULTILINE)) if "'" in text else 0
    quotechar = "'" if sq > 2 * dq and sq >= 4 else '"'
    doubled = text.count(quotechar * 2)
    escaped = text.count("\\" + quotechar)
    if escaped and escaped > doubled:
        return quotechar, False, "\\"
    return quotechar, True, None


def _score(text: str, dialect: Dialect) -> float:
    records = split_records(text, dialect, limit=SNIFF_RECORDS)
    # The last record of a sample may be cut short; it does not vote.
    if len(records) > 2:
        records = records[:-1]
    consistency, fields = _consistency(records)
    return consistency * fields if fields > 1 else 0.0


def detect_delimiter(text: str, quotechar: str, doublequote: bool, escapechar: str | None) -> str:
    """The delimiter whose split of *text* is most consistent (see module docstring)."""
    return _best(text, quotechar, doublequote, escapechar)[1]


def _best(
    text: str, quotechar: str, doublequote: bool, escapechar: str | None
) -> tuple[float, str]:
    for group in (STANDARD_DELIMITERS, OTHER_DELIMITERS):
        present = [d for d in group if d in text]
        scored = [
            (_score(text, Dialect(d, quotechar, doublequote, escapechar)), -i, d)
            for i, d in enumerate(present)
        ]
        scored = [s for s in scored if s[0] > 0]
        if scored:
            best = max(scored)
            return best[0], best[2]
    return 0.0, ","


def detect_dialect(text: str) -> Dialect:
    quotechar, doublequote, escapechar = detect_quoting(text)
    score, delimiter = _best(text, quotechar, doublequote, escapechar)
    if quotechar != '"':
        # Single quotes are rare and apostrophes common: they must split better than '"'.
        plain_score, plain = _best(text, '"', True, None)
        if plain_score >= score and not _wrapped(text, Dialect(plain, '"', True, None), quotechar):
            return Dialect(plain, '"', True, None)
    return Dialect(delimiter, quotechar, doublequote, escapechar)


def _wrapped(text: str, dialect: Dialect, quote: str) -> bool:
    """Whether most values, split without *quote*, are wrapped in it (``'Ann'``): then it
    is the file's quote character, even where no value needs quoting (issue 15)."""
    fields = [f for r in split_records(text, dialect, limit=SNIFF_RECORDS) for f in r if f]
    wrapped = sum(1 for f in fields if len(f) >= 2 and f[0] == quote and f[-1] == quote)
    return wrapped >= 4 and wrapped >= 0.5 * len(fields)


def detect_line_ending(text: str, quotechar: str = '"') -> str:
    """``LF``, ``CRLF``, ``CR`` or ``mixed``, counting only breaks outside quoted values."""
    q = re.escape(quotechar)
    bare = re.sub(f"{q}[^{q}]*{q}", "", text) if quotechar in text else text
    crlf = bare.count("\r\n")
    lf = bare.count("\n") - crlf
    cr = bare.count("\r") - crlf
    kinds = [name for name, n in (("CRLF", crlf), ("LF", lf), ("CR", cr)) if n]
    if not kinds:
        return "LF"
    return kinds[0] if len(kinds) == 1 else "mixed"


def value_kind(value: str) -> str:
    v = value.strip()
    if not v:
        return "empty"
    if _EMAIL.match(v):
        return "email"
    if _DATE.match(v):
        return "date"
    if _NUMBER.match(v) or _NUMBER_E.match(v):
        return "number"
    return "text"


def detect_header(records: list[list[str]]) -> bool:
    """Whether the first record names the columns rather than holding data.

    A first record with a number, an e-mail address or a date in it is data. Otherwise it is a
    header when some column holds typed values below a text name, or when its names look like
    column names and none of them recurs below. When nothing tells, it is a header, because
    the platform requires one and most files have it.
    """
    records = [r for r in records if r and any(v.strip() for v in r)]
    if not records:
        return True
    first, rest = records[0], records[1:51]
    kinds = [value_kind(v) for v in first]
    if any(k in ("number", "email", "date") for k in kinds):
        return False
    if not rest:
        return True
    evidence = 0
    for col, name in enumerate(first):
        below = [r[col] for r in rest if col < len(r) and r[col].strip()]
        if not below:
            continue
        typed = sum(value_kind(v) in ("number", "email", "date") for v in below)
        if typed >= 0.5 * len(below):
            evidence += 2
        if name.strip() and name in below:
            evidence -= 2
        if _HEADER_WORDS.search(name):
            evidence += 1
    if evidence > 0:
        return True
    if evidence < 0:
        return False
    blank_names = sum(1 for v in first if not v.strip())
    return blank_names < len(first)


def unique_columns(header: Iterable[str]) -> list[str]:
    """Names for the frame: empty ones become ``column_<n>``, repeats get ``_<k>``.

    Linear in the number of names: each base name remembers the next suffix to try (the names
    taken only grow, so a suffix refused once stays refused). Counting up from ``_2`` for every
    repeat made 40,000 equal names take 84 s.
    """
    out: list[str] = []
    seen: set[str] = set()
    next_suffix: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        base = name if name.strip() else f"column_{i}"
        candidate = base
        if candidate in seen:
            k = next_suffix.get(base, 2)
            candidate = f"{base}_{k}"
            while candidate in seen:
                k += 1
                candidate = f"{base}_{k}"
            next_suffix[base] = k + 1
        seen.add(candidate)
        out.append(candidate)
    return out


def count_fields(text: str, dialect: Dialect, limit: int) -> int:
    """The fields of *text*'s first record, counted up to ``limit + 1`` at most.

    A guard before the first record is parsed whole: *text* may be one 50 MB line of
    delimiters, which the stdlib reader would make into 12 million strings. Walks the quote,
    delimiter and line-break characters only, and stops at the first line break outside
    quotes or once the count passes *limit*.
    """
    q, d, e = dialect.quotechar, dialect.delimiter, dialect.escapechar
    specials = re.escape(q) + re.escape(d) + "\r\n" + (re.escape(e) if e else "")
    fields, quoted, skip = 1, False, -1
    for match in re.finditer(f"[{specials}]", text):
        at = match.start()
        if at <= skip:
            continue  # the character after an escape character
        ch = match.group()
        if e is not None and ch == e:
            skip = at + 1
        elif ch == q:
            quoted = not quoted
        elif quoted:
            continue
        elif ch == d:
            fields += 1
            if fields > limit:
                break
        else:
            break  # the end of the record
    return fields


def text_lines(text: str, utf8: bytes, dialect: Dialect, cuts: dict[int, int]) -> Iterable[str]:
    """The lines of *text* (*utf8*: the same as UTF-8) for the stdlib reader, through
    ``capped_lines`` only when one of them is too long (checked on the bytes, vectorised:
    a Python step per line cost seconds on a value of ten million line breaks)."""
    if len(utf8) <= LONG_RECORD_BYTES or longest_line(utf8) <= LONG_RECORD_BYTES:
        return io.StringIO(text, newline="")
    # Lines cut out of the str itself: a StringIO holds 4 bytes a character (80 MB for a
    # 20 MB value).
    return capped_lines(_readline(text), LONG_RECORD_BYTES, KEPT_RECORD_BYTES, dialect, cuts)


_EOL = re.compile("\r\n|\r|\n")


def _readline(text: str) -> Callable[[int], str]:
    """``StringIO(text, newline="").readline`` without the copy."""
    pos = 0

    def readline(limit: int) -> str:
        nonlocal pos
        end = min(len(text), pos + limit)
        match = _EOL.search(text, pos, end)
        stop = match.end() if match else end
        line, pos = text[pos:stop], stop
        return line

    return readline


def longest_line(data: bytes) -> int:
    """The length in bytes of the longest line of *data* (CR, LF or CRLF line ends), in
    windows of 4 MiB so that ten million line breaks do not make ten million offsets."""
    import numpy as np

    best, start, window = 0, 0, 4 << 20  # start: just after the last line break seen
    for lo in range(0, len(data), window):
        u = np.frombuffer(data, dtype=np.uint8, count=min(window, len(data) - lo), offset=lo)
        breaks = np.flatnonzero((u == 10) | (u == 13))
        if not len(breaks):
            continue
        best = max(best, lo + int(breaks[0]) - start)
        if len(breaks) > 1:
            best = max(best, int(np.diff(breaks).max()) - 1)
        start = lo + int(breaks[-1]) + 1
    return max(best, len(data) - start)


def capped_lines(
    readline: Callable[[int], str],
    limit: int,
    keep: int,
    dialect: Dialect,
    cuts: dict[int, int],
) -> Iterator[str]:
    """The lines ``readline`` gives, none longer than *limit* characters, for the stdlib
    reader (which holds a whole line, and every field of it, at once).

    A longer line is read on without being kept and becomes its first *keep* characters,
    plus a quote character when the part left out held an odd number of them (so the reader
    stays inside or outside quotes as the whole line would leave it), plus its line break.
    ``cuts[line number]`` gets its whole length, for the caller to reject the record.
    """
    q, e = dialect.quotechar, dialect.escapechar
    number = 0
    while True:
        line = readline(limit)
        if not line:
            return
        number += 1
        if len(line) < limit or line.endswith(("\n", "\r")):
            yield line
            continue
        length = len(line)
        head = line[:keep]
        if e:
            head = head.rstrip(e)
        quotes = _quotes(line, q, e) - _quotes(head, q, e)
        end = ""
        while True:
            more = readline(limit)
            if not more:
                break
            length += len(more)
            if more.endswith(("\n", "\r")):
                body = more.rstrip("\r\n")
                end = more[len(body) :]
                quotes += _quotes(body, q, e)
                length -= len(end)
                break
            quotes += _quotes(more, q, e)
        cuts[number] = length
        yield head + (q if quotes % 2 else "") + end


def _quotes(text: str, quotechar: str, escapechar: str | None) -> int:
    n = text.count(quotechar)
    return n - text.count(escapechar + quotechar) if escapechar else n
