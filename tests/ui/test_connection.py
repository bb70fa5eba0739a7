"""Sign-in through the connection dialog: secrets only in the keyring, never on disk."""

from __future__ import annotations

import socket
import threading

import httpx
import keyring
from keyring.backends import fail
from PySide6.QtGui import QGuiApplication

from outbound_desk.config import setup_logging, teardown_logging
from outbound_desk.genesys import DEFAULT_REDIRECT_URI
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


class Browser:
    """Stands in for the system browser: follows the authorize URL's redirects with httpx.

    The sandbox's one user is always signed in, so /oauth/authorize redirects straight back to
    the app's loopback server with a code, as Genesys does once the person has signed in.
    """

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.pages: list[str] = []
        self.threads: list[threading.Thread] = []

    def open(self, url: str) -> bool:
        # A browser does not block the app: the app's loopback server answers it meanwhile.
        self.urls.append(url)
        thread = threading.Thread(target=self._visit, args=(url,), name="browser")
        self.threads.append(thread)
        thread.start()
        return True

    def _visit(self, url: str) -> None:
        with httpx.Client(follow_redirects=True, timeout=10) as http:
            self.pages.append(http.get(url).text)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(10)


def test_browser_sign_in_with_pkce_through_the_dialog(qtbot, sandbox, context, memory_keyring):
    browser = Browser()
    context.session.open_browser = browser.open
    dialog = ConnectionDialog(context)
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("A person")
    dialog.region_combo.setCurrentIndex(dialog.region_combo.findData("sandbox"))
    dialog.sandbox_edit.setText(sandbox.base_url)
    dialog.client_id_edit.setText(sandbox.client_id)
    dialog.method_combo.setCurrentIndex(dialog.method_combo.findData("pkce"))
    assert not dialog.secret_edit.isEnabled()  # no secret on the desktop
    redirect = _free_redirect(sandbox)  # not the fixed default: other test runs may hold it
    dialog.redirect_edit.setText(redirect)

    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=15_000)
    assert "Connection works" in dialog.result_label.text(), dialog.result_label.text()
    assert "browser sign-in" in dialog.result_label.text()

    with qtbot.waitSignal(context.session.connected, timeout=15_000) as signed_in:
        dialog.sign_in_button.click()
    browser.join()
    connection = signed_in.args[0]
    assert connection.profile.auth_method == "pkce"
    assert connection.identity == f"browser sign-in, client {sandbox.client_id}"
    assert connection.client.contact_lists.list().total == 0  # the token works
    assert dialog.result() == ConnectionDialog.DialogCode.Accepted

    assert len(browser.urls) == 2  # one for Test connection, one for Sign in
    authorize = httpx.URL(browser.urls[-1])
    assert authorize.path == "/oauth/authorize"
    query = dict(authorize.params)
    assert query["code_challenge_method"] == "S256"
    assert query["response_type"] == "code"
    assert query["client_id"] == sandbox.client_id
    assert query["state"]
    assert query["redirect_uri"] == redirect  # exactly the profile's, as registered
    assert all("Signed in to Genesys Cloud" in page for page in browser.pages)
    # The profile is saved without any secret: nothing went to the keyring.
    assert context.settings.profile("A person").auth_method == "pkce"
    assert context.settings.profile("A person").redirect_uri == redirect
    assert memory_keyring.entries == {}


def test_an_upload_waits_for_a_new_browser_sign_in_and_then_finishes(
    qtbot, sandbox, context, tmp_path
):
    """Issues 12 (2) and 13: a PKCE token ends and no refresh token came back; the app says
    "sign in again", the browser opens, the upload in flight waits on the session's one token
    provider and then finishes (before, its child process had a fixed token and failed)."""
    from outbound_desk.config import OrgProfile, ledger_path
    from outbound_desk.ui.upload_queue import UploadQueuePane
    from outbound_desk.upload.model import UploadOptions
    from tests.upload import helpers

    browser = Browser()
    context.session.open_browser = browser.open
    profile = OrgProfile(
        name="A person",
        region="sandbox",
        client_id=sandbox.client_id,
        auth_method="pkce",
        sandbox_url=sandbox.base_url,
        redirect_uri=_free_redirect(sandbox),
    )
    sandbox.set_faults(token_ttl_s=2, latency_ms=30)
    with qtbot.waitSignal(context.session.connected, timeout=15_000):
        context.session.sign_in(profile, None)
    client = context.session.connection.client
    queue = UploadQueuePane(client=lambda: client, ledger_path=ledger_path)
    qtbot.addWidget(queue)
    again: list[str] = []
    context.session.sign_in_again.connect(again.append)
    f = helpers.write_csv(tmp_path / "c.csv", 1000)
    options = UploadOptions(
        file=f,
        list="Renewing",
        create=True,
        schema_path=helpers.schema_file(tmp_path / "s.json", "Renewing"),
        id_column="customerId",
        via="api",
        batch_size=10,  # 100 batches of 30 ms or more: longer than the token lives
        concurrency=1,
    )
    with qtbot.waitSignal(queue.job_ended, timeout=120_000) as ended:
        job = queue.enqueue(options, list_name="Renewing")
    browser.join()
    assert ended.args == [job.job_id, "done"], job.error
    assert again  # the person was asked to sign in again, at least once
    assert len(browser.urls) >= 2  # the first sign-in and the new one(s)
    assert client.tokens.renewals >= 2
    assert sandbox.store.contact_count(sandbox.store.find_list("Renewing")["id"]) == 1000
    queue.shutdown()


def _free_redirect(sandbox) -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    uri = f"http://127.0.0.1:{port}/callback"
    sandbox.register_redirect_uri(uri)
    return uri


def test_the_redirect_uri_is_shown_with_a_copy_button_and_what_to_do(qtbot, context):
    dialog = ConnectionDialog(context)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.method_combo.setCurrentIndex(dialog.method_combo.findData("client_credentials"))
    assert not dialog.redirect_edit.isVisible()  # a secret-based client has no redirect
    dialog.method_combo.setCurrentIndex(dialog.method_combo.findData("pkce"))
    assert dialog.redirect_edit.isVisible()
    assert dialog.redirect_edit.text() == DEFAULT_REDIRECT_URI == "http://127.0.0.1:18765/callback"
    help_text = dialog.redirect_label.text()
    assert "Register this redirect URI on the OAuth client, exactly as written" in help_text
    assert "Authorized redirect URIs" in help_text
    dialog.copy_redirect_button.click()
    assert QGuiApplication.clipboard().text() == DEFAULT_REDIRECT_URI
    assert "Copied" in dialog.result_label.text()

    dialog.name_edit.setText("Person")
    dialog.region_combo.setCurrentIndex(dialog.region_combo.findData("us-east-1"))
    dialog.client_id_edit.setText("app-client")
    assert dialog.save_profile().redirect_uri is None  # the default: nothing to keep
    dialog.redirect_edit.setText("http://localhost:9123/done")
    assert dialog.save_profile().redirect_uri == "http://localhost:9123/done"
    dialog.redirect_edit.setText("http://example.com/callback")  # not one the app can listen on
    assert dialog.save_profile() is None
    # Said beneath the field as it is typed (issue 14), no longer only after Save.
    assert "redirect URI" in dialog.field_problems["redirect"].text()
    dialog.show_profile(context.settings.profile("Person"))
    assert dialog.redirect_edit.text() == "http://localhost:9123/done"


def test_fields_are_checked_as_typed_and_sign_in_waits(qtbot, context):
    """Issue 14: a sandbox URL with a bad port gave "Unexpected error: InvalidURL: Invalid
    port" after Sign in. Now every free-text field says what is wrong beneath it as it is
    typed, and Save, Test and Sign in stay disabled until nothing is."""
    dialog = ConnectionDialog(context)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.region_combo.setCurrentIndex(dialog.region_combo.findData("sandbox"))
    dialog.name_edit.setText("Sandbox")
    dialog.client_id_edit.setText("sandbox-client")
    problem = dialog.field_problems["sandbox"]
    buttons = (dialog.save_button, dialog.test_button, dialog.sign_in_button)
    for typed, words in (
        ("http://127.0.0.1:99999", "port '99999'"),
        ("http://127.0.0.1:0", "port 0"),
        ("http://127.0.0.1:80a", "port '80a'"),
        ("ftp://127.0.0.1:8765", "http:// or https://"),
        ("http://", "no host name"),
        ("http://127.0.0.1 :8765", "a space"),
        ("", "is empty"),
    ):
        dialog.sandbox_edit.clear()
        qtbot.keyClicks(dialog.sandbox_edit, typed)
        assert words in problem.text(), typed
        assert problem.isVisible(), typed
        assert not any(b.isEnabled() for b in buttons), typed
    dialog.sandbox_edit.setText("http://127.0.0.1:8765")
    assert not problem.isVisible()
    assert all(b.isEnabled() for b in buttons)

    dialog.client_id_edit.clear()
    assert "client id" in dialog.field_problems["client_id"].text()
    assert not dialog.sign_in_button.isEnabled()
    assert dialog.save_profile() is None  # nothing saved while a field is wrong
    assert context.settings.profile("Sandbox") is None
    dialog.client_id_edit.setText("sandbox-client")

    # A real region needs no sandbox URL: its problem goes away with the field.
    dialog.sandbox_edit.setText("http://x:99999")
    dialog.region_combo.setCurrentIndex(dialog.region_combo.findData("us-east-1"))
    assert not problem.isVisible()
    assert dialog.sign_in_button.isEnabled()

    # Browser sign-in: the redirect URI must be this computer's, with a port.
    dialog.method_combo.setCurrentIndex(dialog.method_combo.findData("pkce"))
    redirect = dialog.field_problems["redirect"]
    dialog.redirect_edit.setText("http://example.com/callback")
    assert "127.0.0.1" in redirect.text()
    assert not dialog.sign_in_button.isEnabled()
    dialog.redirect_edit.setText("http://127.0.0.1/callback")
    assert "needs a port" in redirect.text()
    dialog.redirect_edit.setText("http://127.0.0.1:18766/callback")
    assert not redirect.isVisible()
    assert dialog.sign_in_button.isEnabled()
