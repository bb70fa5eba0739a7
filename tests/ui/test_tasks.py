"""The thread helpers: results reach the GUI thread, cancel is cooperative, nothing dangles."""

from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtCore import QThread

from outbound_desk.ui.tasks import Cancelled, JobRunner, TaskRunner


@pytest.fixture
def tasks(qtbot):
    runner = TaskRunner()
    yield runner
    runner.shutdown()


@pytest.fixture
def jobs(qtbot):
    runner = JobRunner()
    yield runner
    runner.shutdown()


def test_task_result_arrives_on_gui_thread(qtbot, tasks):
    got = {}
    gui = QThread.currentThread()

    def work():
        got["worker"] = threading.get_ident()
        return 41 + 1

    def on_success(value):
        got["value"] = value
        got["on_gui"] = QThread.currentThread() is gui

    with qtbot.waitSignal(tasks.busy_changed, check_params_cb=lambda busy: not busy):
        tasks.run(work, on_success)
    assert got["value"] == 42
    assert got["on_gui"]
    assert got["worker"] != threading.get_ident()


def test_task_failure_goes_to_failure_callback(qtbot, tasks):
    errors = []
    with qtbot.waitSignal(tasks.busy_changed, check_params_cb=lambda busy: not busy):
        tasks.run(lambda: 1 / 0, lambda v: errors.append(("ok", v)), errors.append)
    assert len(errors) == 1
    assert isinstance(errors[0], ZeroDivisionError)


def test_discarded_task_callback_is_not_called(qtbot, tasks):
    seen = []
    release = threading.Event()
    with qtbot.waitSignal(tasks.busy_changed, check_params_cb=lambda busy: not busy):
        task_id = tasks.run(lambda: release.wait(5), seen.append)
        tasks.discard(task_id)
        release.set()
    assert seen == []


def test_job_reports_progress_and_result(qtbot, jobs):
    progress = []
    results = []

    def work(report, cancelled):
        for i in range(1, 4):
            report(i, 3, "counting")
        return "done"

    handle = jobs.start(
        work,
        name="count",
        on_success=results.append,
        on_progress=lambda d, t, p: progress.append((d, t, p)),
    )
    with qtbot.waitSignal(jobs.running_changed, check_params_cb=lambda n: n == 0):
        pass
    assert results == ["done"]
    # Throttled, but the first and the final step always cross.
    assert progress[0] == (1, 3, "counting")
    assert progress[-1] == (3, 3, "counting")
    assert handle is not None


def test_job_cancel_is_cooperative(qtbot, jobs):
    outcomes = []
    started = threading.Event()

    def work(report, cancelled):
        started.set()
        while not cancelled():
            threading.Event().wait(0.01)
        raise Cancelled

    handle = jobs.start(work, name="spin", on_cancelled=lambda: outcomes.append("cancelled"))
    assert started.wait(5)
    with qtbot.waitSignal(handle.ended, timeout=5000) as blocker:
        handle.cancel()
    assert blocker.args == ["cancelled"]
    assert outcomes == ["cancelled"]


def test_job_failure_is_delivered_not_lost(qtbot, jobs):
    errors = []
    handle = jobs.start(lambda r, c: {}["missing"], name="boom", on_failure=errors.append)
    with qtbot.waitSignal(handle.ended, timeout=5000) as blocker:
        pass
    assert blocker.args == ["failed"]
    assert isinstance(errors[0], KeyError)


def test_shutdown_cancels_and_waits_for_running_jobs(qtbot):
    runner = JobRunner()
    started = threading.Event()
    stopped = threading.Event()

    def work(report, cancelled):
        started.set()
        while not cancelled():
            threading.Event().wait(0.01)
        stopped.set()

    runner.start(work, name="long")
    assert started.wait(5)
    assert runner.shutdown(timeout_ms=5000)
    assert stopped.is_set()
    assert runner.start(work, name="late") is None


def _nice_of_this_thread() -> int:
    import os

    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _nice_of_a_thread_started_here() -> int:
    seen: list[int] = []
    t = threading.Thread(target=lambda: seen.append(_nice_of_this_thread()))
    t.start()
    t.join()
    return seen[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread nice values: Linux")
def test_tasks_and_jobs_run_below_the_gui_thread_and_so_do_their_threads(qtbot, tasks, jobs):
    from outbound_desk.base.workers import BACKGROUND_NICE

    gui = _nice_of_this_thread()
    got: dict[str, tuple[int, int]] = {}
    with qtbot.waitSignal(tasks.busy_changed, check_params_cb=lambda busy: not busy):
        tasks.run(
            lambda: (_nice_of_this_thread(), _nice_of_a_thread_started_here()),
            lambda v: got.__setitem__("task", v),
        )
    jobs.start(
        lambda report, cancelled: (_nice_of_this_thread(), _nice_of_a_thread_started_here()),
        name="nice",
        on_success=lambda v: got.__setitem__("job", v),
    )
    with qtbot.waitSignal(jobs.running_changed, check_params_cb=lambda n: n == 0):
        pass
    want = max(gui, BACKGROUND_NICE)
    assert got == {"task": (want, want), "job": (want, want)}
    assert _nice_of_this_thread() == gui  # the GUI thread itself is left as it was
