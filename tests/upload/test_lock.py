from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from outbound_desk.config import paths
from outbound_desk.upload.lock import (
    ListBusyError,
    ListLock,
    LockHolder,
    LockWaitCancelledError,
)

REPO = Path(__file__).resolve().parents[2]

# A second process that takes the lock, says so, and releases it when told (or is killed).
_HOLDER = textwrap.dedent(
    """
    import sys
    from outbound_desk.upload.lock import ListLock

    lock = ListLock(sys.argv[1], list_name="Spring campaign")
    lock.acquire(timeout=10)
    print("held", flush=True)
    sys.stdin.readline()
    lock.release()
    print("released", flush=True)
    """
)


@pytest.fixture
def holder_process() -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, "list-42"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},  # OUTBOUND_DESK_DATA_DIR comes along
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


def test_lock_files_live_under_data_dir_with_safe_names() -> None:
    lock = ListLock("../../etc/passwd x")
    assert lock.path.parent == paths.locks_dir()
    assert re.fullmatch(r"list-[A-Za-z0-9._-]+\.lock", lock.path.name)
    assert "/" not in lock.path.name
    assert ListLock("a/b").path != ListLock("a_b").path  # sanitising alike, still apart


def test_context_manager_and_release(tmp_path: Path) -> None:
    with ListLock("L1", lock_dir=tmp_path) as lock:
        assert lock.held
        info = lock.holder()
        assert info is not None
        assert info.pid == os.getpid()
        assert info.list_id == "L1"
    assert not lock.held
    with ListLock("L1", lock_dir=tmp_path):  # free again
        pass


def test_a_second_holder_in_this_process_is_refused_too(tmp_path: Path) -> None:
    with ListLock("L1", lock_dir=tmp_path), ListLock("L2", lock_dir=tmp_path):
        other = ListLock("L1", lock_dir=tmp_path, list_name="Spring")
        with pytest.raises(ListBusyError) as info:
            other.acquire(timeout=0)
        assert f"pid {os.getpid()}" in str(info.value)
        assert "Spring (L1)" in str(info.value)
        assert not other.held


def test_another_process_holds_the_list_then_kill_9_frees_it(
    holder_process: subprocess.Popen[str],
) -> None:
    lock = ListLock("list-42")
    with pytest.raises(ListBusyError) as info:
        lock.acquire(timeout=0)
    message = str(info.value)
    assert f"pid {holder_process.pid}" in message
    assert re.search(r"started \d\d:\d\d\)", message)
    assert "is writing to list list-42" in message
    assert info.value.holder is not None
    assert info.value.holder.list_name == "Spring campaign"

    with pytest.raises(ListBusyError):
        lock.acquire(timeout=0.3)  # waits, then gives up

    holder_process.send_signal(signal.SIGKILL)
    holder_process.wait()
    lock.acquire(timeout=10)  # the OS dropped the dead holder's lock
    try:
        now_held_by = lock.holder()
        assert now_held_by is not None
        assert (now_held_by.pid, now_held_by.list_id) == (os.getpid(), "list-42")
    finally:
        lock.release()


def test_a_waiter_reports_the_holder_and_gets_the_lock_when_released(
    holder_process: subprocess.Popen[str],
) -> None:
    seen: list[LockHolder | None] = []

    def on_wait(holder: LockHolder | None) -> None:
        seen.append(holder)
        if len(seen) == 3:  # after a few polls, the other upload finishes
            assert holder_process.stdin is not None
            holder_process.stdin.write("done\n")
            holder_process.stdin.flush()

    with ListLock("list-42", timeout=20, poll=0.05, on_wait=on_wait) as lock:
        assert lock.held
    assert len(seen) >= 3
    assert seen[0] is not None
    assert seen[0].pid == holder_process.pid
    assert holder_process.stdout is not None
    assert holder_process.stdout.readline().strip() == "released"


def test_waiting_can_be_cancelled(holder_process: subprocess.Popen[str]) -> None:
    polls = []
    lock = ListLock("list-42", poll=0.01, on_wait=polls.append, cancelled=lambda: len(polls) >= 2)
    with pytest.raises(LockWaitCancelledError):
        lock.acquire()
    assert not lock.held
    assert len(polls) == 2
