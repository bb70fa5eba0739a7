"""Test-wide set-up: headless Qt, no stray threads.

Fixtures that isolate settings, data, logs and the keyring are in the section at the end.
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


# ---------------------------------------------------------------------------------------------
# Isolation of settings, data, logs and the keyring (owned by outbound_desk.config).
# No test ever reads or writes the developer's real config, ledger, logs or keyring: every
# OUTBOUND_DESK_*_DIR points into the test's tmp dir, and keyring talks to an in-memory backend.
# The real Secret Service is used only by tests marked secret_service, which build
# keyring.backends.SecretService.Keyring() themselves.
# ---------------------------------------------------------------------------------------------
import keyring  # noqa: E402
import keyring.backend  # noqa: E402
import keyring.errors  # noqa: E402


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An in-memory keyring backend: real keyring API, nothing leaves the process."""

    # Below every real backend, so keyring never picks it on its own (it registers itself).
    priority = 0.01

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("no such password") from None


@pytest.fixture(autouse=True)
def _isolated_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MemoryKeyring]:
    """Point every app directory at a fresh tmp dir and the keyring at memory."""
    root = tmp_path_factory.mktemp("outbound-desk-home")
    for name in ("CONFIG", "DATA", "LOG", "CACHE", "LOCK"):
        path = root / name.lower()
        path.mkdir()
        monkeypatch.setenv(f"OUTBOUND_DESK_{name}_DIR", str(path))
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(MemoryKeyring())  # whatever a test installed does not outlive it
    from outbound_desk.config import logs

    logs.teardown_logging()
    logs.clear_registered_secrets()


@pytest.fixture
def memory_keyring(_isolated_config: MemoryKeyring) -> MemoryKeyring:
    """The in-memory keyring backend installed for this test."""
    return _isolated_config


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


# ---------------------------------------------------------------- SDK conformance
# Every exchange with a sandbox during the run is recorded and checked against the official
# SDK's operations and models at the end of the session (tests/conformance/plugin.py).
def pytest_configure(config: pytest.Config) -> None:
    from tests.conformance.plugin import ConformancePlugin

    config.pluginmanager.register(ConformancePlugin(), "outbound-desk-sdk-conformance")
