"""The ledger, the journals, the reports and the lock files are readable by their user alone."""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
from pathlib import Path

import pytest

from outbound_desk.config import data_dir, locks_dir
from outbound_desk.upload.journal import Journal
from outbound_desk.upload.ledger import Ledger

from .conftest import Uploader

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX mode bits")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _open_umask() -> object:
    """The common umask 022, which gave 0644 files and 0755 directories before."""
    old = os.umask(0o022)
    yield None
    os.umask(old)


def test_an_upload_leaves_only_private_files(uploader: Uploader) -> None:
    res = uploader.run(uploader.options(uploader.csv(30)))
    assert res.status == "done"
    ledger = uploader.ledger.path
    journal = Journal.path_for(ledger, res.upload_id)
    for f in (ledger, journal, res.report):
        assert _mode(f) == 0o600, f
    for wal in (ledger.with_name(ledger.name + "-wal"), journal.with_name(journal.name + "-wal")):
        if wal.exists():
            assert _mode(wal) == 0o600, wal
    assert _mode(journal.parent) == 0o700
    assert _mode(res.report.parent) == 0o700
    locks = locks_dir()
    assert _mode(locks) == 0o700
    assert all(_mode(f) == 0o600 for f in locks.iterdir())


def test_the_default_data_dir_is_made_private(tmp_path: Path) -> None:
    home = data_dir()
    home.rmdir()
    with Ledger(home / "ledger.sqlite3"):
        pass
    assert _mode(home) == 0o700


def test_files_an_older_version_left_open_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    os.chmod(path, 0o644)
    (tmp_path / "journals").mkdir(mode=0o755)
    old_journal = tmp_path / "journals" / "u1.sqlite"
    old_journal.write_bytes(b"")
    os.chmod(old_journal, 0o644)
    os.chmod(tmp_path / "journals", 0o755)  # noqa: S103 - the mode an older version left
    with Ledger(path):
        pass
    assert _mode(path) == 0o600
    Journal(old_journal).close()
    assert _mode(old_journal) == 0o600
    assert _mode(old_journal.parent) == 0o700
