"""The per-token request budget the platform enforces (300 per 60 s by default)."""

from __future__ import annotations

import dataclasses
import math
import threading
import time


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The limiter's answer for one request, and what the ``inin-ratelimit-*`` headers say."""

    allowed: bool
    count: int
    limit: int
    reset_s: int

    def headers(self) -> dict[str, str]:
        return {
            "inin-ratelimit-count": str(self.count),
            "inin-ratelimit-allowed": str(self.limit),
            "inin-ratelimit-reset": str(self.reset_s),
        }


class RateLimiter:
    """Fixed windows per key (the token): a window opens on the key's first request.

    The real service counts per token per minute and answers 429 with ``Retry-After`` once the
    budget is spent; a fixed window reproduces that with predictable reset times.
    """

    def __init__(self, limit: int, window_s: float) -> None:
        self._lock = threading.Lock()
        self._limit = limit
        self._window = window_s
        self._windows: dict[str, tuple[float, int]] = {}

    def configure(self, limit: int, window_s: float) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("a rate limit needs at least 1 request and a window > 0")
        with self._lock:
            self._limit = limit
            self._window = window_s
            self._windows.clear()

    @property
    def limit(self) -> tuple[int, float]:
        with self._lock:
            return self._limit, self._window

    def hit(self, key: str) -> Verdict:
        now = time.monotonic()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self._window:
                start, count = now, 0
            reset = max(1, math.ceil(start + self._window - now))
            if count >= self._limit:
                return Verdict(False, count, self._limit, reset)
            count += 1
            self._windows[key] = (start, count)
            if len(self._windows) > 10_000:  # forget idle keys so a long run stays small
                cutoff = now - self._window
                self._windows = {k: v for k, v in self._windows.items() if v[0] >= cutoff}
            return Verdict(True, count, self._limit, reset)

    def peek(self, key: str) -> Verdict:
        """The headers for a request that is not counted (one refused before the limiter)."""
        now = time.monotonic()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self._window:
                start, count = now, 0
            reset = max(1, math.ceil(start + self._window - now))
            return Verdict(count < self._limit, count, self._limit, reset)
