"""The upload queue against the sandbox org over real HTTP: progress, faults, cancel, resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from outbound_desk.config import ledger_path
from outbound_desk.genesys import ClientCredentials, GenesysClient, sandbox_region
from outbound_desk.ui.upload_queue import UploadQueuePane
from outbound_desk.upload.ledger import Ledger
from outbound_desk.upload.model import UploadOptions
from tests.upload import helpers

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(sandbox):
    c = GenesysClient(
        sandbox_region(sandbox.base_url),
        ClientCredentials(sandbox.client_id, sandbox.client_secret),
    )
    yield c
    c.close()


@pytest.fixture
def queue(qtbot, client):
    pane = UploadQueuePane(client=lambda: client, ledger_path=ledger_path)
    qtbot.addWidget(pane)
    yield pane
    pane.shutdown()


def options(tmp_path: Path, name: str, n: int, *, bad=frozenset(), **kw) -> UploadOptions:
    f = helpers.write_csv(tmp_path / f"{name}.csv", n, bad_rows=frozenset(bad))
    schema = helpers.schema_file(tmp_path / f"{name}.json", name)
    kw.setdefault("via", "api")
    return UploadOptions(
        file=f, list=name, create=True, schema_path=schema, id_column="customerId", **kw
    )


def list_count(sandbox, name: str) -> int:
    found = sandbox.store.find_list(name)
    return sandbox.store.contact_count(found["id"]) if found else 0


def test_upload_to_a_faulty_sandbox_reaches_100_percent_with_the_right_counts(
    qtbot, queue, sandbox, tmp_path
):
    sandbox.set_faults(error_rate=0.15)
    opts = options(tmp_path, "Faulty", 3000, bad={3, 77, 2999}, batch_size=200)
    bars: list[int] = []
    with qtbot.waitSignal(queue.job_ended, timeout=120_000) as ended:
        job = queue.enqueue(opts, list_name="Faulty")
        card = queue.card(job.job_id)
        queue._timer.timeout.connect(lambda: bars.append(card.bar.value()))
    assert ended.args == [job.job_id, "done"]
    r = job.result
    assert (r.rows, r.created, r.updated, r.rejected, r.missing) == (3000, 2997, 0, 3, 0)
    assert r.retries > 0  # the faults were met, and survived
    assert list_count(sandbox, "Faulty") == 2997
    assert card.bar.value() == 1000
    assert bars == sorted(bars)  # the bar only moves forward
    assert "created 2,997" in card.summary.text()
    assert "rejected 3" in card.summary.text()
    assert "missing after reconcile 0" in card.summary.text()
    assert card.open_report_button.isVisibleTo(card)
    assert Path(r.report).exists()


def test_jobs_for_one_list_run_one_at_a_time(qtbot, queue, sandbox, tmp_path):
    sandbox.set_faults(latency_ms=20)
    events: list[tuple[str, int]] = []
    queue.job_started.connect(lambda jid: events.append(("start", jid)))
    queue.job_ended.connect(lambda jid, state: events.append(("end", jid)))
    first = queue.enqueue(options(tmp_path, "Shared", 1500, batch_size=100), list_name="Shared")
    second_opts = UploadOptions(
        file=helpers.write_csv(tmp_path / "more.csv", 500, start=5000),
        list="Shared",
        id_column="customerId",
        via="api",
        batch_size=100,
    )
    second = queue.enqueue(second_opts, list_name="Shared")
    other = queue.enqueue(options(tmp_path, "Other", 200, batch_size=100), list_name="Other")
    # The other list does not wait; the second job on "Shared" does.
    assert ("start", other.job_id) in events, [(j.state, j.error) for j in queue.store.jobs]
    assert ("start", second.job_id) not in events
    assert second.state == "queued"
    assert "Queued" in queue.card(second.job_id).phase.text()
    qtbot.waitUntil(lambda: second.state == "done", timeout=120_000)
    qtbot.waitUntil(lambda: other.state == "done", timeout=120_000)
    assert events.index(("end", first.job_id)) < events.index(("start", second.job_id))
    assert first.state == "done"
    assert list_count(sandbox, "Shared") == 2000


def test_pause_holds_the_upload_and_cancel_leaves_it_resumable(qtbot, queue, sandbox, tmp_path):
    sandbox.set_faults(latency_ms=30)
    opts = options(tmp_path, "Pausing", 4000, batch_size=100, concurrency=1)
    job = queue.enqueue(opts, list_name="Pausing")
    card = queue.card(job.job_id)
    qtbot.waitUntil(lambda: job.progress is not None and job.progress.confirmed > 0, timeout=60_000)
    card.pause_button.click()
    assert job.state == "paused"
    assert card.pause_button.text() == "Resume"
    qtbot.waitUntil(lambda: job.progress.paused, timeout=30_000)
    card.pause_button.click()
    assert job.state == "running"
    qtbot.waitUntil(lambda: not job.progress.paused, timeout=30_000)
    with qtbot.waitSignal(queue.job_ended, timeout=60_000) as ended:
        card.cancel_button.click()
    assert ended.args == [job.job_id, "cancelled"]
    sent_before = list_count(sandbox, "Pausing")
    assert 0 < sent_before < 4000
    assert "resume" in card.summary.text().lower()
    # The ledger says it did not finish; the queue offers to resume it.
    with qtbot.waitSignal(queue.resumable_found, timeout=30_000) as found:
        queue.check_unfinished()
    assert [r.list_name for r in found.args[0]] == ["Pausing"]
    assert queue.banner.isVisibleTo(queue)
    sandbox.set_faults(latency_ms=0)
    with qtbot.waitSignal(queue.job_ended, timeout=120_000) as ended:
        (resumed,) = queue.resume_unfinished()
    assert ended.args == [resumed.job_id, "done"]
    assert resumed.result.resumed
    assert resumed.result.created + resumed.result.updated + resumed.result.unchanged >= (
        4000 - sent_before
    )
    assert list_count(sandbox, "Pausing") == 4000


def test_notification_when_the_window_is_not_focused(qtbot, queue, tmp_path, sandbox):
    with qtbot.waitSignal(queue.notification_posted, timeout=60_000) as posted:
        queue.enqueue(options(tmp_path, "Notify", 50), list_name="Notify")
    title, text = posted.args
    assert "Notify" in title
    assert "created 50" in text


def test_the_resume_offer_after_a_crash(qtbot, queue, sandbox, tmp_path):
    """An upload killed with SIGKILL mid-way is offered for resuming, and ends exact; the
    command line was given relative paths (issue 13: resuming it from the app failed)."""
    sandbox.set_faults(latency_ms=40)
    helpers.write_csv(tmp_path / "crash.csv", 3000)
    helpers.schema_file(tmp_path / "crash.json", "Crash")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "outbound_desk",
            "upload",
            "crash.csv",
            "--list",
            "Crash",
            "--create",
            "--schema",
            "crash.json",
            "--id-column",
            "customerId",
            "--via",
            "api",
            "--batch-size",
            "100",
            "--concurrency",
            "1",
            "--sandbox",
            sandbox.base_url,
            "--quiet",
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        qtbot.waitUntil(lambda: list_count(sandbox, "Crash") >= 300, timeout=60_000)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert list_count(sandbox, "Crash") < 3000
    with Ledger(ledger_path()) as ledger:
        assert [u.list_name for u in ledger.unfinished_uploads()] == ["Crash"]
    sandbox.set_faults(latency_ms=0)
    with qtbot.waitSignal(queue.resumable_found, timeout=30_000):
        queue.check_unfinished()
    assert "did not finish" in queue.resume_banner.text()
    with qtbot.waitSignal(queue.job_ended, timeout=120_000) as ended:
        queue.resume_button.click()
    job = queue.store.get(ended.args[0])
    assert job.state == "done", job.error
    assert list_count(sandbox, "Crash") == 3000
    with Ledger(ledger_path()) as ledger:
        assert ledger.unfinished_uploads() == []


def test_a_csv_import_moves_the_bar_with_the_platform_percent_and_charts_the_rate(qtbot, tmp_path):
    """The bar sat at 0% ("0 rows/s · ETA —") for a whole import while the text said 63%."""
    from outbound_desk.emulator import Sandbox, SandboxConfig

    config = SandboxConfig(seed=False, rate_limit=(10_000, 60.0), import_rows_per_s=1000)
    with Sandbox.start(config) as slow:
        c = GenesysClient(
            sandbox_region(slow.base_url), ClientCredentials(slow.client_id, slow.client_secret)
        )
        pane = UploadQueuePane(client=lambda: c, ledger_path=ledger_path)
        qtbot.addWidget(pane)
        try:
            # A six-second import polled every 0.3 s: many readings of its percent, even on a
            # loaded machine.
            opts = options(tmp_path, "Imported", 6000, via="file", import_poll_s=0.3)
            seen: list[tuple[str, int, str]] = []
            with qtbot.waitSignal(pane.job_ended, timeout=120_000) as ended:
                job = pane.enqueue(opts, list_name="Imported")
                card = pane.card(job.job_id)
                pane._timer.timeout.connect(
                    lambda: seen.append((card.phase.text(), card.bar.value(), card.speed.text()))
                )
            assert ended.args == [job.job_id, "done"], job.error
            during = [(bar, speed) for phase, bar, speed in seen if phase == "Importing"]
            assert during, seen
            assert any(0 < bar < 1000 for bar, _ in during), during
            assert any(not speed.startswith("0 rows/s") for _, speed in during), during
            assert [bar for bar, _ in during] == sorted(bar for bar, _ in during)
            assert card.chart.peak() > 0
            assert card.bar.value() == 1000
        finally:
            pane.shutdown()
            c.close()


def test_the_newest_job_card_is_on_top(qtbot, queue, sandbox, tmp_path):
    first = queue.enqueue(options(tmp_path, "First", 5), list_name="First")
    second = queue.enqueue(options(tmp_path, "Second", 5), list_name="Second")
    box = queue._cards_box
    assert box.indexOf(queue.card(second.job_id)) < box.indexOf(queue.card(first.job_id))
    qtbot.waitUntil(lambda: not queue.store.active(), timeout=60_000)


def _cancelled_upload(qtbot, queue, sandbox, tmp_path, name: str):
    """An upload of *name* cancelled mid-way: unfinished in the ledger."""
    sandbox.set_faults(latency_ms=30)
    job = queue.enqueue(
        options(tmp_path, name, 3000, batch_size=100, concurrency=1), list_name=name
    )
    qtbot.waitUntil(lambda: job.progress is not None and job.progress.confirmed > 0, timeout=60_000)
    with qtbot.waitSignal(queue.job_ended, timeout=60_000):
        queue.card(job.job_id).cancel_button.click()
    sandbox.set_faults(latency_ms=0)
    return job


def _offered(qtbot, queue) -> list[str]:
    with qtbot.waitSignal(queue.unfinished_checked, timeout=30_000) as checked:
        queue.check_unfinished()
    return [r.list_name for r in checked.args[0]]


def test_the_resume_offer_is_this_orgs_never_one_held_elsewhere_and_can_be_dismissed(
    qtbot, client, sandbox, tmp_path
):
    """Issue 13: the offer shows only the signed-in org's uploads, never one another process
    holds (the per-list lock), and "Don't offer again" is for good."""
    from outbound_desk.upload.lock import ListLock

    def make(org):
        pane = UploadQueuePane(client=lambda: client, ledger_path=ledger_path, org=lambda: org)
        qtbot.addWidget(pane)
        return pane

    org_a = make("Org A")
    _cancelled_upload(qtbot, org_a, sandbox, tmp_path, "Held")
    assert _offered(qtbot, org_a) == ["Held"]
    org_b = make("Org B")
    assert _offered(qtbot, org_b) == []  # another org's upload
    with ListLock(sandbox.store.find_list("Held")["id"]):
        assert _offered(qtbot, org_a) == []  # another process runs it
    assert _offered(qtbot, org_a) == ["Held"]
    assert org_a.banner.isVisibleTo(org_a)
    org_a.dismiss_button.click()
    assert not org_a.banner.isVisibleTo(org_a)
    assert _offered(qtbot, org_a) == []
    assert _offered(qtbot, make("Org A")) == []  # for good: a new start offers it no more
    with Ledger(ledger_path()) as ledger:
        assert [u.list_name for u in ledger.unfinished_uploads()] == ["Held"]  # still recorded
    for pane in (org_a, org_b):
        pane.shutdown()


def test_resume_never_creates_a_list_in_the_org_signed_in_now(qtbot, queue, sandbox, tmp_path):
    """An unfinished upload of another org (recorded without a profile name, as the command
    line's --sandbox does) is not offered where its list does not exist, and nothing is made."""
    from outbound_desk.emulator import Sandbox

    _cancelled_upload(qtbot, queue, sandbox, tmp_path, "Elsewhere")
    assert _offered(qtbot, queue) == ["Elsewhere"]
    with Sandbox.start(seed=False) as other:
        other_client = GenesysClient(
            sandbox_region(other.base_url),
            ClientCredentials(other.client_id, other.client_secret),
        )
        pane = UploadQueuePane(client=lambda: other_client, ledger_path=ledger_path)
        qtbot.addWidget(pane)
        try:
            assert _offered(qtbot, pane) == []
            pane.resume_unfinished()
            assert other.store.find_list("Elsewhere") is None
        finally:
            pane.shutdown()
            other_client.close()


def test_the_card_counts_rows_dropped_as_duplicates() -> None:
    """The card's summary names the rows the duplicate policy dropped (they are neither in the
    list nor rejects), from the engine's result."""
    from types import SimpleNamespace

    from outbound_desk.ui.upload_queue.card import summary_text

    result = SimpleNamespace(
        created=296, updated=0, unchanged=0, rejected=2, missing=0, pending=0,
        dropped_duplicates=4, status="done", duration_s=1.0, error=None, warnings=(),
    )  # fmt: skip
    text = summary_text(SimpleNamespace(result=result, state="done", error=None))  # type: ignore[arg-type]
    assert "dropped as duplicates 4" in text
    assert "created 296" in text


def test_the_bar_counts_towards_the_previewed_files_rows_while_it_is_read(qtbot) -> None:
    """Under Xvfb the bar said 82% with 125,000 of 300,000 rows planned: it counted towards
    the rows read so far. With the preview's count it says how much of the file is done."""
    from types import SimpleNamespace

    from outbound_desk.ui.upload_queue.card import JobCard
    from outbound_desk.ui.upload_queue.store import RUNNING, UploadQueueStore
    from outbound_desk.upload.model import Phase, UploadProgress

    store = UploadQueueStore()
    job = store.add(
        title="big.csv",
        list_key="name:big",
        list_name="big",
        transport="api",
        options=None,
        prepared=SimpleNamespace(rows=300_000),
    )
    job.state = RUNNING
    job.progress = UploadProgress(phase=Phase.UPLOADING, planned=125_000, confirmed=99_000)
    card = JobCard(job)
    qtbot.addWidget(card)
    card.refresh()
    assert card.bar.value() == 330  # 99,000 of 300,000
    job.progress = UploadProgress(phase=Phase.UPLOADING, planned=300_000, confirmed=300_000)
    card.refresh()
    assert card.bar.value() == 1000


def test_a_damaged_ledger_is_said_where_the_resume_offer_would_be(qtbot, queue, tmp_path):
    path = ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a database, just bytes " * 200)
    queue.check_unfinished()
    qtbot.waitUntil(lambda: queue.banner.isVisibleTo(queue), timeout=10_000)
    text = queue.resume_banner.text()
    assert "damaged" in text
    assert str(path) in text
    assert "move it aside" in text
    assert not queue.resume_button.isVisibleTo(queue)
