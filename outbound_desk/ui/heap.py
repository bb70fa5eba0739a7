"""Keep Python's cyclic garbage collector from stalling the GUI thread.

A full (generation 2) collection walks every tracked object while holding the interpreter
lock, whichever thread triggers it. Once Qt, pandas, pyarrow and the phone metadata are loaded
the app holds well over a million tracked objects, and the GUI stall benchmark caught full
collections of 45-95 ms, set off by a worker allocating (the sniff's sample records, sorting a
validation's issues) while the GUI thread waited for the lock. Almost all of those objects live
as long as the app (modules, classes, metadata), so after start-up they are moved to the
collector's permanent generation (``gc.freeze``, which CPython added for exactly this): later
collections walk only what was made since, and take a few ms.
"""

from __future__ import annotations

import gc
import logging
import sys
import time

log = logging.getLogger(__name__)

#: Seconds a thread may hold the interpreter lock while another waits (see below).
SWITCH_INTERVAL_S = 0.0002


def settle_after_startup() -> int:
    """Collect once, then freeze every object alive now; returns how many were frozen.

    Call it once, when the window is built and before the event loop runs: objects frozen
    here are never collected, so it is not for objects that come and go (files, reports).
    """
    started = time.perf_counter()
    # The GUI thread shares the interpreter lock with the upload's and the validation's
    # threads. A thread that wants the lock asks the holder to let go only after the switch
    # interval (5 ms by default), and with three busy threads a repaint that needs the lock
    # several times waited 70-130 ms (the GUI stall benchmark's upload phase). 1 ms handed it
    # over five times as often; 0.2 ms (sixth session) again: a paint calls into Python for
    # every cell and role, taking the lock each time, and beside a thread running Python
    # (phonenumbers) each take waited out the interval (open phase: 45-70 ms gaps at 1 ms,
    # 15-48 ms at 0.2 ms; validation and upload no slower in the benchmark).
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug(
        "froze %d objects out of the collector's reach in %.0f ms",
        frozen,
        (time.perf_counter() - started) * 1000,
    )
    return frozen
