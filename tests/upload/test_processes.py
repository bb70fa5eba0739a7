"""The upload command in real processes: kill -9 at random moments and rerun; two uploads into
one list at once. The sandbox runs in the test process, so it outlives the killed uploader."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from outbound_desk.emulator import Sandbox
from outbound_desk.upload.ledger import Ledger

from . import helpers
from .conftest import read_report

ROOT = Path(__file__).resolve().parents[2]


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "outbound_desk", "upload", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


class SentCounter:
    """Counts the contacts the sandbox stored per request (wraps the store's upsert)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.contacts = 0
        self.requests = 0
        self._lock = threading.Lock()
        original: Callable[..., Any] = sandbox.store.upsert_contacts

        def counting(list_id: str, items: Any, **kw: Any) -> Any:
            out = original(list_id, items, **kw)
            with self._lock:
                self.contacts += len(items)
                self.requests += 1
            return out

        sandbox.store.upsert_contacts = counting  # type: ignore[method-assign]


@pytest.mark.slow
def test_kill_9_at_random_moments_then_rerun_until_done(sandbox: Sandbox, tmp_path: Path) -> None:
    rows, bad = 50_000, frozenset(range(5, 50_000, 9_973))
    f = helpers.write_csv(tmp_path / "big.csv", rows, bad_rows=bad)
    schema = helpers.schema_file(tmp_path / "schema.json", "Crash Test")
    ledger = tmp_path / "ledger.sqlite3"
    counter = SentCounter(sandbox)
    args = _cmd(
        str(f), "--list", "Crash Test", "--create", "--schema", str(schema),
        "--sandbox", sandbox.base_url, "--ledger", str(ledger), "--via", "api",
        "--batch-size", "1000", "--concurrency", "1", "--json", "--quiet",
    )  # fmt: skip
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    crashes = 0
    mid_send = 0
    for k in range(3):
        proc = subprocess.Popen(args, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # A random moment: before anything was sent, or after a random number of batches.
        target = counter.requests + (rng.randint(1, 20) if k == 0 else rng.choice([0, 5, 15]))
        deadline = time.monotonic() + 60
        while counter.requests < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        if target == counter.requests:
            time.sleep(rng.uniform(0, 0.4))
        if proc.poll() is None:
            mid_send += counter.requests > 0 and target > 0
            proc.send_signal(signal.SIGKILL)
            crashes += 1
        proc.communicate(timeout=60)
    assert mid_send >= 1, "no kill landed while contacts were being sent"
    runs = 0
    while True:
        runs += 1
        done = subprocess.run(args, env=_env(), capture_output=True, text=True, timeout=300)
        if done.returncode in (0, 1) or runs == 3:
            break
    assert done.returncode == 1, done.stderr  # 1: some rows were rejected, all others landed
    result = json.loads(done.stdout)
    valid = [i for i in range(rows) if i not in bad]
    held = {c["id"] for c in sandbox.store.all_contacts(result["list_id"])}
    assert held == {f"C{i:07d}" for i in valid}, f"seed {seed}"
    assert (result["rejected"], result["rows"]) == (len(bad), rows)
    if not result["resumed"]:
        # The last killed run had already finished everything: this run found nothing to do,
        # and the one before it counted every contact as created.
        assert result["unchanged"] == len(valid)
        with Ledger(ledger) as led:
            result = next(
                {"created": r.counts.created, "report": r.report_path}
                for r in led.history(10)
                if r.status == "done" and r.counts.created
            )
    assert result["created"] == len(valid)
    report = read_report(Path(result["report"]))
    assert len(report) == rows
    # Each crash may have cost at most the one batch that was in flight.
    resent = counter.contacts - len(valid)
    assert 0 <= resent <= crashes * 1000, f"seed {seed}: {resent} contacts sent twice"
    print(f"seed {seed}: {crashes} kills ({mid_send} while sending), {resent} contacts resent")
    lists = [x for x in sandbox.store.lists() if x["name"] == "Crash Test"]
    assert len(lists) == 1


@pytest.mark.slow
def test_two_processes_uploading_into_one_list(sandbox: Sandbox, tmp_path: Path) -> None:
    schema = helpers.schema_file(tmp_path / "schema.json", "Shared")
    ledger = tmp_path / "ledger.sqlite3"
    common = ["--sandbox", sandbox.base_url, "--ledger", str(ledger), "--json", "--quiet"]
    seed = helpers.write_csv(tmp_path / "seed.csv", 10)
    made = subprocess.run(
        _cmd(str(seed), "--list", "Shared", "--create", "--schema", str(schema), *common),
        env=_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    list_id = json.loads(made.stdout)["list_id"]

    a_file = helpers.write_csv(tmp_path / "a.csv", 20_000, start=1_000)
    b_file = helpers.write_csv(tmp_path / "b.csv", 500, start=50_000)
    sandbox.set_faults(latency_ms=80)  # keeps upload A busy for several seconds
    more = ["--id-column", "customerId", "--batch-size", "250", "--concurrency", "1"]
    a = subprocess.Popen(
        _cmd(str(a_file), "--list", "Shared", *more, *common),
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    # Wait until A is writing to the list (it holds the lock for its whole run).
    deadline = time.monotonic() + 60
    while sandbox.store.contact_count(list_id) <= 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert a.poll() is None, "upload A ended before the test could overlap it"

    refused = subprocess.run(
        _cmd(str(b_file), "--list", "Shared", *more, *common),
        env=_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 3
    assert "another Outbound Desk upload (pid" in refused.stderr
    assert json.loads(refused.stdout)["error"].startswith("another Outbound Desk upload")

    waiting = subprocess.run(
        _cmd(str(b_file), "--list", "Shared", *more, "--wait-for-lock", "-1", *common),
        env=_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    a_out, a_err = a.communicate(timeout=300)
    assert a.returncode == 0, a_err
    assert waiting.returncode == 0, waiting.stderr
    assert json.loads(waiting.stdout)["created"] == 500
    assert json.loads(a_out)["created"] == 20_000
    held = {c["id"] for c in sandbox.store.all_contacts(list_id)}
    want = {f"C{i:07d}" for i in [*range(10), *range(1_000, 21_000), *range(50_000, 50_500)]}
    assert held == want
