from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from outbound_desk.config import paths
from outbound_desk.config.credentials import CredentialStore
from outbound_desk.config.settings import (
    MAX_RECENT_FILES,
    PREFERENCE_FIELDS,
    SETTINGS_SCHEMA_VERSION,
    OrgProfile,
    Preferences,
    Settings,
    SettingsStore,
    UiState,
)


@pytest.fixture
def store() -> SettingsStore:
    return SettingsStore()


def _files(tmp: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        p = tmp / f"contacts-{i}.csv"
        p.write_text("id\n1\n", encoding="utf-8")
        out.append(p)
    return out


def test_defaults_when_nothing_is_saved(store: SettingsStore) -> None:
    settings = store.load()
    prefs = settings.preferences
    assert (prefs.phone_region, prefs.default_transport, prefs.batch_size) == ("US", "auto", 1000)
    assert prefs.csv_import_threshold == 50_000
    assert prefs.theme == "system"
    assert settings.profiles == []
    assert store.load_state() == UiState()
    assert store.settings_path.parent == paths.config_dir()


def test_round_trip_keeps_preferences_profiles_and_state_apart(
    store: SettingsStore, tmp_path: Path
) -> None:
    settings = Settings()
    settings.preferences.phone_region = "GB"
    settings.preferences.batch_size = 250
    settings.preferences.theme = "dark"
    settings.preferences.last_profile = "prod"
    settings.remember_mapping("list-1", {"Phone": "phone", "Notes": None})
    settings.upsert_profile(OrgProfile("prod", "eu-west-1", "client-abc"))
    settings.upsert_profile(
        OrgProfile("local", "sandbox", "sandbox-client", "pkce", "http://127.0.0.1:8765")
    )
    store.save(settings)
    store.save_state(
        UiState(
            window_geometry="AdnQywADAAA=",
            splitters={"main": "AAAA/wAAAAEAAAAC"},
            column_widths={"lists": {"name": 240, "size": 80}},
        )
    )

    again = SettingsStore().load()
    assert again == settings
    assert again.preferences.column_mappings == {"list-1": {"Phone": "phone", "Notes": None}}
    assert SettingsStore().load_state().column_widths == {"lists": {"name": 240, "size": 80}}

    on_disk = json.loads(store.settings_path.read_text(encoding="utf-8"))
    assert on_disk["schema_version"] == SETTINGS_SCHEMA_VERSION
    assert "window_geometry" not in json.dumps(on_disk)
    state_on_disk = json.loads(store.state_path.read_text(encoding="utf-8"))
    assert "preferences" not in state_on_disk
    # Written atomically: nothing but the two files (no temporary left behind).
    assert sorted(p.name for p in store.directory.iterdir()) == ["settings.json", "state.json"]


def test_replacing_a_profile_by_name(store: SettingsStore) -> None:
    settings = Settings()
    settings.upsert_profile(OrgProfile("prod", "us-east-1", "a"))
    settings.upsert_profile(OrgProfile("prod", "us-west-2", "b"))
    settings.preferences.last_profile = "prod"
    assert [p.region for p in settings.profiles] == ["us-west-2"]
    assert settings.remove_profile("prod")
    assert settings.preferences.last_profile is None
    assert not settings.remove_profile("prod")


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "\xff\xfe garbage"])
def test_a_corrupt_file_is_moved_aside_and_defaults_used(
    store: SettingsStore, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    store.directory.mkdir(parents=True, exist_ok=True)
    raw = text.encode("latin-1")
    store.settings_path.write_bytes(raw)
    with caplog.at_level(logging.WARNING):
        settings = store.load()
    assert settings == Settings()
    aside = list(store.directory.glob("settings.json.corrupt-*"))
    assert len(aside) == 1
    assert aside[0].read_bytes() == raw  # nothing is lost
    assert not store.settings_path.exists()
    assert any("moved it to" in r.getMessage() for r in caplog.records)
    # Saving afterwards works and the copy stays.
    store.save(settings)
    assert store.load() == settings
    assert aside[0].exists()


def test_a_corrupt_state_file_leaves_the_settings_alone(store: SettingsStore) -> None:
    settings = Settings()
    settings.preferences.theme = "light"
    store.save(settings)
    store.state_path.write_text("{{{", encoding="utf-8")
    assert store.load_state() == UiState()
    assert store.load().preferences.theme == "light"
    assert list(store.directory.glob("state.json.corrupt-*"))


def test_migration_from_v1_renames_keys_and_nests_preferences(store: SettingsStore) -> None:
    store.directory.mkdir(parents=True, exist_ok=True)
    v1 = {
        "schema_version": 1,
        "default_country": "DE",
        "default_transport": "json",
        "batch_size": 500,
        "theme": "dark",
        "profiles": [{"name": "eu", "region": "eu-central-1", "client_id": "cid"}],
    }
    store.settings_path.write_text(json.dumps(v1), encoding="utf-8")

    settings = store.load()
    assert settings.preferences.phone_region == "DE"
    assert settings.preferences.default_transport == "api"
    assert settings.preferences.batch_size == 500
    assert settings.preferences.theme == "dark"
    assert settings.profiles == [OrgProfile("eu", "eu-central-1", "cid")]

    store.save(settings)
    on_disk = json.loads(store.settings_path.read_text(encoding="utf-8"))
    assert on_disk["schema_version"] == SETTINGS_SCHEMA_VERSION
    assert on_disk["preferences"]["phone_region"] == "DE"
    assert "default_country" not in json.dumps(on_disk)


def test_a_file_from_a_newer_version_is_kept(
    store: SettingsStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.directory.mkdir(parents=True, exist_ok=True)
    newer = {"schema_version": 99, "preferences": {"theme": "dark", "future": 1}, "profiles": []}
    store.settings_path.write_text(json.dumps(newer), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert store.load().preferences.theme == "dark"
    assert json.loads((store.directory / "settings.json.v99").read_text()) == newer


def test_one_bad_value_falls_back_to_its_default_only(
    store: SettingsStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.directory.mkdir(parents=True, exist_ok=True)
    data = {
        "schema_version": 2,
        "preferences": {"batch_size": 5000, "theme": "purple", "concurrency": 8, "x": 1},
        "profiles": [
            {"name": "ok", "region": "us-east-1", "client_id": "a"},
            {"name": "bad", "region": "sandbox", "client_id": "b"},  # no sandbox_url
            {"region": "us-east-1"},
        ],
    }
    store.settings_path.write_text(json.dumps(data), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        settings = store.load()
    assert settings.preferences.batch_size == 1000
    assert settings.preferences.theme == "system"
    assert settings.preferences.concurrency == 8
    assert [p.name for p in settings.profiles] == ["ok"]
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "batch_size" in messages
    assert "theme" in messages
    assert "sandbox URL" in messages


def test_recent_files_most_recent_first_deduplicated_capped_and_pruned(
    store: SettingsStore, tmp_path: Path
) -> None:
    files = _files(tmp_path, MAX_RECENT_FILES + 2)
    settings = Settings()
    for f in files:
        settings.add_recent_file(f)
    settings.add_recent_file(files[5])  # again: moves to the front, once
    recent = settings.preferences.recent_files
    assert len(recent) == MAX_RECENT_FILES
    assert recent[0] == str(files[5].resolve())
    assert recent[1] == str(files[-1].resolve())
    assert len(set(recent)) == len(recent)
    assert str(files[0].resolve()) not in recent

    store.save(settings)
    files[-1].unlink()
    loaded = store.load().preferences.recent_files
    assert str(files[-1].resolve()) not in loaded
    assert loaded == [p for p in recent if p != str(files[-1].resolve())]


def test_profile_validation() -> None:
    with pytest.raises(ValueError, match="sandbox URL"):
        OrgProfile("s", "sandbox", "c")
    with pytest.raises(ValueError, match="auth method"):
        OrgProfile("p", "us-east-1", "c", "password")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="region key"):
        OrgProfile("p", "US East", "c")
    with pytest.raises(ValueError, match="name"):
        OrgProfile(" ", "us-east-1", "c")


def test_a_secret_typed_into_settings_is_dropped_and_never_written_back(
    store: SettingsStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.directory.mkdir(parents=True, exist_ok=True)
    secret = "hand-typed-S3cret-value"
    data = {
        "schema_version": 2,
        "preferences": {},
        "profiles": [
            {"name": "p", "region": "us-east-1", "client_id": "c", "client_secret": secret}
        ],
    }
    store.settings_path.write_text(json.dumps(data), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        settings = store.load()
    assert [p.name for p in settings.profiles] == ["p"]
    assert "client_secret" in caplog.text
    assert secret not in caplog.text
    store.save(settings)
    assert secret not in store.settings_path.read_text(encoding="utf-8")


def test_the_secret_goes_to_the_keyring_and_never_into_settings(store: SettingsStore) -> None:
    secret = "kEy-ring-only-9f2c"
    settings = Settings()
    settings.upsert_profile(OrgProfile("prod", "us-east-1", "client-1"))
    CredentialStore().set_secret("prod", secret)
    store.save(settings)
    store.save_state(UiState())
    assert CredentialStore().get_secret("prod") == secret
    for f in paths.config_dir().rglob("*"):
        assert secret not in f.read_text(encoding="utf-8"), f


def _save_profile_in_another_process(name: str) -> None:
    """What ``outbound-desk login`` does to settings.json, in a process of its own."""
    code = (
        "from outbound_desk.config.settings import OrgProfile, SettingsStore\n"
        "store = SettingsStore()\n"
        "settings = store.load()\n"
        f"settings.upsert_profile(OrgProfile({name!r}, 'eu-west-1', 'client-new'))\n"
        f"settings.preferences.last_profile = {name!r}\n"
        "settings.preferences.batch_size = 200\n"
        "store.save(settings)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_a_profile_saved_by_another_process_survives_a_save_of_older_settings(
    store: SettingsStore,
) -> None:
    first = Settings()
    first.upsert_profile(OrgProfile("prod", "us-east-1", "client-prod"))
    store.save(first)

    app = store.load()  # the app starts and holds its settings
    _save_profile_in_another_process("made-meanwhile")  # `outbound-desk login` meanwhile
    app.preferences.theme = "dark"  # the app changes one preference, then quits
    app.remember_mapping("list-1", {"Phone": "phone"})
    store.save(app)

    on_disk = store.load()
    assert [p.name for p in on_disk.profiles] == ["prod", "made-meanwhile"]
    assert on_disk.preferences.theme == "dark"
    assert on_disk.preferences.last_profile == "made-meanwhile"
    assert on_disk.preferences.batch_size == 200  # the other process's change stays too
    assert on_disk.preferences.column_mappings == {"list-1": {"Phone": "phone"}}
    # The saving process sees the merged truth afterwards.
    assert [p.name for p in app.profiles] == ["prod", "made-meanwhile"]
    assert app.preferences.batch_size == 200


def test_a_merge_applies_removals_and_changes_of_this_process_only(store: SettingsStore) -> None:
    first = Settings()
    first.upsert_profile(OrgProfile("old", "us-east-1", "a"))
    first.upsert_profile(OrgProfile("kept", "us-east-1", "b"))
    first.remember_mapping("list-1", {"A": "a"})
    store.save(first)

    mine, theirs = store.load(), store.load()
    mine.preferences.id_columns["list-1"] = "customerId"
    theirs.preferences.id_columns["list-2"] = "crmId"
    mine.remove_profile("old")
    mine.upsert_profile(OrgProfile("kept", "us-west-2", "b2"))
    theirs.remember_mapping("list-2", {"B": "b"})
    theirs.preferences.phone_region = "GB"
    store.save(theirs)
    store.save(mine)

    on_disk = store.load()
    assert on_disk.profiles == [OrgProfile("kept", "us-west-2", "b2")]
    assert on_disk.preferences.column_mappings == {"list-1": {"A": "a"}, "list-2": {"B": "b"}}
    assert on_disk.preferences.phone_region == "GB"
    assert on_disk.preferences.id_columns == {"list-1": "customerId", "list-2": "crmId"}


def test_migration_from_v2_spells_the_duplicate_policy_as_everywhere_else(
    store: SettingsStore,
) -> None:
    store.directory.mkdir(parents=True, exist_ok=True)
    for old, new in (("keep_first", "first"), ("keep_last", "last"), ("reject", "reject")):
        v2 = {"schema_version": 2, "preferences": {"duplicate_policy": old}, "profiles": []}
        store.settings_path.write_text(json.dumps(v2), encoding="utf-8")
        settings = store.load()
        assert settings.preferences.duplicate_policy == new
        store.save(settings)
        on_disk = json.loads(store.settings_path.read_text(encoding="utf-8"))
        assert on_disk["preferences"]["duplicate_policy"] == new
        assert on_disk["schema_version"] == SETTINGS_SCHEMA_VERSION == 3


def test_every_preference_field_names_a_preference() -> None:
    names = {f.name for f in PREFERENCE_FIELDS}
    assert names <= set(vars(Preferences()))
    for f in PREFERENCE_FIELDS:
        if f.choices:
            assert getattr(Preferences(), f.name) in f.choices
