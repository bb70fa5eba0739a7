"""File > Connection: org profiles, their secrets in the keyring, test and sign in."""

from __future__ import annotations

import contextlib
import logging
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from outbound_desk.config import NoKeyringError, OrgProfile
from outbound_desk.genesys import DEFAULT_REDIRECT_URI, REGIONS
from outbound_desk.ui.context import AppContext
from outbound_desk.ui.messages import describe
from outbound_desk.ui.session import SANDBOX_REGION, Connection

log = logging.getLogger(__name__)

AUTH_METHODS = (
    ("client_credentials", "Client credentials (client id and secret)"),
    ("pkce", "Browser sign-in (authorization code + PKCE, no secret stored)"),
)


_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def url_problem(text: str, *, what: str = "The URL", loopback_only: bool = False) -> str | None:
    """What is wrong with *text* as an http(s) address (scheme, host, port range), in words a
    person can act on; None when it is fine. *loopback_only*: the host must be this machine
    (a browser sign-in's redirect URI, where the app itself listens)."""
    text = text.strip()
    if not text:
        return f"{what} is empty."
    if any(ch.isspace() for ch in text):
        return f"{what} has a space in it."
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        return f"{what} must start with http:// or https://."
    if not parts.hostname:
        return f"{what} has no host name after {parts.scheme}://."
    try:
        port = parts.port
    except ValueError:
        raw = parts.netloc.rpartition(":")[2]
        return f"{what} has the port {raw!r}: a port is a number from 1 to 65535."
    if port is not None and port == 0:
        return f"{what} has the port 0: a port is a number from 1 to 65535."
    if parts.query or parts.fragment:
        return f"{what} must not have a ?query or #fragment."
    if loopback_only:
        if parts.scheme != "http" or parts.hostname not in _LOOPBACK_HOSTS:
            return (
                f"{what} must be http://127.0.0.1:PORT/PATH (or localhost, or [::1]): the app "
                "listens for the sign-in on this computer."
            )
        if port is None:
            return f"{what} needs a port (http://127.0.0.1:PORT/PATH): the app listens on it."
    return None


class ConnectionDialog(QDialog):
    """Edits org profiles and signs in with one of them.

    The secret is written to the OS keyring only. Without a keyring the dialog says so and
    offers to keep the secret for this session only; nothing is ever written to a file.

    Every free-text field is checked as it is typed (name and client id not empty, the
    sandbox URL and the redirect URI well-formed: scheme, host, port range): a field in the
    wrong says why beneath it, and Save, Test and Sign in wait until none is.
    """

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setObjectName("connectionDialog")
        self.setWindowTitle("Connection")
        self.resize(760, 420)

        self.profile_list = QListWidget()
        self.profile_list.setObjectName("profileList")
        self.profile_list.currentItemChanged.connect(self._on_profile_list_current_changed)
        new_button = QPushButton("New")
        new_button.clicked.connect(self._on_new_clicked)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self._on_delete_clicked)
        left = QVBoxLayout()
        left.addWidget(QLabel("Profiles"))
        left.addWidget(self.profile_list)
        row = QHBoxLayout()
        row.addWidget(new_button)
        row.addWidget(self.delete_button)
        left.addLayout(row)

        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("profileName")
        self.region_combo = QComboBox()
        self.region_combo.setObjectName("regionCombo")
        self.region_combo.addItem("Local sandbox org", SANDBOX_REGION)
        for key, region in REGIONS.items():
            self.region_combo.addItem(f"{key} ({region.domain})", key)
        self.region_combo.currentIndexChanged.connect(self._on_region_combo_changed)
        self.sandbox_edit = QLineEdit()
        self.sandbox_edit.setObjectName("sandboxUrl")
        self.sandbox_edit.setPlaceholderText("http://127.0.0.1:8765")
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("methodCombo")
        for key, text in AUTH_METHODS:
            self.method_combo.addItem(text, key)
        self.method_combo.currentIndexChanged.connect(self._on_method_combo_changed)
        self.client_id_edit = QLineEdit()
        self.client_id_edit.setObjectName("clientId")
        self.secret_edit = QLineEdit()
        self.secret_edit.setObjectName("clientSecret")
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.keyring_label = QLabel()
        self.keyring_label.setObjectName("keyringLabel")
        self.keyring_label.setWordWrap(True)
        self.session_only_check = QCheckBox("Keep the secret for this session only")
        self.session_only_check.setObjectName("sessionOnly")
        # Browser sign-in: Genesys sends the person back only to a redirect URI registered on
        # the OAuth client, matched exactly; the app listens on that address and port only.
        self.redirect_edit = QLineEdit(DEFAULT_REDIRECT_URI)
        self.redirect_edit.setObjectName("redirectUri")
        self.redirect_edit.setPlaceholderText(DEFAULT_REDIRECT_URI)
        self.copy_redirect_button = QPushButton("Copy")
        self.copy_redirect_button.setObjectName("copyRedirectUri")
        self.copy_redirect_button.setToolTip("Copy the redirect URI to the clipboard")
        self.copy_redirect_button.clicked.connect(self._on_copy_redirect_clicked)
        self.redirect_row = QWidget()
        redirect_layout = QHBoxLayout(self.redirect_row)
        redirect_layout.setContentsMargins(0, 0, 0, 0)
        redirect_layout.addWidget(self.redirect_edit, 1)
        redirect_layout.addWidget(self.copy_redirect_button)
        self.redirect_label = QLabel(
            "Register this redirect URI on the OAuth client, exactly as written (Genesys Cloud "
            "Admin > Integrations > OAuth > the client > Authorized redirect URIs): the sign-in "
            "comes back only to a registered address, and the app listens on this one only."
        )
        self.redirect_label.setObjectName("redirectHelp")
        self.redirect_label.setWordWrap(True)
        self._testing = self._signing_in = False
        #: The inline message under each checked field (hidden while the field is fine).
        self.field_problems: dict[str, QLabel] = {}
        for key in ("name", "sandbox", "client_id", "redirect"):
            label = QLabel()
            label.setObjectName(f"{key}Problem")
            label.setWordWrap(True)
            label.setStyleSheet("color: #c0392b")
            self.field_problems[key] = label
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("", self.field_problems["name"])
        form.addRow("Region", self.region_combo)
        form.addRow("Sandbox URL", self.sandbox_edit)
        form.addRow("", self.field_problems["sandbox"])
        form.addRow("Sign-in", self.method_combo)
        form.addRow("Client id", self.client_id_edit)
        form.addRow("", self.field_problems["client_id"])
        form.addRow("Client secret", self.secret_edit)
        form.addRow("", self.keyring_label)
        form.addRow("", self.session_only_check)
        form.addRow("Redirect URI", self.redirect_row)
        form.addRow("", self.field_problems["redirect"])
        form.addRow("", self.redirect_label)
        self._form = form
        for edit in (self.name_edit, self.sandbox_edit, self.client_id_edit, self.redirect_edit):
            edit.textChanged.connect(self._on_field_text_changed)

        self.result_label = QLabel()
        self.result_label.setObjectName("connectionResult")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self._on_test_clicked)
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setObjectName("signInButton")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self._on_sign_in_clicked)
        close_button = QPushButton("Close")
        close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        buttons.addWidget(self.sign_in_button)
        buttons.addWidget(close_button)

        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.result_label)
        right.addStretch(1)
        right.addLayout(buttons)
        top = QHBoxLayout(self)
        top.addLayout(left, 1)
        top.addLayout(right, 3)

        context.session.connected.connect(self._on_session_connected)
        context.session.sign_in_failed.connect(self._on_session_sign_in_failed)
        self._fill_profiles()
        self._update_keyring_label()
        self._on_region_combo_changed()
        self._on_method_combo_changed()
        self.check_fields()

    # ------------------------------------------------------------------ checks as typed
    def field_problem_texts(self) -> dict[str, str]:
        """What is wrong with the form, by field (only the fields in use)."""
        problems: dict[str, str] = {}
        if not self.name_edit.text().strip():
            problems["name"] = "Give the profile a name (for example the org's name)."
        if self.region_combo.currentData() == SANDBOX_REGION:
            found = url_problem(self.sandbox_edit.text(), what="The sandbox URL")
            if found:
                problems["sandbox"] = found
        if not self.client_id_edit.text().strip():
            problems["client_id"] = "Enter the OAuth client id (Admin > Integrations > OAuth)."
        if self.method_combo.currentData() == "pkce" and self.redirect_edit.text().strip():
            found = url_problem(
                self.redirect_edit.text(), what="The redirect URI", loopback_only=True
            )
            if found:
                problems["redirect"] = found
        return problems

    def check_fields(self) -> bool:
        """Show each field's problem beneath it; Save, Test and Sign in only when none."""
        problems = self.field_problem_texts()
        for key, label in self.field_problems.items():
            label.setText(problems.get(key, ""))
            self._form.setRowVisible(label, key in problems)
        ok = not problems
        self.save_button.setEnabled(ok)
        self.test_button.setEnabled(ok and not self._testing)
        self.sign_in_button.setEnabled(ok and not self._signing_in)
        return ok

    @Slot()
    def _on_field_text_changed(self, *_: object) -> None:
        self.check_fields()

    # ------------------------------------------------------------------ profiles
    def _fill_profiles(self, select: str | None = None) -> None:
        self.profile_list.clear()
        wanted = select or self.context.settings.preferences.last_profile
        current = None
        for profile in self.context.settings.profiles:
            item = QListWidgetItem(profile.name)
            self.profile_list.addItem(item)
            if profile.name == wanted:
                current = item
        if current is None and self.profile_list.count():
            current = self.profile_list.item(0)
        if current is not None:
            self.profile_list.setCurrentItem(current)
        self.delete_button.setEnabled(self.profile_list.count() > 0)

    @Slot()
    def _on_profile_list_current_changed(self, *_: object) -> None:
        item = self.profile_list.currentItem()
        profile = self.context.settings.profile(item.text()) if item is not None else None
        if profile is not None:
            self.show_profile(profile)

    def show_profile(self, profile: OrgProfile) -> None:
        self.name_edit.setText(profile.name)
        self.region_combo.setCurrentIndex(max(0, self.region_combo.findData(profile.region)))
        self.sandbox_edit.setText(profile.sandbox_url or "")
        self.method_combo.setCurrentIndex(max(0, self.method_combo.findData(profile.auth_method)))
        self.client_id_edit.setText(profile.client_id)
        self.redirect_edit.setText(profile.redirect_uri or DEFAULT_REDIRECT_URI)
        self.secret_edit.clear()
        self.secret_edit.setPlaceholderText(
            "stored" if self._stored_secret(profile.name) else "not stored yet"
        )
        self.result_label.clear()

    @Slot()
    def _on_new_clicked(self) -> None:
        self.profile_list.setCurrentRow(-1)
        self.name_edit.clear()
        self.client_id_edit.clear()
        self.secret_edit.clear()
        self.secret_edit.setPlaceholderText("")
        self.sandbox_edit.clear()
        self.redirect_edit.setText(DEFAULT_REDIRECT_URI)
        self.name_edit.setFocus()

    @Slot()
    def _on_delete_clicked(self) -> None:
        item = self.profile_list.currentItem()
        if item is None:  # PySide6's stubs say never None; Qt returns None with no selection
            return  # type: ignore[unreachable]
        name = item.text()
        if not self.context.prompter.confirm(
            self, "Delete profile", f"Delete the profile {name!r} and its stored secret?"
        ):
            return
        self.context.settings.remove_profile(name)
        self.context.save_settings()
        with contextlib.suppress(NoKeyringError):  # nothing was stored without a keyring
            self.context.secrets.delete_secret(name)
        self.context.session_secrets.delete_secret(name)
        self._fill_profiles()

    @Slot()
    def _on_region_combo_changed(self, *_: object) -> None:
        sandbox = self.region_combo.currentData() == SANDBOX_REGION
        self.sandbox_edit.setEnabled(sandbox)
        if hasattr(self, "field_problems"):
            self.check_fields()

    @Slot()
    def _on_method_combo_changed(self, *_: object) -> None:
        needs_secret = self.method_combo.currentData() == "client_credentials"
        self.secret_edit.setEnabled(needs_secret)
        for widget in (self.redirect_row, self.redirect_label):
            self._form.setRowVisible(widget, not needs_secret)
        if hasattr(self, "field_problems"):
            self.check_fields()

    @Slot()
    def _on_copy_redirect_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.redirect_uri())
        self.result_label.setText(
            f"Copied {self.redirect_uri()}: paste it into the OAuth client's Authorized "
            "redirect URIs."
        )

    def redirect_uri(self) -> str:
        """The redirect URI the form shows (the default when left empty)."""
        return self.redirect_edit.text().strip() or DEFAULT_REDIRECT_URI

    # ------------------------------------------------------------------ secrets
    def _update_keyring_label(self) -> None:
        if self.context.secrets.is_available():
            self.keyring_label.setText(
                f"Secrets are kept in the system keyring ({self.context.secrets.backend_name()})."
            )
            self.session_only_check.hide()
        else:
            try:
                self.context.secrets.require_available()
            except NoKeyringError as exc:
                self.keyring_label.setText(str(exc))
            self.session_only_check.show()

    def _stored_secret(self, profile: str) -> str | None:
        try:
            secret = self.context.secrets.get_secret(profile)
        except NoKeyringError:
            secret = None
        return secret or self.context.session_secrets.get_secret(profile)

    def _store_secret(self, profile: str, secret: str) -> bool:
        """Keep *secret*: in the keyring, or for this session when the user said so."""
        try:
            self.context.secrets.set_secret(profile, secret)
            return True
        except NoKeyringError as exc:
            if self.session_only_check.isChecked():
                self.context.session_secrets.set_secret(profile, secret)
                return True
            self.result_label.setText(
                f"{exc}\nTick “Keep the secret for this session only” to go on."
            )
            return False

    # ------------------------------------------------------------------ actions
    def _profile_from_form(self) -> OrgProfile | None:
        region = str(self.region_combo.currentData())
        try:
            return OrgProfile(
                name=self.name_edit.text().strip(),
                region=region,
                client_id=self.client_id_edit.text().strip(),
                auth_method=self.method_combo.currentData(),
                sandbox_url=self.sandbox_edit.text().strip() or None
                if region == SANDBOX_REGION
                else None,
                # Only a changed one is kept: the default is fixed, so None stays true.
                redirect_uri=self.redirect_uri()
                if self.method_combo.currentData() == "pkce"
                and self.redirect_uri() != DEFAULT_REDIRECT_URI
                else None,
            )
        except ValueError as exc:
            self.result_label.setText(str(exc)[:1].upper() + str(exc)[1:] + ".")
            return None

    def save_profile(self) -> OrgProfile | None:
        """Save the form as a profile (and the secret, if typed); None when refused."""
        if not self.check_fields():
            return None
        profile = self._profile_from_form()
        if profile is None:
            return None
        if not profile.client_id:
            self.result_label.setText("Enter the OAuth client id.")
            return None
        secret = self.secret_edit.text()
        if secret and profile.auth_method == "client_credentials":
            if not self._store_secret(profile.name, secret):
                return None
            self.secret_edit.clear()
            self.secret_edit.setPlaceholderText("stored")
        self.context.settings.upsert_profile(profile)
        self.context.save_settings()
        self._fill_profiles(select=profile.name)
        return profile

    def _secret_for(self, profile: OrgProfile) -> tuple[bool, str | None]:
        """(usable, secret): not usable (and a message) when a secret is needed but missing."""
        if profile.auth_method != "client_credentials":
            return True, None
        secret = self._stored_secret(profile.name)
        if not secret:
            self.result_label.setText(
                f"No client secret is stored for {profile.name!r}: type it and try again."
            )
            return False, None
        return True, secret

    @Slot()
    def _on_save_clicked(self) -> None:
        if self.save_profile() is not None:
            self.result_label.setText("Saved.")

    @Slot()
    def _on_test_clicked(self) -> None:
        profile = self.save_profile()
        if profile is None:
            return
        usable, secret = self._secret_for(profile)
        if not usable:
            return
        self.result_label.setText("Testing…")
        self._testing = True
        self.check_fields()
        self.context.session.test(profile, secret, self._on_test_succeeded, self._on_test_failed)

    def _on_test_succeeded(self, identity: str) -> None:
        self._testing = False
        self.check_fields()
        self.result_label.setText(f"Connection works: signed in as {identity} and read lists.")

    def _on_test_failed(self, exc: BaseException) -> None:
        self._testing = False
        self.check_fields()
        self.result_label.setText(describe(exc))

    @Slot()
    def _on_sign_in_clicked(self) -> None:
        profile = self.save_profile()
        if profile is None:
            return
        usable, secret = self._secret_for(profile)
        if not usable:
            return
        self.result_label.setText("Signing in…")
        self._signing_in = True
        self.check_fields()
        self.context.session.sign_in(profile, secret)

    @Slot(object)
    def _on_session_connected(self, connection: Connection) -> None:
        self._signing_in = False
        self.check_fields()
        self.result_label.setText(f"Signed in to {connection.profile.name}.")
        self.accept()

    @Slot(object)
    def _on_session_sign_in_failed(self, exc: BaseException) -> None:
        self._signing_in = False
        self.check_fields()
        self.result_label.setText(describe(exc))
