"""Settings (platformdirs; no secrets), the keyring credential store, paths and logging. No Qt.

``outbound_desk.config`` sits at the bottom of the layers: it imports nothing else of ours.
"""

from __future__ import annotations

from outbound_desk.config.credentials import (
    SERVICE_NAME,
    CredentialStore,
    KeyringLockedError,
    NoKeyringError,
    SecretStore,
    SessionSecrets,
)
from outbound_desk.config.logs import (
    RedactingFilter,
    redact,
    register_secret,
    setup_logging,
    teardown_logging,
)
from outbound_desk.config.paths import (
    cache_dir,
    config_dir,
    data_dir,
    ledger_path,
    locks_dir,
    log_dir,
)
from outbound_desk.config.settings import (
    OrgProfile,
    Preferences,
    Settings,
    SettingsStore,
    UiState,
)

__all__ = [
    "SERVICE_NAME",
    "CredentialStore",
    "KeyringLockedError",
    "NoKeyringError",
    "OrgProfile",
    "Preferences",
    "RedactingFilter",
    "SecretStore",
    "SessionSecrets",
    "Settings",
    "SettingsStore",
    "UiState",
    "cache_dir",
    "config_dir",
    "data_dir",
    "ledger_path",
    "locks_dir",
    "log_dir",
    "redact",
    "register_secret",
    "setup_logging",
    "teardown_logging",
]
