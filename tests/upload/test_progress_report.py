"""Progress snapshots (throttling, rate, ETA) and the outcome report, without a server."""

from __future__ import annotations

from pathlib import Path

from outbound_desk.upload.journal import Journal
from outbound_desk.upload.model import Outcome, Phase, UploadProgress
from outbound_desk.upload.progress import ProgressTracker
from outbound_desk.upload.report import write_report

from .conftest import read_report


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_is_throttled_but_phases_always_show() -> None:
    clock, seen = Clock(), []
    tracker = ProgressTracker(seen.append, clock=clock)
    tracker.phase(Phase.UPLOADING)
    tracker.add(planned=10_000)
    for _ in range(50):  # many updates within 100 ms: one emission at most
        tracker.add(confirmed=10)
    assert len(seen) == 1
    clock.now += 0.2
    tracker.add(confirmed=10)
    tracker.phase(Phase.RECONCILING)
    assert [s.phase for s in seen] == [Phase.UPLOADING, Phase.UPLOADING, Phase.RECONCILING]
    assert seen[-1].confirmed == 510


def test_rate_and_eta_follow_the_recent_window() -> None:
    clock, seen = Clock(), []
    tracker = ProgressTracker(seen.append, clock=clock)
    tracker.add(planned=100_000)
    for _ in range(30):  # 1,000 contacts a second for 30 s
        clock.now += 1
        tracker.add(confirmed=1_000)
    last: UploadProgress = seen[-1]
    assert 990 <= last.rate_per_s <= 1_010
    assert last.eta_s is not None
    assert 69 <= last.eta_s <= 71  # 70,000 left at 1,000/s
    for _ in range(30):  # stalled (a long 429 pause): the rate falls, the ETA grows
        clock.now += 1
        tracker.emit(force=True)
    assert seen[-1].rate_per_s < 100
    assert seen[-1].eta_s is None or seen[-1].eta_s > 700


def test_pause_is_shown_once_each_way() -> None:
    seen: list[UploadProgress] = []
    tracker = ProgressTracker(seen.append, clock=Clock())
    tracker.set_paused(True)
    tracker.set_paused(True)
    tracker.set_paused(False)
    assert [s.paused for s in seen] == [True, False]


def test_report_accounts_for_every_row_and_defuses_formulas(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.add_rows(
            [
                (2, "A1", "pending", ""),
                (3, "=HYPERLINK(1)", "rejected", "@bad value"),
                (4, "+14155550100", "pending", ""),
                (5, "A4", "pending", ""),
                (6, None, "rejected", "missing_id: empty"),
            ]
        )
        journal.mark_sent({"A1": False, "+14155550100": True, "A4": False})
        journal.confirm(["A1", "+14155550100"])
        counts = write_report(journal, tmp_path / "r.csv")
    rows = read_report(tmp_path / "r.csv")
    assert [r["row"] for r in rows] == ["2", "3", "4", "5", "6"]
    assert [r["outcome"] for r in rows] == ["created", "rejected", "updated", "pending", "rejected"]
    assert rows[1]["contact_id"] == "'=HYPERLINK(1)"
    assert rows[1]["reason"] == "'@bad value"
    assert rows[2]["contact_id"] == "+14155550100"  # a phone id is not a formula
    assert "rerun" in rows[3]["reason"]
    assert counts == {"created": 1, "rejected": 2, "updated": 1, "pending": 1}
    assert str(Outcome.PENDING) == "pending"
