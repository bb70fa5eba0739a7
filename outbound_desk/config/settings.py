"""Typed, versioned settings: user preferences and org profiles apart from persisted UI state.

Two JSON files under ``config_dir()``:

- ``settings.json``: ``Preferences`` and ``OrgProfile``s (what the user chose),
- ``state.json``: ``UiState`` (window geometry, splitter and header state, column widths).

Each file carries a ``schema_version``; on load the migration chain brings an old file up to
date. Files are written atomically (a temporary file, fsync, ``os.replace``), and
``settings.json`` is *merged* on save: under a lock, the file is read again and only the keys
this process changed since it loaded (a preference, one list's column mapping, one profile
added, changed or removed) are applied to it, so a profile saved meanwhile by
``outbound-desk login`` in another process survives the app quitting. A file that cannot
be read as JSON is moved aside to ``<name>.corrupt-<timestamp>`` with a logged warning and the
defaults are used; a single bad value falls back to its default with a warning. Unknown keys are
dropped, which is also how a secret that somebody typed into the file by hand is kept from being
written back: no field here can hold a secret.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Final, Literal, cast, get_args

from outbound_desk.config.paths import config_dir, locks_dir

__all__ = [
    "DUPLICATE_POLICIES",
    "ID_COLUMN_RULES",
    "MAX_RECENT_FILES",
    "PREFERENCE_FIELDS",
    "SETTINGS_SCHEMA_VERSION",
    "STATE_SCHEMA_VERSION",
    "AuthMethod",
    "DuplicatePolicy",
    "IdColumnRule",
    "OrgProfile",
    "PreferenceField",
    "Preferences",
    "Settings",
    "SettingsStore",
    "Theme",
    "Transport",
    "UiState",
    "atomic_write_text",
]

log = logging.getLogger(__name__)

AuthMethod = Literal["client_credentials", "pkce"]
Transport = Literal["auto", "api", "file"]
Theme = Literal["system", "light", "dark"]
#: What to do with two rows carrying the same contact id in one file: keep the first, keep the
#: last, or reject every row of the id. The one spelling everywhere (settings, the command
#: line, the app, ``contacts.DuplicatePolicy`` whose values these are); settings before schema
#: version 3 said ``keep_first``/``keep_last`` and are migrated on load.
DuplicatePolicy = Literal["first", "last", "reject"]
DUPLICATE_POLICIES: Final[tuple[str, ...]] = get_args(DuplicatePolicy)
#: How the contact id column is chosen when the user has not picked one: ``auto`` = the list's
#: saved mapping, else the schema's id column, else a unique CRM-key-looking column (never a
#: phone column without a warning); ``schema`` = the saved mapping or the schema's id column only.
IdColumnRule = Literal["auto", "schema"]
ID_COLUMN_RULES: Final[tuple[str, ...]] = get_args(IdColumnRule)

MAX_RECENT_FILES: Final = 10
SETTINGS_SCHEMA_VERSION: Final = 3
STATE_SCHEMA_VERSION: Final = 1

SETTINGS_FILENAME = "settings.json"
STATE_FILENAME = "state.json"

_REGION_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: A loopback redirect URI with an explicit port (what the browser sign-in can listen on).
_LOOPBACK_REDIRECT = re.compile(
    r"^http://(127\.0\.0\.1|localhost|\[::1\]):[1-9][0-9]{0,4}(/[^\s?#]*)?$"
)
_SECRET_LIKE_KEY = re.compile(r"secret|password|token|verifier", re.IGNORECASE)


@dataclass
class OrgProfile:
    """One Genesys Cloud org the user signs in to. Never holds the secret (see credentials)."""

    name: str
    region: str  # a Genesys region key such as "us-east-1", or "sandbox"
    client_id: str
    auth_method: AuthMethod = "client_credentials"
    sandbox_url: str | None = None
    #: Browser sign-in (PKCE) only: the redirect URI registered on the OAuth client, matched
    #: exactly by Genesys; None = the app's default (genesys.auth.DEFAULT_REDIRECT_URI).
    redirect_uri: str | None = None

    @property
    def signed_in_as(self) -> str:
        """Who uploads under this profile, as the app, the CLI and the ledger name it: the
        OAuth client (a client-credentials grant has no person behind it)."""
        if self.auth_method == "pkce":
            return f"browser sign-in, client {self.client_id}"
        return f"client {self.client_id}"

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a profile needs a name")
        if not _REGION_KEY.match(self.region):
            raise ValueError(f"profile {self.name!r}: {self.region!r} is not a region key")
        if self.auth_method not in get_args(AuthMethod):
            raise ValueError(
                f"profile {self.name!r}: auth method must be one of {get_args(AuthMethod)}"
            )
        if self.region == "sandbox" and not self.sandbox_url:
            raise ValueError(f"profile {self.name!r}: a sandbox profile needs its sandbox URL")
        if self.sandbox_url and not re.match(r"^https?://", self.sandbox_url):
            raise ValueError(f"profile {self.name!r}: the sandbox URL must start with http(s)://")
        if self.redirect_uri is not None and not _LOOPBACK_REDIRECT.match(self.redirect_uri):
            raise ValueError(
                f"profile {self.name!r}: the redirect URI {self.redirect_uri!r} must be "
                "http://127.0.0.1:PORT/PATH, http://localhost:PORT/PATH or http://[::1]:PORT/PATH"
            )


@dataclass
class Preferences:
    """What the user chose; the defaults are what a new install starts with."""

    phone_region: str = "US"
    duplicate_policy: DuplicatePolicy = "reject"
    default_transport: Transport = "auto"
    batch_size: int = 1000
    csv_import_threshold: int = 50_000
    concurrency: int = 4
    theme: Theme = "system"
    id_column_rule: IdColumnRule = "auto"
    #: Most recent first, de-duplicated, at most MAX_RECENT_FILES.
    recent_files: list[str] = field(default_factory=list)
    #: list id -> {file column -> list column, or None for "excluded on purpose"}.
    column_mappings: dict[str, dict[str, str | None]] = field(default_factory=dict)
    #: list id -> the list column last chosen as the contacts' id (the preview's default).
    id_columns: dict[str, str] = field(default_factory=dict)
    ledger_path: str | None = None
    last_profile: str | None = None


@dataclass(frozen=True)
class PreferenceField:
    """How a front end shows one user-editable preference (the Preferences dialog, ``--help``).

    ``choices`` for a closed set, ``minimum``/``maximum`` for a number, ``path`` for a file
    path (None = the default place).
    """

    name: str
    label: str
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    path: bool = False


#: The preferences both front ends read and the Preferences dialog edits, in display order.
PREFERENCE_FIELDS: Final[tuple[PreferenceField, ...]] = (
    PreferenceField(
        "phone_region",
        "Default phone region",
        "The country of phone numbers written without a +country code (ISO code, e.g. US).",
    ),
    PreferenceField(
        "duplicate_policy",
        "Duplicate contact ids",
        "Rows sharing a contact id: keep the first, keep the last, or reject them all.",
        choices=DUPLICATE_POLICIES,
    ),
    PreferenceField(
        "id_column_rule",
        "Contact id column",
        "auto: the list's saved mapping, the schema's id column, else a unique CRM-key "
        "column; schema: the saved mapping or the schema's id column only.",
        choices=ID_COLUMN_RULES,
    ),
    PreferenceField(
        "default_transport",
        "Upload transport",
        "api: JSON contact batches; file: a CSV import; auto: a CSV import from the "
        "threshold below.",
        choices=get_args(Transport),
    ),
    PreferenceField(
        "batch_size",
        "Batch size",
        "Contacts per JSON batch (the platform takes at most 1,000).",
        minimum=1,
        maximum=1000,
    ),
    PreferenceField(
        "csv_import_threshold",
        "CSV-import threshold",
        "With transport auto, files of at least this many rows go as a CSV import.",
        minimum=1,
        maximum=10**9,
    ),
    PreferenceField(
        "ledger_path",
        "Upload ledger",
        "The SQLite file that remembers what was sent (empty: the default place).",
        path=True,
    ),
)


@dataclass
class Settings:
    """The content of ``settings.json``.

    A Settings that came from :meth:`SettingsStore.load` remembers what it was loaded as, so
    that :meth:`SettingsStore.save` writes only what this process changed.
    """

    preferences: Preferences = field(default_factory=Preferences)
    profiles: list[OrgProfile] = field(default_factory=list)
    #: The flattened content as loaded or last saved (see ``_flatten``); None = made here.
    _baseline: dict[tuple[str, str], Any] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def profile(self, name: str) -> OrgProfile | None:
        return next((p for p in self.profiles if p.name == name), None)

    def upsert_profile(self, profile: OrgProfile) -> None:
        """Add *profile*, or replace the one with its name."""
        self.profiles = [p for p in self.profiles if p.name != profile.name] + [profile]

    def remove_profile(self, name: str) -> bool:
        before = len(self.profiles)
        self.profiles = [p for p in self.profiles if p.name != name]
        if self.preferences.last_profile == name:
            self.preferences.last_profile = None
        return len(self.profiles) != before

    def add_recent_file(self, path: str | os.PathLike[str]) -> None:
        """Put *path* first in the recent files, once, keeping at most MAX_RECENT_FILES."""
        resolved = str(Path(path).expanduser().resolve())
        rest = [p for p in self.preferences.recent_files if p != resolved]
        self.preferences.recent_files = [resolved, *rest][:MAX_RECENT_FILES]

    def remember_mapping(self, list_id: str, mapping: Mapping[str, str | None]) -> None:
        self.preferences.column_mappings[list_id] = dict(mapping)


@dataclass
class UiState:
    """Persisted UI state. Qt byte arrays (``saveGeometry``, ``saveState``) are base64 text."""

    window_geometry: str | None = None
    window_state: str | None = None
    splitters: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    #: view name -> {column name -> width in pixels}
    column_widths: dict[str, dict[str, int]] = field(default_factory=dict)
    #: The folder of the file last opened or saved through a file dialog.
    last_dir: str | None = None


# ------------------------------------------------------------------ migrations
Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _settings_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 kept preferences flat at the top level, called the phone region ``default_country``
    and the JSON-batch transport ``json``; v2 nests them under ``preferences``."""
    data = copy.deepcopy(data)
    profiles = data.pop("profiles", [])
    data.pop("schema_version", None)
    prefs: dict[str, Any] = data
    if "default_country" in prefs:
        prefs["phone_region"] = prefs.pop("default_country")
    if prefs.get("default_transport") == "json":
        prefs["default_transport"] = "api"
    return {"schema_version": 2, "preferences": prefs, "profiles": profiles}


def _settings_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """v2 spelled the duplicate policies ``keep_first``/``keep_last``; v3 uses the one
    spelling of the command line and the app, ``first``/``last``."""
    data = copy.deepcopy(data)
    prefs = data.get("preferences")
    if isinstance(prefs, dict):
        old = prefs.get("duplicate_policy")
        renamed = {"keep_first": "first", "keep_last": "last"}
        if isinstance(old, str) and old in renamed:
            prefs["duplicate_policy"] = renamed[old]
    data["schema_version"] = 3
    return data


#: from-version -> function returning the next version's dict.
SETTINGS_MIGRATIONS: Final[dict[int, Migration]] = {
    1: _settings_v1_to_v2,
    2: _settings_v2_to_v3,
}
STATE_MIGRATIONS: Final[dict[int, Migration]] = {}


def migrate(
    data: dict[str, Any], *, current: int, migrations: Mapping[int, Migration]
) -> dict[str, Any]:
    """Apply *migrations* one version at a time until *data* is at version *current*."""
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"schema_version {version!r} is not a version number")
    while version < current:
        step = migrations.get(version)
        if step is None:
            raise ValueError(f"no migration from schema version {version}")
        data = step(data)
        version = data["schema_version"]
    return data


# ------------------------------------------------------------------ reading values
def _warn(file: str, key: str, value: object, default: object) -> None:
    shown = "<hidden>" if _SECRET_LIKE_KEY.search(key) else repr(value)[:80]
    log.warning("%s: ignoring %s=%s, using %r", file, key, shown, default)


def _pick(
    file: str, raw: Mapping[str, Any], key: str, default: Any, check: Callable[[Any], bool]
) -> Any:
    if key not in raw:
        return default
    value = raw[key]
    if check(value):
        return value
    _warn(file, key, value, default)
    return default


def _is_int_in(low: int, high: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


def _is_choice(literal: Any) -> Callable[[Any], bool]:
    choices = get_args(literal)
    return lambda v: v in choices


def _is_opt_str(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _is_str_map(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(x, str) for x in (*v.keys(), *v.values()))


def _is_mappings(v: Any) -> bool:
    return isinstance(v, dict) and all(
        isinstance(list_id, str)
        and isinstance(m, dict)
        and all(isinstance(k, str) and (c is None or isinstance(c, str)) for k, c in m.items())
        for list_id, m in v.items()
    )


def _is_widths(v: Any) -> bool:
    return isinstance(v, dict) and all(
        isinstance(view, str)
        and isinstance(w, dict)
        and all(isinstance(k, str) and isinstance(n, int) and n >= 0 for k, n in w.items())
        for view, w in v.items()
    )


def _recent_files(file: str, raw: Any) -> list[str]:
    if not isinstance(raw, list):
        _warn(file, "recent_files", raw, [])
        return []
    seen: list[str] = []
    for item in raw:
        # Files that were moved or deleted are pruned on read: the menu offers only what opens.
        if isinstance(item, str) and item not in seen and Path(item).is_file():
            seen.append(item)
    return seen[:MAX_RECENT_FILES]


def _preferences(file: str, raw: Any) -> Preferences:
    if not isinstance(raw, dict):
        _warn(file, "preferences", raw, "defaults")
        return Preferences()
    d = Preferences()
    known = {f for f in asdict(d)}
    for key in raw.keys() - known:
        _warn(file, key, raw[key], "nothing (unknown key dropped)")
    return Preferences(
        phone_region=_pick(
            file,
            raw,
            "phone_region",
            d.phone_region,
            lambda v: isinstance(v, str) and re.fullmatch(r"[A-Z]{2}", v) is not None,
        ),
        duplicate_policy=_pick(
            file, raw, "duplicate_policy", d.duplicate_policy, _is_choice(DuplicatePolicy)
        ),
        default_transport=_pick(
            file, raw, "default_transport", d.default_transport, _is_choice(Transport)
        ),
        batch_size=_pick(file, raw, "batch_size", d.batch_size, _is_int_in(1, 1000)),
        csv_import_threshold=_pick(
            file, raw, "csv_import_threshold", d.csv_import_threshold, _is_int_in(1, 10**9)
        ),
        concurrency=_pick(file, raw, "concurrency", d.concurrency, _is_int_in(1, 32)),
        theme=_pick(file, raw, "theme", d.theme, _is_choice(Theme)),
        id_column_rule=_pick(
            file, raw, "id_column_rule", d.id_column_rule, _is_choice(IdColumnRule)
        ),
        recent_files=_recent_files(file, raw.get("recent_files", [])),
        column_mappings=_pick(file, raw, "column_mappings", {}, _is_mappings),
        id_columns=_pick(file, raw, "id_columns", {}, _is_str_map),
        ledger_path=_pick(file, raw, "ledger_path", None, _is_opt_str),
        last_profile=_pick(file, raw, "last_profile", None, _is_opt_str),
    )


def _profiles(file: str, raw: Any) -> list[OrgProfile]:
    if not isinstance(raw, list):
        _warn(file, "profiles", raw, [])
        return []
    out: list[OrgProfile] = []
    allowed = {"name", "region", "client_id", "auth_method", "sandbox_url", "redirect_uri"}
    for item in raw:
        if not isinstance(item, dict):
            _warn(file, "profiles[]", item, "nothing")
            continue
        for key in item.keys() - allowed:
            # A secret typed into settings.json by hand is dropped here and never written back.
            _warn(file, f"profiles[].{key}", item[key], "nothing (unknown key dropped)")
        try:
            profile = OrgProfile(
                name=str(item["name"]),
                region=str(item["region"]),
                client_id=str(item.get("client_id", "")),
                auth_method=cast(AuthMethod, item.get("auth_method", "client_credentials")),
                sandbox_url=item.get("sandbox_url") or None,
                redirect_uri=item.get("redirect_uri") or None,
            )
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("%s: ignoring an invalid profile: %s", file, exc)
            continue
        if any(p.name == profile.name for p in out):
            log.warning("%s: ignoring a second profile named %r", file, profile.name)
            continue
        out.append(profile)
    return out


def _ui_state(file: str, raw: Mapping[str, Any]) -> UiState:
    return UiState(
        window_geometry=_pick(file, raw, "window_geometry", None, _is_opt_str),
        window_state=_pick(file, raw, "window_state", None, _is_opt_str),
        splitters=_pick(file, raw, "splitters", {}, _is_str_map),
        headers=_pick(file, raw, "headers", {}, _is_str_map),
        column_widths=_pick(file, raw, "column_widths", {}, _is_widths),
        last_dir=_pick(file, raw, "last_dir", None, _is_opt_str),
    )


# ------------------------------------------------------------------ files
def atomic_write_text(path: Path, text: str) -> None:
    """Write *text* to *path* so that a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _move_aside(path: Path, why: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, target)
    log.warning("%s could not be read (%s); moved it to %s and used defaults", path, why, target)
    return target


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        handle.seek(0)
        while True:
            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)  # retries for ~10 s
                return
            except OSError:
                continue

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive cross-process lock named after *path* (an OS file lock under
    ``locks_dir()``, dropped by the OS if this process dies) for the read-merge-write."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    lock_path = locks_dir() / f"settings-{digest}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as handle:
        if handle.tell() == 0:
            handle.write(b"\0")  # the byte msvcrt locks
            handle.flush()
        _lock(handle)
        try:
            yield
        finally:
            _unlock(handle)


#: Sections of the flattened settings: one entry per preference, per list in the per-list
#: preferences below, and per profile: the unit in which two processes' changes are merged.
_PREF, _PROFILE = "preferences", "profiles"
#: Preferences that hold one value per contact list id, merged list by list.
_PER_LIST = ("column_mappings", "id_columns")


def _flatten(settings: Settings) -> dict[tuple[str, str], Any]:
    flat: dict[tuple[str, str], Any] = {}
    for key, value in asdict(settings.preferences).items():
        if key in _PER_LIST:
            for list_id, item in value.items():
                flat[(key, list_id)] = item
        else:
            flat[(_PREF, key)] = value
    for profile in settings.profiles:
        flat[(_PROFILE, profile.name)] = asdict(profile)
    return flat


def _payload(flat: Mapping[tuple[str, str], Any]) -> dict[str, Any]:
    prefs: dict[str, Any] = {k: v for (section, k), v in flat.items() if section == _PREF}
    for name in _PER_LIST:
        prefs[name] = {k: v for (section, k), v in flat.items() if section == name}
    return {
        "schema_version": SETTINGS_SCHEMA_VERSION,
        "preferences": prefs,
        "profiles": [v for (section, _), v in flat.items() if section == _PROFILE],
    }


class SettingsStore:
    """Loads and saves ``settings.json`` and ``state.json`` in one config directory.

    *directory* defaults to ``config_dir()`` at the time of the call.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    @property
    def directory(self) -> Path:
        return self._directory if self._directory is not None else config_dir()

    @property
    def settings_path(self) -> Path:
        return self.directory / SETTINGS_FILENAME

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILENAME

    def _read(
        self, path: Path, *, current: int, migrations: Mapping[int, Migration]
    ) -> dict[str, Any] | None:
        """The migrated content of *path*; None when it is missing or was moved aside."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            if isinstance(exc, UnicodeDecodeError):
                _move_aside(path, "not UTF-8")
            else:
                log.warning("%s could not be read (%s); using defaults", path, exc)
            return None
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            version = data.get("schema_version", 1)
            if isinstance(version, int) and version > current:
                # Written by a newer Outbound Desk: read what we understand, and keep a copy so
                # that going back to the newer version loses nothing.
                backup = path.with_name(f"{path.name}.v{version}")
                if not backup.exists():
                    atomic_write_text(backup, text)
                log.warning(
                    "%s has schema version %s, newer than this app's %s; kept a copy in %s",
                    path,
                    version,
                    current,
                    backup,
                )
                return data
            return migrate(data, current=current, migrations=migrations)
        except ValueError as exc:  # JSONDecodeError is a ValueError
            _move_aside(path, str(exc))
            return None

    def load(self) -> Settings:
        """The settings, migrated; defaults when there are none or they are unreadable."""
        settings = self._load_file()
        settings._baseline = _flatten(settings)
        return settings

    def _load_file(self) -> Settings:
        data = self._read(
            self.settings_path, current=SETTINGS_SCHEMA_VERSION, migrations=SETTINGS_MIGRATIONS
        )
        if data is None:
            return Settings()
        name = self.settings_path.name
        return Settings(
            preferences=_preferences(name, data.get("preferences", {})),
            profiles=_profiles(name, data.get("profiles", [])),
        )

    def save(self, settings: Settings) -> None:
        """Write what this process changed in *settings* into ``settings.json``.

        Read-merge-write under a cross-process lock: the file is read again, the preferences,
        column mappings and profiles that differ from what *settings* was loaded as (all of
        them for a Settings made here) are set or removed in it, and it is replaced atomically.
        What other processes wrote meanwhile stays, and *settings* is brought up to date with
        it (in place: panes holding ``settings.preferences`` see the merged values).
        """
        current = _flatten(settings)
        base = settings._baseline or {}
        changed = {k: v for k, v in current.items() if k not in base or base[k] != v}
        removed = base.keys() - current.keys()
        with _locked(self.settings_path):
            merged = _flatten(self._load_file())
            merged.update(changed)
            for key in removed:
                merged.pop(key, None)
            payload = _payload(merged)
            atomic_write_text(
                self.settings_path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
            )
        for key, value in payload["preferences"].items():
            setattr(settings.preferences, key, copy.deepcopy(value))
        settings.profiles[:] = [OrgProfile(**p) for p in payload["profiles"]]
        settings._baseline = _flatten(settings)

    def load_state(self) -> UiState:
        data = self._read(
            self.state_path, current=STATE_SCHEMA_VERSION, migrations=STATE_MIGRATIONS
        )
        return UiState() if data is None else _ui_state(self.state_path.name, data)

    def save_state(self, state: UiState) -> None:
        payload = {"schema_version": STATE_SCHEMA_VERSION, **asdict(state)}
        atomic_write_text(self.state_path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
