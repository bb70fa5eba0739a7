"""Parallelism is decided in one place (base.workers)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from outbound_desk.base import workers


def test_small_files_are_checked_in_the_callers_thread() -> None:
    assert workers.checking_threads(workers.PARALLEL_MIN_BYTES - 1) == 1
    assert workers.checking_threads(10**9, 2) == 2
    assert workers.checking_threads(10**9, 64) == workers.MAX_CHECKING_THREADS
    assert workers.checking_threads(10, 3, min_bytes=0) == 3


def test_phonenumbers_gets_processes_only_for_many_values() -> None:
    assert workers.phone_processes(workers.PHONE_POOL_MIN_VALUES - 1, 8) == 1
    assert workers.phone_processes(workers.PHONE_POOL_MIN_VALUES, 3) == 3
    assert workers.phone_processes(10, 3, min_values=5) == 3
    assert workers.cores() >= 1
    assert workers.arrow_threads(1)
    assert not workers.arrow_threads(2)


def test_validation_and_phones_take_their_defaults_from_it() -> None:
    from outbound_desk.contacts import PhoneNormaliser, ValidationOptions

    assert ValidationOptions().parallel_min_bytes == workers.PARALLEL_MIN_BYTES
    with PhoneNormaliser("US") as n:
        assert (n.workers, n.pool_threshold) == (workers.cores(), workers.PHONE_POOL_MIN_VALUES)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread nice values: Linux")
def test_yield_to_interactive_lowers_only_the_calling_thread() -> None:
    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    mine = nice()
    seen: list[int] = []

    def worker() -> None:
        workers.yield_to_interactive()
        workers.yield_to_interactive()  # twice: no further down
        seen.append(nice())

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == [max(mine, workers.BACKGROUND_NICE)]
    assert nice() == mine
