from __future__ import annotations

import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import fail, null

from outbound_desk.config.credentials import (
    SERVICE_NAME,
    CredentialStore,
    KeyringLockedError,
    NoKeyringError,
    SessionSecrets,
)
from outbound_desk.config.logs import redact
from tests.conftest import MemoryKeyring


def test_round_trip_under_the_namespaced_service(memory_keyring: MemoryKeyring) -> None:
    store = CredentialStore()
    assert store.is_available()
    assert store.get_secret("prod") is None
    store.set_secret("prod", "s3cret-value")
    assert memory_keyring.entries == {(SERVICE_NAME, "prod/client_secret"): "s3cret-value"}
    assert store.get_secret("prod") == "s3cret-value"
    store.set_secret("prod", "rotated-value")
    assert store.get_secret("prod") == "rotated-value"
    assert store.delete_secret("prod") is True
    assert store.get_secret("prod") is None
    assert store.delete_secret("prod") is False


def test_profiles_are_kept_apart() -> None:
    store = CredentialStore()
    store.set_secret("prod", "secret-for-prod")
    store.set_secret("test", "secret-for-test")
    assert store.get_secret("prod") == "secret-for-prod"
    assert store.get_secret("test") == "secret-for-test"
    store.delete_secret("prod")
    assert store.get_secret("test") == "secret-for-test"


def test_secrets_read_or_written_are_masked_in_logs_and_not_in_reprs() -> None:
    store = CredentialStore()
    store.set_secret("prod", "odd format: <<zz-41>>")
    assert "zz-41" not in redact("token was odd format: <<zz-41>> yes")
    assert "zz-41" not in repr(store)

    other = MemoryKeyring()
    other.set_password(SERVICE_NAME, "x/client_secret", "planted-elsewhere")
    assert CredentialStore(other).get_secret("x") == "planted-elsewhere"
    assert "planted-elsewhere" not in redact("value planted-elsewhere here")


def test_invalid_input_is_refused() -> None:
    store = CredentialStore()
    with pytest.raises(ValueError, match="empty secret"):
        store.set_secret("p", "")
    with pytest.raises(ValueError, match="profile name"):
        store.set_secret(" ", "x")


class _PlaintextStandIn(keyring.backend.KeyringBackend):
    """Looks like keyrings.alt's file backend (not installed here); it must be refused."""

    priority = 0.5

    def get_password(self, service: str, username: str) -> str | None:
        raise AssertionError("a plaintext backend must never be asked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise AssertionError("a plaintext backend must never be written")

    def delete_password(self, service: str, username: str) -> None:
        raise AssertionError("a plaintext backend must never be asked")


_PlaintextStandIn.__module__ = "keyrings.alt.file"
_PlaintextStandIn.__name__ = _PlaintextStandIn.__qualname__ = "PlaintextKeyring"


@pytest.mark.parametrize(
    ("backend", "why"),
    [
        (fail.Keyring(), "no backend"),
        (null.Keyring(), "no backend"),
        (_PlaintextStandIn(), "writes secrets to a file"),
    ],
)
def test_no_real_keyring_is_said_plainly(backend: keyring.backend.KeyringBackend, why: str) -> None:
    keyring.set_keyring(backend)
    store = CredentialStore()
    assert not store.is_available()
    for call in (
        lambda: store.set_secret("p", "never-stored"),
        lambda: store.get_secret("p"),
        lambda: store.delete_secret("p"),
    ):
        with pytest.raises(NoKeyringError) as info:
            call()
        message = str(info.value)
        assert "No system keyring found" in message
        assert "GNOME Keyring or KWallet" in message
        assert "this session only" in message
        assert why in message
        assert "never-stored" not in message


class _LockedKeyring(MemoryKeyring):
    priority = 0.02

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


class _LeakyKeyring(MemoryKeyring):
    priority = 0.02

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringError(f"cannot store {password}")


def test_a_locked_keyring_says_so() -> None:
    store = CredentialStore(_LockedKeyring())
    with pytest.raises(KeyringLockedError, match="locked"):
        store.get_secret("p")
    with pytest.raises(NoKeyringError):  # the UI can treat both alike
        store.set_secret("p", "whatever")


def test_a_backend_error_does_not_carry_the_secret_along() -> None:
    with pytest.raises(NoKeyringError) as info:
        CredentialStore(_LeakyKeyring()).set_secret("p", "leak-me-not")
    assert "leak-me-not" not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_session_secrets_are_an_explicit_memory_only_fallback() -> None:
    keyring.set_keyring(fail.Keyring())
    session = SessionSecrets()
    assert session.is_available()
    assert "session" in session.backend_name()
    session.set_secret("prod", "only-in-memory")
    session.set_secret("test", "other-one")
    assert session.get_secret("prod") == "only-in-memory"
    assert "only-in-memory" not in repr(session)
    assert "only-in-memory" not in redact("x only-in-memory y")
    assert session.delete_secret("prod") is True
    assert session.delete_secret("prod") is False
    assert session.get_secret("test") == "other-one"
    session.clear()
    assert session.get_secret("test") is None
