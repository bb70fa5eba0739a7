"""Where Outbound Desk keeps its files.

Every directory comes from platformdirs (``appname="outbound-desk"``, ``appauthor="OutboundDesk"``)
unless an environment variable names another one: tests point them at a temporary directory and
a portable install points them next to the executable. Nothing here creates a directory; the code
that writes a file makes its parent.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "outbound-desk"
APP_AUTHOR = "OutboundDesk"

ENV_CONFIG_DIR = "OUTBOUND_DESK_CONFIG_DIR"
ENV_DATA_DIR = "OUTBOUND_DESK_DATA_DIR"
ENV_LOG_DIR = "OUTBOUND_DESK_LOG_DIR"
ENV_CACHE_DIR = "OUTBOUND_DESK_CACHE_DIR"
ENV_LOCK_DIR = "OUTBOUND_DESK_LOCK_DIR"

LEDGER_FILENAME = "ledger.sqlite3"


def _from_env(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    """Settings and UI state (``settings.json``, ``state.json``)."""
    return _from_env(ENV_CONFIG_DIR) or platformdirs.user_config_path(APP_NAME, APP_AUTHOR)


def data_dir() -> Path:
    """The upload ledger, per-list lock files and outcome reports."""
    return _from_env(ENV_DATA_DIR) or platformdirs.user_data_path(APP_NAME, APP_AUTHOR)


def log_dir() -> Path:
    """Rotating log files."""
    return _from_env(ENV_LOG_DIR) or platformdirs.user_log_path(APP_NAME, APP_AUTHOR)


def cache_dir() -> Path:
    """Normalised files and other things that can be made again."""
    return _from_env(ENV_CACHE_DIR) or platformdirs.user_cache_path(APP_NAME, APP_AUTHOR)


def locks_dir() -> Path:
    """One lock file per contact list id (see ``outbound_desk.upload.lock``), per user.

    Not under ``data_dir()``: two data directories (two ``OUTBOUND_DESK_DATA_DIR`` values, so
    two ledgers) must still see each other's uploads into one list, and list ids are unique
    across orgs, so one place serves them all. It is the user's own cache directory as
    platformdirs names it, whatever ``OUTBOUND_DESK_CACHE_DIR`` says; only
    ``OUTBOUND_DESK_LOCK_DIR`` moves it (tests, or a machine whose home is not local).
    """
    return _from_env(ENV_LOCK_DIR) or platformdirs.user_cache_path(APP_NAME, APP_AUTHOR) / "locks"


def ledger_path(override: str | os.PathLike[str] | None = None) -> Path:
    """The upload ledger: *override* (the ``ledger_path`` preference) or the data dir default."""
    if override is not None and str(override).strip():
        return Path(override).expanduser()
    return data_dir() / LEDGER_FILENAME
