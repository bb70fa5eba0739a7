"""Uploading a workbook, and the reading overrides ``upload`` takes like ``inspect`` (issue 15).

The sandbox receives the normalised rows (UTF-8 CSV for a file import, JSON batches through
the API), never the workbook; the result and the history keep the workbook's own SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import xlsxwriter

from outbound_desk.emulator import Sandbox

from . import helpers

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "outbound_desk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


def _workbook(path: Path, n: int) -> Path:
    book = xlsxwriter.Workbook(str(path))
    notes = book.add_worksheet("Read me")
    notes.write(0, 0, "this sheet is not the list")
    ws = book.add_worksheet("Contacts")
    ws.write(0, 0, "Spring renewals, exported from the CRM")
    ws.write_row(2, 0, helpers.COLUMNS)
    for i in range(n):
        r = helpers.row(i)
        values = [r[c] for c in helpers.COLUMNS]
        ws.write_row(3 + i, 0, values)
        ws.write_number(3 + i, 3, int(helpers.e164(i)[2:]))  # the phone as a number
    book.close()
    return path


@pytest.mark.parametrize("via", ["api", "file"])
def test_upload_a_workbook_sheet_sends_normalised_rows_and_keeps_its_checksum(
    sandbox: Sandbox, tmp_path: Path, via: str
) -> None:
    book = _workbook(tmp_path / "renewals.xlsx", 40)
    schema = helpers.schema_file(tmp_path / "schema.json", "Workbook List")
    ledger = tmp_path / "ledger.sqlite3"
    done = _cli(
        "upload", str(book), "--list", "Workbook List", "--create", "--schema", str(schema),
        "--sheet", "Contacts", "--via", via, "--sandbox", sandbox.base_url,
        "--ledger", str(ledger), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["rows"], out["created"], out["rejected"]) == (40, 40, 0)
    assert out["sha256"] == hashlib.sha256(book.read_bytes()).hexdigest()
    contacts = sandbox.store.all_contacts(out["list_id"])
    phones = sorted(c["data"]["phoneNumber"] for c in contacts)
    assert phones == sorted(helpers.e164(i) for i in range(40))
    assert {c["data"]["customerId"] for c in contacts} == {f"C{i:07d}" for i in range(40)}
    history = json.loads(_cli("history", "--json", "--ledger", str(ledger)).stdout)
    assert history[0]["sha256"] == out["sha256"]
    if via == "file":
        # The ledger keeps the workbook's SHA-256 beside that of the UTF-8 CSV it sent.
        with sqlite3.connect(ledger) as db:
            (kept,) = db.execute("SELECT file_sha256 FROM uploads").fetchone()
            (request,) = db.execute("SELECT request_id FROM batches").fetchone()
        assert kept == out["sha256"]
        prefix, sent = request.split(":")
        assert prefix == "file-sha256"
        assert len(sent) == 64
        assert sent != kept


def test_upload_takes_the_reading_overrides_of_inspect(sandbox: Sandbox, tmp_path: Path) -> None:
    # A headerless cp1252 file with ";" between fields and "'" around them: what the app
    # showed after the person's overrides is what a scheduled upload loads.
    lines = [
        f"'C{i:07d}';'Zoë';'Last{i}';'{helpers.phone(i)}';'p{i}@example.com';'Köln'"
        for i in range(12)
    ]
    path = tmp_path / "export.txt"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    schema = helpers.schema_file(tmp_path / "schema.json", "Override List")
    ledger = str(tmp_path / "l.sqlite3")
    base = ["upload", str(path), "--list", "Override List", "--create", "--schema", str(schema),
            "--sandbox", sandbox.base_url, "--ledger", ledger, "--json"]  # fmt: skip
    maps = []
    for i, column in enumerate(helpers.COLUMNS, start=1):
        maps += ["--map", f"column_{i}={column}"]
    done = _cli(
        *base, *maps, "--encoding", "cp1252", "--delimiter", ";", "--quotechar", "'",
        "--no-header",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["rows"], out["created"]) == (12, 12)
    contacts = sandbox.store.all_contacts(out["list_id"])
    assert {c["data"]["firstName"] for c in contacts} == {"Zoë"}
    assert {c["data"]["city"] for c in contacts} == {"Köln"}
