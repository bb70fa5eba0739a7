"""A request-rate limiter shared by every thread that uses one token.

Genesys Cloud allows a number of requests per window per token (300 per 60 s by default) and
says where a token stands on every response: ``inin-ratelimit-allowed`` (the allowance),
``inin-ratelimit-count`` (requests counted in the current window) and ``inin-ratelimit-reset``
(seconds until the window resets). The limiter spends exactly that allowance:

* Before any response has told it more, it keeps a sliding log of the last ``allowed``
  requests and lets a new one go only when fewer than ``allowed`` were *answered* within the
  last ``window_s``. Counting from the answer, not from the send, is what makes the window
  math exact: the server counted every one of them no later than that.
* Once the headers arrive it follows the server's window: ``count`` plus the requests sent
  since (and still in flight before) the one answered is what the window has used, and the
  window ends ``reset`` seconds after the answer. A new window starts when the count drops.
* A 429 pauses every thread until ``Retry-After`` (no retry storm) and marks the window spent.

Whether the platform keys its bucket on the token or on the OAuth client is not documented, so
the client keeps its limiters across token renewals: that is safe either way.

The allowance differs between resources (a recorded response shows 180 on one, 300 on
another), so :class:`RateLimits` keeps one :class:`RateLimiter` per resource family
(:func:`rate_family`: ``contactlists``, ``contacts``, ``importstatus``, ``uploads``...). Each
family learns its own allowance and window from the answers to its own requests, so uploads
(``POST .../contacts``) are paced by the contacts allowance, not by whatever another resource
answered last. A family not heard from yet starts from the lowest allowance seen so far.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from outbound_desk.genesys.errors import Cancelled

__all__ = ["UPLOAD_FAMILY", "RateLimiter", "RateLimits", "RateStats", "Ticket", "rate_family"]

#: The family that paces uploads: ``POST /contactlists/{id}/contacts`` (and the reads of
#: reconciliation, ``contacts/bulk``); the status bar shows its allowance first.
UPLOAD_FAMILY = "contacts"
_ID_LIKE = re.compile(r".*\d.*|.{20,}")

#: Longest single sleep while waiting, so fresh answers from other threads are seen soon.
_MAX_NAP_S = 0.25


@dataclass(frozen=True)
class Ticket:
    """One granted request; give it back to :meth:`RateLimiter.release` when answered."""

    seq: int
    granted_at: float


@dataclass(frozen=True)
class RateStats:
    """Counters for progress displays."""

    requests: int
    retries: int
    rate_limited: int
    allowed: int
    window_s: float
    in_flight: int
    paused_s: float


class RateLimiter:
    """Keeps the requests made with one token under the platform's allowance (thread-safe)."""

    def __init__(
        self,
        allowed: int = 300,
        window_s: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if allowed < 1 or window_s <= 0:
            raise ValueError("a rate limit needs allowed >= 1 and window_s > 0")
        self._allowed = allowed
        self._window = float(window_s)
        self._clock = clock
        # Without an injected sleep, waiters block on a condition that answers wake early.
        self._sleep = sleep
        self._wall = wall_clock
        self._cond = threading.Condition(threading.Lock())
        self._granted = 0
        self._in_flight: set[int] = set()
        self._answered: deque[float] = deque()
        self._paused_until = 0.0
        # The server's current window, once a response has described it.
        self._synced = False
        self._server_end = 0.0
        self._end_known = False
        self._window_count = 0
        self._roll_seq = 0
        self._carried = 0
        self._seen_window = 0.0
        self._requests = 0
        self._retries = 0
        self._rate_limited = 0

    # ------------------------------------------------------------------ public
    def for_url(self, url: httpx.URL | str) -> RateLimiter:
        """The limiter for a request to *url*: this one (a single limiter for everything)."""
        return self

    def acquire(self, cancelled: Callable[[], bool] | None = None) -> Ticket:
        """Block until a request may be sent within the allowance, then claim it."""
        with self._cond:
            while True:
                now = self._clock()
                delay = self._delay(now)
                if delay <= 0:
                    self._granted += 1
                    self._requests += 1
                    self._in_flight.add(self._granted)
                    return Ticket(self._granted, now)
                if cancelled is not None and cancelled():
                    raise Cancelled("cancelled while waiting for the rate limit")
                nap = min(delay, _MAX_NAP_S)
                if self._sleep is None:
                    self._cond.wait(nap)
                else:
                    self._cond.release()
                    try:
                        self._sleep(nap)
                    finally:
                        self._cond.acquire()

    def release(self, ticket: Ticket, headers: Mapping[str, str] | None = None) -> None:
        """*ticket*'s request was answered (or failed); learn from the answer's headers."""
        with self._cond:
            now = self._clock()
            self._in_flight.discard(ticket.seq)
            self._answered.append(now)
            if self._synced and ticket.seq <= self._roll_seq:
                # Sent before the window turned: it may have landed in this window, and its
                # answer cannot say which, so it keeps counting here.
                self._carried += 1
            elif headers is not None:
                self._observe(headers, now)
            self._cond.notify_all()

    def note_rate_limited(self, retry_after: float | None) -> None:
        """A 429 came back: pause everyone for *retry_after* (1 s when the server gave none)."""
        with self._cond:
            now = self._clock()
            self._rate_limited += 1
            until = now + (1.0 if retry_after is None else max(0.0, retry_after))
            self._paused_until = max(self._paused_until, until)
            if self._synced:
                # Retry-After says when the server takes requests again: a new window then.
                self._window_count = self._allowed
                self._server_end = self._paused_until
                self._end_known = True

    def note_retry(self) -> None:
        with self._cond:
            self._retries += 1

    @property
    def allowed(self) -> int:
        return self._allowed

    def stats(self) -> RateStats:
        with self._cond:
            now = self._clock()
            return RateStats(
                requests=self._requests,
                retries=self._retries,
                rate_limited=self._rate_limited,
                allowed=self._allowed,
                window_s=self._seen_window or self._window,
                in_flight=len(self._in_flight),
                paused_s=max(0.0, self._paused_until - now),
            )

    # ------------------------------------------------------------------ internals
    def _delay(self, now: float) -> float:
        if now < self._paused_until:
            return self._paused_until - now
        if self._synced:
            if now >= self._server_end:
                # A new server window. What is still in flight stays counted (it may land in
                # this one); answers to requests sent before now may describe the old window.
                self._window_count = 0
                self._carried = 0
                self._roll_seq = self._granted
                self._server_end = now + (self._seen_window or self._window)
                self._end_known = False
            # Every answered request of this window is within the highest count seen (the
            # count is the request's place in the window); each in flight may add one more.
            used = self._window_count + self._carried + len(self._in_flight)
            if used < self._allowed:
                return 0.0
            if self._window_count + self._carried < self._allowed:
                return 0.05  # an answer will free a slot
            return max(self._server_end - now, 1e-3)
        horizon = now - self._window
        while self._answered and self._answered[0] <= horizon:
            self._answered.popleft()
        if len(self._in_flight) + len(self._answered) < self._allowed:
            return 0.0
        if self._answered:
            return max(self._answered[0] - horizon, 1e-3)
        return 0.05  # every slot is in flight: wait for an answer

    def _observe(self, headers: Mapping[str, str], now: float) -> None:
        allowed = _number(headers.get("inin-ratelimit-allowed"))
        count = _number(headers.get("inin-ratelimit-count"))
        reset = _number(headers.get("inin-ratelimit-reset"))
        if allowed is not None and allowed >= 1:
            self._allowed = int(allowed)
        if count is None or reset is None:
            return
        if reset > 1e11:  # epoch milliseconds
            reset = reset / 1000 - self._wall()
        elif reset > 1e9:  # epoch seconds
            reset = reset - self._wall()
        reset = max(0.0, reset)
        self._seen_window = max(self._seen_window, float(math.ceil(reset)) or 1.0)
        self._synced = True
        end = now + reset
        # Each answer bounds the window's end from above (the reset was counted before the
        # answer travelled): the earliest bound is the tightest.
        self._server_end = min(self._server_end, end) if self._end_known else end
        self._end_known = True
        self._window_count = max(self._window_count, int(count))


def rate_family(url: httpx.URL | str) -> str:
    """The resource family of a request to *url*, whose rate-limit allowance it shares.

    ``/api/v2/outbound/contactlists`` and ``.../contactlists/{id}`` are ``contactlists``;
    ``.../contactlists/{id}/contacts[/...]`` is ``contacts``; ``.../{id}/importstatus`` is
    ``importstatus``; ``.../contactlists/uploads`` is ``uploads``; ``/api/v2/downloads/{id}`` is
    ``downloads``; the legacy upload service (``/uploads/v2/contactlist`` on ``apps.``) is
    ``apps-uploads``. Ids (segments with a digit, or long ones) are skipped.
    """
    path = httpx.URL(url).path
    parts = [p for p in path.split("/") if p]
    if parts[:2] != ["api", "v2"]:
        return "apps-" + (parts[0] if parts else "root")
    names = [p.lower() for p in parts[2:] if not _ID_LIKE.fullmatch(p)]
    if names[:1] == ["outbound"]:
        names = names[1:]
    if not names:
        return "api"
    if len(names) > 1 and names[0] in ("contactlists", "dnclists", "contactlistfilters"):
        return names[1] if names[0] == "contactlists" else f"{names[0]}/{names[1]}"
    return names[0]


class RateLimits:
    """One :class:`RateLimiter` per resource family (thread-safe), made as families appear.

    Every family starts from *allowed* per *window_s*, or from the lowest allowance another
    family has shown (the safe guess), then follows the headers of its own answers.
    """

    def __init__(
        self,
        allowed: int = 300,
        window_s: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if allowed < 1 or window_s <= 0:
            raise ValueError("a rate limit needs allowed >= 1 and window_s > 0")
        self._allowed = allowed
        self._window = float(window_s)
        self._clock = clock
        self._sleep = sleep
        self._wall = wall_clock
        self._lock = threading.Lock()
        self._families: dict[str, RateLimiter] = {}
        self._retries = 0

    def for_url(self, url: httpx.URL | str) -> RateLimiter:
        return self.family(rate_family(url))

    def family(self, name: str) -> RateLimiter:
        """The limiter of family *name* (made on first use)."""
        with self._lock:
            limiter = self._families.get(name)
            if limiter is None:
                known = [f.allowed for f in self._families.values()]
                limiter = RateLimiter(
                    min([self._allowed, *known]),
                    self._window,
                    clock=self._clock,
                    sleep=self._sleep,
                    wall_clock=self._wall,
                )
                self._families[name] = limiter
            return limiter

    def note_retry(self) -> None:
        with self._lock:
            self._retries += 1

    @property
    def allowed(self) -> int:
        """The allowance that paces uploads (:data:`UPLOAD_FAMILY`), else the lowest known."""
        return self.stats().allowed

    def families(self) -> dict[str, RateStats]:
        """Each family's own counters and allowance."""
        with self._lock:
            limiters = dict(self._families)
        return {name: limiter.stats() for name, limiter in limiters.items()}

    def stats(self) -> RateStats:
        """Counters summed over the families; the allowance and window of the upload family,
        or of the family with the lowest allowance while no upload went out."""
        per = self.families()
        with self._lock:
            retries = self._retries
        if not per:
            return RateStats(0, retries, 0, self._allowed, self._window, 0, 0.0)
        shown = per.get(UPLOAD_FAMILY) or min(per.values(), key=lambda s: s.allowed)
        return RateStats(
            requests=sum(s.requests for s in per.values()),
            retries=retries + sum(s.retries for s in per.values()),
            rate_limited=sum(s.rate_limited for s in per.values()),
            allowed=shown.allowed,
            window_s=shown.window_s,
            in_flight=sum(s.in_flight for s in per.values()),
            paused_s=max(s.paused_s for s in per.values()),
        )


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
