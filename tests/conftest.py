"""Test-wide set-up: headless Qt, no stray threads.

Fixtures that isolate settings and the keyring arrive with ``outbound_desk.config``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

from outbound_desk.emulator import Sandbox

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


# ---------------------------------------------------------------- sandbox org (emulator)
# A fresh sandbox org per test: empty (no sample lists), no faults, a rate limit generous
# enough that only tests about the limit meet it. Tests that want the demo lists start their
# own with ``Sandbox.start(seed=True)``.


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(rate_limit=(10_000, 60.0), seed=False) as sb:
        yield sb


@pytest.fixture
def sandbox_token(sandbox: Sandbox) -> str:
    """A bearer token for ``sandbox``, from its /oauth/token (client credentials)."""
    import httpx

    reply = httpx.post(
        f"{sandbox.base_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(sandbox.client_id, sandbox.client_secret),
        timeout=10,
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])
