from __future__ import annotations

import hashlib
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from outbound_desk.config import paths
from outbound_desk.upload.ledger import (
    LEDGER_SCHEMA_VERSION,
    Ledger,
    LedgerError,
    UploadCounts,
    payload_hash,
)

REPO = Path(__file__).resolve().parents[2]
SHA = "ab" * 32


@pytest.fixture
def ledger() -> Ledger:
    with Ledger(paths.ledger_path()) as led:
        yield led


def _begin(ledger: Ledger, *, sha: str = SHA, list_id: str = "L1", options: dict | None = None):
    return ledger.begin_upload(
        file_path="/data/contacts.csv",
        file_sha256=sha,
        list_id=list_id,
        list_name="Spring campaign",
        options=options if options is not None else {"batch_size": 1000, "via": "api"},
        transport="api",
        profile="prod",
        rows=3,
    )


def test_payload_hash_is_sha256_of_canonical_json() -> None:
    data = {"phone": "+14155550100", "name": "Zoë", "a": ""}
    canonical = '{"a":"","name":"Zoë","phone":"+14155550100"}'
    assert payload_hash(data) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert payload_hash(dict(reversed(list(data.items())))) == payload_hash(data)
    assert payload_hash({**data, "name": "Zoe"}) != payload_hash(data)


def test_new_ledger_has_its_schema_in_wal_mode(ledger: Ledger) -> None:
    assert ledger.schema_version() == LEDGER_SCHEMA_VERSION == 2
    conn = sqlite3.connect(ledger.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    assert {"uploads", "contacts", "batches", "schema_version"} <= tables


def test_a_ledger_from_a_newer_app_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (7)")
    conn.close()
    with pytest.raises(LedgerError, match="newer Outbound Desk"):
        Ledger(path)


def test_upload_life_cycle_and_history(ledger: Ledger) -> None:
    first = _begin(ledger)
    assert first.status == "running"
    assert first.list_name == "Spring campaign"
    assert first.options == {"batch_size": 1000, "via": "api"}
    assert first.ended_at is None
    second = _begin(ledger, list_id="L2")
    third = _begin(ledger)

    done = ledger.finish_upload(
        first.id, "done", UploadCounts(rows=3, created=2, updated=1), "/tmp/report.csv"
    )
    assert done.status == "done"
    assert done.counts == UploadCounts(rows=3, created=2, updated=1)
    assert done.report_path == "/tmp/report.csv"
    assert done.ended_at is not None
    assert done.ended_at >= done.started_at

    assert [u.id for u in ledger.history()] == [third.id, second.id, first.id]
    assert [u.id for u in ledger.history(limit=2)] == [third.id, second.id]
    assert [u.id for u in ledger.history(list_id="L1")] == [third.id, first.id]
    assert [u.id for u in ledger.unfinished_uploads()] == [third.id, second.id]

    ledger.set_status(second.id, "paused")
    assert ledger.get_upload(second.id).status == "paused"
    with pytest.raises(LedgerError, match="no upload"):
        ledger.get_upload("missing")
    with pytest.raises(ValueError, match="status"):
        ledger.set_status(second.id, "exploded")  # type: ignore[arg-type]


def test_find_resumable_matches_file_list_and_options(ledger: Ledger) -> None:
    options = {"batch_size": 1000, "via": "api", "id_column": "crm_id"}
    old = _begin(ledger, options=options)
    new = _begin(ledger, options=dict(reversed(list(options.items()))))  # same options
    _begin(ledger, options={**options, "batch_size": 500})
    _begin(ledger, list_id="other", options=options)

    assert ledger.find_resumable(SHA, "L1", options).id == new.id  # the latest
    ledger.finish_upload(new.id, "failed", UploadCounts())
    assert ledger.find_resumable(SHA, "L1", options).id == new.id  # failed can resume
    ledger.finish_upload(new.id, "done", UploadCounts())
    assert ledger.find_resumable(SHA, "L1", options).id == old.id
    ledger.finish_upload(old.id, "done", UploadCounts())
    assert ledger.find_resumable(SHA, "L1", options) is None
    assert ledger.find_resumable("cd" * 32, "L1", options) is None


def test_confirmed_hashes_skip_unchanged_contacts(ledger: Ledger) -> None:
    up = _begin(ledger)
    rows = {f"c{i}": payload_hash({"n": str(i)}) for i in range(10)}
    assert ledger.mark_pending("L1", up.id, rows.items()) == 10
    ledger.plan_batch(up.id, 0, list(rows)[:6], "req-0")
    ledger.mark_sent("L1", up.id, 0)
    ledger.mark_confirmed("L1", list(rows)[:5], upload_id=up.id, batch_no=0)
    ledger.mark_rejected("L1", [("c5", "invalid phone number")])

    confirmed = ledger.confirmed_hashes("L1", [*list(rows), "unknown"])
    assert confirmed == {cid: rows[cid] for cid in list(rows)[:5]}
    assert ledger.confirmed_hashes("other-list", list(rows)) == {}
    assert ledger.rejection_reasons("L1", up.id) == {"c5": "invalid phone number"}
    assert ledger.contact_states("L1") == {"confirmed": 5, "rejected": 1, "pending": 4}

    # A rerun: the same payload keeps the contact confirmed; a changed one makes it pending.
    rerun = _begin(ledger)
    changed = payload_hash({"n": "changed"})
    ledger.mark_pending("L1", rerun.id, [("c0", rows["c0"]), ("c1", changed)])
    assert ledger.confirmed_hashes("L1", ["c0", "c1"]) == {"c0": rows["c0"]}
    assert ledger.contacts_in_state("L1", rerun.id, ["pending"]) == ["c1"]


def test_confirmed_hashes_for_many_ids_agree_with_few(ledger: Ledger) -> None:
    up = _begin(ledger)
    n = 12_000
    ids = [f"id-{i:06d}" for i in range(n)]
    ledger.mark_pending("L1", up.id, ((cid, payload_hash({"i": cid})) for cid in ids))
    ledger.mark_confirmed("L1", ids[::3])
    asked = ids + [f"absent-{i}" for i in range(100)]
    many = ledger.confirmed_hashes("L1", asked)  # temp-table path
    assert len(many) == len(ids[::3])
    assert many == {cid: payload_hash({"i": cid}) for cid in ids[::3]}
    few = ledger.confirmed_hashes("L1", iter(ids[:90]))  # IN path, from an iterator
    assert few == {cid: h for cid, h in many.items() if cid in set(ids[:90])}
    assert ledger.confirmed_hashes("L1", asked) == many  # the temp table is emptied between


def test_batches_keep_their_request_id_and_count_attempts(ledger: Ledger) -> None:
    up = _begin(ledger)
    ledger.mark_pending("L1", up.id, [("a", "h1"), ("b", "h2"), ("c", "h3")])
    batch = ledger.plan_batch(up.id, 0, ["a", "b"], "req-first")
    assert (batch.state, batch.attempts, batch.request_id) == ("planned", 0, "req-first")
    again = ledger.plan_batch(up.id, 0, ["a", "b"], "req-second")  # replanned after a crash
    assert again.request_id == "req-first"
    assert ledger.batch_attempts(up.id, 0) == 0

    assert ledger.mark_sent("L1", up.id, 0) == 1
    assert ledger.contacts_in_state("L1", up.id, ["sent"]) == ["a", "b"]
    assert ledger.mark_sent("L1", up.id, 0) == 2  # a retry
    ledger.mark_batch_failed(up.id, 0)
    ledger.plan_batch(up.id, 1, ["c"], "req-c")
    assert [b.batch_no for b in ledger.unconfirmed_batches(up.id)] == [0, 1]

    ledger.mark_confirmed("L1", ["a", "b"], upload_id=up.id, batch_no=0)
    assert [b.batch_no for b in ledger.unconfirmed_batches(up.id)] == [1]
    done = ledger.get_batch(up.id, 0)
    assert done is not None
    assert done.state == "confirmed"
    assert done.attempts == 2
    assert done.confirmed_at is not None
    assert ledger.batch_attempts(up.id, 9) == 0
    with pytest.raises(LedgerError, match="never planned"):
        ledger.mark_sent("L1", up.id, 9)


def test_a_big_batch_is_stored_as_one_json_list_and_marked_sent_by_sqlite(
    ledger: Ledger,
) -> None:
    """A CSV import's batch holds every id: its text is json.dumps of the ids (written in
    slices) and marking it sent walks them in SQLite; ids with quotes, backslashes, commas
    and non-ASCII survive both."""
    up = _begin(ledger)
    ids = [f'c{i}"\\, é' if i % 997 == 0 else f"c{i}" for i in range(25_001)]
    ledger.mark_pending("L1", up.id, ((cid, "h") for cid in ids))
    made = ledger.plan_batch(up.id, 0, ids, "file-sha256:x")
    assert made.contact_ids == ids
    stored = sqlite3.connect(ledger.path).execute("SELECT contact_ids FROM batches").fetchone()
    assert stored[0] == json.dumps(ids)
    assert ledger.get_batch(up.id, 0).contact_ids == ids
    assert ledger.mark_sent("L1", up.id, 0) == 1
    assert ledger.contact_states("L1") == {"sent": len(ids)}


def test_sent_hashes_are_the_last_sent_payloads_in_any_state(ledger: Ledger) -> None:
    up = _begin(ledger)
    ledger.mark_pending("L1", up.id, [("a", "ha"), ("b", "hb"), ("c", "hc")])
    ledger.mark_confirmed("L1", ["a"])
    ledger.mark_rejected("L1", [("b", "refused")])
    assert ledger.sent_hashes("L1", ["a", "b", "c", "d"]) == {"a": "ha", "b": "hb", "c": "hc"}
    assert ledger.confirmed_hashes("L1", ["a", "b", "c"]) == {"a": "ha"}
    many = [f"x{i}" for i in range(3_000)]  # the temp-table path
    ledger.mark_pending("L1", up.id, ((cid, cid) for cid in many))
    assert ledger.sent_hashes("L1", many) == {cid: cid for cid in many}


def test_payload_hashes_of_canonical_texts_equal_payload_hash() -> None:
    import pyarrow as pa

    from outbound_desk.upload.ledger import canonical_json, payload_hashes

    rows = [{"b": "1", "a": 'q"\\'}, {"b": "é\n", "a": ""}, {"a": "", "b": ""}]
    texts = pa.array([canonical_json(r) for r in rows], type=pa.large_string())
    assert payload_hashes(texts) == [payload_hash(r) for r in rows]
    assert payload_hashes(texts.slice(1)) == [payload_hash(r) for r in rows[1:]]


def test_a_failed_transaction_leaves_nothing_behind(ledger: Ledger) -> None:
    up = _begin(ledger)

    def rows():
        yield ("ok-1", "h")
        yield ("ok-2", "h")
        raise RuntimeError("the reader broke mid-way")

    with pytest.raises(RuntimeError):
        ledger.mark_pending("L1", up.id, rows())
    assert ledger.contact_states("L1") == {}


def test_concurrent_writers_from_two_threads(ledger: Ledger) -> None:
    up = _begin(ledger)
    errors: list[BaseException] = []

    def work(prefix: str, list_id: str, first_batch: int) -> None:
        try:
            for b in range(20):
                ids = [f"{prefix}-{b}-{i}" for i in range(250)]
                ledger.mark_pending(list_id, up.id, ((cid, "h") for cid in ids))
                ledger.plan_batch(up.id, first_batch + b, ids, f"{prefix}-{b}")
                ledger.mark_confirmed(list_id, ids[::2])
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=("t1", "L1", 0)),
        threading.Thread(target=work, args=("t2", "L1", 100)),
        threading.Thread(target=work, args=("t3", "L2", 200)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ledger.contact_states("L1") == {"pending": 5000, "confirmed": 5000}
    assert ledger.contact_states("L2") == {"pending": 2500, "confirmed": 2500}
    assert len(ledger.unconfirmed_batches(up.id)) == 60


_CRASHING_WRITER = textwrap.dedent(
    """
    import sys
    from outbound_desk.upload.ledger import Ledger, payload_hash

    ledger = Ledger(sys.argv[1])
    up = ledger.begin_upload(file_path="f.csv", file_sha256="@SHA@", list_id="L1",
                             options={"via": "api"}, transport="api")
    ids = [f"c{i:05d}" for i in range(20000)]
    ledger.mark_pending("L1", up.id, ((c, payload_hash({"id": c})) for c in ids))
    print("upload", up.id, flush=True)
    batch = 0
    while True:  # runs until killed
        chunk = ids[(batch * 100) % 20000:][:100]
        ledger.plan_batch(up.id, batch, chunk, f"req-{batch}")
        ledger.mark_sent("L1", up.id, batch)
        ledger.mark_confirmed("L1", chunk, upload_id=up.id, batch_no=batch)
        print("confirmed", batch, flush=True)
        batch += 1
    """
).replace("@SHA@", SHA)


def test_a_kill_9_mid_write_leaves_a_consistent_resumable_ledger(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    try:
        upload_id = proc.stdout.readline().split()[1]
        last = -1
        while last < 30:
            line = proc.stdout.readline()
            assert line, "the writer stopped on its own"
            last = int(line.split()[1])
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()

    with Ledger(path) as ledger:
        up = ledger.find_resumable(SHA, "L1", {"via": "api"})
        assert up is not None
        assert up.id == upload_id
        assert up.status == "running"  # the crash left it so; resume picks it up
        states = ledger.contact_states("L1", upload_id)
        assert sum(states.values()) == 20000  # nothing lost
        # Every confirmed batch has every contact confirmed (one transaction each), and at
        # least the batches the writer reported are confirmed.
        confirmed_batches = 0
        # The writer runs ahead of what was read from its pipe: walk every batch it planned.
        for b in itertools.count():
            batch = ledger.get_batch(upload_id, b)
            if batch is None:
                break
            hashes = ledger.confirmed_hashes("L1", batch.contact_ids)
            if batch.state == "confirmed":
                confirmed_batches += 1
                assert len(hashes) == len(batch.contact_ids)
                assert batch.attempts == 1
            else:  # in flight when killed: resent on resume with the same request id
                assert batch.request_id == f"req-{b}"
                assert [x.batch_no for x in ledger.unconfirmed_batches(upload_id)] == [b]
        assert confirmed_batches >= last + 1
        assert states["confirmed"] == confirmed_batches * 100
        left = ledger.contacts_in_state("L1", upload_id, ["pending", "sent"])
        assert len(left) == 20000 - confirmed_batches * 100
        assert json.loads(json.dumps(up.options)) == {"via": "api"}
