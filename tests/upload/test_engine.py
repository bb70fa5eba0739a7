"""The upload engine against the sandbox org over HTTP: plan, transports, resume, report."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from outbound_desk.genesys import ContactListSpec, PhoneColumn
from outbound_desk.upload.lock import ListLock
from outbound_desk.upload.model import (
    ListBusy,
    Phase,
    UploadOptions,
    UploadRejected,
    UploadUsageError,
)
from outbound_desk.upload.report import ANONYMOUS_NOTE

from . import helpers
from .conftest import Uploader, read_report

BAD = frozenset({3, 10, 11})


def _posts(uploader: Uploader, list_id: str) -> int:
    return sum(
        1
        for method, path, status in uploader.sandbox.request_log
        if method == "POST" and path.endswith(f"{list_id}/contacts") and status == 200
    )


def test_create_and_upload_puts_every_valid_row_in_exactly_once(uploader: Uploader) -> None:
    f = uploader.csv(2_500, bad_rows=BAD)
    result = uploader.run(uploader.options(f, batch_size=400))

    assert result.status == "done"
    assert result.list_created
    valid = [i for i in range(2_500) if i not in BAD]
    uploader.assert_holds_exactly(result.list_id, valid)
    assert (result.rows, result.created, result.updated, result.rejected) == (2_500, 2_497, 0, 3)
    report = read_report(result.report)
    assert [int(r["row"]) for r in report] == list(range(2, 2_502))
    by_id = {r["contact_id"]: r for r in report}
    for i in BAD:
        assert by_id[f"C{i:07d}"]["outcome"] == "rejected"
        assert "phone" in by_id[f"C{i:07d}"]["reason"]
    assert {r["outcome"] for i, r in enumerate(report) if i not in BAD} == {"created"}
    phases = {e.phase for e in uploader.events}
    assert {Phase.VALIDATING, Phase.CREATING_LIST, Phase.UPLOADING, Phase.DONE} <= phases
    last = uploader.events[-1]
    assert (last.confirmed, last.rejected, last.planned) == (2_497, 3, 2_497)


def test_rerun_sends_nothing_and_counts_unchanged(uploader: Uploader) -> None:
    f = uploader.csv(1_200)
    first = uploader.run(uploader.options(f))
    posts = _posts(uploader, first.list_id)
    again = uploader.run(uploader.options(f))

    assert again.list_id == first.list_id
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1_200)
    assert _posts(uploader, first.list_id) == posts  # nothing was sent again
    assert {r["outcome"] for r in read_report(again.report)} == {"unchanged"}


def test_changed_and_new_rows_are_updated_and_created(uploader: Uploader) -> None:
    first = uploader.run(uploader.options(uploader.csv(1_000)))
    # Rows 500..999 change their first name, rows 1000..1499 are new.
    f = uploader.tmp / "second.csv"
    helpers.write_csv(f, 500, start=0)
    with f.open("a", encoding="utf-8", newline="") as fh:
        import csv

        w = csv.DictWriter(fh, fieldnames=helpers.COLUMNS)
        for i in range(500, 1_500):
            w.writerow(helpers.row(i, tag="x" if i < 1_000 else ""))
    second = uploader.run(uploader.options(f, create=False, id_column="customerId"))

    assert (second.unchanged, second.updated, second.created) == (500, 500, 500)
    held = uploader.contacts(first.list_id)
    assert len(held) == 1_500
    assert held["C0000700"]["firstName"] == "First700x"
    outcome = {r["contact_id"]: r["outcome"] for r in read_report(second.report)}
    assert (outcome["C0000001"], outcome["C0000700"], outcome["C0001200"]) == (
        "unchanged",
        "updated",
        "created",
    )


def test_file_without_id_column_is_refused_unless_allowed(uploader: Uploader) -> None:
    uploader.run(uploader.options(uploader.csv(10)))
    cols = [c for c in helpers.COLUMNS if c != "customerId"]
    f = helpers.write_csv(uploader.tmp / "noid.csv", 20, start=100, columns=cols)
    with pytest.raises(UploadRejected, match="--id-column"):
        uploader.run(uploader.options(f, create=False))
    result = uploader.run(uploader.options(f, create=False, allow_no_id=True))
    assert result.created == 20
    assert any("a second time" in w for w in result.warnings)
    report = read_report(result.report)
    assert {r["reason"] for r in report} == {ANONYMOUS_NOTE}
    assert {r["contact_id"] for r in report} == {""}
    assert len(uploader.contacts(result.list_id)) == 30
    same = uploader.run(uploader.options(f, create=False, allow_no_id=True))
    assert (same.unchanged, same.created) == (20, 0)  # the very same file: skipped by row
    edited = helpers.write_csv(uploader.tmp / "noid2.csv", 20, start=100, columns=cols, tag="e")
    by_file = uploader.run(uploader.options(edited, create=False, allow_no_id=True, via="file"))
    assert (by_file.transport, by_file.created, by_file.status) == ("file", 20, "done")
    assert len(uploader.contacts(result.list_id)) == 50  # duplicated, as the report warned


def test_columns_the_list_lacks_stop_the_upload_or_are_added(uploader: Uploader) -> None:
    first = uploader.run(uploader.options(uploader.csv(5)))
    cols = [*helpers.COLUMNS, "loyaltyTier"]
    f = uploader.tmp / "extra.csv"
    f.write_text(
        ",".join(cols) + "\n" + "C0000001,Ann,Lee,(212) 200-0001,a@example.com,Boston,gold\n",
        encoding="utf-8",
    )
    opts = uploader.options(f, create=False, id_column="customerId")
    with pytest.raises(UploadRejected, match="loyaltyTier"):
        uploader.run(opts)
    assert len(uploader.ledger.history(10)) == 1  # the refused upload was never begun
    assert uploader.contacts(first.list_id)["C0000001"].get("loyaltyTier") is None

    result = uploader.run(
        uploader.options(f, create=False, id_column="customerId", add_columns=True)
    )
    assert result.updated == 1
    assert "loyaltyTier" in uploader.sandbox.store.get_list(first.list_id)["columnNames"]
    assert uploader.contacts(first.list_id)["C0000001"]["loyaltyTier"] == "gold"


def test_replace_clears_the_list_first(uploader: Uploader) -> None:
    uploader.run(uploader.options(uploader.csv(300)))
    f = helpers.write_csv(uploader.tmp / "new.csv", 200, start=1_000)
    result = uploader.run(uploader.options(f, replace=True))
    uploader.assert_holds_exactly(result.list_id, range(1_000, 1_200))
    assert result.created == 200
    assert any(e.phase is Phase.CLEARING for e in uploader.events)


def test_a_busy_list_is_waited_for(uploader: Uploader) -> None:
    first = uploader.run(uploader.options(uploader.csv(10)))
    store = uploader.sandbox.store
    store.set_import_status(first.list_id, {"state": "IN_PROGRESS", "percentComplete": 40})
    done = threading.Timer(1.0, store.set_import_status, (first.list_id, {"percentComplete": 100}))
    done.start()
    try:
        result = uploader.run(uploader.options(uploader.csv(50, name="b.csv", start=10)))
    finally:
        done.join()
    waits = [e for e in uploader.events if e.phase is Phase.WAITING_BUSY]
    assert waits
    assert "import is running" in waits[0].message
    assert result.created == 50


def test_another_upload_holding_the_list_stops_this_one(uploader: Uploader) -> None:
    first = uploader.run(uploader.options(uploader.csv(10)))
    with ListLock(first.list_id), pytest.raises(ListBusy, match="another Outbound Desk upload"):
        uploader.run(uploader.options(uploader.csv(20, name="b.csv")))


def test_cancel_stops_between_batches_and_a_rerun_resumes(uploader: Uploader) -> None:
    f = uploader.csv(3_000)
    stop = threading.Event()
    uploader.sandbox.set_faults(latency_ms=100)  # so that batches are still queued at the cancel

    def watch(p: object) -> None:
        if getattr(p, "confirmed", 0) >= 1_000:
            stop.set()

    cancelled = uploader.run(
        uploader.options(f, batch_size=500, concurrency=1), cancelled=stop.is_set, progress=watch
    )
    assert cancelled.status == "cancelled"
    assert 0 < cancelled.created < 3_000
    assert cancelled.pending == 3_000 - cancelled.created
    report = read_report(cancelled.report)
    assert len(report) == 3_000
    assert {r["outcome"] for r in report} == {"created", "pending"}

    uploader.sandbox.set_faults(latency_ms=0)
    resumed = uploader.run(uploader.options(f, batch_size=500, concurrency=1))
    assert resumed.resumed
    assert resumed.upload_id == cancelled.upload_id
    assert (resumed.created, resumed.pending) == (3_000, 0)
    uploader.assert_holds_exactly(resumed.list_id, range(3_000))
    history = uploader.ledger.history(5)
    assert history[0].status == "done"


def test_pause_holds_the_upload_between_batches(uploader: Uploader) -> None:
    state = {"polls": 0}

    def paused() -> bool:
        state["polls"] += 1
        return 3 <= state["polls"] < 8  # paused for a few looks, then resumed

    result = uploader.run(uploader.options(uploader.csv(2_000), batch_size=250), paused=paused)
    assert result.created == 2_000
    assert any(e.paused for e in uploader.events)
    assert not uploader.events[-1].paused


def test_resume_by_id_refuses_a_changed_file(uploader: Uploader) -> None:
    f = uploader.csv(100)
    stop = threading.Event()

    def watch(p: object) -> None:
        if getattr(p, "phase", None) is Phase.UPLOADING:
            stop.set()

    first = uploader.run(uploader.options(f), cancelled=stop.is_set, progress=watch)
    assert first.status == "cancelled"
    helpers.write_csv(f, 101)
    with pytest.raises(UploadRejected, match="changed"):
        uploader.run(uploader.options(f, resume_id=first.upload_id))


def test_existing_list_by_id_and_unknown_list(uploader: Uploader) -> None:
    first = uploader.run(uploader.options(uploader.csv(10)))
    result = uploader.run(
        uploader.options(
            uploader.csv(5, name="b.csv", start=10),
            list=first.list_id,
            create=False,
            id_column="customerId",
        )
    )
    assert (result.list_id, result.created) == (first.list_id, 5)
    with pytest.raises(UploadRejected, match="no contact list named"):
        uploader.run(uploader.options(uploader.csv(5), list="Nope", create=False))


def test_options_are_checked() -> None:
    with pytest.raises(UploadUsageError, match="batch size"):
        UploadOptions(file=Path("x.csv"), list="L", batch_size=1_001)


def test_create_refuses_a_foreign_list_with_the_same_name(uploader: Uploader) -> None:
    uploader.client.contact_lists.create(
        ContactListSpec(
            name="Spring Renewals",
            column_names=["customerId", "phoneNumber", "other"],
            phone_columns=[PhoneColumn(column_name="phoneNumber", type="cell")],
        )
    )
    with pytest.raises(UploadRejected, match="already exists"):
        uploader.run(uploader.options(uploader.csv(5)))


def test_reconciliation_reports_a_contact_that_vanished_and_a_rerun_sends_it(
    uploader: Uploader,
) -> None:
    f = uploader.csv(1_500)

    def meddle(p: object) -> None:
        # Someone deletes a contact right after it was stored, before the read-back.
        if getattr(p, "phase", None) is Phase.RECONCILING:
            lists = [x for x in uploader.sandbox.store.lists() if x["name"] == "Spring Renewals"]
            uploader.sandbox.store.delete_contacts(lists[0]["id"], ["C0000042"])

    first = uploader.run(uploader.options(f), progress=meddle)
    assert (first.status, first.missing, first.created) == ("failed", 1, 1_499)
    row = next(r for r in read_report(first.report) if r["contact_id"] == "C0000042")
    assert (row["outcome"], row["reason"]) == ("missing", "not in the list after the upload")

    again = uploader.run(uploader.options(f))
    assert again.resumed
    assert (again.status, again.created, again.missing) == ("done", 1_500, 0)
    uploader.assert_holds_exactly(again.list_id, range(1_500))


def test_a_waiting_upload_says_whom_it_waits_for(uploader: Uploader) -> None:
    first = uploader.run(uploader.options(uploader.csv(10)))
    holder = ListLock(first.list_id, list_name="Spring Renewals")
    holder.acquire()
    later = threading.Timer(1.5, holder.release)
    later.start()
    try:
        result = uploader.run(uploader.options(uploader.csv(30, name="b.csv"), lock_timeout_s=None))
    finally:
        later.join()
    waits = [e for e in uploader.events if e.phase is Phase.WAITING_LOCK]
    assert waits
    assert f"pid {os.getpid()}" in waits[0].message
    assert result.created == 20
