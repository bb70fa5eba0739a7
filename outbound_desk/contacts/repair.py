"""Safe repairs of a contact file's values, and the user's own cell edits, applied as the
file is validated (issue 14: "Save fixed copy" repairs, not only rejects).

A repair changes a value only where the intended value is certain:

* surrounding white space is trimmed (the validation trims too; here it is counted);
* a phone written as a number by a spreadsheet, ``14155550123.0``, loses its ``.0``;
* a phone in scientific notation is written out when no digit was lost: ``1.4155550123E+10``
  has every digit of ``14155550123``, ``4.15555E+10`` does not (it stays, and is rejected);
* leading zeros are put back where the column's width is certain: every non-empty value of
  the column is digits only, nine in ten or more of them have the column's full width, and,
  for a phone column, every full-width value starts with ``0`` (``7700900123`` in a column of
  ``07700900456`` is ``07700900123``; a NANP column of 10- and 11-digit numbers is left alone);
* phones are then written in E.164 by the validation (counted here).

:func:`plan_repairs` reads the file's mapped columns once to learn their widths; the
:class:`RepairPlan` it returns is handed to ``validate_file(repair=...)`` (or
``iter_valid_chunks``), which applies it to each chunk before the row rules and counts what it
did in :attr:`RepairPlan.counts`. The rejected rows keep their original values.
No Qt: the command line can use it as the app does.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outbound_desk.base.cancel import Progress
from outbound_desk.contacts._arrow import large_strings
from outbound_desk.contacts.diff import ColumnMapping
from outbound_desk.contacts.output import CsvSink, arrow_csv_lines
from outbound_desk.contacts.schema import ListSchema
from outbound_desk.files import ChunkCache, FileProfile, iter_chunks

#: The user's edits: (physical record number, file column) -> the new value.
Edits = Mapping[tuple[int, str], str]

#: The kinds of repair, in the order a summary lists them, with their plain words (one, many).
KINDS: dict[str, tuple[str, str]] = {
    "edited": ("cell edited by hand", "cells edited by hand"),
    "trimmed": ("value trimmed of surrounding spaces", "values trimmed of surrounding spaces"),
    "decimal_zero": ("phone without a spreadsheet's '.0'", "phones without a spreadsheet's '.0'"),
    "scientific": (
        "phone written out from scientific notation",
        "phones written out from scientific notation",
    ),
    "leading_zeros": (
        "value given back its leading zeros",
        "values given back their leading zeros",
    ),
    "e164": ("phone put in E.164 form", "phones put in E.164 form"),
}
#: Found but not repairable (the rows stay rejected).
SCIENTIFIC_LOST = "scientific_digits_lost"

_DECIMAL_ZERO = r"^\+?[0-9]+\.0+$"
_SCIENTIFIC = r"^[0-9](?:[.,][0-9]+)?[eE]\+?[0-9]+$"
_SCI_PARTS = re.compile(r"([0-9])(?:[.,]([0-9]+))?[eE]\+?([0-9]+)")
_DIGITS = r"^[0-9]+$"
_E164 = r"^\+[0-9]+$"

#: Share of a column's values that must have its full width for the width to be certain.
WIDTH_SHARE = 0.9


def expand_scientific(value: str) -> str | None:
    """``1.4155550123E+10`` -> ``14155550123``; None when digits were lost (or it is no
    whole number)."""
    m = _SCI_PARTS.fullmatch(value)
    if m is None:
        return None
    lead, frac, exp = m.group(1), m.group(2) or "", int(m.group(3))
    if len(frac) != exp:
        return None  # fewer digits than the number has (lost), or a fraction
    return lead + frac


@dataclass
class RepairPlan:
    """What to repair in which file column; :meth:`apply` repairs one chunk's table.

    ``phone_columns``: file columns that feed a phone column of the list. ``widths``: file
    column -> its certain width (leading zeros are restored up to it). ``counts``: what was
    done so far, by kind (:data:`KINDS`, and :data:`SCIENTIFIC_LOST` for the ones left).
    """

    columns: tuple[str, ...]
    phone_columns: frozenset[str]
    widths: dict[str, int] = field(default_factory=dict)
    edits: dict[tuple[int, str], str] = field(default_factory=dict)
    #: False: only the edits are applied (a validation of what the user typed, no repairs).
    repairs: bool = True
    counts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def apply(
        self, table: pa.Table, records: np.ndarray[Any, Any], *, count: bool = True
    ) -> pa.Table:
        """*table* (a chunk: one string column per file column) with the edits and repairs;
        *count*: add what was done to :attr:`counts`."""
        counts: Counter[str] = Counter()
        if self.edits:
            table = self._edit(table, records, counts)
        for name in self.columns if self.repairs else ():
            if name not in table.column_names:
                continue
            i = table.column_names.index(name)
            fixed = self._repair(name, large_strings(table.column(i)), counts)
            if fixed is not None:
                table = table.set_column(i, name, fixed)
        if count:
            with self._lock:
                self.counts.update(counts)
        return table

    def _edit(
        self, table: pa.Table, records: np.ndarray[Any, Any], counts: Counter[str]
    ) -> pa.Table:
        recs = np.asarray(records, dtype=np.int64)
        if not len(recs):
            return table
        lo, hi = int(recs.min()), int(recs.max())
        hits = [(r, c, v) for (r, c), v in self.edits.items() if lo <= r <= hi]
        if not hits:
            return table
        where = {int(r): i for i, r in enumerate(recs.tolist())}
        by_column: dict[str, list[tuple[int, str]]] = {}
        for r, c, v in hits:
            if r in where and c in table.column_names:
                by_column.setdefault(c, []).append((where[r], v))
        for c, changes in by_column.items():
            i = table.column_names.index(c)
            values = large_strings(table.column(i)).to_pylist()
            for pos, v in changes:
                values[pos] = v
            counts["edited"] += len(changes)
            table = table.set_column(i, c, pa.array(values, type=pa.large_string()))
        return table

    def _repair(self, name: str, a: pa.Array, counts: Counter[str]) -> pa.Array | None:
        changed = False
        trimmed = pc.utf8_trim_whitespace(a)
        n = int(pc.sum(pc.not_equal(trimmed, a)).as_py() or 0)
        if n:
            counts["trimmed"] += n
            a, changed = trimmed, True
        if name in self.phone_columns:
            a, did = _phone_forms(a, counts)
            changed = changed or did
        width = self.widths.get(name)
        if width is not None:
            digits = pc.match_substring_regex(a, _DIGITS)
            short = pc.and_(digits, pc.less(pc.utf8_length(a), width))
            n = int(pc.sum(short).as_py() or 0)
            if n:
                counts["leading_zeros"] += n
                a = pc.if_else(short, pc.utf8_lpad(a, width=width, padding="0"), a)
                changed = True
        if name in self.phone_columns:
            filled = pc.greater(pc.utf8_length(a), 0)
            other = pc.and_(filled, pc.invert(pc.match_substring_regex(a, _E164)))
            # A scientific number left as it was is rejected, not put in E.164.
            other = pc.and_(other, pc.invert(pc.match_substring_regex(a, _SCIENTIFIC)))
            counts["e164"] += int(pc.sum(other).as_py() or 0)
        return a if changed else None

    def summary(self) -> str:
        """What was repaired, in plain words (``""`` when nothing)."""
        return describe(self.counts)


def edits_only(edits: Edits) -> RepairPlan:
    """A plan that applies the user's *edits* and repairs nothing."""
    return RepairPlan((), frozenset(), edits=dict(edits), repairs=False)


def describe(counts: Mapping[str, int]) -> str:
    parts = [
        f"{counts[k]:,} {one if counts[k] == 1 else many}"
        for k, (one, many) in KINDS.items()
        if counts.get(k)
    ]
    lost = counts.get(SCIENTIFIC_LOST, 0)
    if lost:
        parts.append(
            f"{lost:,} {'phone' if lost == 1 else 'phones'} in scientific notation left as "
            "written (digits lost: export the column as text from the source system)"
        )
    return "; ".join(parts)


def _phone_forms(a: pa.Array, counts: Counter[str]) -> tuple[pa.Array, bool]:
    """``.0`` removed and scientific notation written out where no digit was lost."""
    changed = False
    dz = pc.match_substring_regex(a, _DECIMAL_ZERO)
    n = int(pc.sum(dz).as_py() or 0)
    if n:
        counts["decimal_zero"] += n
        stripped = pc.replace_substring_regex(a, r"\.0+$", "")
        a, changed = pc.if_else(dz, stripped, a), True
    sci = pc.match_substring_regex(a, _SCIENTIFIC)
    if pc.any(sci).as_py():
        where = np.flatnonzero(sci.to_numpy(zero_copy_only=False))
        values = a.to_pylist()
        for pos in where.tolist():
            out = expand_scientific(values[pos])
            if out is None:
                counts[SCIENTIFIC_LOST] += 1
            else:
                values[pos] = out
                counts["scientific"] += 1
                changed = True
        a = pa.array(values, type=pa.large_string())
    return a, changed


def plan_repairs(
    profile: FileProfile,
    schema: ListSchema,
    mapping: ColumnMapping,
    *,
    edits: Edits | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    chunk_rows: int = 50_000,
    cache: ChunkCache | None = None,
) -> RepairPlan:
    """Read the mapped columns of *profile*'s file once and decide what can be repaired
    (from *cache*, a ``files.ChunkCache``, when it holds this reading of the file)."""
    phones = set(schema.phone_columns)
    sources = mapping.sources
    used = tuple(fc for lc, fc in sources.items() if fc in profile.columns)
    phone_cols = frozenset(fc for lc, fc in sources.items() if lc in phones and fc in used)
    plan = RepairPlan(used, phone_cols, edits=dict(edits or {}))
    if not used:
        return plan
    filled: Counter[str] = Counter()
    digit: Counter[str] = Counter()
    widths: dict[str, Counter[int]] = {c: Counter() for c in used}
    # Digit values not starting with 0, by length, per phone column: a full-width one means
    # the column's numbers do not all start with a 0 that a shorter one could have lost.
    unled: dict[str, Counter[int]] = {c: Counter() for c in phone_cols}
    chunks = (
        iter_chunks(
            profile,
            chunk_rows=chunk_rows,
            columns=list(used),
            progress=progress,
            cancelled=cancelled,
        )
        if cache is None
        else cache.chunks(
            profile,
            chunk_rows=chunk_rows,
            columns=list(used),
            progress=progress,
            cancelled=cancelled,
        )
    )
    for chunk in chunks:
        # Edits first, then .0 and scientific notation: a width is one of the values sent.
        table = plan._edit(chunk.table, chunk.records, Counter()) if plan.edits else chunk.table
        for c in used:
            a = pc.utf8_trim_whitespace(large_strings(table.column(c)))
            if c in phone_cols:
                a, _ = _phone_forms(a, Counter())
            lengths = pc.utf8_length(a)
            nonempty = pc.greater(lengths, 0)
            filled[c] += int(pc.sum(nonempty).as_py() or 0)
            isdigit = pc.match_substring_regex(a, _DIGITS)
            digit[c] += int(pc.sum(isdigit).as_py() or 0)
            lens = pc.filter(lengths, isdigit).to_numpy(zero_copy_only=False)
            if len(lens):
                u, k = np.unique(lens, return_counts=True)
                widths[c].update(dict(zip(u.tolist(), k.tolist(), strict=True)))
            if c in phone_cols and len(lens):
                led = pc.starts_with(pc.filter(a, isdigit), "0").to_numpy(zero_copy_only=False)
                u, k = np.unique(lens[~led], return_counts=True)
                unled[c].update(dict(zip(u.tolist(), k.tolist(), strict=True)))
    for c in used:
        if not filled[c] or digit[c] != filled[c] or not widths[c]:
            continue
        width = max(widths[c])
        if width < 3 or widths[c][width] < WIDTH_SHARE * filled[c] or widths[c][width] == filled[c]:
            continue
        if c in phone_cols and unled[c][width]:
            continue  # a full-width phone without a leading 0: a shorter one lost no zero
        plan.widths[c] = width
    return plan


def write_edited_copy(
    profile: FileProfile,
    edits: Edits,
    out: str | Path,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    chunk_rows: int = 50_000,
) -> str:
    """Write *profile*'s file with the user's *edits* applied and nothing else changed: its own
    columns and header, as UTF-8 comma-separated CSV (``files.writer``'s format), records in
    file order, broken records with their fields as read. Returns the copy's SHA-256.

    An upload of edited rows sends this copy (the original stays as it is); the ledger keeps
    the original's SHA-256 beside the copy's.
    """
    plan = edits_only(edits)
    columns = list(profile.columns)
    with CsvSink(out, columns) as sink:
        for chunk in iter_chunks(
            profile, chunk_rows=chunk_rows, progress=progress, cancelled=cancelled
        ):
            table = plan.apply(chunk.table, chunk.records)
            lines = arrow_csv_lines([table.column(c) for c in columns]) if columns else None
            if not chunk.raw:
                if lines is not None:
                    sink.write_lines(lines)
                continue
            # Broken records between the rows, in file order.
            records = np.asarray(chunk.records, dtype=np.int64).tolist()
            texts = lines.to_pylist() if lines is not None else [""] * len(records)
            merged = sorted(
                [(r, t) for r, t in zip(records, texts, strict=True)]
                + [(r, sink.rows_text([f])) for r, f in chunk.raw.items()]
            )
            sink.write_text_rows([t for _, t in merged])
        return sink.close()
