"""How many threads and processes a long job uses: decided here, once.

Every place that runs work in parallel asks this module instead of keeping its own threshold:

- validation (``contacts.validate``): a file of at least :data:`PARALLEL_MIN_BYTES` is read
  ahead by a thread and checked by :func:`checking_threads` threads; a smaller one in the
  caller's thread (threads would cost more than they save);
- the reader (``files.reader``): Arrow parses a block on several cores only when nobody else
  keeps the cores busy: :func:`arrow_threads` is False under the checking threads;
- the phone slow path (``contacts.phones``): phonenumbers itself runs in
  :func:`phone_processes` worker processes for at least :data:`PHONE_POOL_MIN_VALUES` distinct
  values, in the caller otherwise;
- the front ends run the engine's long operations off their own thread (the app: a job
  thread; see docs/ARCHITECTURE.md), and never add parallelism of their own;
- the app's worker threads call :func:`yield_to_interactive` first: they (and every thread or
  process they start) give the CPU to the GUI thread when both want it.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Final

__all__ = [
    "BACKGROUND_NICE",
    "MAX_CHECKING_THREADS",
    "PARALLEL_MIN_BYTES",
    "PHONE_POOL_MIN_VALUES",
    "arrow_threads",
    "checking_threads",
    "cores",
    "phone_processes",
    "yield_to_interactive",
]

#: Checking threads at most: the in-order finishing (ids, rejects, writing) cannot keep up
#: with more.
MAX_CHECKING_THREADS: Final = 4
#: Files from this size on are validated by checking threads.
PARALLEL_MIN_BYTES: Final = 16 << 20
#: How much lower than the GUI thread the app's workers run (a nice value, Linux). At 10 a
#: worker weighs a tenth of the GUI thread in the kernel's scheduler: the window gets a core
#: at once while a validation or an upload keeps both busy, and the work loses nothing when
#: the window is idle.
BACKGROUND_NICE: Final = 10
#: Distinct values phonenumbers must answer before worker processes pay for their start.
PHONE_POOL_MIN_VALUES: Final = 2_000


def cores() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on every platform
        return max(1, os.cpu_count() or 1)


def checking_threads(
    size_bytes: int, requested: int | None = None, *, min_bytes: int = PARALLEL_MIN_BYTES
) -> int:
    """Checking threads for validating a file of *size_bytes* (1: none, check in the caller);
    *requested* caps it (None: every core, at most MAX_CHECKING_THREADS)."""
    if size_bytes < min_bytes:
        return 1
    return max(1, min(requested or cores(), MAX_CHECKING_THREADS))


def arrow_threads(checking: int) -> bool:
    """Whether Arrow's own parsing threads help a reader whose caller runs *checking* threads:
    only when it runs none (validating 1M rows with two checking threads took 5 % more CPU
    and time with them)."""
    return checking <= 1


def phone_processes(
    values: int, requested: int | None = None, *, min_values: int = PHONE_POOL_MIN_VALUES
) -> int:
    """Worker processes for phonenumbers' answers to *values* distinct values (1: none)."""
    if values < min_values:
        return 1
    return max(1, requested if requested is not None else cores())


def yield_to_interactive() -> None:
    """Lower the calling thread's CPU priority below the GUI thread's (Linux: nice
    :data:`BACKGROUND_NICE`, which the threads and processes it starts inherit; elsewhere
    nothing: Qt's thread priorities do it there, see ``ui.tasks``).

    Why: on two cores a validation runs five busy threads (read-ahead, checks, Arrow's own
    pool); at equal priority the GUI thread waited 10-40 ms in the run queue for a core on
    each event, and a further wait for the interpreter lock whose holder was itself waiting
    for a core. Idempotent; a thread already lower is left as it is.
    """
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < BACKGROUND_NICE:
            # Linux applies PRIO_PROCESS with a thread id to that thread alone.
            os.setpriority(os.PRIO_PROCESS, tid, BACKGROUND_NICE)
    except OSError:  # a sandbox that forbids it: run at the usual priority
        pass
