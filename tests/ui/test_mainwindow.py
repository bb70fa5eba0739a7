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
