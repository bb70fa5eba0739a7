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
  thread; see docs/ARCHITECTURE.md), and never add parallelism of their own.
"""

from __future__ import annotations

import os
from typing import Final

__all__ = [
    "MAX_CHECKING_THREADS",
    "PARALLEL_MIN_BYTES",
    "PHONE_POOL_MIN_VALUES",
    "arrow_threads",
    "checking_threads",
    "cores",
    "phone_processes",
]

#: Checking threads at most: the in-order finishing (ids, rejects, writing) cannot keep up
#: with more.
MAX_CHECKING_THREADS: Final = 4
#: Files from this size on are validated by checking threads.
PARALLEL_MIN_BYTES: Final = 16 << 20
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
