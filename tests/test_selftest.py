"""`outbound-desk --self-test`: the install check that CI also runs on the frozen bundle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from outbound_desk.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_self_test_passes_and_reports_each_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["self-test", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert [c["check"] for c in report["checks"]] == [
        "inspect",
        "validate",
        "sandbox",
        "upload",
        "rerun",
    ]


def test_self_test_fails_with_exit_1_when_the_data_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file whose rows are all invalid: nothing to upload, so the check must fail, not pass.
    bad = tmp_path / "bad.csv"
    bad.write_text("customerId,phoneNumber\nA,not a phone\nB,12\n", encoding="utf-8")
    assert main(["self-test", "--file", str(bad)]) == 1
    assert "self-test failed" in capsys.readouterr().err


def test_self_test_flag_also_checks_the_desktop_half() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "outbound_desk", "--self-test"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 0, done.stderr
    assert "self-test passed" in done.stdout
    assert "ok  gui:" in done.stdout
