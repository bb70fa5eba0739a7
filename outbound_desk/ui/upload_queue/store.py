"""The upload queue's state, without Qt: which jobs wait, which run, and what each one did.

The rule the queue keeps: jobs for the same contact list run one at a time, in the order they
were queued; jobs for different lists may run side by side (up to ``max_running``).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

QUEUED = "queued"
RUNNING = "running"
PAUSED = "paused"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
ENDED = (DONE, FAILED, CANCELLED)


@dataclass
class QueuedUpload:
    """One upload the user asked for, from queueing to its end.

    ``progress`` is the latest ``UploadProgress`` snapshot: the worker thread replaces it (one
    reference assignment), the GUI reads it from a repaint timer. ``cancel``/``pause`` are the
    cooperative flags the engine checks between batches.
    """

    job_id: int
    title: str  # the file's name
    list_key: str  # see UploadQueueStore.key_of
    list_name: str
    transport: str
    options: Any  # outbound_desk.upload.UploadOptions
    #: The preview's scanned ``files.FileProfile`` (detection overrides applied), handed to
    #: the engine so that it neither sniffs nor scans the file again; None: it does.
    prepared: Any = None
    #: The preview validation's ``contacts.DuplicatePlan`` (policies last/reject), handed to
    #: the engine so that it does not read the file for the duplicate ids again; None: it does.
    duplicate_plan: Any = None
    state: str = QUEUED
    progress: Any = None
    result: Any = None
    error: str | None = None
    queued_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    ended_at: float | None = None
    cancel_flag: threading.Event = field(default_factory=threading.Event)
    pause_flag: threading.Event = field(default_factory=threading.Event)

    def cancelled(self) -> bool:
        return self.cancel_flag.is_set()

    def paused(self) -> bool:
        return self.pause_flag.is_set()

    def elapsed_s(self, now: float | None = None) -> float:
        if self.started_at is None:
            return 0.0
        end = self.ended_at if self.ended_at is not None else (now or time.monotonic())
        return end - self.started_at


class UploadQueueStore:
    """Every upload of this session, in queue order, with the per-list serialisation rule."""

    def __init__(self, *, max_running: int = 2, clock: Callable[[], float] = time.monotonic):
        self.max_running = max_running
        self._clock = clock
        self._ids = itertools.count(1)
        self.jobs: list[QueuedUpload] = []

    def add(
        self,
        *,
        title: str,
        list_key: str,
        list_name: str,
        transport: str,
        options: Any,
        prepared: Any = None,
        duplicate_plan: Any = None,
    ) -> QueuedUpload:
        job = QueuedUpload(
            next(self._ids),
            title,
            list_key,
            list_name,
            transport,
            options,
            prepared=prepared,
            duplicate_plan=duplicate_plan,
            queued_at=self._clock(),
        )
        self.jobs.append(job)
        return job

    def get(self, job_id: int) -> QueuedUpload | None:
        return next((j for j in self.jobs if j.job_id == job_id), None)

    def active(self) -> list[QueuedUpload]:
        return [j for j in self.jobs if j.state in (RUNNING, PAUSED)]

    def waiting_for(self, job: QueuedUpload) -> QueuedUpload | None:
        """The earlier job on the same list that *job* waits for, if any."""
        for other in self.jobs:
            if other is job:
                return None
            if other.list_key == job.list_key and other.state not in ENDED:
                return other
        return None

    def startable(self) -> list[QueuedUpload]:
        """Queued jobs that may start now: first of their list, within ``max_running``."""
        free = self.max_running - len(self.active())
        out: list[QueuedUpload] = []
        busy = {j.list_key for j in self.active()}
        for job in self.jobs:
            if free <= 0:
                break
            if job.state != QUEUED or job.list_key in busy:
                continue
            if job.cancelled():
                continue
            busy.add(job.list_key)  # later jobs on this list wait for this one
            out.append(job)
            free -= 1
        return out

    def mark_started(self, job: QueuedUpload) -> None:
        job.state = RUNNING
        job.started_at = self._clock()

    def mark_ended(
        self, job: QueuedUpload, state: str, *, result: Any = None, error: str | None = None
    ) -> None:
        assert state in ENDED
        job.state = state
        job.result = result
        job.error = error
        job.ended_at = self._clock()

    def cancel(self, job: QueuedUpload) -> None:
        """Cancel *job*: a queued one ends at once, a running one at its next check."""
        job.cancel_flag.set()
        job.pause_flag.clear()  # a paused job must wake up to notice the cancel
        if job.state == QUEUED:
            self.mark_ended(job, CANCELLED)

    def pause(self, job: QueuedUpload) -> None:
        if job.state == RUNNING:
            job.pause_flag.set()
            job.state = PAUSED

    def resume(self, job: QueuedUpload) -> None:
        if job.state == PAUSED:
            job.pause_flag.clear()
            job.state = RUNNING

    @staticmethod
    def key_of(list_id: str | None, list_name: str) -> str:
        """The serialisation key: the list id when known, else its name (names are unique
        in an org, compared without case as the platform does)."""
        return f"id:{list_id}" if list_id else f"name:{list_name.casefold()}"
