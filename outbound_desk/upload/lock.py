"""A lock per contact list id, across the processes of this machine.

Two uploads by this app into one list at once would interleave their batches and make the
outcome reports lie, so an upload holds ``ListLock(list_id)`` for its whole run. The lock is an
OS file lock (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows) on a file per list id
under ``data_dir()/locks``: the OS drops it when the holding process dies, kill -9 included, so
a crash never leaves a list locked.

The lock file holds, after one padding byte (the byte that ``msvcrt`` locks, which Windows then
refuses to read), a line of JSON naming the holder, so the waiting side can say who it waits for.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from outbound_desk.base.cancel import Cancelled
from outbound_desk.config.paths import locks_dir
from outbound_desk.config.private import private_dir

__all__ = ["ListBusyError", "ListLock", "LockHolder", "LockWaitCancelledError"]


@dataclass(frozen=True)
class LockHolder:
    """Who holds a list's lock, as it wrote itself into the lock file."""

    pid: int
    started_at: datetime
    list_id: str
    list_name: str | None = None
    host: str | None = None

    def describe(self) -> str:
        started = self.started_at.astimezone().strftime("%H:%M")
        return f"pid {self.pid}, started {started}"


class ListBusyError(RuntimeError):
    """Another Outbound Desk upload holds the list's lock."""

    def __init__(self, list_id: str, holder: LockHolder | None, list_name: str | None = None):
        self.list_id = list_id
        self.holder = holder
        shown = f"{list_name} ({list_id})" if list_name else list_id
        who = f" ({holder.describe()})" if holder is not None else ""
        super().__init__(
            f"another Outbound Desk upload{who} is writing to list {shown}; wait for it to "
            "finish or stop it, then try again"
        )


class LockWaitCancelledError(ListBusyError, Cancelled):
    """Waiting for a busy list was cancelled (a :class:`Cancelled`)."""


def _lock_file_name(list_id: str) -> str:
    # List ids are UUIDs, but the name must be safe whatever arrives; the hash keeps two ids
    # that sanitise alike apart.
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", list_id)[:80]
    digest = hashlib.sha256(list_id.encode()).hexdigest()[:12]
    return f"list-{safe}-{digest}.lock"


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(handle: IO[bytes]) -> bool:
        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class ListLock:
    """An exclusive, cross-process lock on one contact list id; a context manager.

    ``timeout`` is how long ``acquire`` waits by default (None: until the list is free; 0: fail
    at once). While waiting it calls ``on_wait(holder)`` every ``poll`` seconds, with the holder
    or None when the lock file does not say, and stops with ``LockWaitCancelledError`` as soon as
    ``cancelled()`` is true. Not reentrant; one ListLock object belongs to one thread.
    """

    def __init__(
        self,
        list_id: str,
        *,
        lock_dir: Path | None = None,
        timeout: float | None = None,
        poll: float = 0.5,
        on_wait: Callable[[LockHolder | None], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        list_name: str | None = None,
    ) -> None:
        if not list_id:
            raise ValueError("a list id is required")
        self.list_id = list_id
        self.list_name = list_name
        self.path = (lock_dir if lock_dir is not None else locks_dir()) / _lock_file_name(list_id)
        self.timeout = timeout
        self.poll = poll
        self._on_wait = on_wait
        self._cancelled = cancelled
        self._handle: IO[bytes] | None = None

    def __repr__(self) -> str:
        return f"ListLock({self.list_id!r}, held={self.held})"

    @property
    def held(self) -> bool:
        return self._handle is not None

    def holder(self) -> LockHolder | None:
        """Who the lock file says holds (or last held) the lock."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(1)
                raw = json.loads(handle.read().decode("utf-8"))
            return LockHolder(
                pid=int(raw["pid"]),
                started_at=datetime.fromisoformat(raw["started_at"]),
                list_id=str(raw["list_id"]),
                list_name=raw.get("list_name"),
                host=raw.get("host"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            # Missing, being rewritten, or locked against reading (Windows): no name to give.
            return None

    def acquire(self, timeout: float | None = -1.0) -> None:
        """Take the lock, waiting up to *timeout* seconds (default: the constructor's).

        Raises ``ListBusyError`` naming the holder when the time is up.
        """
        if self._handle is not None:
            raise RuntimeError(f"{self!r} is already held by this object")
        wait = self.timeout if timeout is not None and timeout < 0 else timeout
        private_dir(self.path.parent)
        # Not "a" mode: appends ignore seek, and the holder line is rewritten in place.
        handle = os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), "r+b")
        try:
            deadline = None if wait is None else time.monotonic() + wait
            while not _try_lock(handle):
                holder = self.holder()
                if deadline is not None and time.monotonic() >= deadline:
                    raise ListBusyError(self.list_id, holder, self.list_name)
                if self._cancelled is not None and self._cancelled():
                    raise LockWaitCancelledError(self.list_id, holder, self.list_name)
                if self._on_wait is not None:
                    self._on_wait(holder)
                pause = self.poll
                if deadline is not None:
                    pause = max(0.0, min(pause, deadline - time.monotonic()))
                time.sleep(pause)
            self._write_holder(handle)
        except BaseException:
            handle.close()
            raise
        self._handle = handle

    def _write_holder(self, handle: IO[bytes]) -> None:
        info = {
            "pid": os.getpid(),
            "started_at": datetime.now(UTC).isoformat(),
            "list_id": self.list_id,
            "list_name": self.list_name,
            "host": socket.gethostname(),
        }
        handle.seek(0)
        handle.truncate()
        handle.write(b"\n" + json.dumps(info).encode("utf-8") + b"\n")
        handle.flush()

    def release(self) -> None:
        """Give the lock up. The lock file stays: deleting it would race with a waiter."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            with contextlib.suppress(OSError):
                handle.seek(1)
                handle.truncate()
                handle.flush()
            _unlock(handle)
        finally:
            handle.close()

    def __enter__(self) -> ListLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
