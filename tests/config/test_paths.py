from __future__ import annotations

from pathlib import Path

import pytest

from outbound_desk.config import paths


def test_each_directory_follows_its_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for env, func in [
        ("OUTBOUND_DESK_CONFIG_DIR", paths.config_dir),
        ("OUTBOUND_DESK_DATA_DIR", paths.data_dir),
        ("OUTBOUND_DESK_LOG_DIR", paths.log_dir),
        ("OUTBOUND_DESK_CACHE_DIR", paths.cache_dir),
        ("OUTBOUND_DESK_LOCK_DIR", paths.locks_dir),
    ]:
        target = tmp_path / env.lower()
        monkeypatch.setenv(env, str(target))
        assert func() == target


def test_without_overrides_platformdirs_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ("CONFIG", "DATA", "LOG", "CACHE", "LOCK"):
        monkeypatch.delenv(f"OUTBOUND_DESK_{env}_DIR")
    for func in (paths.config_dir, paths.data_dir, paths.log_dir, paths.cache_dir):
        assert "outbound-desk" in str(func())
    assert "outbound-desk" in str(paths.locks_dir())


def test_ledger_path_default_and_override(tmp_path: Path) -> None:
    assert paths.ledger_path() == paths.data_dir() / "ledger.sqlite3"
    assert paths.ledger_path(tmp_path / "x.db") == tmp_path / "x.db"
    assert paths.ledger_path("  ") == paths.data_dir() / "ledger.sqlite3"


def test_locks_do_not_follow_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Two data directories (two ledgers) share the per-list locks (issue 16 item 14)."""
    monkeypatch.delenv("OUTBOUND_DESK_LOCK_DIR")
    monkeypatch.setenv("OUTBOUND_DESK_DATA_DIR", str(tmp_path / "a"))
    first = paths.locks_dir()
    monkeypatch.setenv("OUTBOUND_DESK_DATA_DIR", str(tmp_path / "b"))
    assert paths.locks_dir() == first
    assert not first.is_relative_to(tmp_path)
