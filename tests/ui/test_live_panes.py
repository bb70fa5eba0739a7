"""Panes that follow the org and the ledger by themselves, and the window's keyboard and dialogs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from outbound_desk.config import ledger_path
from outbound_desk.ui import palette
from outbound_desk.ui.history import HistoryPane
from outbound_desk.ui.lists.pane import ListsPane
from outbound_desk.ui.mainwindow import MainWindow
from outbound_desk.ui.prompter import DialogPrompter
from outbound_desk.upload.ledger import Ledger

from .conftest import sign_in

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")


def _api(sandbox, token) -> httpx.Client:
    return httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def _make_list(http: httpx.Client, name: str) -> str:
    body = {
        "name": name,
        "columnNames": ["customerId", "phone"],
        "phoneColumns": [{"columnName": "phone", "type": "cell"}],
    }
    created = http.post("/api/v2/outbound/contactlists", json=body)
    created.raise_for_status()
    return str(created.json()["id"])


def _add_contacts(http: httpx.Client, list_id: str, n: int) -> None:
    batch = [
        {"id": f"c{i}", "contactListId": list_id, "data": {"customerId": f"c{i}", "phone": ""}}
        for i in range(n)
    ]
    http.post(f"/api/v2/outbound/contactlists/{list_id}/contacts", json=batch).raise_for_status()


def test_lists_pane_follows_a_change_and_keeps_the_selection(
    qtbot, context, sandbox, sandbox_token
):
    window = MainWindow(context, [ListsPane])
    qtbot.addWidget(window)
    pane: ListsPane = window.panes[0]
    try:
        sign_in(qtbot, context, sandbox)
        with _api(sandbox, sandbox_token) as http:
            _make_list(http, "Alpha live")
            beta = _make_list(http, "Beta live")
            pane.refresh()
            qtbot.waitUntil(lambda: pane.store.index_of(beta) is not None, timeout=15_000)
            assert pane.select_list(beta)
            # An upload elsewhere (here: straight through the API) fills the list; the pane
            # hears that a list changed and shows the new size without a Refresh.
            _add_contacts(http, beta, 7)
        context.events.lists_changed.emit(beta)

        def shows_seven() -> bool:
            index = pane.store.index_of(beta)
            return index is not None and pane.store.rows[index].size == 7

        qtbot.waitUntil(shows_seven, timeout=15_000)
        qtbot.waitUntil(lambda: pane.selected() is not None, timeout=5_000)
        assert pane.selected().id == beta
    finally:
        window.shutdown()


def test_history_shows_an_upload_another_process_wrote_without_refresh(qtbot, context):
    pane = HistoryPane(context)
    qtbot.addWidget(pane)
    pane.show()
    try:
        qtbot.waitUntil(lambda: pane.view.status.text() == "no uploads yet", timeout=10_000)
        path = ledger_path(context.settings.preferences.ledger_path)
        with Ledger(path) as ledger:  # what `outbound-desk upload` in a terminal does
            ledger.begin_upload(
                file_path="/tmp/from-the-cli.csv",
                file_sha256="ab" * 32,
                list_id="list-1",
                list_name="From the CLI",
                options={},
                transport="api",
            )
        qtbot.waitUntil(lambda: pane.view.model.rowCount() == 1, timeout=10_000)
        assert pane.view.model.index(0, pane.view.model.LIST).data() == "From the CLI"
    finally:
        pane.shutdown()


def test_history_refreshes_when_the_app_says_an_upload_ended(qtbot, context):
    pane = HistoryPane(context)  # never shown: only the app's own signal can refresh it
    qtbot.addWidget(pane)
    try:
        qtbot.waitUntil(lambda: pane.view.status.text() == "no uploads yet", timeout=10_000)
        with Ledger(ledger_path(context.settings.preferences.ledger_path)) as ledger:
            ledger.begin_upload(
                file_path="/tmp/a.csv",
                file_sha256="cd" * 32,
                list_id="l",
                options={},
                transport="file",
            )
        with qtbot.waitSignal(pane.view.loaded, timeout=10_000) as loaded:
            context.events.uploads_changed.emit()
        assert loaded.args == [1]
    finally:
        pane.shutdown()


def test_ctrl_o_opens_the_dialog_once_on_every_tab(qtbot, context, tmp_path):
    """Ctrl+O on the Upload tab was ambiguous (two actions owned it) and did nothing."""
    from outbound_desk.ui.upload_queue.tab import UploadPane

    window = MainWindow(context, [ListsPane, UploadPane])
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()  # shortcuts go to the active window only
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    prompter = context.prompter
    try:
        for tab in (1, 0):
            window.tabs.setCurrentIndex(tab)
            window.panes[tab].setFocus()
            before = len([a for a in prompter.asked if a[0] == "open"])
            qtbot.keyClick(window.panes[tab], Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
            assert len([a for a in prompter.asked if a[0] == "open"]) == before + 1
        # An opened file is shown on the Upload tab, wherever the user was.
        path = tmp_path / "a.csv"
        path.write_text("customerId,phone\n1,+14155550100\n", encoding="utf-8")
        window.tabs.setCurrentIndex(0)
        window.open_file(str(path))
        assert window.tabs.currentIndex() == 1
    finally:
        window.shutdown()


def test_ctrl_delete_does_not_reach_a_hidden_lists_selection(
    qtbot, context, sandbox, sandbox_token
):
    from outbound_desk.ui.history import HistoryPane as History

    window = MainWindow(context, [ListsPane, History])
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    pane: ListsPane = window.panes[0]
    try:
        sign_in(qtbot, context, sandbox)
        with _api(sandbox, sandbox_token) as http:
            keep = _make_list(http, "Keep me")
        pane.refresh()
        qtbot.waitUntil(lambda: pane.select_list(keep), timeout=15_000)
        assert pane.delete_action.isEnabled()
        window.tabs.setCurrentIndex(1)  # History
        assert not pane.delete_action.isEnabled()
        qtbot.keyClick(window.panes[1], Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)
        assert not [a for a in context.prompter.asked if a[1] == "Delete list"]
        window.tabs.setCurrentIndex(0)
        assert pane.delete_action.isEnabled()
    finally:
        window.shutdown()


def test_file_dialogs_start_in_the_last_folder_and_it_is_remembered(qtbot, tmp_path, monkeypatch):
    from outbound_desk.ui import prompter as prompter_module

    seen: list[str] = []

    def fake_open(parent, title, start, filter_):
        seen.append(start)
        return str(tmp_path / "in" / "file.csv"), ""

    def fake_save(parent, title, start, filter_):
        seen.append(start)
        return str(tmp_path / "out" / "x.csv"), ""

    monkeypatch.setattr(prompter_module.QFileDialog, "getOpenFileName", staticmethod(fake_open))
    monkeypatch.setattr(prompter_module.QFileDialog, "getSaveFileName", staticmethod(fake_save))
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    dialogs = DialogPrompter(last_dir=None)
    dialogs.open_path(None, "Open", "*")
    dialogs.save_path(None, "Save", "rejects.csv", "*")
    dialogs.open_path(None, "Open", "*")
    assert seen == ["", str(tmp_path / "in" / "rejects.csv"), str(tmp_path / "out")]
    assert dialogs.last_dir == str(tmp_path / "in")


def test_last_folder_survives_a_restart(qtbot, tmp_path):
    from outbound_desk.config import SettingsStore
    from outbound_desk.ui.context import make_context

    store = SettingsStore(tmp_path / "config")
    context = make_context(store=store)
    window = MainWindow(context, [])
    qtbot.addWidget(window)
    context.prompter.last_dir = str(tmp_path)  # as after a file dialog
    window.shutdown()
    again = make_context(store=store)
    assert again.prompter.last_dir == str(tmp_path)
    assert Path(again.prompter.last_dir).is_dir()


@pytest.mark.parametrize("make", [palette.light_palette, palette.dark_palette])
def test_disabled_controls_look_disabled(make):
    assert QApplication.instance() is not None
    p = make()
    for role in (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Text):
        active = p.color(QPalette.ColorGroup.Active, role)
        disabled = p.color(QPalette.ColorGroup.Disabled, role)
        # Clearly apart in lightness, not just a shade off.
        assert abs(active.lightness() - disabled.lightness()) >= 60
