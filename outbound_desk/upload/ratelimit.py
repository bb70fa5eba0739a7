"""A rate limiter for uploads that keeps the tightest estimate of the server's window end.

Workaround for ``outbound_desk.genesys.RateLimiter`` (reported to its owner): within one
server window it keeps the *latest* end estimate, ``now + inin-ratelimit-reset``. The reset is
whole seconds rounded up, so each answer overestimates the end by up to a second, and keeping
the latest one makes every window up to a second long: with a 5 s window the upload reaches
about 83 % of the allowance. Every estimate is at or after the true end (the reset is rounded
up and measured from the answer, after the server counted the request), so the *earliest* one
is still safe and the closest: with it the upload reaches the allowance without a 429.
"""

from __future__ import annotations

from collections.abc import Mapping

from outbound_desk.genesys import RateLimiter


class UploadRateLimiter(RateLimiter):
    """:class:`RateLimiter` keeping the earliest server-window end seen within one window."""

    def _observe(self, seq: int, headers: Mapping[str, str], now: float) -> None:
        same_window = self._synced and not self._rolled
        last_count = self._last_count
        previous_end = self._server_end
        super()._observe(seq, headers, now)
        try:
            count = int(float(headers.get("inin-ratelimit-count", "")))
        except ValueError:
            return
        if same_window and count >= last_count and self._last_seq == seq:
            self._server_end = min(self._server_end, previous_end)
