"""Streaming validation of a whole file against a list schema.

One pass over the file in chunks (``files.iter_chunks``): map the file's columns onto the
list's, trim, apply the row rules, normalise phones, track contact ids, write the valid rows
(normalised) and the rejected rows (original values and every reason). Memory is bounded by
the chunk size plus the id index (12 bytes per distinct id, see :class:`_SeenIds`).

Duplicate ids: ``first`` keeps the first row of an id and rejects the later ones, decided in
the same single pass. ``last`` (keep the last row) and ``reject`` (reject every row of a
duplicated id) cannot know a row's fate until the end of the file, so they make a first, cheap
pass over the id column only (with the same bounded id index), then the validating pass.
"""

from __future__ import annotations

import enum
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from outbound_desk.contacts.diff import ColumnMapping, SchemaDiff, diff_columns
from outbound_desk.contacts.output import CsvSink
from outbound_desk.contacts.phones import PhoneNormaliser
from outbound_desk.contacts.rules import check_rows, trim
from outbound_desk.contacts.schema import ListSchema
from outbound_desk.files import (
    Cancelled,
    FileProfile,
    Issue,
    NormalisedWriter,
    RecordChunk,
    Severity,
    iter_chunks,
)

Progress = Callable[[int, int, str], None]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
HashArray = np.ndarray[Any, np.dtype[np.uint64]]
RecArray = np.ndarray[Any, np.dtype[np.uint32]]


#: Reader issues that a row rule decides better: the reader measures raw values of every file
#: column, the rule measures the trimmed values that are really sent (excluded columns aside).
_SUPERSEDED = frozenset({"value_too_long"})


class DuplicatePolicy(enum.StrEnum):
    """Which row of a duplicated contact id is kept."""

    FIRST = "first"
    LAST = "last"
    REJECT = "reject"


@dataclass(frozen=True)
class ValidationOptions:
    """How to validate: default phone region, duplicate policy, sizes."""

    region: str = "US"
    duplicates: DuplicatePolicy = DuplicatePolicy.FIRST
    chunk_rows: int = 50_000
    max_issues: int = 1_000
    max_duplicate_groups: int = 1_000
    workers: int | None = None


@dataclass
class RejectedRow:
    """A row that will not be uploaded: where it was, what it said, and every reason."""

    record: int
    values: list[str]
    reasons: list[str]


@dataclass
class ValidChunk:
    """Normalised valid rows of one chunk, ready to batch: list columns in list order."""

    frame: pd.DataFrame
    records: IntArray
    ids: np.ndarray[Any, np.dtype[np.object_]] | None
    rejected: list[RejectedRow] = field(default_factory=list)


@dataclass
class ValidationReport:
    """What validation found; :meth:`as_dict` is the ``validate --json`` object."""

    schema: ListSchema
    diff: SchemaDiff
    mapping: ColumnMapping
    options: ValidationOptions
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    duplicate_ids: int = 0
    duplicate_groups: dict[str, list[int]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    issue_counts: Counter[str] = field(default_factory=Counter)
    blocked: bool = False
    cancelled: bool = False
    sha256_out: str | None = None
    rows_out: int = 0
    out: str | None = None
    rejects: str | None = None

    def add_issue(self, issue: Issue) -> None:
        self.issue_counts[issue.code] += 1
        if len(self.issues) < self.options.max_issues:
            self.issues.append(issue)

    @property
    def ok(self) -> bool:
        return not self.blocked and not self.cancelled and self.invalid == 0

    def as_dict(self) -> dict[str, Any]:
        diff = self.diff.as_dict()
        diff["mapping"] = self.mapping.as_dict()
        return {
            "rows": self.rows,
            "valid": self.valid,
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "schema_diff": diff,
            "issues": [i.as_dict() for i in self.issues],
            "sha256_out": self.sha256_out,
            "issue_counts": dict(sorted(self.issue_counts.items())),
            "issues_truncated": sum(self.issue_counts.values()) > len(self.issues),
            "duplicate_ids": self.duplicate_ids,
            "duplicate_groups": [{"id": k, "rows": v} for k, v in self.duplicate_groups.items()],
            "blocked": self.blocked,
            "cancelled": self.cancelled,
            "list": self.schema.name,
            "id_column": self.schema.id_column,
            "region": self.options.region,
            "duplicate_policy": self.options.duplicates.value,
            "rows_out": self.rows_out,
            "out": self.out,
            "rejects": self.rejects,
        }


# --------------------------------------------------------------------- contact ids
def hash_ids(values: np.ndarray[Any, Any]) -> HashArray:
    """64-bit hashes of id strings (pandas' SipHash).

    Two distinct ids collide with probability about n^2 / 2^65 (3e-6 for 10 million ids); a
    collision would report a false duplicate, never miss a real one.
    """
    return pd.util.hash_array(np.asarray(values, dtype=object), categorize=False)


class _SeenIds:
    """First record of every id hash seen so far, 12 bytes per id (record numbers as uint32:
    a file with more than 4 billion records would be far past any memory bound anyway).

    Sorted runs, merged like a binary counter so lookups stay a few binary searches; runs stop
    growing at ``MAX_RUN`` ids so that a merge never holds more than two such runs twice over
    (a 10-million-id file keeps about five big runs instead of one final 160 MB merge).
    """

    MAX_RUN = 2_000_000

    def __init__(self) -> None:
        self.runs: list[tuple[HashArray, RecArray]] = []

    def lookup(self, hashes: HashArray) -> IntArray:
        found = np.full(len(hashes), -1, dtype=np.int64)
        for keys, recs in self.runs:
            pos = np.searchsorted(keys, hashes)
            pos[pos == len(keys)] = 0
            hit = (keys[pos] == hashes) & (found < 0)
            found[hit] = recs[pos[hit]].astype(np.int64)
        return found

    @staticmethod
    def _merge(
        a: tuple[HashArray, RecArray], b: tuple[HashArray, RecArray]
    ) -> tuple[HashArray, RecArray]:
        (ka, ra), (kb, rb) = a, b
        # Where each of b's keys lands in the merged order (keys are distinct across runs).
        at = np.searchsorted(ka, kb) + np.arange(len(kb))
        from_b = np.zeros(len(ka) + len(kb), dtype=bool)
        from_b[at] = True
        keys = np.empty(len(from_b), dtype=np.uint64)
        recs = np.empty(len(from_b), dtype=np.uint32)
        keys[from_b], recs[from_b] = kb, rb
        keys[~from_b], recs[~from_b] = ka, ra
        return keys, recs

    def add(self, hashes: HashArray, records: IntArray) -> None:
        if not len(hashes):
            return
        if records.max() > np.iinfo(np.uint32).max:
            raise ValueError("more than 4 billion records: the id index cannot hold them")
        order = np.argsort(hashes, kind="stable")
        self.runs.append((hashes[order], records[order].astype(np.uint32)))
        while (
            len(self.runs) > 1
            and len(self.runs[-2][0]) <= 2 * len(self.runs[-1][0])
            and len(self.runs[-2][0]) + len(self.runs[-1][0]) <= self.MAX_RUN
        ):
            b, a = self.runs.pop(), self.runs.pop()
            self.runs.append(self._merge(a, b))


@dataclass
class _DuplicatePlan:
    """From a first pass (policies last/reject): which records lose, and their groups."""

    losers: IntArray  # sorted record numbers rejected as duplicates
    group_of: dict[int, int]  # loser record -> group index
    groups: list[IntArray]  # every record of each duplicated id, ascending


def first_occurrences(seen: _SeenIds, hashes: HashArray, records: IntArray) -> IntArray:
    """For each row (id hash, record), the record of that id's first row in the file so far;
    new ids go into *seen*. A row is a duplicate where the answer is not its own record."""
    uniq, first_idx, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    first_rec = records[first_idx]
    earlier = seen.lookup(uniq)
    seen.add(uniq[earlier < 0], first_rec[earlier < 0])
    group_first: IntArray = np.where(earlier >= 0, earlier, first_rec)
    return group_first[inverse]


def _plan_duplicates(firsts: IntArray, dups: IntArray, policy: DuplicatePolicy) -> _DuplicatePlan:
    """Groups from (first record, duplicate record) pairs, and who loses under *policy*."""
    if not len(dups):
        return _DuplicatePlan(np.zeros(0, dtype=np.int64), {}, [])
    order = np.lexsort((dups, firsts))
    firsts, dups = firsts[order], dups[order]
    starts = np.flatnonzero(np.r_[True, firsts[1:] != firsts[:-1]])
    groups: list[IntArray] = []
    group_of: dict[int, int] = {}
    losers: list[IntArray] = []
    for gi, (lo, hi) in enumerate(zip(starts, np.r_[starts[1:], len(dups)], strict=True)):
        g = np.concatenate([firsts[lo : lo + 1], dups[lo:hi]])
        groups.append(g)
        lose = g[:-1] if policy is DuplicatePolicy.LAST else g
        losers.append(lose)
        for r in lose.tolist():
            group_of[r] = gi
    return _DuplicatePlan(np.sort(np.concatenate(losers)), group_of, groups)


def _rows_text(rows: list[int], limit: int = 20) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


# --------------------------------------------------------------------- the validation
class _Validation:
    """One validation run; :meth:`chunks` drives it, :attr:`report` holds the outcome."""

    def __init__(
        self,
        profile: FileProfile,
        schema: ListSchema,
        mapping: ColumnMapping,
        options: ValidationOptions,
    ) -> None:
        self.profile = profile
        self.schema = schema
        self.mapping = mapping
        self.options = options
        diff = diff_columns(profile.columns, schema, has_header=profile.has_header)
        self.report = ValidationReport(schema, diff, mapping, options)
        sources = mapping.sources
        self.fed = set(sources)
        self.labels = {lc: sources.get(lc, lc) for lc in schema.columns}
        self.id_column = schema.id_column if schema.id_column in self.fed else None
        self._dup_firsts: set[int] = set()
        self._file_issues: set[tuple[str, str | None, str]] = set()
        self._schema_issues()

    def _schema_issues(self) -> None:
        r, schema, mapping = self.report, self.schema, self.mapping
        suggestions = {x.file_column: x for x in r.diff.renamed}
        for col in mapping.unresolved:
            hint = ""
            if col in suggestions:
                s = suggestions[col]
                hint = f" It looks like list column {s.list_column!r} (score {s.score:.2f})."
            r.add_issue(
                Issue(
                    None,
                    col,
                    "unknown_column",
                    f"file column {col!r} is not a column of list {schema.name!r}.{hint} Map it "
                    f"(--map {col}=LISTCOLUMN), exclude it (--exclude {col}) or add it to the "
                    "list; it is never dropped silently.",
                )
            )
            r.blocked = True
        for col in schema.required_columns:
            if col not in self.fed:
                r.add_issue(
                    Issue(
                        None,
                        col,
                        "missing_required",
                        f"required column {col!r} is not in the file; map a file column onto "
                        f"it (--map FILECOLUMN={col})",
                    )
                )
                r.blocked = True
        if schema.id_column is not None and self.id_column is None:
            r.add_issue(
                Issue(
                    None,
                    schema.id_column,
                    "missing_id",
                    f"id column {schema.id_column!r} is not in the file; without it a retry "
                    "duplicates every contact. Map a file column onto it or choose another "
                    "one (--id-column)",
                )
            )
            r.blocked = True
        if schema.id_column is None:
            r.add_issue(
                Issue(
                    None,
                    None,
                    "no_id_column",
                    "the list has no id column: contacts get ids from the platform, so uploading "
                    "this file twice duplicates every contact; choose one with --id-column",
                    Severity.WARNING,
                )
            )
        if schema.id_column is not None and schema.field(schema.id_column).is_phone:
            r.add_issue(
                Issue(
                    None,
                    schema.id_column,
                    "id_is_phone_column",
                    f"id column {schema.id_column!r} is a phone column: contacts sharing a "
                    "phone number will be merged into one (ids use the E.164 form)",
                    Severity.WARNING,
                )
            )
        for problem in schema.limit_problems():
            r.add_issue(Issue(None, None, "platform_limit", problem))
            r.blocked = True

    # ------------------------------------------------------------------ per chunk
    def _ids(self, frame: pd.DataFrame, normaliser: PhoneNormaliser) -> np.ndarray[Any, Any]:
        """Contact ids as they will be sent: trimmed, E.164 when the id column is a phone."""
        assert self.id_column is not None
        src = self.mapping.sources[self.id_column]
        ids = frame[src].astype(object).str.strip()
        if self.schema.field(self.id_column).is_phone:
            e164, _ = normaliser.normalise(ids)
            ids = ids.where(e164 == "", e164)
        return ids.to_numpy(dtype=object)

    def _prepass(
        self,
        normaliser: PhoneNormaliser,
        progress: Progress | None,
        cancelled: Callable[[], bool] | None,
    ) -> _DuplicatePlan:
        """Read the id column once: which rows share an id (same index as policy first, so
        memory stays 12 bytes per distinct id plus 16 per duplicate row)."""
        seen = _SeenIds()
        firsts: list[IntArray] = []
        dups: list[IntArray] = []
        sub = None if progress is None else (lambda d, t, _p: progress(d, t, "duplicates"))
        assert self.id_column is not None
        for chunk in iter_chunks(
            self.profile,
            chunk_rows=self.options.chunk_rows,
            columns=[self.mapping.sources[self.id_column]],
            progress=sub,
            cancelled=cancelled,
        ):
            ids = self._ids(chunk.frame, normaliser)
            has = ids != ""
            recs = np.asarray(chunk.records, dtype=np.int64)[has]
            if not len(recs):
                continue
            row_first = first_occurrences(seen, hash_ids(ids[has]), recs)
            dup = row_first != recs
            firsts.append(row_first[dup])
            dups.append(recs[dup])
        del seen
        if not dups:
            return _DuplicatePlan(np.zeros(0, dtype=np.int64), {}, [])
        return _plan_duplicates(
            np.concatenate(firsts), np.concatenate(dups), self.options.duplicates
        )

    def _duplicates_first(
        self, seen: _SeenIds, ids: np.ndarray[Any, Any], records: IntArray, problems: Any
    ) -> None:
        has = np.flatnonzero(ids != "")
        if not len(has):
            return
        recs = records[has]
        row_first = first_occurrences(seen, hash_ids(ids[has]), recs)
        dup = row_first != recs
        if not dup.any():
            return
        mask = np.zeros(len(ids), dtype=bool)
        mask[has[dup]] = True
        msgs = []
        label = self.labels[self.id_column or ""]
        for pos, first in zip(has[dup].tolist(), row_first[dup].tolist(), strict=True):
            msgs.append(
                f"{label} {ids[pos]!r} is a duplicate of row {first} (policy first keeps row "
                f"{first})"
            )
            self._note_group(str(ids[pos]), first, int(records[pos]))
        problems.add(mask, label, "duplicate_id", msgs)
        self.report.duplicates += int(dup.sum())

    def _note_group(self, key: str, first: int, record: int) -> None:
        groups = self.report.duplicate_groups
        if first not in self._dup_firsts:
            self._dup_firsts.add(first)
            self.report.duplicate_ids += 1
            if len(groups) < self.options.max_duplicate_groups:
                groups[key] = [first]
        if key in groups and len(groups[key]) < 1000:
            groups[key].append(record)

    def _duplicates_planned(
        self, plan: _DuplicatePlan, ids: np.ndarray[Any, Any], records: IntArray, problems: Any
    ) -> None:
        if not len(plan.losers):
            return
        pos = np.searchsorted(plan.losers, records)
        pos[pos == len(plan.losers)] = 0
        lose = plan.losers[pos] == records
        lose &= ids != ""
        if not lose.any():
            return
        label = self.labels[self.id_column or ""]
        policy = self.options.duplicates
        msgs = []
        for i in np.flatnonzero(lose).tolist():
            rows = plan.groups[plan.group_of[int(records[i])]].tolist()
            others = [r for r in rows if r != int(records[i])]
            keeps = (
                f"policy last keeps row {rows[-1]}"
                if policy is DuplicatePolicy.LAST
                else "policy reject drops every row of it"
            )
            msgs.append(f"{label} {ids[i]!r} is also on row(s) {_rows_text(others)} ({keeps})")
            groups = self.report.duplicate_groups
            if str(ids[i]) not in groups and len(groups) < self.options.max_duplicate_groups:
                groups[str(ids[i])] = rows[:1000]
        problems.add(lose, label, "duplicate_id", msgs)
        self.report.duplicates += int(lose.sum())

    def _chunk(
        self,
        chunk: RecordChunk,
        normaliser: PhoneNormaliser,
        seen: _SeenIds,
        plan: _DuplicatePlan | None,
    ) -> ValidChunk:
        report = self.report
        records = np.asarray(chunk.records, dtype=np.int64)
        original = chunk.frame
        mapped = trim(self.mapping.apply(original))
        normalised, problems = check_rows(
            mapped, self.schema, normaliser, labels=self.labels, fed=self.fed
        )
        ids = None
        if self.id_column is not None:
            ids = normalised[self.id_column].to_numpy(dtype=object)
            # An invalid phone id stays as written; the row is rejected for the phone anyway.
            empty = ids == ""
            label = self.labels[self.id_column]
            problems.add(
                empty,
                label,
                "missing_id",
                [f"{label} (the contact id) is empty"] * int(empty.sum()),
            )
            if plan is None:
                self._duplicates_first(seen, ids, records, problems)
            else:
                self._duplicates_planned(plan, ids, records, problems)
        # Structural errors of records still in the frame reject them too.
        structural: dict[int, list[Issue]] = {}
        for issue in chunk.issues:
            if issue.code in _SUPERSEDED:
                continue
            if issue.row is None:
                # The reader repeats file-wide issues in every chunk of a block: report once.
                key = (issue.code, issue.column, issue.message)
                if key in self._file_issues:
                    continue
                self._file_issues.add(key)
            report.add_issue(issue)
            if issue.row is not None:
                structural.setdefault(issue.row, []).append(issue)
        bad = problems.bad()
        pos_of = {int(r): i for i, r in enumerate(records.tolist())} if structural else {}
        extra_reasons: dict[int, list[str]] = {}
        for row, issues in structural.items():
            errors = [i for i in issues if i.severity is Severity.ERROR]
            if row in pos_of and errors:
                bad[pos_of[row]] = True
                extra_reasons[pos_of[row]] = [f"{i.code}: {i.message}" for i in errors]
        self._report_problems(problems, records)
        by_row = problems.by_row()
        rejected: list[RejectedRow] = []
        bad_pos = np.flatnonzero(bad)
        if len(bad_pos):
            values = original.iloc[bad_pos].to_numpy(dtype=object)
            for k, pos in enumerate(bad_pos.tolist()):
                reasons = extra_reasons.get(pos, []) + [
                    f"{code}: {msg}" for _c, code, msg in by_row.get(pos, [])
                ]
                rejected.append(RejectedRow(int(records[pos]), list(values[k]), reasons))
        for rec, fields in chunk.raw.items():
            reasons = [f"{i.code}: {i.message}" for i in structural.get(rec, [])] or [
                "broken_record: the record could not be read as a row of the file"
            ]
            rejected.append(RejectedRow(int(rec), list(fields), reasons))
        rejected.sort(key=lambda x: x.record)
        good = ~bad
        report.rows += len(original) + len(chunk.raw)
        report.valid += int(good.sum())
        report.invalid += int(bad.sum()) + len(chunk.raw)
        return ValidChunk(
            frame=normalised[good].reset_index(drop=True),
            records=records[good],
            ids=None if ids is None else ids[good],
            rejected=rejected,
        )

    def _report_problems(self, problems: Any, records: IntArray) -> None:
        report = self.report
        room = self.options.max_issues - len(report.issues)
        kept: list[Issue] = []
        for p in problems:
            report.issue_counts[p.code] += len(p.positions)
            if room > 0:
                for pos, msg in zip(p.positions[:room].tolist(), p.messages[:room], strict=False):
                    kept.append(Issue(int(records[pos]), p.column, p.code, msg))
        kept.sort(key=lambda i: i.row or 0)
        report.issues.extend(kept[: max(room, 0)])

    # ------------------------------------------------------------------ the run
    def chunks(
        self, progress: Progress | None, cancelled: Callable[[], bool] | None
    ) -> Iterator[ValidChunk]:
        is_cancelled = cancelled or (lambda: False)
        with PhoneNormaliser(self.options.region, workers=self.options.workers) as normaliser:
            try:
                plan = None
                if (
                    self.id_column is not None
                    and self.options.duplicates is not DuplicatePolicy.FIRST
                ):
                    plan = self._prepass(normaliser, progress, cancelled)
                    self.report.duplicate_ids = len(plan.groups)
                seen = _SeenIds()
                sub = None if progress is None else (lambda d, t, _p: progress(d, t, "validate"))
                for chunk in iter_chunks(
                    self.profile,
                    chunk_rows=self.options.chunk_rows,
                    progress=sub,
                    cancelled=cancelled,
                ):
                    yield self._chunk(chunk, normaliser, seen, plan)
                    if is_cancelled():
                        raise Cancelled
            except Cancelled:
                self.report.cancelled = True


def iter_valid_chunks(
    profile: FileProfile,
    schema: ListSchema,
    mapping: ColumnMapping,
    options: ValidationOptions | None = None,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    report: list[ValidationReport] | None = None,
) -> Iterator[ValidChunk]:
    """Valid rows, normalised, chunk by chunk, with the rejected rows of each chunk.

    The upload engine batches these. Pass an empty list as *report* to receive the
    :class:`ValidationReport` (filled as the chunks go; final when the iterator is exhausted).
    A blocked mapping (unknown or missing required columns) yields nothing.
    """
    run = _Validation(profile, schema, mapping, options or ValidationOptions())
    if report is not None:
        report.append(run.report)
    if run.report.blocked:
        return
    yield from run.chunks(progress, cancelled)


def validate_file(
    profile: FileProfile,
    schema: ListSchema,
    mapping: ColumnMapping,
    options: ValidationOptions | None = None,
    *,
    out: str | Path | None = None,
    rejects: str | Path | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ValidationReport:
    """Validate a whole file; write the normalised valid rows to *out* and the rejected rows
    (row number, original values, reasons; formulas neutralised) to *rejects*.

    A blocked schema diff still validates the rows (so every problem shows at once) but does
    not write *out*: a normalised file that silently lost columns must not exist.
    """
    run = _Validation(profile, schema, mapping, options or ValidationOptions())
    report = run.report
    width = len(profile.columns)
    out_sink = CsvSink(out, schema.columns) if out is not None and not report.blocked else None
    rej: NormalisedWriter | None = None
    if rejects is not None:
        rej = NormalisedWriter(rejects, neutralise_formulas=True)
        rej.write_header(["row", *profile.columns, "extra_values", "reasons"])
    finished = False
    try:
        for chunk in run.chunks(progress, cancelled):
            if out_sink is not None:
                out_sink.write_frame(chunk.frame)
            if rej is not None and chunk.rejected:
                rows = []
                for r in chunk.rejected:
                    vals = r.values[:width] + [""] * (width - len(r.values))
                    extra = r.values[width:]
                    # Surplus fields of a ragged record, kept losslessly as a JSON list.
                    extra_text = json.dumps(extra, ensure_ascii=False) if extra else ""
                    rows.append([str(r.record), *vals, extra_text, " | ".join(r.reasons)])
                rej.write_rows(rows)
        if report.cancelled:
            raise Cancelled
        if out_sink is not None:
            report.sha256_out = out_sink.close()
            report.rows_out = out_sink.rows
            report.out = str(out_sink.path)
        if rej is not None:
            rej.close()
            report.rejects = str(rejects)
        finished = True
    except Cancelled:
        report.cancelled = True
    finally:
        if out_sink is not None and out_sink.sha256 is None:
            out_sink.abort()
        if rej is not None and not finished:
            # A half rejects file would look like the whole story: remove it.
            rej.close()
            Path(rej.path).unlink(missing_ok=True)
    return report
