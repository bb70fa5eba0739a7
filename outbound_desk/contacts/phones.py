"""Phone numbers to E.164, fast, with exactly the answers of ``phonenumbers``.

The rule (the issue's words): a value is a valid phone when ``phonenumbers.parse(value,
region)`` succeeds and ``is_valid_number`` holds; its normal form is ``format_number(...,
E164)``. :class:`PhoneNormaliser` gives those answers for a whole column at once:

1. **Fast path, NANP shapes only** (default region US or CA). A value made only of ASCII digits,
   spaces, ``-``, ``.``, ``(``, ``)`` and at most one leading ``+`` whose digits are
   ``[1]NXXXXXXXXX`` (N = 2-9) or ``+1NXXXXXXXXX`` parses, in ``phonenumbers``, to country code
   1 and that 10-digit national number: those characters are the punctuation ``phonenumbers``
   strips, and neither an extension, a second number, a ``phone-context``, an IDD nor a
   national prefix can be read from them. Validity is then decided *with phonenumbers' own
   metadata*: the same region walk as ``region_code_for_number`` (leading digits, else a full
   type match) and the same type match as ``_number_type_helper`` (possible lengths, general
   description, then any number type), its regular expressions run vectorised by Arrow's RE2
   (they use only digit classes, groups, alternation and counted repeats, on which RE2 and
   ``re`` accept the same strings; anything else in them switches the fast path off).
   A number it finds invalid is answered there too: ``classify``'s reason for a parsed but
   invalid number is ``is_possible_number_with_reason``, which reads only the country code
   and the national number's length, so it is asked once per (code, length). For big
   batches the walk's answers come from a table over the first six digits built exactly from
   those same patterns (``nanp_table``); the shape test, the digits and the E.164 forms are
   read and written as bytes with numpy.
2. **Fast path, international shapes** (any default region: a leading ``+`` makes ``parse``
   ignore it). ``+`` then digits with the same punctuation: the country code is split off as
   ``_extract_country_code`` does (the shortest known code of 1-3 digits); values whose rest
   starts with ``0`` or matches the country's ``national_prefix_for_parsing`` (which ``parse``
   might strip or transform) go to the slow path; the rest is ``parse``'s national number
   unchanged, and validity is the same metadata walk as above, possible lengths included;
   invalid ones get their reason as above. Non-geographic codes (``001``) and national
   numbers of one digit (a parse error) are left to the slow path.
3. **Slow path**: ``phonenumbers`` itself for every other shape (``n/a``, ``555-1234``, a
   national prefix after the country code...), once per unique value (a bounded cache), in
   worker processes when there are many.

The punctuation is removed once, over the bytes with numpy, for both fast paths.

**Checked against phonenumbers at start.** The fast paths re-derive phonenumbers' rules from
its metadata, so a release that changes how it reads them could change an answer silently.
Before a country calling code's fast path answers anything in a process (``_country``, and
``_nanp`` for +1), it is run on phonenumbers' own example numbers of every region of that code
and every number type (``example_number_for_type``), written as E.164 (and nationally for the
NANP), plus each example with a digit more and a digit less (invalid ones), and compared with
``classify``. Where any answer differs, that code's fast path is switched off (its numbers go
to phonenumbers itself) and a warning says so. ``pyproject.toml`` pins phonenumbers to the
minor release the tests run.

``tests/contacts/test_phones.py`` checks both fast paths against ``phonenumbers`` on every area
code, on phonenumbers' example numbers of every region and on hypothesis-generated shapes;
the benchmark checks every row of its files.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import multiprocessing
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers.phonemetadata import PhoneMetadata

from outbound_desk.base import workers as workers_policy
from outbound_desk.contacts import nanp_table
from outbound_desk.contacts._arrow import BoolArray, bytes_in, mask, string_buffers

log = logging.getLogger(__name__)

#: Reason codes (Issue.code) and what they mean to an admin.
REASONS = {
    "not_a_number": "is not a phone number",
    "phone_too_short": "is too short to be a phone number",
    "phone_too_long": "is too long to be a phone number",
    "invalid_for_region": "is not a valid number for its country",
    "invalid_phone": "is not a valid phone number",
}

_E = phonenumbers.NumberParseException
_PARSE_REASON = {
    _E.INVALID_COUNTRY_CODE: ("invalid_phone", "has an unknown country calling code"),
    _E.NOT_A_NUMBER: ("not_a_number", REASONS["not_a_number"]),
    _E.TOO_SHORT_AFTER_IDD: ("phone_too_short", "is too short after the international prefix"),
    _E.TOO_SHORT_NSN: ("phone_too_short", REASONS["phone_too_short"]),
    _E.TOO_LONG: ("phone_too_long", REASONS["phone_too_long"]),
}
_V = phonenumbers.ValidationResult
_POSSIBLE_REASON = {
    _V.TOO_SHORT: "phone_too_short",
    _V.TOO_LONG: "phone_too_long",
    _V.INVALID_COUNTRY_CODE: "invalid_phone",
    _V.INVALID_LENGTH: "invalid_phone",
    _V.IS_POSSIBLE: "invalid_for_region",
    _V.IS_POSSIBLE_LOCAL_ONLY: "invalid_for_region",
}

#: Default regions for which the NANP fast path was proven equal to phonenumbers (tests).
FAST_REGIONS = frozenset({"US", "CA"})
_CLEAN = " -.()"  # ASCII punctuation that phonenumbers drops, removed before the shape test
# Characters that occur in the metadata patterns we hand to RE2 (checked, not assumed).
_SAFE_PATTERN = re.compile(r"[0-9\\d\[\]\-(?:)|{},$]*")
_BACKREF = re.compile(r"\\[1-9]")


def _safe(pattern: str) -> bool:
    return bool(_SAFE_PATTERN.fullmatch(pattern)) and not _BACKREF.search(pattern)


_MAX_FAST_LENGTH = 64  # phonenumbers refuses inputs over 250 characters; stay far below
_MIN_NSN = 2  # parse refuses shorter national numbers (TOO_SHORT_NSN): left to phonenumbers


def classify(value: str, region: str) -> tuple[str, str]:
    """``(e164, "")`` for a valid phone, ``("", reason_code)`` otherwise: the reference rule."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        return "", _PARSE_REASON.get(exc.error_type, ("invalid_phone", ""))[0]
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), ""
    why = phonenumbers.is_possible_number_with_reason(number)
    return "", _POSSIBLE_REASON.get(why, "invalid_phone")


def _classify_many(values: list[str], region: str) -> list[tuple[str, str]]:
    return [classify(v, region) for v in values]


def reason_message(code: str) -> str:
    return REASONS.get(code, REASONS["invalid_phone"])


#: Below this many values a metadata pattern runs in Python's re (compiled once and cached)
#: rather than RE2, which Arrow compiles again on every call: the region walks hand small
#: leftovers to dozens of patterns, and compiling them would cost more than matching.
_SMALL = 256


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regex(arr: pa.Array, pattern: str, *, full: bool) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Does *pattern* match each value (entirely with *full*, else at its start)?

    The patterns are the safe ones (:func:`_safe`) and the values ASCII digits, on which
    ``re`` and RE2 accept the same strings.
    """
    if len(arr) <= _SMALL:
        rx = _compiled(pattern)
        test = rx.fullmatch if full else rx.match
        return np.fromiter(
            (test(v) is not None for v in arr.to_pylist()), dtype=bool, count=len(arr)
        )
    anchored = f"^(?:{pattern})$" if full else f"^(?:{pattern})"
    return mask(pc.match_substring_regex(arr, anchored))


# --------------------------------------------------------------------- the NANP fast path
def _desc_pattern(desc: Any, length: int) -> str | None:
    """The pattern a national number of *length* digits must fully match, as
    ``_is_number_matching_desc`` decides it; None when it can never match."""
    if desc is None:
        return None
    if len(desc.possible_length) > 0 and length not in desc.possible_length:
        return None
    pattern = desc.national_number_pattern
    if not pattern:
        return None
    return str(pattern)


class _NanpRules:
    """phonenumbers' validity test for +1 numbers of 10 digits, as RE2 patterns."""

    def __init__(self) -> None:
        # (leading_digits or None, general pattern or None, any-type pattern or None)
        self.regions: list[tuple[str | None, str | None, str | None]] = []
        patterns: list[str] = []
        for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]:
            md = PhoneMetadata.metadata_for_region(region.upper(), None)
            if md is None:
                continue  # as _region_code_for_number_from_list does
            general = _desc_pattern(md.general_desc, 10)
            types = [
                _desc_pattern(d, 10)
                for d in (
                    md.premium_rate,
                    md.toll_free,
                    md.shared_cost,
                    md.voip,
                    md.personal_number,
                    md.pager,
                    md.uan,
                    md.voicemail,
                    md.fixed_line,
                    md.mobile,
                )
            ]
            live = [t for t in types if t is not None]
            any_type = "|".join(f"(?:{t})" for t in live) if live else None
            leading = str(md.leading_digits) if md.leading_digits is not None else None
            self.regions.append((leading, general, any_type))
            patterns += [p for p in (leading, general, *live) if p is not None]
        self.usable = all(_safe(p) for p in patterns)
        self._table: tuple[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]] | None] | None
        self._table = None  # (table or None when it cannot be built,) once built
        self._builder: threading.Thread | None = None

    @staticmethod
    def _full(arr: pa.Array, pattern: str | None) -> np.ndarray[Any, np.dtype[np.bool_]]:
        if pattern is None:
            return np.zeros(len(arr), dtype=bool)
        return _regex(arr, pattern, full=True)

    def _type_ok(
        self, arr: pa.Array, general: str | None, any_type: str | None
    ) -> np.ndarray[Any, np.dtype[np.bool_]]:
        ok = self._full(arr, general)
        if ok.any():
            idx = np.flatnonzero(ok)
            ok[idx] = self._full(arr.take(pa.array(idx)), any_type)
        return ok

    def valid(self, digits: np.ndarray[Any, np.dtype[np.uint8]]) -> np.ndarray[Any, Any]:
        """For each row of ten ASCII digits: is +1 and that number valid (``is_valid_number``).

        From the six-digit prefix table (``nanp_table``): the first big batch has a thread
        build it (~0.06 s) and waits for it, since walking a batch that big costs more (a
        chunk of 65,000 numbers: ~0.1 s); small batches take the table when it is there and
        the region walk otherwise, and the walk also answers the few prefixes the table leaves
        undecided. Both give the same answers (tests/contacts/test_phones.py), so timing
        cannot change a result.
        """
        big = len(digits) >= _TABLE_MIN
        table = self.prefix_table(start=big, wait=big)
        if table is None:
            return self.walk(_digit_strings(digits))
        answers, undecided = table
        index = nanp_table.prefixes(digits)
        valid: np.ndarray[Any, Any] = answers[index]
        open_ = np.flatnonzero(undecided[index])
        if len(open_):
            valid[open_] = self.walk(_digit_strings(digits[open_]))
        return valid

    def prefix_table(
        self, *, start: bool = False, wait: bool = False
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]] | None:
        """The prefix table if it is built; *start* builds it in a thread, *wait* here."""
        if self._table is None and (start or wait):
            with _TABLE_LOCK:
                if self._builder is None:
                    self._builder = threading.Thread(
                        target=self._build, name="nanp-table", daemon=True
                    )
                    self._builder.start()
            if wait:
                self._builder.join()
        return self._table[0] if self._table is not None else None

    def _build(self) -> None:
        self._table = (nanp_table.cached_walk_table(self.regions),)

    def walk(self, nsn: pa.Array) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """:meth:`valid` by the region walk, with the regular expressions themselves, on
        national numbers as strings."""
        n = len(nsn)
        valid = np.zeros(n, dtype=bool)
        pending = np.arange(n)
        for leading, general, any_type in self.regions:
            if not len(pending):
                break
            sub = nsn.take(pa.array(pending))
            if leading is not None:
                # re.match: anchored at the start only.
                picked = _regex(sub, leading, full=False)
                if picked.any():
                    chosen = pending[picked]
                    valid[chosen] = self._type_ok(sub.filter(pa.array(picked)), general, any_type)
            else:
                picked = self._type_ok(sub, general, any_type)
                valid[pending[picked]] = True
            pending = pending[~picked]
        return valid


#: From this many numbers in one batch on, the prefix table is worth building.
_TABLE_MIN = 2_000
_TABLE_LOCK = threading.Lock()


def _digit_strings(digits: np.ndarray[Any, np.dtype[np.uint8]]) -> pa.Array:
    """Rows of ASCII bytes (all of one width) as an Arrow ``large_string`` array."""
    rows, width = digits.shape
    offsets = np.arange(0, rows * width + 1, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(
        rows, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(digits).tobytes())
    )


_NANP: _NanpRules | None = None


def _nanp() -> _NanpRules:
    global _NANP
    if _NANP is not None:
        return _NANP
    with _RULES_LOCK:
        if _NANP is None:
            rules = _NanpRules()
            _NANP = rules  # the check runs the fast path, which looks it up
            if rules.usable:
                wrong = _checked(0, lambda: _disagreements(1, _nanp_examples(), _nanp_arrow, "US"))
                if wrong:
                    rules.usable = False
                    _distrust(1, wrong)
        return _NANP


#: Bytes of the punctuation phonenumbers drops (ASCII: never part of a multi-byte UTF-8
#: character, so removing the bytes removes exactly those characters).
_PUNCT_CODES = [ord(ch) for ch in _CLEAN]


def _clean(values: pa.Array) -> pa.Array:
    """*values* (``large_string``, no nulls) without the characters of ``_CLEAN``.

    One pass of numpy over the bytes instead of one Arrow ``replace_substring`` per
    character: the kept bytes are compressed, and each value's new start moves back by the
    number of punctuation bytes before it.
    """
    offsets, data = string_buffers(values)
    lo, hi = int(offsets[0]), int(offsets[-1])
    data = data[lo:hi]
    punct = bytes_in(data, _PUNCT_CODES)
    # Punctuation bytes before each byte position: a running count (cheaper than a search
    # of the punctuation positions).
    before = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(punct, out=before[1:])
    starts = offsets - lo
    new_offsets = starts - before[starts]
    return pa.LargeStringArray.from_buffers(
        len(values), pa.py_buffer(new_offsets), pa.py_buffer(data[~punct])
    )


@functools.lru_cache(maxsize=1024)
def _invalid_reason(cc: int, length: int) -> str:
    """The reason ``classify`` gives for a parsed but invalid number of country code *cc*
    whose national number has *length* digits (none with a leading zero).

    ``is_possible_number_with_reason`` reads only the country code and the national number's
    length (``_test_number_length``), so one synthetic number of that length answers for all.
    """
    number = phonenumbers.PhoneNumber(country_code=cc, national_number=int("1" * length))
    return _POSSIBLE_REASON.get(
        phonenumbers.is_possible_number_with_reason(number), "invalid_phone"
    )


@dataclass
class _Answers:
    """What a fast path decided for some values (positions in the array it was given)."""

    valid: np.ndarray[Any, Any]  # positions of valid numbers
    e164: pa.Array  # their E.164 forms (large_string)
    invalid: np.ndarray[Any, Any]  # positions of numbers phonenumbers parses but rejects
    reasons: np.ndarray[Any, Any]  # their reason codes (indices into _CODES)


def _no_answers() -> _Answers:
    empty = np.zeros(0, dtype=np.int64)
    return _Answers(empty, _NO_E164, empty, np.zeros(0, dtype=np.int64))


def fast_path(values: pa.Array) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Indices of *values* the NANP fast path finds valid, and their E.164 forms."""
    values = pc.fill_null(values.cast(pa.large_string()), "")
    a = _nanp_arrow(_clean(values), _short(values))
    return a.valid, np.asarray(a.e164.to_numpy(zero_copy_only=False), dtype=object)


_NO_E164 = pa.array([], type=pa.large_string())


def _short(values: pa.Array) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Values of at most ``_MAX_FAST_LENGTH`` bytes (*values*: ``large_string``). Bytes, not
    characters: only ASCII values can have a fast path's shape, and theirs are the same."""
    offsets, _ = string_buffers(values)
    return np.diff(offsets) <= _MAX_FAST_LENGTH


def _nanp_arrow(cleaned: pa.Array, short: np.ndarray[Any, Any]) -> _Answers:
    """The NANP fast path on cleaned values (``_clean``; *short*: ``_short`` of the
    originals): ``[1]NXXXXXXXXX`` and ``+1NXXXXXXXXX`` parse to +1 and those ten digits, so
    phonenumbers' answer is +1 and the validity of those digits, valid or not."""
    rules = _nanp()
    if not rules.usable or len(cleaned) == 0:
        return _no_answers()
    # The shape ^(?:\+?1)?[2-9][0-9]{9}$ read off the bytes: the last ten are ASCII digits,
    # the first of them 2-9, and before them nothing, "1" or "+1".
    offsets, data = string_buffers(cleaned)
    lengths = np.diff(offsets)
    cand = np.flatnonzero(short & (lengths >= 10) & (lengths <= 12))
    if not len(cand):
        return _no_answers()
    starts, size = offsets[cand], lengths[cand]
    # Each candidate's last ten bytes: rows of a sliding window over the data (one copy).
    digits = np.lib.stride_tricks.sliding_window_view(data, 10)[starts + size - 10]
    first, second = data[starts], data[starts + 1]
    # All ten are digits where the largest of (byte - "0"), wrapping below "0", is at most
    # 9: a running maximum over the ten columns (4x faster than a row-wise all()).
    value = digits - np.uint8(_ZERO)
    top = value[:, 1].copy()
    for k in range(2, 10):
        np.maximum(top, value[:, k], out=top)
    shape = (top <= 9) & (value[:, 0] >= 2) & (value[:, 0] <= 9)
    shape &= (
        (size == 10)
        | ((size == 11) & (first == _ONE))
        | ((size == 12) & (first == _PLUS) & (second == _ONE))
    )
    idx, digits = cand[shape], digits[shape]
    if not len(idx):
        return _no_answers()
    ok = rules.valid(digits)
    e164 = np.empty((int(ok.sum()), 12), dtype=np.uint8)
    e164[:, 0], e164[:, 1], e164[:, 2:] = _PLUS, _ONE, digits[ok]
    bad = idx[~ok]
    reasons = np.full(len(bad), _CODE_AT[_invalid_reason(1, 10)], dtype=np.int64)
    return _Answers(idx[ok], _digit_strings(e164), bad, reasons)


_PLUS, _ONE, _ZERO = (ord(c) for c in "+10")


# --------------------------------------------------------------------- "+<cc> <nsn>" shapes
_TYPE_FIELDS = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
_INTL_SHAPE = r"^\+[1-9][0-9]{3,17}$"
_CC_SET = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
Desc = tuple[str, tuple[int, ...]]  # (pattern, possible lengths; empty = any)


def _desc(d: Any) -> Desc | None:
    if d is None or not d.national_number_pattern:
        return None  # _match_national_number: no pattern never matches
    return str(d.national_number_pattern), tuple(d.possible_length)


def _sized(desc: Desc) -> str | None:
    """*desc*'s pattern with its possible lengths as a lookahead (on ASCII digits, which is all
    the values are): ``_is_number_matching_desc``'s two tests in one; None when no length
    can match."""
    pattern, possible = desc
    if not possible:
        return f"(?:{pattern})"
    lengths = sorted(n for n in possible if n > 0)
    if not lengths:
        return None
    sizes = "|".join(f"[0-9]{{{n}}}" for n in lengths)
    return f"(?=(?:{sizes})\\Z)(?:{pattern})"


def _type_match(general: Desc | None, types: list[Desc]) -> re.Pattern[str] | None:
    """``_number_type_helper`` as one pattern, to be matched with ``re.match``: the general
    description matches the whole number (a lookahead) and so does one of the number types
    (an alternation, then the end)."""
    if general is None:
        return None
    head = _sized(general)
    alternatives = [t for t in (_sized(d) for d in types) if t is not None]
    if head is None or not alternatives:
        return None
    return _compiled(f"(?={head}\\Z)(?:{'|'.join(alternatives)})\\Z")


class _CountryRules:
    """For one country calling code: parse's national-prefix test and is_valid_number."""

    def __init__(self, cc: int) -> None:
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[cc]
        main = phonenumbers.region_code_for_country_code(cc)
        md_main = PhoneMetadata.metadata_for_region_or_calling_code(cc, main)
        self.single = len(regions) == 1
        self.prefix: str | None = None
        if md_main is not None and md_main.national_prefix_for_parsing:
            self.prefix = str(md_main.national_prefix_for_parsing)
        # (leading_digits, general, [types]) per region, in the order phonenumbers walks them.
        self.regions: list[tuple[str | None, Desc | None, list[Desc]]] = []
        for region in regions:
            md = PhoneMetadata.metadata_for_region_or_calling_code(cc, region.upper())
            if md is None:
                continue
            types = [t for t in (_desc(getattr(md, f)) for f in _TYPE_FIELDS) if t is not None]
            leading = str(md.leading_digits) if md.leading_digits is not None else None
            self.regions.append((leading, _desc(md.general_desc), types))
        patterns = [self.prefix or ""] + [
            p
            for leading, general, types in self.regions
            for p in [leading or "", general[0] if general else ""] + [t[0] for t in types]
        ]
        # Non-geographic codes (region "001") are left to phonenumbers.
        self.usable = md_main is not None and main != "001" and all(_safe(p) for p in patterns)

        self._prefix_rx = _compiled(self.prefix) if self.prefix is not None else None
        # The region walk: per region, in order, its leading-digits pattern (None: decided by
        # the type match; always None for a country of one region, whose region needs no
        # choosing) and its type match (``_type_match``), compiled when a number first
        # reaches it: ``re``'s compiler is Python, and slow on these long patterns.
        self._leads = [
            None if self.single or leading is None else _compiled(leading)
            for leading, _, _ in self.regions
        ]
        self._checks: dict[int, re.Pattern[str] | None] = {}

    def _check(self, region: int) -> re.Pattern[str] | None:
        """*region*'s type match (``_type_match``), compiled on first use; the checking
        threads share one compile."""
        try:
            return self._checks[region]
        except KeyError:
            with _COMPILE_LOCK:
                if region not in self._checks:
                    _lead, general, types = self.regions[region]
                    self._checks[region] = _type_match(general, types)
                return self._checks[region]

    def unstripped(self, nsn: str) -> bool:
        """Does parse keep the digits after the country code as they are: no leading zero
        and no national prefix to strip (its pattern does not match at the start)?"""
        return bool(self.unstripped_many([nsn])[0])

    def unstripped_many(self, nsns: list[str]) -> BoolArray:
        """:meth:`unstripped` of each of *nsns*."""
        keep = np.fromiter((not v.startswith("0") for v in nsns), dtype=bool, count=len(nsns))
        if self._prefix_rx is not None and keep.any():
            at = np.flatnonzero(keep)
            match = self._prefix_rx.match
            keep[at] = [match(nsns[i]) is None for i in at.tolist()]
        return keep

    def valid(self, nsn: str) -> bool:
        """is_valid_number for +<cc><nsn> (:meth:`valid_many` of one number)."""
        return bool(self.valid_many([nsn])[0])

    def valid_many(self, nsns: list[str]) -> BoolArray:
        """is_valid_number for +<cc><nsn> of each of *nsns*: the region walk of
        region_code_for_number, then the type match of _number_type_helper, taken region by
        region over all of them (one pass of each pattern's ``match`` over the numbers still
        pending). The patterns run in ``re``: a country's share of a chunk is small, and
        Arrow's RE2 would compile these long patterns again on every call."""
        valid = np.zeros(len(nsns), dtype=bool)
        pending = list(range(len(nsns)))
        for region, lead in enumerate(self._leads):
            if not pending:
                break
            if lead is not None:
                # The region's leading digits pick numbers; its types then decide them.
                picked = [i for i in pending if lead.match(nsns[i]) is not None]
                if not picked:
                    continue
                taken = set(picked)
                pending = [i for i in pending if i not in taken]
                check = self._check(region)
                if check is not None:
                    valid[[i for i in picked if check.match(nsns[i]) is not None]] = True
            else:
                # No leading digits: the numbers its types match are its (and valid).
                check = self._check(region)
                if check is None:
                    continue
                ok = [i for i in pending if check.match(nsns[i]) is not None]
                valid[ok] = True
                done = set(ok)
                pending = [i for i in pending if i not in done]
        return valid


_COUNTRIES: dict[int, _CountryRules] = {}
_COMPILE_LOCK = threading.Lock()
_RULES_LOCK = threading.RLock()


def _country(cc: int) -> _CountryRules:
    try:
        return _COUNTRIES[cc]
    except KeyError:
        pass
    with _RULES_LOCK:
        if cc not in _COUNTRIES:
            rules = _CountryRules(cc)
            _COUNTRIES[cc] = rules  # the check below runs the fast path, which looks it up
            if rules.usable:
                wrong = _checked(
                    cc, lambda: _disagreements(cc, _intl_examples(cc), _intl_arrow, "ZZ")
                )
                if wrong:
                    rules.usable = False
                    _distrust(cc, wrong)
        return _COUNTRIES[cc]


# --------------------------------------------------------------------- the start-up check
_EXAMPLE_TYPES = tuple(
    getattr(phonenumbers.PhoneNumberType, name)
    for name in (
        "FIXED_LINE",
        "MOBILE",
        "TOLL_FREE",
        "PREMIUM_RATE",
        "SHARED_COST",
        "VOIP",
        "PERSONAL_NUMBER",
        "PAGER",
        "UAN",
        "VOICEMAIL",
    )
)
#: Calling codes whose fast path disagreed with phonenumbers in this process (for tests and
#: the log): code -> the first values that differed.
DISTRUSTED: dict[int, list[str]] = {}


def _examples(cc: int) -> list[phonenumbers.PhoneNumber]:
    """phonenumbers' example numbers of every region of *cc*, every type."""
    out = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(cc, ()):
        for kind in _EXAMPLE_TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                out.append(number)
    return out


def _variants(e164: str) -> list[str]:
    """The number, and with one digit more and one less (mostly invalid ones)."""
    return [e164, e164 + "5", e164[:-1]]


def _intl_examples(cc: int) -> list[str]:
    fmt = phonenumbers.PhoneNumberFormat.E164
    return [v for n in _examples(cc) for v in _variants(phonenumbers.format_number(n, fmt))]


def _nanp_examples() -> list[str]:
    values = []
    for n in _examples(1):
        national = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.NATIONAL)
        e164 = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
        values += [national, *_variants(e164[2:]), f"+1{e164[2:]}5"]
    return values


def _check_key() -> str:
    """The verdicts hold for one phonenumbers release and one version of the fast paths."""
    parts = [str(getattr(phonenumbers, "__version__", "?")).encode()]
    for module in (__file__, nanp_table.__file__):
        try:
            with open(module, "rb") as fh:
                parts.append(fh.read())
        except OSError:  # a frozen build keeps no source: its version stands for the code
            from outbound_desk import __version__

            parts.append(__version__.encode())
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:24]


def _checked(code: int, check: Any) -> list[str]:
    """*check*'s disagreements for *code* (0: the NANP national path), remembered in the
    cache directory (``nanp_table.use_cache_dir``) per phonenumbers release and code version,
    so that a process of the command line or the app does not check again what an earlier
    one did. Without a cache directory it is checked in every process."""
    directory = nanp_table.cache_dir()
    path = None if directory is None else directory / f"phones-check-{_check_key()}.json"
    known: dict[str, list[str]] = {}
    if path is not None:
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                known = loaded
        if isinstance(known.get(str(code)), list):
            return [str(v) for v in known[str(code)]]
    try:
        wrong: list[str] = check()
    except Exception:
        log.exception("checking the phone fast path (+%s) against phonenumbers failed", code)
        return ["(the check itself failed)"]
    if path is not None:
        known[str(code)] = wrong[:5]
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".phones-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(known, fh)
                os.replace(tmp, path)  # whole or not at all; a lost race only re-checks
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
    return wrong


def _disagreements(
    cc: int,
    values: list[str],
    path: Any,
    region: str,
) -> list[str]:
    """The values where *path* (a fast path: ``_nanp_arrow`` or ``_intl_arrow``) answers
    otherwise than ``classify(value, region)``; values it leaves undecided do not count."""
    if not values:
        return []
    arr = pa.array(values, type=pa.large_string())
    answers: _Answers = path(_clean(arr), _short(arr))
    e164 = answers.e164.to_pylist()
    fast: dict[int, tuple[str, str]] = {
        int(i): (str(e), "") for i, e in zip(answers.valid.tolist(), e164, strict=True)
    }
    for i, r in zip(answers.invalid.tolist(), answers.reasons.tolist(), strict=True):
        fast[int(i)] = ("", _CODES[int(r)])
    return [values[i] for i, got in sorted(fast.items()) if got != classify(values[i], region)]


def _distrust(cc: int, wrong: list[str]) -> None:
    DISTRUSTED[cc] = wrong[:5]
    log.warning(
        "phonenumbers %s answers otherwise than Outbound Desk's fast path for +%s (e.g. %s): "
        "those numbers are checked by phonenumbers itself (slower, never wrong)",
        getattr(phonenumbers, "__version__", "?"),
        cc,
        ", ".join(wrong[:3]),
    )


#: Known country calling codes as a table over 0-999 (parse takes the shortest match).
_KNOWN_CC = np.zeros(1000, dtype=bool)
_KNOWN_CC[sorted(_CC_SET)] = True


def _split_ccs(values: pa.Array) -> np.ndarray[Any, Any]:
    """phonenumbers' _extract_country_code for values ``+`` then at least 3 digits (the first
    not 0): the shortest known code of 1 to 3 digits, 0 where there is none."""
    heads = [
        np.asarray(pc.cast(pc.utf8_slice_codeunits(values, 1, 1 + k), pa.int64()).to_numpy())
        for k in (1, 2, 3)
    ]
    cc = np.zeros(len(values), dtype=np.int64)
    for head in reversed(heads):  # shortest last, so it wins
        known = _KNOWN_CC[head]
        cc[known] = head[known]
    return cc


def intl_fast_path(values: pa.Array) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Indices of *values* written ``+<country code><number>`` (with the punctuation
    phonenumbers strips) that phonenumbers finds valid, and their E.164 forms. Independent of
    the default region: a leading + makes parse ignore it."""
    values = pc.fill_null(values.cast(pa.large_string()), "")
    a = _intl_arrow(_clean(values), _short(values))
    return a.valid, np.asarray(a.e164.to_numpy(zero_copy_only=False), dtype=object)


def _intl_arrow(cleaned: pa.Array, short: np.ndarray[Any, Any]) -> _Answers:
    """The international fast path on cleaned values: ``+<cc><nsn>`` where parse keeps the
    national number as written; valid or not (a national number of one digit aside, which
    parse refuses). A valid one's E.164 form is the cleaned value itself."""
    shape = short & mask(pc.match_substring_regex(cleaned, _INTL_SHAPE))
    idx = np.flatnonzero(shape)
    if not len(idx):
        return _no_answers()
    sub = cleaned.take(pa.array(idx))
    ccs = _split_ccs(sub)
    texts = sub.to_pylist()
    valid: list[np.ndarray[Any, Any]] = []
    invalid: list[np.ndarray[Any, Any]] = []
    reasons: list[np.ndarray[Any, Any]] = []
    for cc in np.unique(ccs).tolist():
        if cc == 0:
            continue
        rules = _country(cc)
        if not rules.usable:
            continue
        sel = np.flatnonzero(ccs == cc)
        skip = 1 + len(str(cc))
        nsns = [texts[i][skip:] for i in sel.tolist()]
        keep = rules.unstripped_many(nsns)
        kept = [v for v, k in zip(nsns, keep.tolist(), strict=True) if k]
        sel = sel[keep]
        ok = rules.valid_many(kept)
        lengths = np.fromiter(map(len, kept), dtype=np.int64, count=len(kept))
        valid.append(sel[ok])
        bad = ~ok & (lengths >= _MIN_NSN)
        invalid.append(sel[bad])
        # One reason per (code, length): look each length up once.
        sizes, which = np.unique(lengths[bad], return_inverse=True)
        codes = np.array([_CODE_AT[_invalid_reason(cc, n)] for n in sizes.tolist()], np.int64)
        reasons.append(codes[which])
    if not valid:
        return _no_answers()
    good = np.concatenate(valid)
    return _Answers(
        idx[good], sub.take(pa.array(good)), idx[np.concatenate(invalid)], np.concatenate(reasons)
    )


# --------------------------------------------------------------------- the normaliser
#: Every reason code classify gives ("" = valid or empty), and their positions.
_CODES = (
    "",
    "not_a_number",
    "phone_too_short",
    "phone_too_long",
    "invalid_for_region",
    "invalid_phone",
)
_CODE_AT = {c: i for i, c in enumerate(_CODES)}
_CODES_ARROW = pa.array(_CODES, type=pa.large_string())
_EMPTY = pa.array([""], type=pa.large_string())


def _pool_context() -> Any:
    if sys.platform == "win32" or "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # The server imports phonenumbers once; each worker is then a cheap fork of it.
    ctx.set_forkserver_preload(["phonenumbers", __name__])
    return ctx


class PhoneNormaliser:
    """Normalises phone columns to E.164 with a default region, vectorised and cached.

    Use it as a context manager (or call :meth:`close`): it may start worker processes.
    """

    def __init__(
        self,
        region: str = "US",
        *,
        workers: int | None = None,
        pool_threshold: int = workers_policy.PHONE_POOL_MIN_VALUES,
        cache_size: int = 50_000,
    ) -> None:
        region = region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {region!r} (use a two-letter code such as US, GB)")
        self.region = region
        self.fast = region in FAST_REGIONS
        self.workers = workers if workers is not None else workers_policy.cores()
        self.pool_threshold = pool_threshold
        self.cache_size = cache_size
        self._cache: dict[str, tuple[str, str]] = {}
        self._pool: Executor | None = None
        self.stats = {"fast": 0, "cached": 0, "slow": 0}

    def warm_up(self) -> None:
        """Start building, in a thread, what big batches of this region need (the NANP prefix
        table), so that it overlaps with reading the first rows."""
        if self.fast and _nanp().usable:
            _nanp().prefix_table(start=True)

    def __enter__(self) -> PhoneNormaliser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _compute(self, values: list[str]) -> list[tuple[str, str]]:
        procs = workers_policy.phone_processes(
            len(values), self.workers, min_values=self.pool_threshold
        )
        if procs < 2:
            return _classify_many(values, self.region)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=_pool_context())
        size = max(500, len(values) // (self.workers * 4) + 1)
        parts = [values[i : i + size] for i in range(0, len(values), size)]
        out: list[tuple[str, str]] = []
        for part in self._pool.map(_classify_many, parts, [self.region] * len(parts)):
            out.extend(part)
        return out

    def classify_unique(self, values: Iterable[str]) -> dict[str, tuple[str, str]]:
        """phonenumbers' answer for each value, through the cache."""
        wanted = list(dict.fromkeys(values))
        known = {v: self._cache[v] for v in wanted if v in self._cache}
        misses = [v for v in wanted if v not in known]
        self.stats["cached"] += len(known)
        self.stats["slow"] += len(misses)
        if misses:
            if len(self._cache) + len(misses) > self.cache_size:
                self._cache.clear()  # bounded memory beats a perfect hit rate
            for v, answer in zip(misses, self._compute(misses), strict=True):
                self._cache[v] = answer
                known[v] = answer
        return known

    def normalise(self, values: pd.Series) -> tuple[pd.Series, pd.Series]:
        """E.164 forms and reason codes for a column of (already trimmed) values.

        Returns two object Series on *values*' index: the E.164 number ("" when empty or
        invalid) and the reason code ("" when valid or empty). Empty stays empty.
        """
        e164, reason = self.normalise_arrow(pa.array(values.astype("str")))
        return (
            pd.Series(e164.to_numpy(zero_copy_only=False), index=values.index, dtype=object),
            pd.Series(reason.to_numpy(zero_copy_only=False), index=values.index, dtype=object),
        )

    def normalise_arrow(self, values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
        """``normalise`` on an Arrow string array, answering in Arrow (``large_string``).

        The punctuation is removed once for both fast paths; each path takes the values the
        ones before it left; ``phonenumbers`` gets the rest. The answers of every path are
        gathered with one ``take`` instead of being scattered into Python objects, which
        would cost more than finding them.
        """
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        arr = pc.fill_null(values.cast(pa.large_string()), "")
        n = len(arr)
        # Where each value's answer is in the concatenation of the paths' answers (0: "").
        at = np.zeros(n, dtype=np.int64)
        found: list[pa.Array] = [_EMPTY]
        size = 1
        reason_at = np.zeros(n, dtype=np.int64)  # index into _CODES
        todo = np.flatnonzero(np.diff(string_buffers(arr)[0]) > 0)
        if len(todo):
            sub = arr if len(todo) == n else arr.take(pa.array(todo))
            cleaned, short = _clean(sub), _short(sub)
            undecided = np.ones(len(todo), dtype=bool)
            for path in [_nanp_arrow, _intl_arrow] if self.fast else [_intl_arrow]:
                pos = np.flatnonzero(undecided)
                if not len(pos):
                    break
                part = cleaned if len(pos) == len(cleaned) else cleaned.take(pa.array(pos))
                answers = path(part, short[pos])
                at[todo[pos[answers.valid]]] = size + np.arange(len(answers.valid))
                found.append(answers.e164)
                size += len(answers.valid)
                reason_at[todo[pos[answers.invalid]]] = answers.reasons
                undecided[pos[answers.valid]] = False
                undecided[pos[answers.invalid]] = False
                self.stats["fast"] += len(answers.valid) + len(answers.invalid)
            todo = todo[undecided]
        if len(todo):
            # phonenumbers for each distinct value only (the leftovers of a file are the same
            # few placeholders again and again), its answers spread back by Arrow.
            encoded = arr.take(pa.array(todo)).dictionary_encode()
            distinct = encoded.dictionary.to_pylist()
            known = self.classify_unique(distinct)
            answers_e164 = pa.array([known[v][0] for v in distinct], type=pa.large_string())
            found.append(answers_e164.take(encoded.indices))
            at[todo] = size + np.arange(len(todo))
            codes = np.array([_CODE_AT[known[v][1]] for v in distinct], dtype=np.int64)
            reason_at[todo] = codes[encoded.indices.to_numpy()]
        e164 = pa.concat_arrays(found).take(pa.array(at))
        reason = _CODES_ARROW.take(pa.array(reason_at))
        return e164, reason
