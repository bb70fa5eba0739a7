"""Polling with backoff for the platform's asynchronous states (new lists, imports, exports)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from outbound_desk.base.cancel import CancelCheck as CancelCheck
from outbound_desk.base.cancel import Progress as Progress
from outbound_desk.genesys.errors import Cancelled, NotReady

T = TypeVar("T")


def poll_until(
    check: Callable[[], T | None],
    *,
    what: str,
    timeout_s: float,
    sleep: Callable[[float], None],
    cancelled: CancelCheck | None = None,
    first_delay_s: float = 0.2,
    max_delay_s: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call *check* until it returns something, backing off from *first_delay_s* to *max_delay_s*.

    Raises :class:`NotReady` after *timeout_s* and :class:`Cancelled` when *cancelled()*.
    """
    deadline = clock() + timeout_s
    delay = first_delay_s
    while True:
        if cancelled is not None and cancelled():
            raise Cancelled(f"cancelled while waiting for {what}")
        result = check()
        if result is not None:
            return result
        remaining = deadline - clock()
        if remaining <= 0:
            raise NotReady(f"{what} was not ready after {timeout_s:g} s")
        sleep(min(delay, remaining))
        delay = min(max_delay_s, delay * 1.6)
