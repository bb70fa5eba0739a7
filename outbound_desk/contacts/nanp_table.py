"""NANP validity as a table over a number's first six digits, built from phonenumbers' patterns.

``phones._NanpRules.valid`` decides ``is_valid_number`` for +1 numbers of ten digits by running
phonenumbers' own metadata patterns (the region walk and the type match). Those patterns
nearly always look at the first six digits only: the ways they match a ten-digit number end in
``\\d{4}`` or longer runs of any digit. So the walk is, for nearly every prefix, a function of
the first six digits, and a table of 10**6 answers gives it with one lookup per number instead
of a dozen regular expressions.

Exact, not sampled: each pattern is expanded (Python's own regex parser, on the same restricted
syntax ``phones._safe`` admits: digits, classes, groups, alternation, counted repeats) into the
finite set of digit-set sequences it matches among strings of at most ten digits. The
answer for a prefix is kept only where every sequence through it leaves positions 7-10 free
(any digit); the few prefixes where a pattern looks further (246521, 246522, 876606 in
phonenumbers 9.0) are marked undecided and stay with the regex walk. Anything the expansion
does not know (another construct, too many sequences) gives no table at all, and the caller
keeps the regex walk for everything. ``tests/contacts/test_phones.py`` also compares the
table with the regex walk on a number of every six-digit prefix.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

PREFIX = 6  # digits the table is indexed by
LENGTH = 10  # digits of a NANP national number
_ANY = frozenset(range(10))
_MAX_SEQUENCES = 100_000  # beyond this a pattern is not worth expanding

Seq = tuple[frozenset[int], ...]


class UnsupportedPatternError(Exception):
    """A pattern this module cannot expand exactly."""


def _parser() -> tuple[Any, Any]:
    import importlib

    # Python's own regex parser (private modules, present since 3.11; a change there makes
    # walk_table give no table, and the regular expressions answer as before).
    parser = importlib.import_module("re._parser")
    constants = importlib.import_module("re._constants")

    return parser, constants


def _digit_set(items: Any, c: Any) -> frozenset[int]:
    out: set[int] = set()
    for op, av in items:
        if op is c.LITERAL and chr(av).isdigit() and chr(av).isascii():
            out.add(int(chr(av)))
        elif op is c.RANGE and all(chr(x).isdigit() and chr(x).isascii() for x in av):
            out.update(range(int(chr(av[0])), int(chr(av[1])) + 1))
        elif op is c.CATEGORY and av is c.CATEGORY_DIGIT:
            out.update(_ANY)  # \d on these inputs (ASCII digits only) is [0-9]
        else:
            raise UnsupportedPatternError(f"class item {op} {av}")
    return frozenset(out)


def _concat(left: set[Seq], right: set[Seq]) -> set[Seq]:
    out = {a + b for a in left for b in right if len(a) + len(b) <= LENGTH}
    if len(out) > _MAX_SEQUENCES:
        raise UnsupportedPatternError("too many sequences")
    return out


def _expand(items: Any, c: Any) -> set[Seq]:
    """The digit-set sequences (of at most LENGTH positions) a parsed pattern matches."""
    seqs: set[Seq] = {()}
    for op, av in items:
        seqs = _concat(seqs, _node(op, av, c))
    return seqs


def _node(op: Any, av: Any, c: Any) -> set[Seq]:
    if op is c.LITERAL:
        return {(_digit_set([(op, av)], c),)}
    if op is c.IN:
        return {(_digit_set(av, c),)}
    if op is c.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            raise UnsupportedPatternError("inline flags")
        return _expand(sub, c)
    if op is c.BRANCH:
        out: set[Seq] = set()
        for sub in av[1]:
            out |= _expand(sub, c)
        return out
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):  # greedy or not: the same strings match
        lo, hi, sub = av
        one = _expand(sub, c)
        out = set()
        current: set[Seq] = {()}
        for k in range(min(hi, LENGTH) + 1):
            if k >= lo:
                out |= current
            current = _concat(current, one)
            if not current:
                break
        return out
    raise UnsupportedPatternError(f"node {op}")


def _sequences(pattern: str) -> set[Seq]:
    parser, c = _parser()
    return _expand(parser.parse(pattern), c)


def _fill(table: np.ndarray[Any, Any], heads: set[Seq]) -> None:
    """Mark every prefix whose first digits are in one of *heads*' sets (positions past a
    head's end: any digit)."""
    for head in heads:
        if any(not s for s in head):
            continue
        # Trailing positions that allow any digit are plain slices (a view, no index lists).
        fixed = list(head)
        while fixed and fixed[-1] == _ANY:
            fixed.pop()
        if not fixed:
            table[...] = True
            continue
        index = np.ix_(*[sorted(s) for s in fixed])
        table[index] = True  # the remaining axes are taken whole


Table = np.ndarray[Any, np.dtype[np.bool_]]


def _table(pattern: str | None, full: bool, hit: Table, undecided: Table) -> bool:
    """Fill *hit*: for each six-digit prefix, does *pattern* match the ten-digit numbers that
    start with it (fully, or at their start as ``re.match``); and *undecided*: where that
    depends on later digits (those prefixes are left to the regular expressions). Both are
    tables of the shape ``(10,) * PREFIX``, overwritten; returns whether any prefix is
    undecided (when none is, *undecided* is left as it was)."""
    hit.fill(False)
    if pattern is None:
        return False
    hit_heads: set[Seq] = set()
    open_heads: set[Seq] = set()
    for seq in _sequences(pattern):
        if full and len(seq) != LENGTH:
            continue
        if any(s != _ANY for s in seq[PREFIX:]):
            open_heads.add(seq[:PREFIX])
        else:
            hit_heads.add(seq[:PREFIX])
    _fill(hit, hit_heads)
    if open_heads:
        undecided.fill(False)
        _fill(undecided, open_heads)
    return bool(open_heads)


def walk_table(
    regions: list[tuple[str | None, str | None, str | None]],
) -> tuple[Table, Table] | None:
    """``_NanpRules.valid`` for every six-digit prefix (*regions*: its (leading digits,
    general pattern, any-type pattern) list, in walk order), and the prefixes where it depends
    on later digits; None when a pattern cannot be expanded exactly.

    The per-pattern tables are three reused buffers and the walk works in place: a million
    entries each, and fresh ones for every pattern cost more than the walk itself.
    """
    shape = (10,) * PREFIX
    try:
        valid = np.zeros(10**PREFIX, dtype=bool)
        pending = np.ones(10**PREFIX, dtype=bool)
        undecided = np.zeros(10**PREFIX, dtype=bool)
        g, t, lead, open_ = (np.zeros(shape, dtype=bool) for _ in range(4))
        picked = np.empty(10**PREFIX, dtype=bool)
        for leading, general, any_type in regions:
            for pattern, table, full in ((general, g, True), (any_type, t, True)):
                if _table(pattern, full, table, open_):
                    undecided |= open_.reshape(-1)
            type_ok = np.logical_and(g, t, out=g).reshape(-1)
            if leading is not None:
                if _table(leading, False, lead, open_):
                    undecided |= open_.reshape(-1)
                np.logical_and(pending, lead.reshape(-1), out=picked)
                valid |= picked & type_ok
            else:
                np.logical_and(pending, type_ok, out=picked)
                valid |= picked
            pending &= ~picked
        return valid, undecided
    except (UnsupportedPatternError, RecursionError, ValueError, ImportError, AttributeError):
        return None


#: Where built tables are kept (``use_cache_dir``); None: built in every process.
_cache_dir: Path | None = None


def use_cache_dir(directory: str | os.PathLike[str] | None) -> None:
    """Keep built tables in *directory* (the app's cache directory: the command line and the
    app set it at start), so that a process loads one in a millisecond instead of building
    it in ~0.05 s of pure Python that holds the GIL the checking threads need. None: no
    cache."""
    global _cache_dir
    _cache_dir = Path(directory) if directory is not None else None


def cache_dir() -> Path | None:
    """The directory :func:`use_cache_dir` set (None: nothing is kept between processes)."""
    return _cache_dir


def _cache_key(regions: list[tuple[str | None, str | None, str | None]]) -> str:
    """A table is a function of the patterns and of this module's code: both make the key."""
    try:
        code = Path(__file__).read_bytes()
    except OSError:  # a frozen build keeps no source: its version stands for the code
        from outbound_desk import __version__

        code = __version__.encode()
    text = json.dumps([PREFIX, LENGTH, regions])
    return hashlib.sha256(code + text.encode()).hexdigest()[:24]


def cached_walk_table(
    regions: list[tuple[str | None, str | None, str | None]],
) -> tuple[Table, Table] | None:
    """:func:`walk_table`, from the cache directory when a process built it before (the two
    tables packed as bits, in an ``.npz`` whose zip CRCs catch a damaged file); a missing,
    damaged or unwritable cache only means building it here."""
    directory = _cache_dir
    if directory is None:
        return walk_table(regions)
    path = directory / f"nanp-table-{_cache_key(regions)}.npz"
    try:
        data = path.read_bytes()
        if data.startswith(b"PK\x03\x04"):  # an .npz is a zip; anything else is damage
            with np.load(io.BytesIO(data), allow_pickle=False) as stored:
                valid = np.unpackbits(stored["valid"], count=10**PREFIX).astype(bool)
                undecided = np.unpackbits(stored["undecided"], count=10**PREFIX).astype(bool)
            return valid, undecided
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        pass  # not there yet, or damaged: build it
    table = walk_table(regions)
    if table is not None:
        with contextlib.suppress(OSError):
            directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".nanp-", suffix=".npz")
            try:
                with os.fdopen(fd, "wb") as fh:
                    np.savez(fh, valid=np.packbits(table[0]), undecided=np.packbits(table[1]))
                os.replace(tmp, path)  # whole or not at all, even with processes racing
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
    return table


def prefixes(digits: np.ndarray[Any, np.dtype[np.uint8]]) -> np.ndarray[Any, Any]:
    """The six-digit prefix (as an index into the table) of each row of ASCII digits."""
    index = np.zeros(len(digits), dtype=np.int64)
    for k in range(PREFIX):
        index = index * 10 + (digits[:, k].astype(np.int64) - 48)
    return index


__all__ = ["PREFIX", "cache_dir", "cached_walk_table", "prefixes", "use_cache_dir", "walk_table"]
