"""The main window's own features: Show logs, the exception dialog, themes, remembered layout."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import QApplication, QPushButton

from outbound_desk.config import SettingsStore, redact, register_secret, setup_logging
from outbound_desk.config import teardown_logging as stop_logging
from outbound_desk.ui import palette
from outbound_desk.ui.context import make_context
from outbound_desk.ui.errors import ExceptionHook
from outbound_desk.ui.lists.pane import ListsPane
from outbound_desk.ui.mainwindow import MainWindow

from .conftest import sign_in


@pytest.fixture
def log_path():
    path = setup_logging("DEBUG")
    yield path
    stop_logging()


def open_window(qtbot, context) -> MainWindow:
    window = MainWindow(context, [ListsPane])
    qtbot.addWidget(window)
    return window


# The offscreen platform cannot raise a window or propagate size hints, and says so.
@pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")
def test_show_logs_shows_the_log_file_and_reloads(qtbot, tmp_path, prompter, log_path):
    context = make_context(
        store=SettingsStore(tmp_path / "config"), prompter=prompter, log_path=log_path
    )
    window = open_window(qtbot, context)
    try:
        logging.getLogger("outbound_desk.test").warning("first line for the log viewer")
        window.logs_action.trigger()
        dialog = window.log_dialog
        assert dialog is not None
        assert dialog.isVisible()
        assert str(log_path) in dialog.where.text()
        assert "first line for the log viewer" in dialog.text.toPlainText()
        logging.getLogger("outbound_desk.test").warning("second line, after opening")
        assert "second line" not in dialog.text.toPlainText()
        reload_button = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Reload")
        reload_button.click()
        assert "second line, after opening" in dialog.text.toPlainText()
        dialog.close()
    finally:
        window.shutdown()


@pytest.mark.qt_no_exception_capture  # our hook is what is under test, not pytest-qt's
def test_an_exception_in_a_slot_shows_a_dialog_naming_the_log_file(qtbot, context, log_path):
    window = open_window(qtbot, context)
    hook = ExceptionHook(log_path, redact, lambda: window)
    hook.install()
    register_secret("hunter2-very-secret")

    def broken_slot() -> None:
        raise RuntimeError("the slot broke with hunter2-very-secret in its message")

    button = QPushButton("Break")
    qtbot.addWidget(button)
    button.clicked.connect(broken_slot)
    try:
        button.click()
        qtbot.waitUntil(lambda: len(hook.dialogs) == 1, timeout=5_000)
    finally:
        hook.uninstall()
        window.shutdown()
    dialog = hook.dialogs[0]
    assert dialog.isVisible()
    text = dialog.message.text()
    assert str(log_path) in text
    assert "RuntimeError: the slot broke" in text
    assert "hunter2-very-secret" not in text
    assert "broken_slot" in dialog.details.toPlainText()  # the traceback, for a bug report
    assert "hunter2-very-secret" not in dialog.details.toPlainText()
    logged = log_path.read_text(encoding="utf-8")
    assert "uncaught exception" in logged
    assert "the slot broke" in logged
    assert "hunter2-very-secret" not in logged
    dialog.close()


def test_theme_switch_applies_the_palette_and_is_remembered(qtbot, tmp_path, context):
    app = QApplication.instance()
    before_palette, before_style = app.palette(), app.style().name()
    window = open_window(qtbot, context)
    try:
        themes = {a.data(): a for a in window.theme_group.actions()}
        assert set(themes) == set(palette.THEMES)
        themes["dark"].trigger()
        assert app.palette().color(QPalette.ColorRole.Window).lightness() < 128
        assert app.style().name().lower() == "fusion"
        assert SettingsStore(tmp_path / "config").load().preferences.theme == "dark"
        themes["light"].trigger()
        assert app.palette().color(QPalette.ColorRole.Window).lightness() > 200
        assert SettingsStore(tmp_path / "config").load().preferences.theme == "light"
    finally:
        window.shutdown()
        app.setStyle(before_style)
        app.setPalette(before_palette)
    # A new window starts with the saved choice checked.
    again = open_window(qtbot, context)
    try:
        assert again.theme_group.checkedAction().data() == "light"
    finally:
        again.shutdown()


def test_layout_is_restored_after_closing_and_reopening(
    qtbot, tmp_path, prompter, sandbox, context
):
    window = open_window(qtbot, context)
    sign_in(qtbot, context, sandbox)
    pane = window.panes[0]
    # Inside the offscreen platform's 800x600 screen: restoreGeometry keeps a window on it.
    window.resize(777, 555)
    pane.splitter.setSizes([500, 250])
    header = pane.table.horizontalHeader()
    header.resizeSection(0, 333)
    header.resizeSection(5, 155)
    header.moveSection(6, 1)  # the user dragged "Last modified" next to the name
    sizes, splitter_state = pane.splitter.sizes(), pane.splitter.saveState()
    assert sizes[0] > sizes[1] > 0
    header_state = header.saveState()
    window.close()  # closeEvent saves the layout
    assert window._shut_down

    store = SettingsStore(tmp_path / "config")
    saved = store.load_state()
    assert saved.window_geometry
    assert saved.column_widths["lists"]["Name"] == 333

    reopened_context = make_context(store=store, prompter=prompter)
    reopened = open_window(qtbot, reopened_context)
    try:
        again = reopened.panes[0]
        assert (reopened.width(), reopened.height()) == (777, 555)
        assert again.splitter.saveState() == splitter_state
        assert again.splitter.sizes() == sizes
        again_header = again.table.horizontalHeader()
        assert again_header.saveState() == header_state
        assert again_header.sectionSize(0) == 333
        assert again_header.sectionSize(5) == 155
        assert again_header.visualIndex(6) == 1
    finally:
        reopened.shutdown()
        reopened_context.jobs.shutdown()
        reopened_context.tasks.shutdown()
        reopened_context.session.close()


def test_about_names_the_versions_and_where_files_live(qtbot, tmp_path, prompter, log_path):
    import platform

    from PySide6.QtCore import qVersion

    from outbound_desk import __version__
    from outbound_desk.config import paths

    context = make_context(
        store=SettingsStore(tmp_path / "config"), prompter=prompter, log_path=log_path
    )
    context.settings.preferences.ledger_path = str(tmp_path / "elsewhere" / "my-ledger.sqlite3")
    window = open_window(qtbot, context)
    try:
        about = next(a for a in window.findChildren(QAction) if "About" in a.text())
        about.trigger()
        kind, title, text = prompter.asked[-1]
        assert kind == "inform"
        assert title == "About Outbound Desk"
        assert __version__ in text
        assert qVersion() in text
        assert platform.python_version() in text
        assert str(paths.config_dir()) in text
        assert str(tmp_path / "elsewhere" / "my-ledger.sqlite3") in text
        assert str(log_path) in text
    finally:
        window.shutdown()


@pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")
def test_a_profile_made_by_login_while_the_app_is_open_survives_quitting_the_app(
    qtbot, sandbox, prompter, memory_keyring, monkeypatch, tmp_path
):
    """Issue 13: quitting the app rewrote settings.json and deleted a profile that
    ``outbound-desk login`` had saved meanwhile (its keyring secret orphaned)."""
    import io

    from outbound_desk.cli import main as cli_main
    from outbound_desk.config import CredentialStore, OrgProfile, Settings
    from outbound_desk.ui.panes import load_pane_factories

    before = Settings()
    before.upsert_profile(OrgProfile("Existing", "us-east-1", "client-1"))
    SettingsStore().save(before)
    context = make_context(store=SettingsStore(), prompter=prompter)
    window = MainWindow(context, load_pane_factories())
    qtbot.addWidget(window)
    try:
        sign_in(qtbot, context, sandbox)  # the app saves settings (last profile)
        monkeypatch.setattr("sys.stdin", io.StringIO(sandbox.client_secret + "\n"))
        code = cli_main(
            [
                "login",
                "--profile",
                "Made by login",
                "--region",
                "sandbox",
                "--sandbox-url",
                sandbox.base_url,
                "--client-id",
                sandbox.client_id,
                "--secret-stdin",
            ]
        )
        assert code == 0
        # The app goes on using its settings, changes some, and quits.
        path = tmp_path / "contacts.csv"
        path.write_text("customerId,phone\nC1,+14155550001\n", encoding="utf-8")
        window.open_file(str(path))  # remembered as a recent file: settings saved
        window.theme_group.actions()[-1].trigger()  # a preference changed: saved again
        window.close()
    finally:
        window.shutdown()
        context.jobs.shutdown()
        context.tasks.shutdown()
    on_disk = SettingsStore().load()
    assert "Made by login" in [p.name for p in on_disk.profiles]
    assert "Existing" in [p.name for p in on_disk.profiles]
    assert on_disk.preferences.recent_files[0] == str(path.resolve())
    assert CredentialStore().get_secret("Made by login") == sandbox.client_secret


@pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")
def test_the_preferences_dialog_edits_what_both_front_ends_read(
    qtbot, prompter, monkeypatch, tmp_path
):
    """Issue 13: one set of preferences, edited in the app, read by the command line."""
    from outbound_desk.cli.upload import _options
    from outbound_desk.ui.panes import load_pane_factories
    from outbound_desk.ui.preferences import PreferencesDialog

    context = make_context(store=SettingsStore(), prompter=prompter)
    window = MainWindow(context, load_pane_factories())
    qtbot.addWidget(window)
    try:
        window.preferences_action.trigger()
        dialog = window.preferences_dialog
        assert isinstance(dialog, PreferencesDialog)
        assert set(dialog.editors) >= {
            "ledger_path",
            "batch_size",
            "csv_import_threshold",
            "phone_region",
            "duplicate_policy",
            "id_column_rule",
        }
        dialog.set_value("phone_region", "zz9")
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
        assert dialog.isVisible()  # refused, and says why
        assert "two-letter" in dialog.error_label.text()
        ledger = tmp_path / "elsewhere" / "ledger.sqlite3"
        for name, value in {
            "phone_region": "gb",
            "duplicate_policy": "last",
            "batch_size": 250,
            "csv_import_threshold": 1234,
            "ledger_path": str(ledger),
            "id_column_rule": "schema",
        }.items():
            dialog.set_value(name, value)
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
        assert not dialog.isVisible()
        preview = window.panes[[p.title for p in window.panes].index("Upload")].preview
        assert preview.schema_panel.region_code() == "GB"
        assert preview.schema_panel.duplicate_policy() == "last"
    finally:
        window.shutdown()
        context.jobs.shutdown()
        context.tasks.shutdown()
    prefs = SettingsStore().load().preferences
    assert (prefs.phone_region, prefs.duplicate_policy, prefs.batch_size) == ("GB", "last", 250)
    assert (prefs.csv_import_threshold, prefs.ledger_path) == (1234, str(ledger))
    assert prefs.id_column_rule == "schema"
    # The command line takes the same defaults.
    import argparse

    from outbound_desk.cli import build_parser

    args = build_parser().parse_args(["upload", str(tmp_path / "f.csv"), "--list", "L"])
    assert isinstance(args, argparse.Namespace)
    options = _options(args)
    assert (options.batch_size, options.file_threshold, options.duplicates) == (250, 1234, "last")
    assert options.region == "GB"
