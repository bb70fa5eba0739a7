"""The upload engine's value types: options, progress snapshots, results and errors.

Everything here is plain data (frozen dataclasses and enums) so that the CLI, the app's workers
and the tests share one vocabulary and nothing here knows about threads, Qt or HTTP.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from outbound_desk.base import limits
from outbound_desk.base.cancel import Cancelled
from outbound_desk.config.settings import DuplicatePolicy, IdColumnRule, Preferences

Via = Literal["api", "file", "auto"]

#: The engine's defaults are the preferences' defaults: the CLI, the app and a bare
#: UploadOptions agree on what an unset option means.
_DEFAULTS = Preferences()
#: Above this many valid rows, ``via="auto"`` prefers the CSV import (one request for the whole
#: file instead of one per 1,000 contacts).
DEFAULT_FILE_THRESHOLD = _DEFAULTS.csv_import_threshold
MAX_BATCH_SIZE = limits.MAX_BATCH_SIZE  # the platform's cap per POST .../contacts


class Phase(enum.StrEnum):
    """Where an upload is; the app shows it beside the bar."""

    VALIDATING = "validating"
    CREATING_LIST = "creating_list"
    WAITING_FOR_LIST = "waiting_for_list"
    WAITING_LOCK = "waiting_lock"
    WAITING_BUSY = "waiting_busy"
    CLEARING = "clearing"
    UPLOADING = "uploading"
    IMPORTING = "importing"
    RECONCILING = "reconciling"
    REPORTING = "reporting"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Outcome(enum.StrEnum):
    """What happened to one input row (a line of the outcome report)."""

    CREATED = "created"  # the contact id was not in the list before this upload
    UPDATED = "updated"  # the contact id was in the list and now holds this row's data
    UNCHANGED = "unchanged"  # confirmed earlier in this list with the same payload: not sent
    REJECTED = "rejected"  # refused by validation or by the platform; reason says why
    #: another row of the file carries the same contact id and the duplicate policy (first or
    #: last) keeps that one: this row is not sent, and the list holds the kept row's data
    DROPPED = "dropped_duplicate"
    MISSING = "missing"  # sent, but reconciliation did not find it (or found other data)
    PENDING = "pending"  # never sent: the upload was cancelled or failed first


@dataclass(frozen=True)
class UploadOptions:
    """Everything that defines one upload. JSON-able, so the ledger can store and compare it.

    ``list`` is a list name or id. With ``create`` a list of that name is created from
    ``schema_path`` (or reused if this upload created it before). ``mapping`` maps file columns to
    list columns (a value of ``None`` excludes the column explicitly).
    """

    file: Path
    list: str
    create: bool = False
    schema_path: Path | None = None
    id_column: str | None = None
    allow_no_id: bool = False
    via: Via = "auto"
    batch_size: int = MAX_BATCH_SIZE
    concurrency: int = 4
    replace: bool = False
    add_columns: bool = False
    region: str = _DEFAULTS.phone_region
    mapping: dict[str, str | None] = field(default_factory=dict)
    duplicates: DuplicatePolicy = _DEFAULTS.duplicate_policy
    #: Without ``id_column`` (and a schema's): "auto" takes a column that reads as a CRM key
    #: (``contacts.ids``), "schema" refuses; the preferences' ``id_column_rule``.
    id_column_rule: IdColumnRule = _DEFAULTS.id_column_rule
    file_threshold: int = DEFAULT_FILE_THRESHOLD
    reconcile: bool = True
    #: How to read the sent contacts back: ``contacts/bulk`` reads, one export, or by size.
    reconcile_via: Literal["auto", "bulk", "export"] = "auto"
    report_path: Path | None = None
    #: An import that shows no progress for this long is reported as stalled (not awaited
    #: forever); the upload stays resumable.
    import_stall_timeout_s: float = 300.0
    import_poll_s: float = 2.0
    busy_poll_s: float = 5.0
    #: How long to wait for another Outbound Desk upload into the same list: 0 stops at once
    #: with a clear message, ``None`` waits as long as it takes.
    lock_timeout_s: float | None = 0.0
    resume_id: str | None = None
    #: How to read the file, as ``inspect`` and ``validate`` take it (``None``: detect):
    #: ``files.Overrides``' fields (encoding, delimiter, quotechar, has_header, sheet,
    #: skip_rows), so that a scheduled job loads what the app showed.
    read: dict[str, Any] = field(default_factory=dict)
    #: When ``file`` is a copy made with the user's edits (the app's preview): the original
    #: file (``file``, ``sha256``) and ``edited_cells``. Kept in the ledger beside the copy's
    #: SHA-256 (in the identity only when set, like ``read``).
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise UploadUsageError(
                f"batch size {self.batch_size} is out of range: use 1 to {MAX_BATCH_SIZE}"
            )
        if not 1 <= self.concurrency <= 16:
            raise UploadUsageError(f"concurrency {self.concurrency} is out of range: use 1 to 16")
        if self.via not in ("api", "file", "auto"):
            raise UploadUsageError(f"unknown transport {self.via!r}: use api, file or auto")
        if self.create and self.schema_path is None:
            raise UploadUsageError("--create needs --schema SCHEMA.json to say what to create")

    def identity(self) -> dict[str, Any]:
        """The options that make two runs "the same upload" (for resuming).

        Tuning knobs (concurrency, timeouts, report path, the transport) may change between a
        crashed run and its rerun without starting over: they do not change what the list
        should hold afterwards.
        """
        return {
            "list": self.list,
            "create": self.create,
            "schema": str(self.schema_path.resolve()) if self.schema_path else None,
            "id_column": self.id_column,
            "allow_no_id": self.allow_no_id,
            "replace": self.replace,
            "add_columns": self.add_columns,
            "region": self.region,
            "mapping": dict(sorted(self.mapping.items())),
            "duplicates": self.duplicates,
            # Only when set, so that the identity of uploads saved before it stays the same.
            **({"read": dict(sorted(self.read.items()))} if self.read else {}),
            # The file an edited copy was made from (so the ledger keeps it beside the copy).
            **({"source": dict(sorted(self.source.items()))} if self.source else {}),
        }

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, Path):
                out[key] = str(value)
        return out

    @classmethod
    def from_json(cls, text: str) -> UploadOptions:
        """Options saved with :meth:`as_json` (keys this version does not know are ignored)."""
        raw = json.loads(text)
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        for key in ("file", "schema_path", "report_path"):
            if values.get(key) is not None:
                values[key] = Path(values[key])
        return cls(**values)


@dataclass(frozen=True)
class UploadProgress:
    """A snapshot of an upload's progress: safe to hand to another thread as it is."""

    phase: Phase
    planned: int = 0  # valid rows to put into the list
    sent: int = 0
    confirmed: int = 0
    rejected: int = 0
    unchanged: int = 0
    #: rows the duplicate policy dropped (another row with the same id is kept)
    dropped: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0  # 429 answers seen
    rate_per_s: float = 0.0  # contacts confirmed per second, recent
    eta_s: float | None = None
    elapsed_s: float = 0.0
    message: str = ""
    paused: bool = False
    #: During a CSV import: the platform's own percent complete (its ``importstatus``), or
    #: the share of the expected rows the list holds when the status says nothing.
    import_percent: float | None = None

    @property
    def done(self) -> int:
        """Rows accounted for so far (confirmed, unchanged, rejected or dropped)."""
        return self.confirmed + self.unchanged + self.rejected + self.dropped

    @property
    def rows(self) -> int:
        """Rows of the file read so far: the total that :attr:`done` counts towards."""
        return self.planned + self.rejected + self.dropped


@dataclass(frozen=True)
class UploadResult:
    """What an upload achieved; ``as_json`` is the CLI's ``--json`` contract."""

    upload_id: str
    list_id: str
    list_name: str
    status: Literal["done", "cancelled", "failed"]
    transport: Literal["api", "file"]
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    missing: int
    pending: int
    duration_s: float
    report: Path
    file_sha256: str
    list_created: bool = False
    resumed: bool = False
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    warnings: tuple[str, ...] = ()
    error: str | None = None
    #: rows the duplicate policy dropped: the list holds the kept row of their id instead
    dropped_duplicates: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "list_id": self.list_id,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "duration_s": round(self.duration_s, 3),
            "report": str(self.report),
            "upload_id": self.upload_id,
            "list_name": self.list_name,
            "status": self.status,
            "transport": self.transport,
            "missing": self.missing,
            "pending": self.pending,
            "sha256": self.file_sha256,
            "list_created": self.list_created,
            "resumed": self.resumed,
            "requests": self.requests,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "warnings": list(self.warnings),
            "error": self.error,
            "dropped_duplicates": self.dropped_duplicates,
        }


@dataclass(frozen=True)
class UploadSummary:
    """What an upload is about to do, for the confirmation both front ends ask before it."""

    org: str  # the profile's name, or the region's API host
    list: str  # the list's name or id as given
    create: bool  # the list is created from the schema if it does not exist
    transport: Literal["api", "file"]
    rows: int  # data rows in the file (valid or not)
    file: Path
    replace: bool = False  # every contact of the list is removed first
    id_column: str | None = None
    allow_no_id: bool = False

    def describe(self) -> str:
        how = "JSON contact batches" if self.transport == "api" else "a CSV import"
        target = f"list {self.list!r}" + (" (created if missing)" if self.create else "")
        text = (
            f"Upload {self.rows:,} rows of {self.file.name} into {target} in org {self.org} "
            f"as {how}?"
        )
        if self.replace:
            text += " Every contact of the list is removed first."
        if self.allow_no_id and not self.id_column:
            text += (
                " No contact id column: the platform makes the ids, so a rerun adds every "
                "contact again."
            )
        return text


class UploadError(Exception):
    """An upload could not go on; ``str(e)`` is one line saying what and what to do.

    ``exit_code`` follows the CLI contract: 1 the input or data was rejected, 2 usage,
    3 the platform or the network failed (or the list is busy: try again later).
    """

    exit_code = 3

    def __init__(self, message: str, *, upload_id: str | None = None) -> None:
        super().__init__(message)
        self.upload_id = upload_id


class UploadRejected(UploadError):  # noqa: N818 - named for the outcome
    """The file, the schema or the target list does not allow the upload as asked."""

    exit_code = 1


class UploadUsageError(UploadError):
    """The options contradict each other or name something that does not exist."""

    exit_code = 2


class UploadDeclined(UploadError):  # noqa: N818 - named for the outcome
    """The person answered no to the confirmation; nothing was sent."""

    exit_code = 2


class UploadPlatformError(UploadError):
    """The platform or the network failed; the upload is left resumable."""

    exit_code = 3


class ListBusy(UploadError):  # noqa: N818 - named for the outcome
    """Another upload (of this app or an import on the platform) holds the list."""

    exit_code = 3


class UploadCancelled(UploadError, Cancelled):  # noqa: N818 - named for the outcome
    """The caller asked to stop; the upload is left resumable (a :class:`Cancelled`)."""

    exit_code = 3
