"""Client secrets in the OS keyring, and nowhere else.

Every secret is stored under the service name ``outbound-desk`` with the user name
``<profile>/client_secret``: one service entry groups all of the app's secrets in the keyring
manager (Seahorse, KWallet, Keychain Access, Credential Manager) and the profile name keeps the
profiles apart. Settings keep the profile and the client id only.

Where no real keyring exists (a bare Linux box, or only the ``fail``/``null``/plaintext-file
backends) the store raises ``NoKeyringError`` with a message the UI and CLI show as it is. They
may then opt in, explicitly, to ``SessionSecrets``: a secret kept in memory for this session only.
There is no fallback to a file.
"""

from __future__ import annotations

import threading
from typing import Protocol

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import chainer, fail, null

from outbound_desk.config.logs import register_secret

__all__ = [
    "SERVICE_NAME",
    "CredentialStore",
    "KeyringLockedError",
    "NoKeyringError",
    "SecretStore",
    "SessionSecrets",
    "keyring_username",
]

SERVICE_NAME = "outbound-desk"

NO_KEYRING_MESSAGE = (
    "No system keyring found (install and unlock GNOME Keyring or KWallet, or use the "
    "keychain of macOS or Windows). Outbound Desk never writes a secret to a file: "
    "if you continue, the secret will be kept for this session only."
)


class NoKeyringError(RuntimeError):
    """No usable OS keyring: the secret cannot be stored (the message says what to do)."""

    def __init__(self, detail: str | None = None) -> None:
        message = NO_KEYRING_MESSAGE if detail is None else f"{detail}. {NO_KEYRING_MESSAGE}"
        super().__init__(message)


class KeyringLockedError(NoKeyringError):
    """The keyring exists but is locked, and unlocking it was refused or failed."""

    def __init__(self, backend: str) -> None:
        RuntimeError.__init__(
            self,
            f"The system keyring ({backend}) is locked and could not be unlocked. Unlock it "
            "(for GNOME Keyring: sign in again or open Passwords and Keys) and try again; "
            "or keep the secret for this session only.",
        )


class SecretStore(Protocol):
    """What the UI and the OAuth code need from a place that holds client secrets."""

    def get_secret(self, profile: str) -> str | None: ...
    def set_secret(self, profile: str, secret: str) -> None: ...
    def delete_secret(self, profile: str) -> bool: ...
    def backend_name(self) -> str: ...
    def is_available(self) -> bool: ...


def keyring_username(profile: str) -> str:
    """The keyring user name under which *profile*'s client secret is stored."""
    if not profile or not profile.strip():
        raise ValueError("a profile name is required to store its secret")
    return f"{profile}/client_secret"


def _describe(backend: keyring.backend.KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _unusable_reason(backend: keyring.backend.KeyringBackend) -> str | None:
    """Why *backend* must not hold a secret, or None if it is a real OS keyring."""
    if isinstance(backend, fail.Keyring | null.Keyring):
        return "keyring has no backend"
    module = type(backend).__module__
    if module.startswith("keyrings.alt") or "plaintext" in type(backend).__name__.lower():
        # keyrings.alt keeps secrets in files next to the user's data; issue 5 rules files out.
        return f"the only keyring backend found ({_describe(backend)}) writes secrets to a file"
    if isinstance(backend, chainer.ChainerBackend):
        # The chainer writes to its first (highest priority) backend only, so that one decides.
        chained = list(backend.backends)
        if not chained:
            return "keyring has no backend"
        return _unusable_reason(chained[0])
    try:
        priority = float(backend.priority)
    except Exception as exc:  # a backend that cannot even say whether it works
        return f"keyring backend {_describe(backend)} is not usable ({type(exc).__name__})"
    if priority <= 0:
        return f"keyring backend {_describe(backend)} is not recommended for secrets"
    return None


class CredentialStore:
    """The one place that reads and writes client secrets, in the OS keyring.

    *backend* defaults to whatever ``keyring.get_keyring()`` returns when a method is called (so
    ``keyring.set_keyring`` in tests takes effect). Secrets read or written are registered with
    the log redaction, so they are masked even where a pattern would not catch them.
    """

    def __init__(
        self,
        backend: keyring.backend.KeyringBackend | None = None,
        *,
        service: str = SERVICE_NAME,
    ) -> None:
        self._backend = backend
        self._service = service

    def __repr__(self) -> str:
        return f"CredentialStore(service={self._service!r}, backend={self.backend_name()!r})"

    @property
    def service(self) -> str:
        return self._service

    def _keyring(self) -> keyring.backend.KeyringBackend:
        return self._backend if self._backend is not None else keyring.get_keyring()

    def backend_name(self) -> str:
        """A readable name for the backend in use (for the UI and ``--json`` reports)."""
        backend = self._keyring()
        if isinstance(backend, chainer.ChainerBackend):
            chained = list(backend.backends)
            if chained:
                backend = chained[0]
        try:
            return str(backend.name)
        except Exception:
            return _describe(backend)

    def is_available(self) -> bool:
        """True when a real OS keyring backend is configured (it may still be locked)."""
        return _unusable_reason(self._keyring()) is None

    def require_available(self) -> keyring.backend.KeyringBackend:
        """The backend, or ``NoKeyringError`` saying plainly why there is none."""
        backend = self._keyring()
        reason = _unusable_reason(backend)
        if reason is not None:
            raise NoKeyringError(reason[:1].upper() + reason[1:])
        return backend

    def get_secret(self, profile: str) -> str | None:
        """*profile*'s client secret, or None when none is stored."""
        backend = self.require_available()
        try:
            secret = backend.get_password(self._service, keyring_username(profile))
        except keyring.errors.KeyringLocked as exc:
            raise KeyringLockedError(self.backend_name()) from exc
        except keyring.errors.KeyringError as exc:
            raise NoKeyringError(f"The keyring failed ({type(exc).__name__})") from None
        if secret is not None:
            register_secret(secret)
        return secret

    def set_secret(self, profile: str, secret: str) -> None:
        """Store (or replace) *profile*'s client secret."""
        if not secret:
            raise ValueError("an empty secret cannot be stored; delete it instead")
        register_secret(secret)
        backend = self.require_available()
        try:
            backend.set_password(self._service, keyring_username(profile), secret)
        except keyring.errors.KeyringLocked as exc:
            raise KeyringLockedError(self.backend_name()) from exc
        except keyring.errors.KeyringError as exc:
            # from None: the backend's exception text is not ours to trust with a secret.
            raise NoKeyringError(f"The keyring failed ({type(exc).__name__})") from None

    def delete_secret(self, profile: str) -> bool:
        """Remove *profile*'s secret; False when there was none."""
        backend = self.require_available()
        try:
            backend.delete_password(self._service, keyring_username(profile))
        except keyring.errors.PasswordDeleteError:
            return False
        except keyring.errors.KeyringLocked as exc:
            raise KeyringLockedError(self.backend_name()) from exc
        except keyring.errors.KeyringError as exc:
            raise NoKeyringError(f"The keyring failed ({type(exc).__name__})") from None
        return True


class SessionSecrets:
    """Secrets kept in this process's memory only, for when there is no keyring.

    The UI and CLI use it only after telling the user, on ``NoKeyringError``; it is never chosen
    silently. Nothing is written anywhere, so the secret is asked for again next time.
    """

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        with self._lock:
            return f"SessionSecrets(profiles={sorted(self._secrets)!r})"

    def backend_name(self) -> str:
        return "this session only (not saved)"

    def is_available(self) -> bool:
        return True

    def get_secret(self, profile: str) -> str | None:
        with self._lock:
            return self._secrets.get(keyring_username(profile))

    def set_secret(self, profile: str, secret: str) -> None:
        if not secret:
            raise ValueError("an empty secret cannot be stored; delete it instead")
        register_secret(secret)
        with self._lock:
            self._secrets[keyring_username(profile)] = secret

    def delete_secret(self, profile: str) -> bool:
        with self._lock:
            return self._secrets.pop(keyring_username(profile), None) is not None

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
