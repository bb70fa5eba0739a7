"""The per-upload row journal: one line per input row, kept until the report is written.

The ledger (``ledger.py``) knows contacts per list across uploads; the outcome report needs
more: every input row of *this* upload (valid or not), and whether each contact existed in the
list before this upload first touched it, which decides "created" against "updated" and must
survive a crash between deciding and sending. That is this SQLite file, one per upload, next to
the ledger (``<ledger dir>/journals/<upload_id>.sqlite``), so a resumed run finds it again.

Row states: ``pending`` (planned, not sent), ``sent`` (about to be or being sent; ``existed``
is set), then a final :class:`~outbound_desk.upload.model.Outcome` value.

Only *planned* rows (the valid ones the upload sends) follow their contact id: a row that
validation rejected or the duplicate policy dropped keeps its outcome even when another row of
the file carries the same id and is sent, so the report counts what the list holds.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from outbound_desk.config.private import private_dir, private_file
from outbound_desk.upload.model import Outcome

SENT = "sent"
_CHUNK = 500  # ids per IN (...) query; well under SQLite's variable limit


class Journal:
    """One upload's rows, their contact ids, states and reasons.

    Thread-safe (one connection behind a lock): the batch workers record what the platform
    answered the moment it answers, so that a crash cannot lose a confirmation that the
    platform already acted on.
    """

    def __init__(self, path: Path) -> None:
        # Every row's contact id: readable by this user only, like the ledger.
        private_file(private_dir(path.parent) / path.name)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS rows (
                record INTEGER PRIMARY KEY,
                contact_id TEXT,
                state TEXT NOT NULL,
                reason TEXT NOT NULL DEFAULT '',
                existed INTEGER,
                planned INTEGER NOT NULL DEFAULT 1
            );
            CREATE INDEX IF NOT EXISTS rows_contact ON rows (contact_id);
            """
        )
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(rows)")}
        if "planned" not in columns:  # a journal of an upload begun before the column existed
            self._db.execute("ALTER TABLE rows ADD COLUMN planned INTEGER NOT NULL DEFAULT 1")

    @staticmethod
    def path_for(ledger_path: Path, upload_id: str) -> Path:
        return ledger_path.parent / "journals" / f"{upload_id}.sqlite"

    @classmethod
    def for_upload(cls, ledger_path: Path, upload_id: str) -> Journal:
        return cls(cls.path_for(ledger_path, upload_id))

    @classmethod
    def remove(cls, ledger_path: Path, upload_id: str) -> None:
        """Delete an upload's journal (with SQLite's -wal and -shm files), if there is one."""
        path = cls.path_for(ledger_path, upload_id)
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            p.unlink(missing_ok=True)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ meta
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._execute_meta(key, value)

    def _execute_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # ------------------------------------------------------------------ rows
    def add_rows(self, rows: Iterable[tuple[int, str | None, str, str]]) -> None:
        """Record the rows of a chunk ``(record, contact_id, state, reason)``: ``pending``
        ones are planned (sent later), any other state is their final outcome.

        Rows already journalled keep what they have: a resumed run re-plans the same file and
        must not forget what the crashed run decided or sent.
        """
        pending = str(Outcome.PENDING)
        with self._tx():
            self._db.executemany(
                "INSERT OR IGNORE INTO rows (record, contact_id, state, reason, planned) "
                "VALUES (?, ?, ?, ?, ?)",
                ((rec, cid, state, why, int(state == pending)) for rec, cid, state, why in rows),
            )

    def states(self, contact_ids: Sequence[str]) -> dict[str, str]:
        """``contact_id -> state`` for the given ids that are journalled (a dict of strings:
        nothing per row for the collector to track)."""
        out: dict[str, str] = {}
        with self._lock:
            self._states_into(out, contact_ids)
        return out

    def _states_into(self, out: dict[str, str], contact_ids: Sequence[str]) -> None:
        for start in range(0, len(contact_ids), _CHUNK):
            part = contact_ids[start : start + _CHUNK]
            marks = ",".join("?" * len(part))
            for cid, state in self._db.execute(
                f"SELECT contact_id, state FROM rows WHERE planned = 1 "  # noqa: S608
                f"AND contact_id IN ({marks})",
                part,
            ):
                out[cid] = state

    def mark_sent(self, existed: dict[str, bool]) -> None:
        """Before a send: these ids are going out, and whether each was in the list before.

        An id whose ``existed`` was decided by an earlier (crashed) run keeps that decision:
        by now the earlier send may have created it.
        """
        with self._tx():
            self._db.executemany(
                "UPDATE rows SET state = ?, existed = COALESCE(existed, ?) "
                "WHERE contact_id = ? AND planned = 1",
                ((SENT, int(flag), cid) for cid, flag in existed.items()),
            )

    def set_outcome(self, items: Iterable[tuple[str, Outcome | str, str]]) -> None:
        """Final outcome per contact id: ``(contact_id, outcome, reason)``."""
        with self._tx():
            self._db.executemany(
                "UPDATE rows SET state = ?, reason = ? WHERE contact_id = ? AND planned = 1",
                ((str(o), reason, cid) for cid, o, reason in items),
            )

    def confirm(self, contact_ids: Iterable[str]) -> None:
        """The platform stored these: created or updated according to ``existed``."""
        with self._tx():
            self._db.executemany(
                "UPDATE rows SET reason = '', state = CASE WHEN existed THEN ? ELSE ? END "
                "WHERE contact_id = ? AND planned = 1",
                ((str(Outcome.UPDATED), str(Outcome.CREATED), cid) for cid in contact_ids),
            )

    def pages_in_state(self, states: Sequence[str], page: int = 10_000) -> Iterator[list[str]]:
        """The planned rows' contact ids in *states*, in input order, *page* at a time (the
        lock is held per page, so the batch workers keep recording meanwhile)."""
        marks = ",".join("?" * len(states))
        last = -1
        while True:
            with self._lock:
                rows = self._db.execute(
                    f"SELECT record, contact_id FROM rows WHERE state IN ({marks}) "  # noqa: S608
                    "AND contact_id IS NOT NULL AND planned = 1 AND record > ? "
                    "ORDER BY record LIMIT ?",
                    (*states, last, page),
                ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [str(r[1]) for r in rows]

    def ids_in_state(self, *states: str) -> list[str]:
        marks = ",".join("?" * len(states))
        with self._lock:
            return self._ids(marks, states)

    def _ids(self, marks: str, states: tuple[str, ...]) -> list[str]:
        return [
            str(r[0])
            for r in self._db.execute(
                f"SELECT contact_id FROM rows WHERE state IN ({marks}) "  # noqa: S608
                "AND contact_id IS NOT NULL AND planned = 1 ORDER BY record",
                states,
            )
        ]

    def counts(self) -> dict[str, int]:
        with self._lock:
            return self._counts()

    def _counts(self) -> dict[str, int]:
        return {
            str(state): int(n)
            for state, n in self._db.execute("SELECT state, COUNT(*) FROM rows GROUP BY state")
        }

    def iter_rows(self) -> Iterator[tuple[int, str | None, str, str]]:
        """Every row in input order: ``(record, contact_id, state, reason)``."""
        last = -1
        while True:
            # Pages by record number (the key), so memory stays bounded and the lock is held
            # only per page.
            with self._lock:
                page = self._db.execute(
                    "SELECT record, contact_id, state, reason FROM rows WHERE record > ? "
                    "ORDER BY record LIMIT 10000",
                    (last,),
                ).fetchall()
            if not page:
                return
            yield from page
            last = page[-1][0]

    def _tx(self) -> _Transaction:
        return _Transaction(self._db, self._lock)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK``) around a block, under the lock."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            self._db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self._lock.release()
