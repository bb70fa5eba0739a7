"""Which text encoding a file is in, decided from bounded samples of its bytes.

Order of evidence: a byte-order mark wins; then the magic numbers of common binary formats;
then strict UTF-8 over every sample (valid UTF-8 with non-ASCII text is never an accident);
then charset-normalizer over the lines that hold non-ASCII bytes, wherever they are in the
file, with a preference for Windows-1252 among equally clean single-byte candidates, because
that is what Excel writes on Western systems.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass

from outbound_desk.files.model import FileError

#: Files up to this size are read whole for the encoding decision (a few milliseconds).
WHOLE_FILE_LIMIT = 32 * 1024 * 1024
HEAD_BYTES = 1024 * 1024
SAMPLE_BYTES = 64 * 1024
SAMPLE_COUNT = 32

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 LE starts with the UTF-16 LE mark, so it is tested first.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls workbook"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
)

_CESU = re.compile(rb"\xed[\xa0-\xbf][\x80-\xbf]")
_HIGH_LINE = re.compile(rb"[^\r\n]*[\x80-\xff][^\r\n]*")

_MULTIBYTE = frozenset(
    codecs.lookup(n).name
    for n in (
        "big5", "big5hkscs", "gb2312", "gbk", "gb18030", "hz", "shift_jis", "cp932", "euc_jp",
        "euc_kr", "cp949", "johab", "iso2022_jp", "iso2022_kr", "cp950", "euc_jis_2004",
        "shift_jis_2004", "shift_jisx0213", "euc_jisx0213",
    )
)  # fmt: skip

# Bytes 0x80-0x9F that Windows-1252 leaves undefined: a file holding them is Latin-1.
_CP1252_HOLES = frozenset(b"\x81\x8d\x8f\x90\x9d")


@dataclass(frozen=True, slots=True)
class EncodingGuess:
    """The encoding decision and how sure it is."""

    encoding: str  # codecs.lookup(...).name
    bom: bool
    bom_length: int
    confidence: float
    runner_up: str | None


def codec_name(name: str) -> str:
    """The canonical Python codec name, or ``FileError`` for an unknown one."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise FileError(f"unknown encoding {name!r}", code="unknown_encoding") from None


#: U+FFFD in UTF-8: what a decoder puts for invalid bytes, and a valid character of its own.
REPLACEMENT_UTF8 = "\ufffd".encode()


def detect_bom(head: bytes) -> tuple[str, int] | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, len(bom)
    return None


def read_samples(fh: os.PathLike[str] | str, size: int) -> list[tuple[int, bytes]]:
    """``(offset, bytes)`` pieces spread over the file: all of it when it is small."""
    with open(fh, "rb") as f:
        if size <= WHOLE_FILE_LIMIT:
            return [(0, f.read())]
        pieces = [(0, f.read(HEAD_BYTES))]
        step = (size - HEAD_BYTES) // (SAMPLE_COUNT + 1)
        for i in range(1, SAMPLE_COUNT + 1):
            offset = HEAD_BYTES + i * step - SAMPLE_BYTES // 2
            f.seek(offset)
            pieces.append((offset, f.read(SAMPLE_BYTES)))
        f.seek(max(size - SAMPLE_BYTES, 0))
        pieces.append((max(size - SAMPLE_BYTES, 0), f.read(SAMPLE_BYTES)))
        return pieces


def _trim_utf8(piece: bytes, at_start: bool, at_end: bool) -> bytes:
    """Cut partial UTF-8 characters off a piece taken from the middle of a file."""
    if not at_start:
        i = 0
        while i < min(3, len(piece)) and 0x80 <= piece[i] <= 0xBF:
            i += 1
        piece = piece[i:]
    if not at_end:
        # Drop an incomplete sequence at the end: up to 3 bytes back to its lead byte.
        for back in range(1, min(4, len(piece)) + 1):
            b = piece[-back]
            if b < 0x80:
                break
            if b >= 0xC0:
                need = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
                if need > back:
                    piece = piece[:-back]
                break
    return piece


def _binary_reason(head: bytes) -> str | None:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    probe = head[:65536]
    if not probe:
        return None
    if b"\x00" in probe:
        even = probe[0::2].count(0)
        odd = probe[1::2].count(0)
        half = max(len(probe) // 2, 1)
        # UTF-16 text without a BOM has NULs in every other byte; that is handled elsewhere.
        utf16 = (odd > 0.3 * half and even < 0.05 * half) or (
            even > 0.3 * half and odd < 0.05 * half
        )
        if not utf16 and probe.count(0) > max(8, len(probe) // 100):
            return "binary data (it holds NUL bytes)"
    controls = sum(probe.count(bytes([c])) for c in range(0x01, 0x20) if c not in (9, 10, 12, 13))
    if controls > max(16, len(probe) // 20):
        return "binary data (it holds control bytes)"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    probe = head[:65536]
    half = max(len(probe) // 2, 1)
    if len(probe) < 4:
        return None
    even, odd = probe[0::2].count(0), probe[1::2].count(0)
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _non_ascii_lines(pieces: list[bytes], limit: int = 64 * 1024) -> bytes:
    """The lines holding non-ASCII bytes, the evidence charset-normalizer needs."""
    out: list[bytes] = []
    total = 0
    for piece in pieces:
        for match in _HIGH_LINE.finditer(piece):
            if total >= limit:
                break
            out.append(match.group())
            total += len(match.group()) + 1
    return b"\n".join(out)


def guess_encoding(samples: list[tuple[int, bytes]], size: int) -> EncodingGuess:
    """Decide the encoding of a file from ``read_samples`` output."""
    head = samples[0][1]
    if not head:
        raise FileError("the file is empty (0 bytes)", code="empty")
    bom = detect_bom(head)
    if bom is not None:
        name, length = bom
        return EncodingGuess(codec_name(name), True, length, 1.0, None)
    reason = _binary_reason(head)
    if reason is not None:
        raise FileError(
            f"this is not a text file: it looks like {reason}; save it as CSV and try again",
            code="binary",
        )
    utf16 = _utf16_without_bom(head)
    if utf16 is not None:
        return EncodingGuess(codec_name(utf16), False, 0, 0.9, None)

    trimmed = [
        _trim_utf8(piece, offset == 0, offset + len(piece) >= size) for offset, piece in samples
    ]
    if all(piece.isascii() for piece in trimmed):
        # Plain ASCII: UTF-8 reads it; so would any single-byte code page.
        return EncodingGuess("utf-8", False, 0, 1.0, "ascii")
    valid = invalid = surrogates = 0
    for piece in trimmed:
        # UTF-16 surrogates written as UTF-8 (CESU-8: ED A0..BF xx) are UTF-8 damage, not
        # evidence of a code page: they must not make the whole file read as cp1252. The
        # reader reports each as invalid bytes on its record.
        if b"\xed" in piece:
            piece, n = _CESU.subn(b"", piece)
            surrogates += n
        text = piece.decode("utf-8", errors="replace")
        # Invalid sequences become U+FFFD; a U+FFFD written in the file (EF BF BD) is valid.
        bad = text.count("\ufffd") - piece.count(REPLACEMENT_UTF8)
        invalid += bad
        valid += len(text) - len(text.encode("ascii", "ignore")) - bad
    if invalid == 0 and surrogates:
        return EncodingGuess("utf-8", False, 0, 0.9, "cp1252")
    if invalid == 0:
        return EncodingGuess("utf-8", False, 0, 1.0, "cp1252")
    if invalid == 1 and valid > 0 and trimmed[-1] != _trim_utf8(trimmed[-1], True, False):
        # UTF-8 cut short in its last character: the file is truncated, and sniff says so.
        return EncodingGuess("utf-8", False, 0, 0.9, "cp1252")
    if valid > 2 * invalid:
        # Mostly real UTF-8 with a few damaged bytes: the scan points at each of them.
        confidence = valid / (valid + invalid)
        return EncodingGuess("utf-8", False, 0, round(confidence, 3), "cp1252")
    return _single_byte(trimmed)


def _western_score(evidence: bytes, ranked: list[tuple[str, float]]) -> float | None:
    """How clean the evidence reads as Windows-1252 or Latin-1 (None: not at all)."""
    scores = [score for name, score in ranked if name in _WESTERN]
    if scores:
        return scores[0]
    from charset_normalizer import from_bytes

    for name in ("cp1252", "latin_1"):
        match = from_bytes(evidence, cp_isolation=[name], explain=False).best()
        if match is not None:
            return 1.0 - float(match.chaos)
    return None


_WESTERN_PUNCTUATION = frozenset("€‚„…†‡‰‹›‘’“”•–—™ ©®°±²³µ¶·¹º»¼½¾¿×÷§¨ª«¬¢£¥¦\xa0")


def _plausible_western(evidence: bytes) -> bool:
    text = evidence.decode("cp1252", errors="replace")
    return all(ch.isalpha() or ch in _WESTERN_PUNCTUATION for ch in text if ord(ch) >= 0x80)


_WESTERN = frozenset(("cp1252", "iso8859-1", "iso8859-15"))
#: charset-normalizer's language coherence below which a reading is not text in any language.
_MIN_COHERENCE = 0.5


def _real_multibyte(evidence: bytes, name: str) -> bool:
    """Whether most non-ASCII bytes read as two-byte characters in the CJK code page ``name``.

    Real Japanese, Chinese or Korean text is mostly two-byte characters; Western letters seen
    through Shift-JIS mostly become one-byte half-width katakana.
    """
    text = evidence.decode(name, errors="replace")
    in_pairs = 0
    for ch in text:
        if ord(ch) >= 0x80 and ch != "\ufffd":
            try:
                width = len(ch.encode(name))
            except UnicodeEncodeError:
                continue
            if width >= 2:
                in_pairs += sum(1 for b in ch.encode(name) if b >= 0x80)
    high = sum(1 for b in evidence if b >= 0x80)
    return 2 * in_pairs >= high


def _single_byte(pieces: list[bytes]) -> EncodingGuess:
    from charset_normalizer import from_bytes

    evidence = _non_ascii_lines(pieces)
    high = set(evidence)
    high_bytes = [b for b in evidence if b >= 0x80]
    results = list(from_bytes(evidence, explain=False))
    cp1252_ok = not (high & _CP1252_HOLES)
    western_plausible = cp1252_ok and _plausible_western(evidence)
    passed = 0.0  # the best score of the readings passed over for a Western one
    ranked: list[tuple[str, float]] = []
    for match in results:
        try:
            name = codecs.lookup(match.encoding).name
        except LookupError:
            continue
        if name.startswith("utf") or name in (n for n, _ in ranked):
            continue
        if western_plausible and (
            (name in _MULTIBYTE and not _real_multibyte(evidence, name))
            or (name not in _WESTERN and float(match.coherence) < _MIN_COHERENCE)
        ):
            # The same bytes read as Western letters, and this reading is no language:
            # Latin-1 letters seen through Shift-JIS (one-byte half-width katakana), or
            # random Cyrillic or Greek letters. Real text in those code pages reads as one.
            passed = max(passed, 1.0 - float(match.chaos))
            continue
        if name in _MULTIBYTE and len(high_bytes) < 32:
            # A few accented letters read as one CJK character just as well; that takes
            # more evidence than a handful of bytes.
            continue
        ranked.append((name, 1.0 - float(match.chaos)))
    best_score = ranked[0][1] if ranked else 0.0
    western = _western_score(evidence, ranked)
    if western_plausible and len(high_bytes) < 32:
        # Too little evidence for any detector: the few accented letters most likely came
        # from Excel on a Western system.
        western = max(best_score, western or 0.0)
    elif passed and all(name in _WESTERN for name, _ in ranked):
        # No reading but a Western one is text in some language.
        western = max(passed, western or 0.0)
    choice: tuple[str, float]
    if western is not None and western >= best_score - 0.1:
        # Equally clean text in Windows-1252 (or Latin-1): what Excel on Western systems wrote.
        choice = ("cp1252", western) if cp1252_ok else ("iso8859-1", western)
    elif ranked:
        choice = ranked[0]
    else:
        choice = ("cp1252", 0.5) if cp1252_ok else ("iso8859-1", 0.5)
    if choice[0] == "cp1252" and not cp1252_ok:
        choice = ("iso8859-1", choice[1])
    runner = next((n for n, _ in ranked if n != choice[0]), None)
    if choice[0] == "cp1252" and not any(0x80 <= b <= 0x9F for b in high):
        # Without bytes 0x80-0x9F, Latin-1 gives exactly the same text.
        runner = "iso8859-1"
    return EncodingGuess(choice[0], False, 0, max(0.0, min(1.0, choice[1])), runner)
