"""Test-wide set-up: headless Qt, no stray threads.

Fixtures that isolate settings and the keyring arrive with ``outbound_desk.config``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

# Qt reads the platform when the QApplication is made, after this module is imported.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _no_dangling_threads() -> Iterator[None]:
    """Fail a test that leaves a (non-daemon) thread of its own running."""
    before = set(threading.enumerate())
    yield
    leftover = [
        t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon
    ]
    for t in leftover:
        t.join(timeout=5)
    still = [t.name for t in leftover if t.is_alive()]
    assert not still, f"test left threads running: {still}"
