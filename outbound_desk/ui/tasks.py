"""Running work off the GUI thread.

Two shapes, and nothing else in the app starts threads:

- :class:`TaskRunner` runs short requests (a page of lists, one list's details) on a private
  thread pool and delivers the result or the exception to callbacks on the GUI thread
  (STYLE rule 6).
- :class:`JobRunner` runs long jobs (clear and wait, export, create and wait) as one worker
  :class:`Job` QObject per job moved to its own QThread (STYLE rule 5), with cooperative cancel
  (rule 7), throttled progress (rule 10) and counts as ``Signal(object)`` (rule 9).

The work itself is a plain function that never sees Qt: ``fn()`` for a task,
``fn(progress, cancelled)`` for a job, matching the Qt-free packages' callback style (rule 2).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal, Slot

from outbound_desk.base.cancel import Cancelled as _Cancelled
from outbound_desk.base.cancel import Progress
from outbound_desk.base.workers import yield_to_interactive

log = logging.getLogger(__name__)

SuccessCallback = Callable[[Any], None]
FailureCallback = Callable[[BaseException], None]
ProgressCallback = Progress  # base.cancel's: progress(done, total, phase)


#: Raised inside a job when the user cancelled it; the job ends quietly (the one Cancelled of
#: every layer, so a job stopped by the engine ends quietly too).
Cancelled = _Cancelled


class _Runnable(QRunnable):
    """One task on the pool; reports back through the runner's signal, never to a widget."""

    def __init__(self, runner: TaskRunner, task_id: int, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._runner = runner
        self._task_id = task_id
        self._fn = fn
        self.setAutoDelete(True)

    def run(self) -> None:
        yield_to_interactive()
        try:
            result = self._fn()
        except BaseException as exc:  # everything is caught here and handed to the GUI (rule 8)
            self._runner._task_done.emit(self._task_id, False, exc)
        else:
            self._runner._task_done.emit(self._task_id, True, result)


class TaskRunner(QObject):
    """Runs short blocking calls on a thread pool; callbacks arrive on the GUI thread.

    Signals: ``busy_changed(bool)`` when the first task starts or the last one ends, so a view
    can show a loading indicator.
    """

    busy_changed = Signal(bool)
    # (task id, ok, result or exception); emitted from pool threads, received by a slot here.
    _task_done = Signal(object, bool, object)

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        # Below the GUI thread (Windows, macOS; on Linux the run below does it: base.workers).
        self._pool.setThreadPriority(QThread.Priority.LowPriority)
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[SuccessCallback | None, FailureCallback | None]] = {}
        self._closed = False
        self._task_done.connect(self._on_task_done)

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def run(
        self,
        fn: Callable[[], Any],
        on_success: SuccessCallback | None = None,
        on_failure: FailureCallback | None = None,
    ) -> int:
        """Run ``fn()`` on the pool; return a task id. Does nothing after :meth:`shutdown`."""
        if self._closed:
            return 0
        task_id = next(self._ids)
        was_busy = self.busy
        self._pending[task_id] = (on_success, on_failure)
        if not was_busy:
            self.busy_changed.emit(True)
        self._pool.start(_Runnable(self, task_id, fn))
        return task_id

    def discard(self, task_id: int) -> None:
        """Forget a task's callbacks: its answer is stale (a newer page was asked for)."""
        if task_id in self._pending:
            self._pending[task_id] = (None, None)

    @Slot(object, bool, object)
    def _on_task_done(self, task_id: int, ok: bool, payload: Any) -> None:
        callbacks = self._pending.pop(task_id, None)
        if not self._pending:
            self.busy_changed.emit(False)
        if callbacks is None or self._closed:
            return
        on_success, on_failure = callbacks
        if ok:
            if on_success is not None:
                on_success(payload)
        elif on_failure is not None:
            on_failure(payload)
        else:
            log.error("background task failed", exc_info=payload)

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until every task has returned (their callbacks are still queued)."""
        return bool(self._pool.waitForDone(timeout_ms))

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Drop every pending callback and wait for the pool threads to finish."""
        self._closed = True
        self._pending.clear()
        done = self.wait(timeout_ms)
        if not done:
            log.warning("background tasks still running after %d ms", timeout_ms)
        return done


class Job(QObject):
    """A long operation run by one worker thread.

    Wraps a Qt-free function ``fn(progress, cancelled)``. Signals (emitted on the worker
    thread; :class:`JobRunner` relays them to the GUI thread):
    ``progress_changed(done, total, phase)`` throttled to at most every 100 ms unless the phase
    changes or the work completes; ``succeeded(result)``; ``failed(exception)``;
    ``cancelled_()`` when the function stopped because it was cancelled; ``finished()`` last.
    """

    progress_changed = Signal(object, object, str)
    succeeded = Signal(object)
    failed = Signal(object)
    was_cancelled = Signal()
    finished = Signal()

    #: Progress crossing threads at most this often (STYLE rule 10).
    PROGRESS_INTERVAL_S = 0.1

    def __init__(self, fn: Callable[[ProgressCallback, Callable[[], bool]], Any], name: str):
        super().__init__()
        self.name = name
        self._fn = fn
        self._cancel = threading.Event()
        self._last_emit = 0.0
        self._last_phase = ""

    def cancel(self) -> None:
        """Ask the job to stop at its next check (never terminates the thread)."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def _progress(self, done: int, total: int, phase: str) -> None:
        now = time.monotonic()
        if (
            phase != self._last_phase
            or done >= total
            or now - self._last_emit >= self.PROGRESS_INTERVAL_S
        ):
            self._last_emit = now
            self._last_phase = phase
            self.progress_changed.emit(done, total, phase)

    @Slot()
    def run(self) -> None:
        yield_to_interactive()
        try:
            result = self._fn(self._progress, self._cancel.is_set)
        except Cancelled:
            self.was_cancelled.emit()
        except BaseException as exc:  # caught and reported, never lost (rule 8)
            if self._cancel.is_set():
                self.was_cancelled.emit()
            else:
                self.failed.emit(exc)
        else:
            if self._cancel.is_set():
                self.was_cancelled.emit()
            else:
                self.succeeded.emit(result)
        finally:
            self.finished.emit()


class JobHandle(QObject):
    """The GUI-thread side of one running :class:`Job`: relays its signals to callbacks.

    Signals: ``progress_changed(done, total, phase)``, ``ended(outcome)`` where outcome is
    ``"succeeded"``, ``"failed"`` or ``"cancelled"``.
    """

    progress_changed = Signal(object, object, str)
    ended = Signal(str)

    def __init__(
        self,
        job: Job,
        on_success: SuccessCallback | None,
        on_failure: FailureCallback | None,
        on_progress: ProgressCallback | None,
        on_cancelled: Callable[[], None] | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.job = job
        self.name = job.name
        self._on_success = on_success
        self._on_failure = on_failure
        self._on_progress = on_progress
        self._on_cancelled = on_cancelled

    def cancel(self) -> None:
        self.job.cancel()

    @Slot(object, object, str)
    def _on_job_progress_changed(self, done: Any, total: Any, phase: str) -> None:
        if self._on_progress is not None:
            self._on_progress(int(done), int(total), phase)
        self.progress_changed.emit(done, total, phase)

    @Slot(object)
    def _on_job_succeeded(self, result: Any) -> None:
        if self._on_success is not None:
            self._on_success(result)
        self.ended.emit("succeeded")

    @Slot(object)
    def _on_job_failed(self, exc: BaseException) -> None:
        if self._on_failure is not None:
            self._on_failure(exc)
        else:
            log.error("job %s failed", self.name, exc_info=exc)
        self.ended.emit("failed")

    @Slot()
    def _on_job_was_cancelled(self) -> None:
        if self._on_cancelled is not None:
            self._on_cancelled()
        self.ended.emit("cancelled")


class JobRunner(QObject):
    """Starts each :class:`Job` on its own QThread and owns their lifetimes until they end.

    Signals: ``running_changed(int)`` with the number of jobs still running.
    """

    running_changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[QThread, JobHandle] = {}
        self._closed = False

    @property
    def running(self) -> list[JobHandle]:
        return list(self._running.values())

    def start(
        self,
        fn: Callable[[ProgressCallback, Callable[[], bool]], Any],
        *,
        name: str,
        on_success: SuccessCallback | None = None,
        on_failure: FailureCallback | None = None,
        on_progress: ProgressCallback | None = None,
        on_cancelled: Callable[[], None] | None = None,
    ) -> JobHandle | None:
        """Run ``fn(progress, cancelled)`` on a new thread; None once shut down."""
        if self._closed:
            return None
        job = Job(fn, name)
        handle = JobHandle(job, on_success, on_failure, on_progress, on_cancelled, self)
        thread = QThread()
        thread.setObjectName(f"job:{name}")
        job.moveToThread(thread)
        job.progress_changed.connect(handle._on_job_progress_changed)
        job.succeeded.connect(handle._on_job_succeeded)
        job.failed.connect(handle._on_job_failed)
        job.was_cancelled.connect(handle._on_job_was_cancelled)
        thread.started.connect(job.run)
        job.finished.connect(thread.quit)
        # No job.deleteLater here: deleting the Python-made worker in its own thread while
        # other threads run pandas/pyarrow corrupts memory (segfaults, PySide6 6.10 and 6.11);
        # the Job is freed with its handle, on the GUI thread.
        thread.finished.connect(self._on_thread_finished)
        self._running[thread] = handle
        thread.start(QThread.Priority.LowPriority)
        self.running_changed.emit(len(self._running))
        return handle

    @Slot()
    def _on_thread_finished(self) -> None:
        for thread in [t for t in self._running if t.isFinished()]:
            handle = self._running.pop(thread)
            handle.deleteLater()
            thread.deleteLater()
        self.running_changed.emit(len(self._running))

    def cancel_all(self) -> None:
        for handle in self._running.values():
            handle.cancel()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel every job and wait for its thread; True when all have stopped."""
        self._closed = True
        self.cancel_all()
        ok = True
        for thread in list(self._running):
            thread.quit()
            if not thread.wait(timeout_ms):
                log.warning("job thread %s did not stop in time", thread.objectName())
                ok = False
        for thread in [t for t in self._running if t.isFinished()]:
            self._running.pop(thread).deleteLater()
        return ok
