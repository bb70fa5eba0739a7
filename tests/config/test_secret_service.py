"""The credential store against a real Secret Service (gnome-keyring in a D-Bus session).

Run with ``dbus-run-session -- sh -c 'echo -n pw | gnome-keyring-daemon --unlock
--components=secrets >/dev/null; python -m pytest tests/config'``. Without a reachable, unlocked
Secret Service these tests skip, unless OUTBOUND_DESK_REQUIRE_SECRET_SERVICE=1 (CI), where they
fail.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

from outbound_desk.config import paths
from outbound_desk.config.credentials import CredentialStore
from outbound_desk.config.logs import setup_logging
from outbound_desk.config.settings import OrgProfile, Settings, SettingsStore

pytestmark = pytest.mark.secret_service


def _unavailable(reason: str) -> None:
    if os.environ.get("OUTBOUND_DESK_REQUIRE_SECRET_SERVICE") == "1":
        pytest.fail(f"a Secret Service is required here but {reason}")
    pytest.skip(f"no usable Secret Service: {reason}")


@pytest.fixture
def real_store() -> Iterator[CredentialStore]:
    """A CredentialStore on the real Secret Service, under a service name of its own."""
    try:
        from keyring.backends import SecretService
    except ImportError as exc:
        _unavailable(f"keyring's SecretService backend cannot be imported ({exc})")
        raise
    backend = SecretService.Keyring()
    service = f"outbound-desk-test-{uuid.uuid4()}"
    try:
        if backend.priority <= 0:  # the property raises when D-Bus or secretstorage is missing
            _unavailable("the backend reports itself unusable")
        backend.set_password(service, "probe/client_secret", "probe")
        if backend.get_password(service, "probe/client_secret") != "probe":
            _unavailable("a probe secret did not read back")
        backend.delete_password(service, "probe/client_secret")
    except (pytest.skip.Exception, pytest.fail.Exception):
        raise
    except Exception as exc:
        _unavailable(f"{type(exc).__name__}: {exc}")
    store = CredentialStore(backend, service=service)
    yield store
    for profile in ("prod", "test", "unicode", "settings"):
        with contextlib.suppress(Exception):
            store.delete_secret(profile)


def test_round_trip(real_store: CredentialStore) -> None:
    assert real_store.is_available()
    assert "SecretService" in real_store.backend_name()
    assert real_store.get_secret("prod") is None
    real_store.set_secret("prod", "real-secret-1")
    assert real_store.get_secret("prod") == "real-secret-1"

    # A second backend object (a new D-Bus connection) sees it: it really is in the keyring.
    from keyring.backends import SecretService

    fresh = CredentialStore(SecretService.Keyring(), service=real_store.service)
    assert fresh.get_secret("prod") == "real-secret-1"

    assert real_store.delete_secret("prod") is True
    assert real_store.get_secret("prod") is None
    assert real_store.delete_secret("prod") is False


def test_two_profiles_apart(real_store: CredentialStore) -> None:
    real_store.set_secret("prod", "prod-secret")
    real_store.set_secret("test", "test-secret")
    assert real_store.get_secret("prod") == "prod-secret"
    assert real_store.get_secret("test") == "test-secret"
    real_store.delete_secret("test")
    assert real_store.get_secret("prod") == "prod-secret"
    assert real_store.get_secret("test") is None


def test_unicode_secret(real_store: CredentialStore) -> None:
    secret = 'päss wörd ✓ 秘密 🔑 "quoted" \\ back'
    real_store.set_secret("unicode", secret)
    assert real_store.get_secret("unicode") == secret


def test_the_secret_never_reaches_settings_or_logs(real_store: CredentialStore) -> None:
    import logging

    secret = f"never-in-files-{uuid.uuid4().hex}"
    log_file = setup_logging(logging.DEBUG)
    settings = Settings()
    settings.upsert_profile(OrgProfile("settings", "us-east-1", "client-id-1"))
    settings.preferences.last_profile = "settings"
    real_store.set_secret("settings", secret)
    logging.getLogger("outbound_desk.test").info("signing in with %s", secret)
    SettingsStore().save(settings)
    assert real_store.get_secret("settings") == secret
    for root in (paths.config_dir(), paths.log_dir()):
        for f in root.rglob("*"):
            assert secret not in f.read_text(encoding="utf-8"), f
    assert "signing in with ***" in log_file.read_text(encoding="utf-8")
