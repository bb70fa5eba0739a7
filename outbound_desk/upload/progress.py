"""Counting what an upload did and telling the caller, throttled.

The tracker is touched only by the thread that runs the upload (workers report back through
futures), so it needs no lock; the snapshots it hands out are frozen and can cross threads.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from outbound_desk.upload.model import Phase, UploadProgress

ProgressCallback = Callable[[UploadProgress], None]

#: Emit at most this often, unless something worth showing at once happened (a new phase).
MIN_INTERVAL_S = 0.1
#: The rate shown is over this trailing window, so a pause or a 429 wait shows quickly.
RATE_WINDOW_S = 10.0


class ProgressTracker:
    """Keeps the counters of one upload and emits :class:`UploadProgress` snapshots."""

    def __init__(
        self,
        callback: ProgressCallback | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        counters: Callable[[], tuple[int, int, int]] | None = None,
    ) -> None:
        self._callback = callback
        self._clock = clock
        self._counters = counters
        self._base_counters = counters() if counters else (0, 0, 0)
        self._started = clock()
        self._last_emit = float("-inf")
        self._samples: deque[tuple[float, int]] = deque()
        self.state = UploadProgress(phase=Phase.VALIDATING)

    @property
    def elapsed_s(self) -> float:
        return self._clock() - self._started

    def phase(self, phase: Phase, message: str = "") -> None:
        self.state = replace(self.state, phase=phase, message=message, paused=False)
        self.emit(force=True)

    def message(self, message: str, *, force: bool = True) -> None:
        self.state = replace(self.state, message=message)
        self.emit(force=force)

    def add(
        self,
        *,
        planned: int = 0,
        sent: int = 0,
        confirmed: int = 0,
        rejected: int = 0,
        unchanged: int = 0,
        dropped: int = 0,
    ) -> None:
        s = self.state
        self.state = replace(
            s,
            planned=s.planned + planned,
            sent=s.sent + sent,
            confirmed=s.confirmed + confirmed,
            rejected=s.rejected + rejected,
            unchanged=s.unchanged + unchanged,
            dropped=s.dropped + dropped,
        )
        if confirmed:
            self._samples.append((self._clock(), self.state.confirmed))
        self.emit()

    def importing(self, percent: float, message: str) -> None:
        """The platform's import moved: *percent* (0-100) drives the bar while rows are
        confirmed only at the end."""
        self.state = replace(self.state, import_percent=max(0.0, min(100.0, percent)))
        self.message(message, force=False)

    def reset_counts(self) -> None:
        """Zero the row counts (not the request counters) before the rows are walked again."""
        self.state = replace(
            self.state,
            planned=0,
            sent=0,
            confirmed=0,
            rejected=0,
            unchanged=0,
            dropped=0,
            eta_s=None,
        )
        self._samples.clear()
        self.emit(force=True)

    def set_paused(self, paused: bool) -> None:
        if paused != self.state.paused:
            self.state = replace(
                self.state, paused=paused, message="paused" if paused else "resumed"
            )
            self.emit(force=True)

    def emit(self, *, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._last_emit < MIN_INTERVAL_S:
            return
        self._last_emit = now
        self.state = self._refresh(now)
        if self._callback is not None:
            self._callback(self.state)

    def _refresh(self, now: float) -> UploadProgress:
        requests, retries, limited = self.state.requests, self.state.retries, 0
        if self._counters is not None:
            r, t, lim = self._counters()
            b = self._base_counters
            requests, retries, limited = r - b[0], t - b[1], lim - b[2]
        else:
            limited = self.state.rate_limited
        # The base is the last sample at least a window old (or the start): the rate is what
        # was confirmed since then, so a stall shows as a falling rate within one window.
        horizon = now - RATE_WINDOW_S
        while len(self._samples) >= 2 and self._samples[1][0] <= horizon:
            self._samples.popleft()
        base_t, base_c = self._started, 0
        if self._samples and self._samples[0][0] <= horizon:
            base_t, base_c = self._samples[0]
        rate = (self.state.confirmed - base_c) / (now - base_t) if now > base_t else 0.0
        s = self.state
        remaining = s.rows - s.done
        eta = remaining / rate if rate > 0 and remaining >= 0 else None
        return replace(
            s,
            requests=requests,
            retries=retries,
            rate_limited=limited,
            rate_per_s=rate,
            eta_s=eta,
            elapsed_s=now - self._started,
        )
