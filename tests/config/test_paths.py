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
    ]:
        target = tmp_path / env.lower()
        monkeypatch.setenv(env, str(target))
        assert func() == target


def test_without_overrides_platformdirs_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ("CONFIG", "DATA", "LOG", "CACHE"):
        monkeypatch.delenv(f"OUTBOUND_DESK_{env}_DIR")
    for func in (paths.config_dir, paths.data_dir, paths.log_dir, paths.cache_dir):
        assert "outbound-desk" in str(func())


def test_ledger_path_default_and_override(tmp_path: Path) -> None:
    assert paths.ledger_path() == paths.data_dir() / "ledger.sqlite3"
    assert paths.ledger_path(tmp_path / "x.db") == tmp_path / "x.db"
    assert paths.ledger_path("  ") == paths.data_dir() / "ledger.sqlite3"
    assert paths.locks_dir() == paths.data_dir() / "locks"
