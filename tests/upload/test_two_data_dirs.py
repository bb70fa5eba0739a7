"""Two uploads into one list from two data directories (two ledgers) do not interleave: the list
locks do not live in the data directory, so the second one sees the first (issue 16 item 14)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from outbound_desk.emulator import Sandbox
from outbound_desk.upload.lock import ListLock

from . import helpers

ROOT = Path(__file__).resolve().parents[2]


def _upload(
    sandbox: Sandbox, f: Path, list_id: str, data_dir: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OUTBOUND_DESK_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "outbound_desk", "upload", str(f), "--list", list_id,
         "--id-column", "customerId", "--via", "api", "--sandbox", sandbox.base_url, *extra],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip


def test_an_upload_from_another_data_dir_waits_for_the_list(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    made = sandbox.store.create_list(
        {
            "name": "Shared",
            "columnNames": helpers.COLUMNS,
            "phoneColumns": [{"columnName": "phoneNumber", "type": "cell"}],
        }
    )
    list_id = str(made["id"])
    f = helpers.write_csv(tmp_path / "b.csv", 30, tag="B")
    # The first upload, run from data directory A, holds the list (its own ListLock).
    first = ListLock(list_id, list_name="Shared")
    first.acquire()
    try:
        second = _upload(sandbox, f, list_id, tmp_path / "data-b")
        assert second.returncode == 3, second.stderr
        assert "another Outbound Desk upload" in second.stderr
        assert f"pid {os.getpid()}" in second.stderr
        assert sandbox.store.all_contacts(list_id) == []
        assert (tmp_path / "data-b" / "ledger.sqlite3").exists()
    finally:
        first.release()
    again = _upload(sandbox, f, list_id, tmp_path / "data-b")
    assert again.returncode == 0, again.stderr
    assert len(sandbox.store.all_contacts(list_id)) == 30
