"""Sign-in through the connection dialog: secrets only in the keyring, never on disk."""

from __future__ import annotations

import keyring
from keyring.backends import fail

from outbound_desk.config import setup_logging, teardown_logging
from outbound_desk.ui.connection_dialog import ConnectionDialog
from outbound_desk.ui.lists.pane import ListsPane
from outbound_desk.ui.mainwindow import MainWindow


def fill(dialog, sandbox, secret):
    dialog.name_edit.setText("Sandbox org")
    dialog.region_combo.setCurrentIndex(dialog.region_combo.findData("sandbox"))
    dialog.sandbox_edit.setText(sandbox.base_url)
    dialog.client_id_edit.setText(sandbox.client_id)
    dialog.secret_edit.setText(secret)


def test_sign_in_keeps_secret_and_token_out_of_every_file(
    qtbot, sandbox, context, memory_keyring, tmp_path
):
    log_path = setup_logging("DEBUG")
    try:
        window = MainWindow(context, [ListsPane])
        qtbot.addWidget(window)
        dialog = ConnectionDialog(context, window)
        qtbot.addWidget(dialog)
        fill(dialog, sandbox, sandbox.client_secret)
        with qtbot.waitSignal(context.session.connected, timeout=15_000):
            dialog.sign_in_button.click()
        pane = window.panes[0]
        qtbot.waitUntil(lambda: pane.store.total is not None, timeout=15_000)
        token = context.session.connection.client.tokens.token().access_token.get()
        window.shutdown()
    finally:
        teardown_logging()
    assert ("outbound-desk", "Sandbox org/client_secret") in memory_keyring.entries
    assert context.settings.profile("Sandbox org") is not None
    assert "Sandbox" in window.org_label.text()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert log_path in files
    assert any(p.name == "settings.json" for p in files)
    for path in files:
        data = path.read_bytes()
        assert sandbox.client_secret.encode() not in data, path
        assert token.encode() not in data, path


def test_no_keyring_says_so_and_offers_a_session_secret(qtbot, sandbox, context):
    keyring.set_keyring(fail.Keyring())
    dialog = ConnectionDialog(context)
    qtbot.addWidget(dialog)
    assert "No system keyring" in dialog.keyring_label.text()
    fill(dialog, sandbox, sandbox.client_secret)
    dialog.sign_in_button.click()
    assert "session only" in dialog.result_label.text()
    assert context.session.connection is None
    dialog.session_only_check.setChecked(True)
    with qtbot.waitSignal(context.session.connected, timeout=15_000):
        dialog.sign_in_button.click()
    assert context.session_secrets.get_secret("Sandbox org") == sandbox.client_secret


def test_wrong_secret_is_explained_in_place(qtbot, sandbox, context):
    dialog = ConnectionDialog(context)
    qtbot.addWidget(dialog)
    fill(dialog, sandbox, "not-the-secret")
    with qtbot.waitSignal(context.session.sign_in_failed, timeout=15_000):
        dialog.sign_in_button.click()
    assert "client id and secret" in dialog.result_label.text()
    assert "not-the-secret" not in dialog.result_label.text()
