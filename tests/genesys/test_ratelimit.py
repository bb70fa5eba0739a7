from __future__ import annotations

import threading

import pytest

from outbound_desk.genesys import RateLimiter, RateLimits, rate_family

from .conftest import FakeClock


def _limiter(clock: FakeClock, allowed: int = 5, window: float = 10.0) -> RateLimiter:
    return RateLimiter(allowed, window, clock=clock, sleep=clock.sleep, wall_clock=clock)


def _headers(allowed: int, count: int, reset: float) -> dict[str, str]:
    return {
        "inin-ratelimit-allowed": str(allowed),
        "inin-ratelimit-count": str(count),
        "inin-ratelimit-reset": str(reset),
    }


def test_without_headers_no_window_ever_holds_more_than_the_allowance(clock: FakeClock) -> None:
    limiter = _limiter(clock, allowed=5, window=10)
    answered: list[float] = []
    for _ in range(23):
        ticket = limiter.acquire()
        clock.now += 0.5  # the answer takes half a second
        answered.append(clock.now)
        limiter.release(ticket)
    # Exact: at most 5 answers in any 10 s, and the 6th waits for exactly one window.
    for i in range(len(answered) - 5):
        assert answered[i + 5] - answered[i] >= 10.0
    assert answered[5] - answered[0] == pytest.approx(10.0 + 0.5)
    assert limiter.stats().requests == 23


def test_follows_the_server_window_from_the_headers(clock: FakeClock) -> None:
    limiter = _limiter(clock)  # starts at 5/10 s
    ticket = limiter.acquire()
    limiter.release(ticket, _headers(allowed=3, count=1, reset=2))
    assert limiter.allowed == 3
    start = clock.now
    for count in (2, 3):  # two left in this window
        limiter.release(limiter.acquire(), _headers(3, count, 2))
    assert clock.now == start
    limiter.release(limiter.acquire(), _headers(3, 1, 2))  # waited for the reset
    assert clock.now == pytest.approx(start + 2)
    assert limiter.stats().window_s == 2


def test_count_from_other_clients_of_the_token_is_respected(clock: FakeClock) -> None:
    limiter = _limiter(clock, allowed=10)
    start = clock.now
    # Someone else has used 9 of 10 already.
    limiter.release(limiter.acquire(), _headers(10, 10, 4))
    limiter.acquire()
    assert clock.now == pytest.approx(start + 4)


def test_requests_in_flight_count_against_the_window(clock: FakeClock) -> None:
    limiter = _limiter(clock, allowed=4)
    first = limiter.acquire()
    others = [limiter.acquire() for _ in range(2)]
    # The first answer counts only itself; the two sent after it are still in flight.
    limiter.release(first, _headers(4, 1, 5))
    start = clock.now
    limiter.acquire()  # the 4th fits
    assert clock.now == start
    for t in others:
        limiter.release(t, _headers(4, 4, 5))
    limiter.acquire()  # the 5th waits for the window
    assert clock.now == pytest.approx(start + 5)


def test_a_429_pauses_everyone_until_retry_after(clock: FakeClock) -> None:
    limiter = _limiter(clock, allowed=100)
    limiter.release(limiter.acquire(), _headers(100, 1, 60))
    start = clock.now
    limiter.note_rate_limited(7.0)
    limiter.acquire()
    assert clock.now == pytest.approx(start + 7.0)
    stats = limiter.stats()
    assert stats.rate_limited == 1
    assert stats.in_flight == 1


def test_epoch_reset_values_are_understood() -> None:
    clock = FakeClock(start=1.7e9)
    limiter = _limiter(clock, allowed=2)
    start = clock.now
    limiter.release(limiter.acquire(), _headers(2, 2, clock.now + 3))  # epoch seconds
    limiter.acquire()
    assert clock.now == pytest.approx(start + 3)


def test_threads_share_the_allowance() -> None:
    clock = FakeClock()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            clock.now += seconds / 8  # eight sleepers share the passing time

    limiter = RateLimiter(10, 1.0, clock=clock, sleep=sleep)
    granted: list[float] = []

    def worker() -> None:
        for _ in range(5):
            ticket = limiter.acquire()
            with lock:
                granted.append(clock.now)
            limiter.release(ticket)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    granted.sort()
    assert len(granted) == 40
    for i in range(len(granted) - 10):
        assert granted[i + 10] - granted[i] >= 1.0 - 1e-9


def test_invalid_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="allowed"):
        RateLimiter(0, 1)


def test_requests_in_flight_when_the_window_turns_count_in_the_new_one(clock: FakeClock) -> None:
    limiter = _limiter(clock, allowed=3)
    limiter.release(limiter.acquire(), _headers(3, 1, 1))
    late = [limiter.acquire(), limiter.acquire()]
    clock.now += 1.0  # the window ends with two requests still on their way
    limiter.acquire()  # the third slot of the new window
    for ticket in late:  # their answers cannot say which window counted them
        limiter.release(ticket, _headers(3, 3, 0))
    start = clock.now
    limiter.acquire()  # waits for the window end, polling for answers meanwhile
    assert clock.now == pytest.approx(start + 1.0, abs=0.051)


# ------------------------------------------------------------------ per resource family
@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/api/v2/outbound/contactlists", "contactlists"),
        ("/api/v2/outbound/contactlists/0b5e1c2a-6f0e-4a8e-9d1a-1e2f3a4b5c6d", "contactlists"),
        ("/api/v2/outbound/contactlists/0b5e1c2a-6f0e-4a8e-9d1a-1e2f3a4b5c6d/contacts", "contacts"),
        ("/api/v2/outbound/contactlists/L1x/contacts/bulk", "contacts"),
        ("/api/v2/outbound/contactlists/L1x/contacts/search", "contacts"),
        ("/api/v2/outbound/contactlists/L1x/contacts/bulk/jobs/j9", "contacts"),
        ("/api/v2/outbound/contactlists/L1x/importstatus", "importstatus"),
        ("/api/v2/outbound/contactlists/L1x/export", "export"),
        ("/api/v2/outbound/contactlists/L1x/clear", "clear"),
        ("/api/v2/outbound/contactlists/uploads", "uploads"),
        ("/api/v2/downloads/5f0c9a77b1", "downloads"),
        ("/uploads/v2/contactlist", "apps-uploads"),
    ],
)
def test_requests_are_grouped_by_resource_family(path: str, family: str) -> None:
    assert rate_family(f"https://api.mypurecloud.com{path}?pageSize=1") == family


def test_each_family_keeps_its_own_allowance_and_uploads_follow_theirs(clock: FakeClock) -> None:
    """Issue 12 item 7: 300/min on list reads must not let uploads overrun 3 per 10 s."""
    limits = RateLimits(clock=clock, sleep=clock.sleep, wall_clock=clock)
    lists = "https://api.mypurecloud.com/api/v2/outbound/contactlists/L1x"
    contacts = lists + "/contacts"
    start = clock.now
    sent_at: list[float] = []
    read_at: list[float] = []
    for n in range(1, 5):
        upload = limits.for_url(contacts)
        ticket = upload.acquire()
        sent_at.append(clock.now)
        upload.release(ticket, _headers(3, (n - 1) % 3 + 1, 10))
        # A list read in between answers with its own, bigger allowance.
        read = limits.for_url(lists)
        ticket = read.acquire()
        read_at.append(clock.now)
        read.release(ticket, _headers(300, n, 60))
    assert sent_at[:3] == [start, start, start]
    assert sent_at[3] == pytest.approx(start + 10)  # the 4th upload waited for the window
    # The reads never waited for the uploads' window: their allowance has room.
    assert read_at[:3] == [start, start, start]
    assert read_at[3] == sent_at[3]
    assert limits.family("contacts").allowed == 3
    assert limits.family("contactlists").allowed == 300
    stats = limits.stats()
    assert (stats.allowed, stats.requests) == (3, 8)
    # A family not heard from yet starts from the lowest allowance seen, not the default.
    assert limits.family("importstatus").allowed == 3


def test_a_429_pauses_its_own_family_only(clock: FakeClock) -> None:
    limits = RateLimits(clock=clock, sleep=clock.sleep, wall_clock=clock)
    contacts = limits.for_url(
        "https://api.mypurecloud.com/api/v2/outbound/contactlists/L1x/contacts"
    )
    contacts.note_rate_limited(5.0)
    start = clock.now
    lists = limits.for_url("https://api.mypurecloud.com/api/v2/outbound/contactlists")
    lists.release(lists.acquire())
    assert clock.now == start
    assert limits.stats().paused_s == pytest.approx(5.0)
    assert limits.stats().rate_limited == 1
