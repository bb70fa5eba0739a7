from __future__ import annotations

from pathlib import Path

import pytest

from outbound_desk.config import SettingsStore


@pytest.fixture
def settings_store(tmp_path: Path) -> SettingsStore:
    return SettingsStore(tmp_path / "config")
