"""Streaming validation of a whole file against a list schema.

One pass over the file in chunks (``files.iter_chunks``): map the file's columns onto the
list's, trim, apply the row rules, normalise phones, track contact ids, write the valid rows
(normalised) and the rejected rows (original values and every reason). Memory is bounded by
the chunk size plus the id index (12 bytes per distinct id, see :class:`_SeenIds`).

Duplicate ids: ``first`` keeps the first row of an id and rejects the later ones, decided in
the same single pass. ``last`` (keep the last row) and ``reject`` (reject every row of a
duplicated id) cannot know a row's fate until the end of the file, so they make a first pass
over the id column (with the same bounded id index), then the validating pass. Both passes take
their chunks from a ``files.ChunkCache`` when they can: the preview's (its table and scan were
read once already), else one the pre-pass fills for the main pass (a file within
``files.CHUNK_CACHE_BYTES``); so the file is read once, or not at all (issue 13).

Several cores: for a large file (``ValidationOptions.parallel_min_bytes``) a thread reads
ahead and hands each chunk to the checking threads, which apply the row rules (mapping, trim,
required, lengths, emails, phones) to the chunk's Arrow columns, hash and group its ids and
make its normalised CSV lines, while the calling thread finishes the checked chunks in file
order (ids, rejects, writing). Every path runs the same functions, so the answers cannot
depend on who checked a chunk (tests/contacts/test_validate.py proves it).
"""

from __future__ import annotations

import contextlib
import enum
import json
import queue
import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

from outbound_desk.base import workers as workers_policy
from outbound_desk.base.cancel import Progress
from outbound_desk.contacts._arrow import (
    BoolArray,
    hash_strings,
    large_strings,
    string_buffers,
)
from outbound_desk.contacts.diff import ColumnMapping, SchemaDiff, diff_columns
from outbound_desk.contacts.guess import samples_of
from outbound_desk.contacts.output import CsvSink, arrow_csv_lines, neutralise_arrow
from outbound_desk.contacts.phones import PhoneNormaliser
from outbound_desk.contacts.rules import RowProblems, as_frame, check_columns, trim
from outbound_desk.contacts.schema import ListSchema
from outbound_desk.files import (
    Cancelled,
    FileProfile,
    Issue,
    RecordChunk,
    Severity,
    iter_chunks,
    neutralise,
)
from outbound_desk.files.identity import FileIdentity

if TYPE_CHECKING:
    from outbound_desk.contacts.repair import RepairPlan
    from outbound_desk.files.cache import ChunkCache

IntArray = np.ndarray[Any, np.dtype[np.int64]]
HashArray = np.ndarray[Any, np.dtype[np.uint64]]
RecArray = np.ndarray[Any, np.dtype[np.uint32]]


#: Reader issues that a row rule decides better: the reader measures raw values of every file
#: column, the rule measures the trimmed values that are really sent (excluded columns aside).
_SUPERSEDED = frozenset({"value_too_long"})


#: The issue code of a row whose contact id another row of the file carries.
DUPLICATE_ID = "duplicate_id"


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
    #: Files from this size on are read ahead by a thread and have their row rules run by
    #: ``workers`` threads (``base.workers.checking_threads``: default the CPU count, at most
    #: 4; none when that is 1). Below it threads would cost more than they save.
    parallel_min_bytes: int = workers_policy.PARALLEL_MIN_BYTES


@dataclass
class RejectedRow:
    """A row that will not be uploaded: where it was, what it said, and every reason."""

    record: int
    values: list[str]
    reasons: list[str]

    @property
    def duplicate_only(self) -> bool:
        """Rejected only because another row carries its contact id."""
        return all(r.startswith(f"{DUPLICATE_ID}: ") for r in self.reasons)


@dataclass
class ValidChunk:
    """Normalised valid rows of one chunk, ready to batch: list columns in list order."""

    frame: pd.DataFrame
    records: IntArray
    ids: np.ndarray[Any, np.dtype[np.object_]] | None
    rejected: list[RejectedRow] = field(default_factory=list)


@dataclass
class _Done:
    """One chunk finished in file order: which rows are valid, and the rejected ones."""

    good: BoolArray
    records: IntArray  # every frame row's record number
    checked: _Checked
    original: pa.Table  # the rows as read
    bad: IntArray  # positions of the rejected rows, ascending
    reasons: list[list[str]]  # every reason of each of them
    broken: list[RejectedRow]  # records that are not in the frame (ragged), with reasons

    def rejected(self) -> list[RejectedRow]:
        """Every rejected record of the chunk, in file order."""
        picked = self.original.take(pa.array(self.bad)).to_pylist() if len(self.bad) else []
        rows = [
            RejectedRow(int(rec), list(vals.values()), why)
            for rec, vals, why in zip(
                self.records[self.bad].tolist(), picked, self.reasons, strict=True
            )
        ]
        rows += self.broken
        rows.sort(key=lambda x: x.record)
        return rows


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
    #: What the edits and repairs of the run changed, by kind (``contacts.repair.KINDS``).
    repairs: dict[str, int] = field(default_factory=dict)
    #: The duplicate pre-pass's answer (policies last/reject) with what it depends on; a later
    #: run over the same, unchanged file hands it back (``duplicate_plan=``) instead of reading
    #: the file for it again (issue 13). Not part of :meth:`as_dict`.
    duplicate_plan: DuplicatePlan | None = field(default=None, repr=False, compare=False)

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
def hash_ids(values: pa.Array) -> HashArray:
    """64-bit hashes of id strings (``hash_strings``: from the Arrow buffers).

    Two distinct ids collide with probability about n^2 / 2^65 (3e-6 for 10 million ids); a
    collision would report a false duplicate, never miss a real one.
    """
    return hash_strings(values)


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

    #: Keys of the first run merged per step: bounds the merge's scratch memory.
    MERGE_BLOCK = 262_144

    @classmethod
    def _merge(
        cls, a: tuple[HashArray, RecArray], b: tuple[HashArray, RecArray]
    ) -> tuple[HashArray, RecArray]:
        (ka, ra), (kb, rb) = a, b
        keys = np.empty(len(ka) + len(kb), dtype=np.uint64)
        recs = np.empty(len(keys), dtype=np.uint32)
        # Block by block of a's keys, with the b keys below the block's end: numpy's stable
        # sort is a timsort, which finds the two sorted runs end to end and merges them in
        # one linear pass (3x faster than placing b's keys by binary search); in blocks, its
        # scratch arrays stay small (10M ids peaked 40 MB higher merging whole runs).
        a_cuts = [*(range(0, len(ka), cls.MERGE_BLOCK) or [0]), len(ka)]
        b_cuts = [0, *np.searchsorted(kb, ka[a_cuts[1:-1]]).tolist(), len(kb)]
        for i in range(len(a_cuts) - 1):
            a0, a1, b0, b1 = a_cuts[i], a_cuts[i + 1], b_cuts[i], b_cuts[i + 1]
            part = np.concatenate([ka[a0:a1], kb[b0:b1]])
            order = np.argsort(part, kind="stable")
            keys[a0 + b0 : a1 + b1] = part[order]
            recs[a0 + b0 : a1 + b1] = np.concatenate([ra[a0:a1], rb[b0:b1]])[order]
        return keys, recs

    def add(self, hashes: HashArray, records: IntArray) -> None:
        if not len(hashes):
            return
        if records.max() > np.iinfo(np.uint32).max:
            raise ValueError("more than 4 billion records: the id index cannot hold them")
        if len(hashes) > 1 and not (hashes[1:] > hashes[:-1]).all():  # np.unique's: sorted
            order = np.argsort(hashes, kind="stable")
            hashes, records = hashes[order], records[order]
        self.runs.append((hashes, records.astype(np.uint32)))
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


@dataclass(frozen=True)
class DuplicatePlan:
    """A duplicate pre-pass's answer and everything it depends on (:func:`_plan_key`): the
    file as it was (identity, dialect), the id column, the region and the policy."""

    key: tuple[Any, ...]
    plan: _DuplicatePlan


@dataclass(frozen=True)
class _IdGroups:
    """A chunk's non-empty ids grouped by hash, on their own: made where the chunk is checked
    (a checking thread), so that the in-order finishing only looks them up in the index."""

    at: IntArray  # positions of the rows with an id
    uniq: HashArray  # the distinct hashes, ascending
    first: IntArray  # for each distinct hash, its first row (an index into ``at``)
    inverse: IntArray  # for each row of ``at``, its hash's index in ``uniq``

    @classmethod
    def of(cls, hashes: HashArray, has: BoolArray | None = None) -> _IdGroups:
        at = np.flatnonzero(has) if has is not None else np.arange(len(hashes))
        uniq, first, inverse = np.unique(hashes[at], return_index=True, return_inverse=True)
        return cls(at, uniq, first, inverse)


def first_occurrences(seen: _SeenIds, groups: _IdGroups, records: IntArray) -> IntArray:
    """For each row of ``groups.at`` (its record in *records*, by position), the record of
    that id's first row in the file so far; new ids go into *seen*. A row is a duplicate
    where the answer is not its own record."""
    first_rec = records[groups.at[groups.first]]
    earlier = seen.lookup(groups.uniq)
    new = earlier < 0
    seen.add(groups.uniq[new], first_rec[new])
    group_first: IntArray = np.where(new, first_rec, earlier)
    return group_first[groups.inverse]


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


def _reasons(problems: RowProblems, bad: IntArray, first: dict[int, list[str]]) -> list[list[str]]:
    """Every reason of each rejected row (positions *bad*, ascending): its *first* reasons
    (structural ones), then ``code: message`` of each problem in rule order."""
    if not len(bad):
        return []
    parts = list(problems)
    texts = [f"{p.code}: {m}" for p in parts for m in p.messages]
    where = np.concatenate([p.positions for p in parts]) if parts else np.zeros(0, np.intp)
    order = np.argsort(where, kind="stable")  # by row, rule order within a row
    rows = where[order]
    texts = [texts[i] for i in order.tolist()]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if len(rows) else rows
    if len(starts) == len(rows):  # one reason per row, the usual case
        groups = [[t] for t in texts]
    else:
        ends = np.r_[starts[1:], len(rows)].astype(np.int64)
        groups = [texts[lo:hi] for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True)]
    if not first and np.array_equal(rows[starts], bad):
        return groups  # every rejected row has rule reasons, and only those
    by_row = dict(zip(rows[starts].tolist(), groups, strict=True))
    return [first.get(pos, []) + by_row.get(pos, []) for pos in bad.tolist()]


def _rows_text(rows: list[int], limit: int = 20) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


# --------------------------------------------------------------------- the validation


@dataclass
class _Checked:
    """One chunk after the row rules: what the in-order finishing needs of it.

    Made where the chunk was checked (possibly a checking thread), so that the work that
    does not depend on other chunks is done there: the ids grouped by hash, and the CSV
    lines of the normalised rows when the run writes a file.
    """

    problems: RowProblems
    ids: pa.Array | None  # the normalised contact ids (large_string), when there is an id column
    groups: _IdGroups | None  # the non-empty ones, grouped by their hash_ids
    frame: pd.DataFrame | None  # the normalised rows, when the run yields frames
    lines: pa.Array | None  # the normalised rows as CSV lines, when the run writes a file


@dataclass(frozen=True)
class _CheckArgs:
    schema: ListSchema
    mapping: ColumnMapping
    labels: dict[str, str]
    fed: set[str]
    id_column: str | None
    frames: bool
    lines: bool


def _check(table: pa.Table, normaliser: PhoneNormaliser, args: _CheckArgs) -> _Checked:
    """The row rules of one chunk (its Arrow table): mapped, trimmed, checked, phones
    normalised; then the ids hashed and the rows made CSV lines, as *args* asks."""
    normalised, problems = check_columns(
        trim(args.mapping.arrow_columns(table)),
        table.num_rows,
        args.schema,
        normaliser,
        labels=args.labels,
        fed=args.fed,
    )
    ids = groups = None
    if args.id_column is not None:
        ids = normalised[args.id_column]
        filled = np.diff(string_buffers(ids)[0]) > 0
        groups = _IdGroups.of(hash_ids(ids), filled)
    return _Checked(
        problems,
        ids,
        groups,
        as_frame(normalised) if args.frames else None,
        arrow_csv_lines(list(normalised.values())) if args.lines else None,
    )


_T = TypeVar("_T")
_U = TypeVar("_U")
_END = object()


@contextlib.contextmanager
def _closing(items: Iterator[_T]) -> Iterator[Iterator[_T]]:
    """*items*, closed at the end of the block when it is a generator."""
    try:
        yield items
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


def _read_ahead(
    read: Callable[[Progress | None], Iterator[RecordChunk]],
    progress: Progress | None,
    start: Callable[[RecordChunk], _U],
    *,
    ahead: int = 1,
) -> Iterator[tuple[RecordChunk, _U]]:
    """``read(progress)`` (the chunks, as ``iter_chunks`` gives them) run by a thread up to
    *ahead* chunks ahead of the caller, each chunk with what ``start(chunk)`` returned for it
    in that thread.

    Parsing is mostly Arrow's, which lets go of the GIL, so a big file's next chunks are read
    while the caller finishes the last ones; *start* hands each chunk on as soon as it is
    read (to the checking threads: they never wait for the caller to ask for more work).
    *progress* is still called from the caller's thread (a GUI's callback need not be
    thread-safe); the reader's *cancelled* is called from the reading thread between blocks.
    Leaving the loop early stops the thread.
    """
    box: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(ahead)
    stop = threading.Event()
    latest: list[tuple[int, int, str]] = []

    def put(item: object, exc: BaseException | None = None) -> bool:
        while not stop.is_set():
            try:
                box.put((item, exc), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            items = read(None if progress is None else (lambda d, t, p: latest.append((d, t, p))))
            with _closing(items):  # a generator: give its file back now
                for chunk in items:
                    if stop.is_set() or not put((chunk, start(chunk))):
                        return
            put(_END)
        except BaseException as exc:  # handed to the caller, raised there
            put(_END, exc)

    thread = threading.Thread(target=run, name="validate-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = box.get()
            while latest and progress is not None:
                progress(*latest.pop(0))
            if exc is not None:
                raise exc
            if item is _END:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


class _Validation:
    """One validation run; :meth:`chunks` drives it, :attr:`report` holds the outcome."""

    def __init__(
        self,
        profile: FileProfile,
        schema: ListSchema,
        mapping: ColumnMapping,
        options: ValidationOptions,
        *,
        frames: bool = True,
        lines: bool = False,
        repair: RepairPlan | None = None,
        duplicate_plan: DuplicatePlan | None = None,
        cache: ChunkCache | None = None,
    ) -> None:
        self.profile = profile
        #: A pre-pass's answer from an earlier run; used only if it matches this run.
        self.given_plan = duplicate_plan
        #: The chunks of a read already made (the preview's), if any: read instead of the file
        #: when they are of this very file and reading (see ``files.cache``).
        self.cache = cache
        #: Edits and safe repairs applied to each chunk before the row rules (contacts.repair).
        self.repair = repair
        self.schema = schema
        self.mapping = mapping
        self.options = options
        #: Fed the bytes of the main pass as they are read (see ``iter_valid_chunks``).
        self.hasher: Any = None
        diff = diff_columns(
            profile.columns, schema, has_header=profile.has_header, samples=samples_of(profile)
        )
        self.report = ValidationReport(schema, diff, mapping, options)
        sources = mapping.sources
        self.fed = set(sources)
        self.labels = {lc: sources.get(lc, lc) for lc in schema.columns}
        self.id_column = schema.id_column if schema.id_column in self.fed else None
        self._dup_firsts: set[int] = set()
        self._file_issues: set[tuple[str, str | None, str]] = set()
        self._schema_issues()
        # A blocked run writes no normalised file, so it makes no lines for one.
        self.check_args = _CheckArgs(
            schema,
            mapping,
            self.labels,
            self.fed,
            self.id_column,
            frames,
            lines and not self.report.blocked,
        )

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

    def _plan_key(self) -> tuple[Any, ...] | None:
        """What the pre-pass's answer depends on, or None when it cannot be reused (edits or
        repairs change ids; a file that cannot be stat'ed)."""
        from outbound_desk.files.identity import FileIdentity

        if self.repair is not None or self.id_column is None:
            return None
        p = self.profile
        try:
            now = FileIdentity.of(p.path)
        except OSError:
            return None
        return (
            (now.path, now.size, now.mtime_ns, now.ctime_ns, now.inode, now.device),
            p.encoding,
            p.dialect,
            p.has_header,
            tuple(p.columns),
            repr(p.overrides),
            repr(p.workbook),
            self.mapping.sources[self.id_column],
            self.schema.field(self.id_column).is_phone,
            self.options.region,
            self.options.duplicates.value,
        )

    def _duplicate_plan(
        self,
        normaliser: PhoneNormaliser,
        progress: Progress | None,
        cancelled: Callable[[], bool] | None,
    ) -> _DuplicatePlan:
        """The pre-pass's answer: the one handed over when it is for this very file and
        these settings, else read from the file (and kept on the report for the next run)."""
        key = self._plan_key()
        given = self.given_plan
        if key is not None and given is not None and given.key == key:
            plan = given.plan
        else:
            plan = self._prepass(normaliser, progress, cancelled)
        if key is not None:
            self.report.duplicate_plan = DuplicatePlan(key, plan)
        return plan

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
        source = self.mapping.sources[self.id_column]
        for chunk in self._prepass_chunks(source, sub, cancelled):
            frame = chunk.frame
            if self.repair is not None:  # the ids the main pass will see (not counted twice)
                frame = self.repair.apply(chunk.table, chunk.records, count=False).to_pandas()
            ids = self._ids(frame, normaliser)
            has = ids != ""
            recs = np.asarray(chunk.records, dtype=np.int64)[has]
            if not len(recs):
                continue
            groups = _IdGroups.of(hash_ids(pa.array(ids[has], type=pa.large_string())))
            row_first = first_occurrences(seen, groups, recs)
            dup = row_first != recs
            firsts.append(row_first[dup])
            dups.append(recs[dup])
        del seen
        if not dups:
            return _DuplicatePlan(np.zeros(0, dtype=np.int64), {}, [])
        return _plan_duplicates(
            np.concatenate(firsts), np.concatenate(dups), self.options.duplicates
        )

    def _prepass_chunks(
        self, source: str, progress: Progress | None, cancelled: Callable[[], bool] | None
    ) -> Iterator[RecordChunk]:
        """The chunks of the pre-pass, column *source* only: from the cache when there is one
        for this reading; else read from the file, and (a file that fits a cache, no hasher
        to feed) kept whole in a cache of this run, so that the main pass reads nothing."""
        opts = self.options
        usable = self.cache is not None and self.cache.usable(self.profile, opts.chunk_rows)
        if usable and self.hasher is None:
            yield from self._read(columns=[source], progress=progress, cancelled=cancelled)
            return
        from outbound_desk.files.cache import ChunkCache

        own = ChunkCache(self.profile, chunk_rows=opts.chunk_rows)
        if own.dropped is not None or self.hasher is not None:
            # Not kept (too big; or the main pass must read to hash): the id column only.
            yield from iter_chunks(
                self.profile,
                chunk_rows=opts.chunk_rows,
                columns=[source],
                progress=progress,
                cancelled=cancelled,
            )
            return
        total = self.profile.size_bytes
        read = [0]

        def noted(done: int, of: int, phase: str) -> None:
            read[0] = done
            if progress is not None:
                progress(done, of, phase)

        try:
            own.begin(FileIdentity.of(self.profile.path))
        except OSError:
            own.begin(None)
        finished = False
        try:
            for chunk in iter_chunks(
                self.profile, chunk_rows=opts.chunk_rows, progress=noted, cancelled=cancelled
            ):
                own.keep(chunk, read[0], total)
                yield RecordChunk(chunk.table.select([source]), chunk.records, [], chunk.raw)
            own.finish()
            finished = True
        finally:
            if not finished:
                own.drop("the pre-pass stopped before the end of the file")
        self.cache = own

    def _read(
        self,
        *,
        columns: list[str] | None = None,
        progress: Progress | None,
        cancelled: Callable[[], bool] | None,
        threads: bool = True,
    ) -> Iterator[RecordChunk]:
        """The file's chunks, as ``iter_chunks`` gives them: from the cache when it holds this
        reading (never while the bytes must be hashed: only a read can feed the hasher)."""
        if self.cache is not None and self.hasher is None:
            return self.cache.chunks(
                self.profile,
                chunk_rows=self.options.chunk_rows,
                columns=columns,
                progress=progress,
                cancelled=cancelled,
                threads=threads,
            )
        return iter_chunks(
            self.profile,
            chunk_rows=self.options.chunk_rows,
            columns=columns,
            progress=progress,
            cancelled=cancelled,
            threads=threads,
            hasher=self.hasher,
        )

    def _duplicates_first(
        self,
        seen: _SeenIds,
        ids: pa.Array,
        groups: _IdGroups,
        records: IntArray,
        problems: RowProblems,
    ) -> None:
        at = groups.at
        if not len(at):
            return
        recs = records[at]
        row_first = first_occurrences(seen, groups, records)
        dup = row_first != recs
        if not dup.any():
            return
        mask = np.zeros(len(ids), dtype=bool)
        mask[at[dup]] = True
        msgs = []
        label = self.labels[self.id_column or ""]
        for pos, first in zip(at[dup].tolist(), row_first[dup].tolist(), strict=True):
            key = ids[pos].as_py()
            msgs.append(
                f"{label} {key!r} is a duplicate of row {first} (policy first keeps row {first})"
            )
            self._note_group(key, first, int(records[pos]))
        problems.add(mask, label, DUPLICATE_ID, msgs)
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
        self,
        plan: _DuplicatePlan,
        ids: pa.Array,
        has: BoolArray,
        records: IntArray,
        problems: RowProblems,
    ) -> None:
        if not len(plan.losers):
            return
        pos = np.searchsorted(plan.losers, records)
        pos[pos == len(plan.losers)] = 0
        lose = (plan.losers[pos] == records) & has
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
            key = ids[i].as_py()
            msgs.append(f"{label} {key!r} is also on row(s) {_rows_text(others)} ({keeps})")
            groups = self.report.duplicate_groups
            if key not in groups and len(groups) < self.options.max_duplicate_groups:
                groups[key] = rows[:1000]
        problems.add(lose, label, DUPLICATE_ID, msgs)
        self.report.duplicates += int(lose.sum())

    def _chunk(
        self,
        chunk: RecordChunk,
        checked: _Checked,
        seen: _SeenIds,
        plan: _DuplicatePlan | None,
    ) -> _Done:
        report = self.report
        records = np.asarray(chunk.records, dtype=np.int64)
        original = chunk.table
        problems = checked.problems
        if checked.ids is not None and checked.groups is not None:
            # An invalid phone id stays as written; the row is rejected for the phone anyway.
            has = np.zeros(len(records), dtype=bool)
            has[checked.groups.at] = True
            label = self.labels[self.id_column or ""]
            empty = ~has
            problems.add(
                empty,
                label,
                "missing_id",
                [f"{label} (the contact id) is empty"] * int(empty.sum()),
            )
            if plan is None:
                self._duplicates_first(seen, checked.ids, checked.groups, records, problems)
            else:
                self._duplicates_planned(plan, checked.ids, has, records, problems)
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
        bad_pos = np.flatnonzero(bad)
        reasons = _reasons(problems, bad_pos, extra_reasons)
        broken: list[RejectedRow] = []
        for rec, fields in chunk.raw.items():
            why = [f"{i.code}: {i.message}" for i in structural.get(rec, [])] or [
                "broken_record: the record could not be read as a row of the file"
            ]
            broken.append(RejectedRow(int(rec), list(fields), why))
        good = ~bad
        report.rows += original.num_rows + len(chunk.raw)
        report.valid += int(good.sum())
        report.invalid += int(bad.sum()) + len(chunk.raw)
        return _Done(good, records, checked, original, bad_pos, reasons, broken)

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
    ) -> Generator[_Done, None, None]:
        is_cancelled = cancelled or (lambda: False)
        with PhoneNormaliser(self.options.region, workers=self.options.workers) as normaliser:
            try:
                plan = None
                if (
                    self.id_column is not None
                    and self.options.duplicates is not DuplicatePolicy.FIRST
                ):
                    plan = self._duplicate_plan(normaliser, progress, cancelled)
                    self.report.duplicate_ids = len(plan.groups)
                seen = _SeenIds()
                sub = None if progress is None else (lambda d, t, _p: progress(d, t, "validate"))
                # Closed on the way out, whatever stops the loop: an error or an early stop
                # must not leave the reading and checking threads to the garbage collector.
                with _closing(self._checked(normaliser, sub, cancelled)) as checked:
                    for chunk, result in checked:
                        yield self._chunk(chunk, result, seen, plan)
                        if is_cancelled():
                            raise Cancelled
            except Cancelled:
                self.report.cancelled = True

    def _table(self, chunk: RecordChunk) -> pa.Table:
        """The chunk's table as the row rules see it: with the edits and repairs, if any."""
        if self.repair is None:
            return chunk.table
        return self.repair.apply(chunk.table, chunk.records)

    def _checked(
        self,
        normaliser: PhoneNormaliser,
        progress: Progress | None,
        cancelled: Callable[[], bool] | None,
    ) -> Iterator[tuple[RecordChunk, _Checked]]:
        """Each chunk of the file with its row rules applied, in file order.

        For a big file, a thread reads the chunks and hands each to the checking threads as
        soon as it is read (they also hash its ids and make its CSV lines), while this thread
        finishes the checked ones in order: duplicate ids, rejects, writing. Threads, not
        processes: nearly all of the checking is Arrow and numpy kernels, which let go of the
        GIL, so threads use the cores without a process's start-up or the copying of every
        chunk there and back (measured: 2.0 s against 2.5-3.0 s for 1M rows on two cores,
        benchmarks/README.md). Each thread has its own phone normaliser (and cache). The
        answers are the same functions' either way.
        """
        args = self.check_args
        profile = self.profile
        workers = workers_policy.checking_threads(
            profile.size_bytes, self.options.workers, min_bytes=self.options.parallel_min_bytes
        )
        if profile.size_bytes < self.options.parallel_min_bytes:
            with _closing(self._read(progress=progress, cancelled=cancelled)) as chunks:
                for chunk in chunks:
                    yield chunk, _check(self._table(chunk), normaliser, args)
            return
        normaliser.warm_up()

        def read(sub: Progress | None) -> Iterator[RecordChunk]:
            # threads=False: the checking threads keep the cores busy.
            return self._read(progress=sub, cancelled=cancelled, threads=False)

        if workers < 2:
            with _closing(_read_ahead(read, progress, lambda chunk: None)) as ahead:
                for chunk, _ in ahead:
                    yield chunk, _check(self._table(chunk), normaliser, args)
            return
        local = threading.local()
        region = self.options.region

        def check(table: pa.Table) -> _Checked:
            mine = getattr(local, "normaliser", None)
            if mine is None:
                mine = local.normaliser = PhoneNormaliser(region, workers=1)
            return _check(table, mine, args)

        pool = ThreadPoolExecutor(workers, thread_name_prefix="validate-check")
        try:
            # One chunk queued per checking thread (and one more in the reader's hands, one
            # in this thread's): more would only hold memory, fewer would let a thread idle.
            with _closing(
                _read_ahead(
                    read,
                    progress,
                    lambda chunk: pool.submit(check, self._table(chunk)),
                    ahead=workers,
                )
            ) as checking:
                for chunk, future in checking:
                    yield chunk, future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def iter_valid_chunks(
    profile: FileProfile,
    schema: ListSchema,
    mapping: ColumnMapping,
    options: ValidationOptions | None = None,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    report: list[ValidationReport] | None = None,
    hasher: Any = None,
    repair: RepairPlan | None = None,
    duplicate_plan: DuplicatePlan | None = None,
    cache: ChunkCache | None = None,
) -> Iterator[ValidChunk]:
    """Valid rows, normalised, chunk by chunk, with the rejected rows of each chunk.

    The upload engine batches these. Pass an empty list as *report* to receive the
    :class:`ValidationReport` (filled as the chunks go; final when the iterator is exhausted).
    A blocked mapping (unknown or missing required columns) yields nothing. The bytes of a CSV
    file the rows come from are fed to *hasher* as they are read (``files.iter_chunks``).
    *duplicate_plan*: an earlier run's ``report.duplicate_plan``; its pre-pass is not read again
    when it is for this very file and these settings. *cache*: as for :func:`validate_file`
    (not used with a *hasher*: only a read of the file can feed it).
    """
    run = _Validation(
        profile,
        schema,
        mapping,
        options or ValidationOptions(),
        repair=repair,
        duplicate_plan=duplicate_plan,
        cache=cache,
    )
    run.hasher = hasher
    if report is not None:
        report.append(run.report)
    if run.report.blocked:
        return
    with _closing(run.chunks(progress, cancelled)) as chunks:
        yield from _valid_chunks(chunks)
    if repair is not None:
        run.report.repairs = dict(repair.counts)


def _valid_chunks(chunks: Iterator[_Done]) -> Iterator[ValidChunk]:
    for done in chunks:
        good, checked = done.good, done.checked
        assert checked.frame is not None
        ids = None
        if checked.ids is not None:
            ids = np.asarray(
                checked.ids.filter(pa.array(good)).to_numpy(zero_copy_only=False), dtype=object
            )
        yield ValidChunk(
            frame=checked.frame[good].reset_index(drop=True),
            records=done.records[good],
            ids=ids,
            rejected=done.rejected(),
        )


def _reject_lines(done: _Done) -> pa.Array:
    """The rejects file's lines for a chunk's rejected rows (none of them broken): row number,
    original values, no extra values, reasons; every cell neutralised, as Arrow kernels."""
    if not len(done.bad):
        return pa.array([], type=pa.large_string())
    take = pa.array(done.bad)
    cells = [pa.array(done.records[done.bad]).cast(pa.large_string())]
    for column in done.original.columns:
        cells.append(neutralise_arrow(large_strings(column).take(take)))
    cells.append(pa.array([""] * len(done.bad), type=pa.large_string()))  # no extra values
    joined = [" | ".join(r) for r in done.reasons]
    cells.append(neutralise_arrow(pa.array(joined, type=pa.large_string())))
    return arrow_csv_lines(cells)


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
    identity: FileIdentity | None = None,
    repair: RepairPlan | None = None,
    duplicate_plan: DuplicatePlan | None = None,
    cache: ChunkCache | None = None,
) -> ValidationReport:
    """Validate a whole file; write the normalised valid rows to *out* and the rejected rows
    (row number, original values, reasons; formulas neutralised) to *rejects*.

    Both are written as ``.partial`` files and renamed into place at the end, and only when the
    file is still *identity* (taken before it was first read): a file that changed while it
    was read raises :class:`~outbound_desk.files.identity.FileChangedError` and leaves neither.

    A blocked schema diff still validates the rows (so every problem shows at once) but does
    not write *out*: a normalised file that silently lost columns must not exist.

    *repair* (``contacts.repair.plan_repairs``) applies the user's edits and the safe repairs
    to every chunk before the row rules; the rejects file keeps the original values.

    *cache* (``files.ChunkCache``): the chunks of a read already made (the preview's table and
    scan); the file is read only where the cache cannot give them (another reading of it, a
    changed file, a file too big to keep). Without one, policies ``last`` and ``reject`` keep
    their pre-pass's chunks for the main pass when the file fits ``files.CHUNK_CACHE_BYTES``:
    one read either way.
    """
    run = _Validation(
        profile,
        schema,
        mapping,
        options or ValidationOptions(),
        frames=False,
        lines=out is not None,
        repair=repair,
        duplicate_plan=duplicate_plan,
        cache=cache,
    )
    report = run.report
    width = len(profile.columns)
    out_sink = CsvSink(out, schema.columns) if out is not None and run.check_args.lines else None
    # Column names come from the file as much as the cells do: a header "=HYPERLINK(...)"
    # ran in LibreOffice when the rejects file was opened. Neutralised like every cell.
    header = [neutralise(c) for c in ("row", *profile.columns, "extra_values", "reasons")]
    rej = CsvSink(rejects, header) if rejects is not None else None
    finished = False
    done = run.chunks(progress, cancelled)
    try:
        for chunk in done:
            if out_sink is not None and chunk.checked.lines is not None:
                out_sink.write_lines(chunk.checked.lines.filter(pa.array(chunk.good)))
            if rej is None:
                continue
            if not chunk.broken:
                rej.write_lines(_reject_lines(chunk))
                continue
            rows = []
            for r in chunk.rejected():
                vals = r.values[:width] + [""] * (width - len(r.values))
                extra = r.values[width:]
                # Surplus fields of a ragged record, kept losslessly as a JSON list.
                extra_text = json.dumps(extra, ensure_ascii=False) if extra else ""
                row = [str(r.record), *vals, extra_text, " | ".join(r.reasons)]
                rows.append([neutralise(v) for v in row])
            rej.write_rows(rows)
        if report.cancelled:
            raise Cancelled
        if repair is not None:
            report.repairs = dict(repair.counts)
        if identity is not None:
            identity.check(
                "validated",
                "its rows are of no one version of it, so no --out or --rejects file was "
                "written; run it again once the file is complete",
            )
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
        done.close()  # stops the threads now if the loop ended early
        if out_sink is not None and out_sink.sha256 is None:
            out_sink.abort()
        if rej is not None and not finished:
            # A half rejects file would look like the whole story, and an older one like
            # this run's: remove both.
            rej.abort()
            rej.path.unlink(missing_ok=True)
    return report
