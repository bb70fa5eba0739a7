"""The upload ledger: what was sent to which list, so that a rerun resumes instead of repeating.

SQLite in WAL mode (one file, default ``data_dir()/ledger.sqlite3``). Three tables:

- ``uploads``: one row per upload (file SHA-256, list, options, transport, status, times,
  counts, report path, profile and OS user),
- ``contacts``: one row per (list id, contact id) with the payload hash last sent and its state
  (``pending`` -> ``sent`` -> ``confirmed`` | ``rejected`` with a reason),
- ``batches``: one row per (upload, batch number) with its request id, contact ids and attempts.

Every method is one transaction, and the engine calls it *before* the effect it records
(``mark_sent`` before the request goes out), so after a crash, a kill -9 or a lost network the
ledger never claims more than happened: a batch marked sent but not confirmed is sent again with
the same contact ids, which the platform upserts, so nothing is duplicated.

``synchronous=NORMAL`` with WAL survives a killed process (committed transactions are in the WAL
file); after a power cut the last transactions may be lost, which only means resending contacts
that are then upserted again.

The ledger is safe to share between threads: each thread gets its own connection.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, get_args

import pyarrow as pa

from outbound_desk.config.paths import data_dir
from outbound_desk.config.private import private_dir, private_file
from outbound_desk.contacts.output import utf8_values

__all__ = [
    "LEDGER_SCHEMA_VERSION",
    "BatchRecord",
    "ContactState",
    "Ledger",
    "LedgerError",
    "LedgerUnusableError",
    "UploadCounts",
    "UploadRecord",
    "UploadStatus",
    "canonical_json",
    "options_hash",
    "payload_hash",
    "payload_hashes",
]

UploadStatus = Literal["running", "paused", "cancelled", "failed", "done"]
ContactState = Literal["pending", "sent", "confirmed", "rejected"]
BatchState = Literal["planned", "sent", "confirmed", "failed"]

LEDGER_SCHEMA_VERSION: Final = 2
#: Statuses an upload can be resumed from: a crash leaves "running" behind.
RESUMABLE: Final[tuple[UploadStatus, ...]] = ("running", "paused", "failed", "cancelled")
#: Up to this many ids a lookup uses IN (...) chunks; beyond it, a temporary table and a join.
_IN_LIMIT: Final = 2000
_CHUNK: Final = 500


class LedgerError(RuntimeError):
    """The ledger cannot be used (newer schema, unknown upload id, bad state)."""


class LedgerUnusableError(LedgerError):
    """The ledger file is damaged or cannot be written; ``str(e)`` names it and what to do."""

    def __init__(self, path: Path, cause: BaseException) -> None:
        self.path = path
        detail = str(cause) or type(cause).__name__
        aside = (
            "Nothing on the platform is lost: the contacts already uploaded stay in their "
            "lists, and rerunning an upload sends its rows again, which updates those contacts "
            "(same ids) rather than adding them twice; only resuming the uploads recorded in "
            "that file is no longer possible"
        )
        if "full" in detail.lower():
            message = (
                f"the upload ledger {path} cannot be written ({detail}): free some space and "
                "run again; an upload resumes where it stopped"
            )
        elif _is_read_only(cause) or not _writable(path):
            message = (
                f"the upload ledger {path} cannot be written ({detail}): make it and its "
                "folder writable for this user and run again, or move it aside (with its -wal "
                f"and -shm files) to start a new ledger. {aside}"
            )
        else:
            message = (
                f"the upload ledger {path} is damaged ({detail}): move it aside (with its -wal "
                f"and -shm files; e.g. rename it to {path.name}.damaged) and run again, which "
                f"starts a new ledger. {aside}"
            )
        super().__init__(message)


def _writable(path: Path) -> bool:
    """Whether this user may write the ledger and make its -wal/-shm files beside it (SQLite
    says only "unable to open database file" when the folder is read-only)."""
    folder = path.parent if path.parent.exists() else None
    return (not path.exists() or os.access(path, os.W_OK)) and (
        folder is None or os.access(folder, os.W_OK | os.X_OK)
    )


def _is_read_only(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, PermissionError) or "readonly" in text or "read-only" in text


def unusable(path: Path, exc: BaseException) -> LedgerError:
    """The error to raise for *exc* (an ``sqlite3.Error`` or ``OSError``) met on *path*."""
    if isinstance(exc, LedgerError):
        return exc
    return LedgerUnusableError(path, exc)


def _canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


#: Ids per ``json.dumps`` call in :func:`_ids_text`.
_IDS_STEP: Final = 10_000


def _ids_text(ids: Sequence[str]) -> str:
    """``json.dumps(list(ids))``, written a slice at a time: one call for a CSV import's
    million ids holds the interpreter lock (and so the app's window) for ~0.1 s."""
    step = _IDS_STEP
    parts = [json.dumps(list(ids[s : s + step]))[1:-1] for s in range(0, len(ids), step)]
    return "[" + ", ".join(parts) + "]"


def canonical_json(data: Mapping[str, str]) -> str:
    """A contact's data as the text :func:`payload_hash` hashes (and a JSON batch sends)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_hash(data: Mapping[str, str]) -> str:
    """SHA-256 (hex) of a contact's data as canonical JSON (sorted keys, no spaces, UTF-8)."""
    return hashlib.sha256(_canonical(data)).hexdigest()


def payload_hashes(canonical: pa.Array) -> list[str]:
    """:func:`payload_hash` of many contacts at once, given their canonical JSON texts as a
    ``large_string`` Arrow array (``contacts.output.json_objects``): a hash per value, no
    dict per contact."""
    sha = hashlib.sha256
    return [sha(raw).hexdigest() for raw in utf8_values(canonical)]


def options_hash(options: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of upload options: two uploads with equal options resume each other."""
    return hashlib.sha256(_canonical(options)).hexdigest()


def _now() -> str:
    # Fixed-width ISO-8601 UTC, so text order is time order.
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class UploadCounts:
    """Outcome counts of an upload (the ``--json`` report's keys)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    #: rows the duplicate policy dropped for another row of the same contact id
    dropped: int = 0


@dataclass(frozen=True)
class UploadRecord:
    """One upload as the ledger knows it."""

    id: str
    file_path: str
    file_sha256: str
    list_id: str
    list_name: str | None
    options: dict[str, Any]
    transport: str
    status: UploadStatus
    started_at: datetime
    ended_at: datetime | None
    counts: UploadCounts
    report_path: str | None
    profile: str | None
    user: str | None


@dataclass(frozen=True)
class BatchRecord:
    """One batch of an upload: its request id, contact ids, attempts and state."""

    upload_id: str
    batch_no: int
    request_id: str
    contact_ids: list[str]
    attempts: int
    state: BatchState
    sent_at: datetime | None
    confirmed_at: datetime | None


_SCHEMA_V1 = """
CREATE TABLE uploads (
    id            TEXT PRIMARY KEY,
    file_path     TEXT NOT NULL,
    file_sha256   TEXT NOT NULL,
    list_id       TEXT NOT NULL,
    list_name     TEXT,
    options_json  TEXT NOT NULL,
    options_hash  TEXT NOT NULL,
    transport     TEXT NOT NULL,
    status        TEXT NOT NULL
        CHECK (status IN ('running', 'paused', 'cancelled', 'failed', 'done')),
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    rows          INTEGER NOT NULL DEFAULT 0,
    created       INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    unchanged     INTEGER NOT NULL DEFAULT 0,
    rejected      INTEGER NOT NULL DEFAULT 0,
    report_path   TEXT,
    profile       TEXT,
    user          TEXT
);
CREATE INDEX uploads_resume ON uploads (file_sha256, list_id, options_hash, status);
CREATE INDEX uploads_started ON uploads (started_at);
CREATE TABLE contacts (
    list_id       TEXT NOT NULL,
    contact_id    TEXT NOT NULL,
    payload_hash  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'confirmed', 'rejected')),
    reason        TEXT,
    upload_id     TEXT,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (list_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX contacts_upload ON contacts (upload_id, state);
CREATE TABLE batches (
    upload_id     TEXT NOT NULL REFERENCES uploads (id),
    batch_no      INTEGER NOT NULL,
    request_id    TEXT NOT NULL,
    contact_ids   TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL CHECK (state IN ('planned', 'sent', 'confirmed', 'failed')),
    sent_at       TEXT,
    confirmed_at  TEXT,
    PRIMARY KEY (upload_id, batch_no)
);
"""

#: version -> SQL that brings a ledger at version - 1 to it.
_MIGRATIONS: Final[dict[int, str]] = {
    1: _SCHEMA_V1,
    # v2: the rows a duplicate policy dropped are counted apart from the rejected ones.
    2: "ALTER TABLE uploads ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0",
}

_UPLOAD_COLUMNS = (
    "id, file_path, file_sha256, list_id, list_name, options_json, transport, status, "
    "started_at, ended_at, rows, created, updated, unchanged, rejected, report_path, profile, "
    "user, dropped"
)


def _upload(row: sqlite3.Row) -> UploadRecord:
    return UploadRecord(
        id=row["id"],
        file_path=row["file_path"],
        file_sha256=row["file_sha256"],
        list_id=row["list_id"],
        list_name=row["list_name"],
        options=json.loads(row["options_json"]),
        transport=row["transport"],
        status=row["status"],
        started_at=_parse_time(row["started_at"]) or datetime.now(UTC),
        ended_at=_parse_time(row["ended_at"]),
        counts=UploadCounts(
            rows=row["rows"],
            created=row["created"],
            updated=row["updated"],
            unchanged=row["unchanged"],
            rejected=row["rejected"],
            dropped=row["dropped"],
        ),
        report_path=row["report_path"],
        profile=row["profile"],
        user=row["user"],
    )


def _batch(row: sqlite3.Row) -> BatchRecord:
    return BatchRecord(
        upload_id=row["upload_id"],
        batch_no=row["batch_no"],
        request_id=row["request_id"],
        contact_ids=json.loads(row["contact_ids"]),
        attempts=row["attempts"],
        state=row["state"],
        sent_at=_parse_time(row["sent_at"]),
        confirmed_at=_parse_time(row["confirmed_at"]),
    )


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers, services): history shows none
        return None


class Ledger:
    """The SQLite upload ledger at *path* (created with its parent directory if missing)."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 30_000) -> None:
        self._path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._closed = False
        try:
            if not self._path.parent.exists() or self._path.parent == data_dir():
                private_dir(self._path.parent)
            # Contact ids and payload hashes: readable by this user only (with its -wal/-shm).
            private_file(self._path)
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            self.close()
            raise unusable(self._path, exc) from None

    def check_writable(self) -> None:
        """Raise :class:`LedgerUnusableError` unless a write to the ledger really works.

        Opening a read-only ledger succeeds (SQLite falls back to reading) and so do reads;
        the runner calls this before it touches the platform, so a ledger that cannot record
        an upload stops it before anything is created or sent.
        """
        try:
            with self._write() as conn:
                conn.execute("INSERT INTO schema_version (version) VALUES (0)")
                conn.execute("DELETE FROM schema_version WHERE version = 0")
        except (sqlite3.Error, OSError) as exc:
            raise unusable(self._path, exc) from None

    def __repr__(self) -> str:
        return f"Ledger({str(self._path)!r})"

    @property
    def path(self) -> Path:
        return self._path

    # ------------------------------------------------------------- connections
    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise LedgerError("the ledger is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE below), so a
            # writer takes the write lock up front and waits busy_timeout instead of failing
            # on a lock upgrade. check_same_thread=False only so close() can close them all.
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close every thread's connection. The ledger cannot be used afterwards."""
        self._closed = True
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        with self._write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            version = int(row[0] or 0)
            if version > LEDGER_SCHEMA_VERSION:
                raise LedgerError(
                    f"the ledger {self._path} was written by a newer Outbound Desk (schema "  # noqa: S608
                    f"{version}, this one knows {LEDGER_SCHEMA_VERSION}); update the app or "
                    "set another ledger path"
                )
            for target in range(version + 1, LEDGER_SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (target,))

    def schema_version(self) -> int:
        row = self._conn().execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0])

    # ------------------------------------------------------------- uploads
    def begin_upload(
        self,
        *,
        file_path: str | Path,
        file_sha256: str,
        list_id: str,
        options: Mapping[str, Any],
        transport: str,
        list_name: str | None = None,
        profile: str | None = None,
        rows: int = 0,
        user: str | None = None,
    ) -> UploadRecord:
        """Record a new upload as ``running`` and return it."""
        upload_id = str(uuid.uuid4())
        with self._write() as conn:
            conn.execute(
                "INSERT INTO uploads (id, file_path, file_sha256, list_id, list_name, "
                "options_json, options_hash, transport, status, started_at, rows, profile, user) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
                (
                    upload_id,
                    str(file_path),
                    file_sha256,
                    list_id,
                    list_name,
                    _canonical(options).decode(),
                    options_hash(options),
                    transport,
                    _now(),
                    rows,
                    profile,
                    user if user is not None else _os_user(),
                ),
            )
        return self.get_upload(upload_id)

    def get_upload(self, upload_id: str) -> UploadRecord:
        row = (
            self._conn()
            .execute(f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE id = ?", (upload_id,))  # noqa: S608 (only constants and "?" are interpolated)
            .fetchone()
        )
        if row is None:
            raise LedgerError(f"no upload with id {upload_id} in the ledger {self._path}")
        return _upload(row)

    def find_resumable(
        self, file_sha256: str, list_id: str, options: Mapping[str, Any]
    ) -> UploadRecord | None:
        """The latest unfinished upload of this file to this list with these options."""
        placeholders = ", ".join("?" for _ in RESUMABLE)
        row = (
            self._conn()
            .execute(
                f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE file_sha256 = ? AND list_id = ? "  # noqa: S608 (only constants and "?" are interpolated)
                f"AND options_hash = ? AND status IN ({placeholders}) "
                "ORDER BY started_at DESC, rowid DESC LIMIT 1",
                (file_sha256, list_id, options_hash(options), *RESUMABLE),
            )
            .fetchone()
        )
        return None if row is None else _upload(row)

    def unfinished_uploads(self) -> list[UploadRecord]:
        """Uploads not ``done``, newest first (for "resume?" prompts)."""
        rows = self._conn().execute(
            f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE status != 'done' "  # noqa: S608 (only constants and "?" are interpolated)
            "ORDER BY started_at DESC, rowid DESC"
        )
        return [_upload(r) for r in rows]

    def set_status(self, upload_id: str, status: UploadStatus) -> None:
        """Change an upload's status without ending it (``running`` again on resume)."""
        self._check_status(status)
        ended = None if status in ("running", "paused") else _now()
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE uploads SET status = ?, ended_at = ? WHERE id = ?",
                (status, ended, upload_id),
            )
            if cur.rowcount != 1:
                raise LedgerError(f"no upload with id {upload_id} in the ledger {self._path}")

    def finish_upload(
        self,
        upload_id: str,
        status: UploadStatus,
        counts: UploadCounts,
        report_path: str | Path | None = None,
    ) -> UploadRecord:
        """Record how an upload ended, its counts and its outcome report."""
        self._check_status(status)
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE uploads SET status = ?, ended_at = ?, rows = ?, created = ?, "
                "updated = ?, unchanged = ?, rejected = ?, dropped = ?, report_path = ? "
                "WHERE id = ?",
                (
                    status,
                    _now(),
                    counts.rows,
                    counts.created,
                    counts.updated,
                    counts.unchanged,
                    counts.rejected,
                    counts.dropped,
                    None if report_path is None else str(report_path),
                    upload_id,
                ),
            )
            if cur.rowcount != 1:
                raise LedgerError(f"no upload with id {upload_id} in the ledger {self._path}")
        return self.get_upload(upload_id)

    def history(self, limit: int = 50, *, list_id: str | None = None) -> list[UploadRecord]:
        """Past uploads, newest first."""
        where, params = ("WHERE list_id = ?", [list_id]) if list_id else ("", [])
        rows = self._conn().execute(
            f"SELECT {_UPLOAD_COLUMNS} FROM uploads {where} "  # noqa: S608 (only constants and "?" are interpolated)
            "ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (*params, max(0, limit)),
        )
        return [_upload(r) for r in rows]

    def forget_list(self, list_id: str) -> list[str]:
        """Drop everything recorded about a list that was deleted (its uploads, their batches,
        its contacts); return the ids of the uploads dropped (their journals are the caller's).
        """
        with self._write() as conn:
            ids = [
                str(r[0])
                for r in conn.execute("SELECT id FROM uploads WHERE list_id = ?", (list_id,))
            ]
            conn.executemany("DELETE FROM batches WHERE upload_id = ?", ((i,) for i in ids))
            conn.execute("DELETE FROM uploads WHERE list_id = ?", (list_id,))
            conn.execute("DELETE FROM contacts WHERE list_id = ?", (list_id,))
        return ids

    @staticmethod
    def _check_status(status: str) -> None:
        if status not in get_args(UploadStatus):
            raise ValueError(f"unknown upload status {status!r}")

    # ------------------------------------------------------------- contacts
    def mark_pending(
        self, list_id: str, upload_id: str, contacts: Iterable[tuple[str, str]]
    ) -> int:
        """Record (contact id, payload hash) pairs about to be sent, in one transaction.

        A contact already confirmed with the same payload hash stays confirmed: it is unchanged
        and there is nothing to send. Returns how many rows were written.
        """
        now = _now()
        with self._write() as conn:
            cur = conn.executemany(
                "INSERT INTO contacts (list_id, contact_id, payload_hash, state, reason, "
                "upload_id, updated_at) VALUES (?, ?, ?, 'pending', NULL, ?, ?) "
                "ON CONFLICT (list_id, contact_id) DO UPDATE SET "
                "payload_hash = excluded.payload_hash, state = 'pending', reason = NULL, "
                "upload_id = excluded.upload_id, updated_at = excluded.updated_at "
                "WHERE NOT (contacts.state = 'confirmed' "
                "AND contacts.payload_hash = excluded.payload_hash)",
                ((list_id, cid, h, upload_id, now) for cid, h in contacts),
            )
            return max(cur.rowcount, 0)

    def plan_batch(
        self, upload_id: str, batch_no: int, contact_ids: Sequence[str], request_id: str
    ) -> BatchRecord:
        """Record a batch before its first request; planning it again returns the first plan.

        On resume the engine replans a batch it planned before a crash and gets back the same
        request id and contact ids, so the retry is the same request.
        """
        with self._write() as conn:
            made = conn.execute(
                "INSERT INTO batches (upload_id, batch_no, request_id, contact_ids, state) "
                "VALUES (?, ?, ?, ?, 'planned') ON CONFLICT (upload_id, batch_no) DO NOTHING",
                (upload_id, batch_no, request_id, _ids_text(contact_ids)),
            ).rowcount
        if made == 1:
            # Planned now: what was stored is what was given (reading a CSV import's million
            # ids back would hold the interpreter lock for a tenth of a second).
            return BatchRecord(
                upload_id, batch_no, request_id, list(contact_ids), 0, "planned", None, None
            )
        batch = self.get_batch(upload_id, batch_no)
        assert batch is not None
        return batch

    def get_batch(self, upload_id: str, batch_no: int) -> BatchRecord | None:
        row = (
            self._conn()
            .execute(
                "SELECT * FROM batches WHERE upload_id = ? AND batch_no = ?", (upload_id, batch_no)
            )
            .fetchone()
        )
        return None if row is None else _batch(row)

    def unconfirmed_batches(self, upload_id: str) -> list[BatchRecord]:
        """Batches planned or sent but not confirmed, in batch order (to resend on resume)."""
        rows = self._conn().execute(
            "SELECT * FROM batches WHERE upload_id = ? AND state IN ('planned', 'sent', 'failed') "
            "ORDER BY batch_no",
            (upload_id,),
        )
        return [_batch(r) for r in rows]

    def mark_sent(self, list_id: str, upload_id: str, batch_no: int) -> int:
        """Record that a batch's request is about to go out; returns its attempt number."""
        now = _now()
        with self._write() as conn:
            row = conn.execute(
                "UPDATE batches SET attempts = attempts + 1, state = 'sent', sent_at = ? "
                "WHERE upload_id = ? AND batch_no = ? RETURNING attempts",
                (now, upload_id, batch_no),
            ).fetchone()
            if row is None:
                raise LedgerError(f"batch {batch_no} of upload {upload_id} was never planned")
            # The batch's ids are walked by SQLite itself (json_each), one statement that
            # runs without the interpreter lock: no Python list of a CSV import's million ids.
            conn.execute(
                "UPDATE contacts SET state = 'sent', updated_at = ? "
                "WHERE list_id = ? AND state IN ('pending', 'sent') AND contact_id IN "
                "(SELECT value FROM json_each((SELECT contact_ids FROM batches "
                "WHERE upload_id = ? AND batch_no = ?)))",
                (now, list_id, upload_id, batch_no),
            )
            return int(row["attempts"])

    def mark_confirmed(
        self,
        list_id: str,
        contact_ids: Iterable[str],
        *,
        upload_id: str | None = None,
        batch_no: int | None = None,
    ) -> None:
        """Record that the platform stored these contacts (and that their batch is done)."""
        now = _now()
        with self._write() as conn:
            conn.executemany(
                "UPDATE contacts SET state = 'confirmed', reason = NULL, updated_at = ? "
                "WHERE list_id = ? AND contact_id = ?",
                ((now, list_id, cid) for cid in contact_ids),
            )
            if upload_id is not None and batch_no is not None:
                conn.execute(
                    "UPDATE batches SET state = 'confirmed', confirmed_at = ? "
                    "WHERE upload_id = ? AND batch_no = ?",
                    (now, upload_id, batch_no),
                )

    def mark_rejected(self, list_id: str, rejected: Iterable[tuple[str, str]]) -> None:
        """Record contacts the platform refused, each with the reason it gave."""
        now = _now()
        with self._write() as conn:
            conn.executemany(
                "UPDATE contacts SET state = 'rejected', reason = ?, updated_at = ? "
                "WHERE list_id = ? AND contact_id = ?",
                ((reason, now, list_id, cid) for cid, reason in rejected),
            )

    def mark_batch_failed(self, upload_id: str, batch_no: int) -> None:
        """A batch gave up after its retries; it stays resendable on resume."""
        with self._write() as conn:
            conn.execute(
                "UPDATE batches SET state = 'failed' WHERE upload_id = ? AND batch_no = ?",
                (upload_id, batch_no),
            )

    def batch_attempts(self, upload_id: str, batch_no: int) -> int:
        """How many times the batch's request was sent (0 when planned only or unknown)."""
        row = (
            self._conn()
            .execute(
                "SELECT attempts FROM batches WHERE upload_id = ? AND batch_no = ?",
                (upload_id, batch_no),
            )
            .fetchone()
        )
        return 0 if row is None else int(row[0])

    def confirmed_hashes(self, list_id: str, contact_ids: Iterable[str]) -> dict[str, str]:
        """{contact id: payload hash} for those of *contact_ids* confirmed in *list_id*.

        A file row whose hash equals the one here is unchanged and is skipped.
        """
        return self._hashes(list_id, contact_ids, confirmed_only=True)

    def sent_hashes(self, list_id: str, contact_ids: Iterable[str]) -> dict[str, str]:
        """{contact id: payload hash} of what was last sent (or is about to be) to each of
        *contact_ids* in *list_id*, whatever its state: what the reconciliation compares the
        list's contacts with, so that it never reads the file again."""
        return self._hashes(list_id, contact_ids, confirmed_only=False)

    def _hashes(
        self, list_id: str, contact_ids: Iterable[str], *, confirmed_only: bool
    ) -> dict[str, str]:
        ids = contact_ids if isinstance(contact_ids, list | tuple) else list(contact_ids)
        state = "AND state = 'confirmed'" if confirmed_only else ""
        conn = self._conn()
        out: dict[str, str] = {}
        if len(ids) <= _IN_LIMIT:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                rows = conn.execute(
                    "SELECT contact_id, payload_hash FROM contacts WHERE list_id = ? "  # noqa: S608 (only constants and "?" are interpolated)
                    f"{state} AND contact_id IN ({marks})",
                    (list_id, *chunk),
                )
                out.update((r[0], r[1]) for r in rows)
            return out
        # Many ids: one pass over a temporary table, each row looked up in the contacts primary
        # key, beats thousands of IN queries (1M ids in about 2.5 s here). No key on the temp
        # table: building its index cost more than the duplicates it would drop. It is per
        # connection, so threads do not see each other's.
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_ids (contact_id TEXT)")
        conn.execute("BEGIN")
        try:
            conn.execute("DELETE FROM temp.wanted_ids")
            conn.executemany(
                "INSERT INTO temp.wanted_ids (contact_id) VALUES (?)",
                ((cid,) for cid in ids),
            )
            rows = conn.execute(
                "SELECT c.contact_id, c.payload_hash FROM temp.wanted_ids w "  # noqa: S608 (only constants and "?" are interpolated)
                "JOIN contacts c ON c.list_id = ? AND c.contact_id = w.contact_id "
                + ("WHERE c.state = 'confirmed'" if confirmed_only else ""),
                (list_id,),
            )
            out.update((r[0], r[1]) for r in rows)
            conn.execute("DELETE FROM temp.wanted_ids")
        finally:
            conn.execute("COMMIT")
        return out

    def contact_states(self, list_id: str, upload_id: str | None = None) -> dict[str, int]:
        """{state: count} of a list's contacts (of one upload when *upload_id* is given)."""
        sql = "SELECT state, COUNT(*) FROM contacts WHERE list_id = ?"
        params: list[str] = [list_id]
        if upload_id is not None:
            sql += " AND upload_id = ?"
            params.append(upload_id)
        return {r[0]: r[1] for r in self._conn().execute(sql + " GROUP BY state", params)}

    def forget_contacts(self, list_id: str) -> int:
        """Forget every contact the ledger knows in *list_id* (it was cleared or deleted),
        keeping the history of its uploads: a later upload sends them again instead of
        skipping them. Returns how many."""
        with self._write() as conn:
            return conn.execute("DELETE FROM contacts WHERE list_id = ?", (list_id,)).rowcount

    def contacts_in_state(
        self, list_id: str, upload_id: str, states: Iterable[ContactState]
    ) -> list[str]:
        """Ids of the upload's contacts in *states* (``pending``/``sent`` are left to send)."""
        wanted = list(states)
        for s in wanted:
            if s not in get_args(ContactState):
                raise ValueError(f"unknown contact state {s!r}")
        marks = ", ".join("?" * len(wanted))
        rows = self._conn().execute(
            "SELECT contact_id FROM contacts WHERE list_id = ? AND upload_id = ? "  # noqa: S608 (only constants and "?" are interpolated)
            f"AND state IN ({marks}) ORDER BY contact_id",
            (list_id, upload_id, *wanted),
        )
        return [r[0] for r in rows]

    def rejection_reasons(self, list_id: str, upload_id: str) -> dict[str, str]:
        rows = self._conn().execute(
            "SELECT contact_id, reason FROM contacts WHERE list_id = ? AND upload_id = ? "
            "AND state = 'rejected'",
            (list_id, upload_id),
        )
        return {r[0]: r[1] or "" for r in rows}
