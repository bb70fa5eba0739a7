"""The main window: one tab per registered pane, menus, status bar, remembered layout."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, QTimer, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QTabWidget,
    QWidget,
)

from outbound_desk import __version__
from outbound_desk.ui import palette
from outbound_desk.ui.context import AppContext
from outbound_desk.ui.filetypes import OPEN_FILTER
from outbound_desk.ui.logview import LogDialog
from outbound_desk.ui.panes import Pane, PaneFactory
from outbound_desk.ui.qstate import from_text, to_text
from outbound_desk.ui.session import Connection

log = logging.getLogger(__name__)

RATE_TOOLTIP = "Requests left in the platform's current rate-limit window"


def format_expiry(seconds_left: float) -> str:
    if seconds_left <= 0:
        return "token expired"
    minutes = int(seconds_left // 60)
    if minutes >= 120:
        return f"token {minutes // 60} h left"
    if minutes >= 1:
        return f"token {minutes} min left"
    return f"token {int(seconds_left)} s left"


class MainWindow(QMainWindow):
    """The app's one window. It builds a tab for each pane factory it is given."""

    def __init__(
        self,
        context: AppContext,
        factories: Sequence[PaneFactory],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.setObjectName("mainWindow")
        self.setWindowTitle("Outbound Desk")
        # First run (no saved geometry): 1280x800, or less on a smaller screen, so the window
        # never opens wider than the desktop with its buttons out of reach.
        size = QSize(1280, 800)
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            size = size.boundedTo(screen.availableGeometry().size() * 0.95)
        self.resize(size)
        self._shut_down = False
        self.log_dialog: LogDialog | None = None
        self.connection_dialog: QWidget | None = None
        self.preferences_dialog: Any = None

        self.tabs = QTabWidget()
        self.tabs.setObjectName("paneTabs")
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.panes: list[Pane] = []
        for factory in factories:
            pane = factory(context)
            self.panes.append(pane)
            self.tabs.addTab(pane, pane.title)

        self._build_status_bar()
        self._build_menus()
        context.session.connected.connect(self._on_session_connected)
        context.session.disconnected.connect(self._on_session_disconnected)
        context.session.signing_in.connect(self._on_session_signing_in)
        context.session.sign_in_again.connect(self._on_session_sign_in_again)
        context.tasks.busy_changed.connect(self._on_work_changed)
        context.jobs.running_changed.connect(self._on_work_changed)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(500)
        self._status_timer.timeout.connect(self._update_status)
        self._status_timer.start()
        self._restore_layout()
        self._update_status()

    # ------------------------------------------------------------------ building
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("busyIndicator")
        self.busy_bar.setRange(0, 0)  # indeterminate: "working"
        self.busy_bar.setMaximumWidth(90)
        self.busy_bar.setMaximumHeight(14)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.hide()
        self.org_label = QLabel()
        self.org_label.setObjectName("orgLabel")
        self.identity_label = QLabel()
        self.identity_label.setObjectName("identityLabel")
        self.token_label = QLabel()
        self.token_label.setObjectName("tokenLabel")
        self.rate_label = QLabel()
        self.rate_label.setObjectName("rateLabel")
        self.rate_label.setToolTip(RATE_TOOLTIP)
        bar.addPermanentWidget(self.busy_bar)
        for label in (self.org_label, self.identity_label, self.token_label, self.rate_label):
            label.setContentsMargins(6, 0, 6, 0)  # a little air between the facts
            bar.addPermanentWidget(label)

    def _action(
        self,
        text: str,
        slot: Any,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        self.open_action = self._action(
            "&Open file…", self._on_open_triggered, QKeySequence.StandardKey.Open
        )
        file_menu.addAction(self.open_action)
        self.recent_menu = QMenu("Open &recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        self.connection_action = self._action("&Connection…", self.show_connection_dialog, "Ctrl+K")
        file_menu.addAction(self.connection_action)
        self.preferences_action = self._action(
            "&Preferences…", self.show_preferences, QKeySequence.StandardKey.Preferences
        )
        if self.preferences_action.shortcut().isEmpty():  # no standard key on some platforms
            self.preferences_action.setShortcut(QKeySequence("Ctrl+,"))
        file_menu.addAction(self.preferences_action)
        self.sign_out_action = self._action("Sign &out", self.context.session.sign_out)
        self.sign_out_action.setEnabled(False)
        file_menu.addAction(self.sign_out_action)
        file_menu.addSeparator()
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        if self.quit_action.shortcut().isEmpty():  # no standard Quit key on some platforms
            self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        file_menu.addAction(self.quit_action)

        for pane in self.panes:
            actions = list(pane.menu_actions())
            if actions:
                menu = menus.addMenu(f"&{pane.title}")
                menu.addActions(actions)

        view = menus.addMenu("&View")
        self.refresh_action = self._action(
            "&Refresh", self._on_refresh_triggered, QKeySequence.StandardKey.Refresh
        )
        if self.refresh_action.shortcut().isEmpty():
            self.refresh_action.setShortcut(QKeySequence("F5"))
        view.addAction(self.refresh_action)
        view.addSeparator()
        for i, pane in enumerate(self.panes[:9]):
            go = self._action(f"Go to {pane.title}", self._on_go_to_triggered, f"Ctrl+{i + 1}")
            go.setData(i)
            view.addAction(go)
        view.addSeparator()
        theme_menu = view.addMenu("&Theme")
        self.theme_group = QActionGroup(self)
        for theme in palette.THEMES:
            act = QAction(theme.capitalize(), self, checkable=True)
            act.setData(theme)
            act.setChecked(theme == self.context.settings.preferences.theme)
            act.triggered.connect(self._on_theme_triggered)
            self.theme_group.addAction(act)
            theme_menu.addAction(act)

        help_menu = menus.addMenu("&Help")
        self.logs_action = self._action("Show &logs", self.show_logs, "Ctrl+Shift+L")
        help_menu.addAction(self.logs_action)
        help_menu.addAction(self._action("&About Outbound Desk", self._on_about_triggered))

    # ------------------------------------------------------------------ layout memory
    def _restore_layout(self) -> None:
        state = self.context.state
        geometry = from_text(state.window_geometry)
        if geometry is not None:
            self.restoreGeometry(geometry)
        window_state = from_text(state.window_state)
        if window_state is not None:
            self.restoreState(window_state)
        for pane in self.panes:
            pane.restore_state(state)

    def save_layout(self) -> None:
        state = self.context.state
        state.window_geometry = to_text(self.saveGeometry())
        state.window_state = to_text(self.saveState())
        for pane in self.panes:
            pane.save_state(state)
        last_dir = getattr(self.context.prompter, "last_dir", None)
        if isinstance(last_dir, str):
            state.last_dir = last_dir
        self.context.save_state()

    # ------------------------------------------------------------------ slots
    @Slot()
    def _on_open_triggered(self) -> None:
        path = self.context.prompter.open_path(self, "Open a contact file", OPEN_FILTER)
        if path:
            self.open_file(path)

    def open_file(self, path: str) -> None:
        """Make *path* the current file for every pane and remember it."""
        if not Path(path).is_file():
            self.context.prompter.error(self, "Open file", f"{path} does not exist any more.")
            return
        self.context.settings.add_recent_file(path)
        self.context.save_settings()
        for i, pane in enumerate(self.panes):
            if pane.opens_files:  # the file is shown where it can be previewed and uploaded
                self.tabs.setCurrentIndex(i)
                break
        self.context.files.open(path)
        self.statusBar().showMessage(f"Opened {path}", 5000)

    @Slot()
    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = [p for p in self.context.settings.preferences.recent_files if Path(p).is_file()]
        if not recent:
            empty = self.recent_menu.addAction("No recent files")
            empty.setEnabled(False)
            return
        for path in recent:
            act = self.recent_menu.addAction(path)
            act.setData(path)
            act.triggered.connect(self._on_recent_triggered)

    @Slot()
    def _on_recent_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.open_file(str(action.data()))

    @Slot()
    def _on_refresh_triggered(self) -> None:
        pane = self.tabs.currentWidget()
        if isinstance(pane, Pane):
            pane.refresh()

    @Slot()
    def _on_go_to_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.tabs.setCurrentIndex(int(action.data()))

    @Slot()
    def _on_theme_triggered(self) -> None:
        action = self.theme_group.checkedAction()
        if action is None:  # PySide6's stubs say never None; Qt returns None when unchecked
            return  # type: ignore[unreachable]
        theme = str(action.data())
        self.context.settings.preferences.theme = theme  # type: ignore[assignment]
        self.context.save_settings()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            palette.apply_theme(app, theme)

    @Slot()
    def show_logs(self) -> None:
        if self.log_dialog is None:
            self.log_dialog = LogDialog(self.context.log_path, self)
        self.log_dialog.reload()
        self.log_dialog.show()
        self.log_dialog.raise_()

    @Slot()
    def show_connection_dialog(self) -> None:
        from outbound_desk.ui.connection_dialog import ConnectionDialog

        if self.connection_dialog is None:
            self.connection_dialog = ConnectionDialog(self.context, self)
        self.connection_dialog.show()
        self.connection_dialog.raise_()

    @Slot()
    def show_preferences(self) -> None:
        from outbound_desk.ui.preferences import PreferencesDialog

        # A new form each time: it shows the preferences as they are now.
        if self.preferences_dialog is not None:
            self.preferences_dialog.deleteLater()
        self.preferences_dialog = PreferencesDialog(self.context, self)
        self.preferences_dialog.preferences_saved.connect(self._on_preferences_saved)
        self.preferences_dialog.show()
        self.preferences_dialog.raise_()

    @Slot(object)
    def _on_preferences_saved(self, _prefs: object) -> None:
        for pane in self.panes:
            pane.apply_preferences()
        self.statusBar().showMessage("Preferences saved", 5000)

    @Slot()
    def _on_about_triggered(self) -> None:
        self.context.prompter.inform(self, "About Outbound Desk", about_text(self.context))

    @Slot(object)
    def _on_session_connected(self, connection: Connection) -> None:
        self.sign_out_action.setEnabled(True)
        if self.context.settings.profile(connection.profile.name) is not None:
            self.context.settings.preferences.last_profile = connection.profile.name
            self.context.save_settings()
        self.setWindowTitle(f"Outbound Desk: {connection.profile.name}")
        self._update_status()

    @Slot()
    def _on_session_disconnected(self) -> None:
        self.sign_out_action.setEnabled(False)
        self.setWindowTitle("Outbound Desk")
        self._update_status()

    @Slot(bool)
    def _on_session_signing_in(self, busy: bool) -> None:
        if busy:
            self.org_label.setText("Signing in…")
        self._on_work_changed()

    @Slot(str)
    def _on_session_sign_in_again(self, url: str) -> None:
        conn = self.context.session.connection
        name = conn.profile.name if conn is not None else "the org"
        text = (
            f"Your sign-in to {name} ended and cannot be renewed: sign in again in the browser "
            "window that opened. Uploads and other work wait until you have."
        )
        self.token_label.setText("sign in again (browser)")
        self.token_label.setStyleSheet("color: #d35400; font-weight: bold")
        self.token_label.setToolTip(f"{text}\n\nSign-in page: {url}")
        self.statusBar().showMessage(text, 60_000)
        log.info("the browser sign-in ended without a refresh token: signing in again")

    @Slot()
    def _on_work_changed(self, *_: object) -> None:
        busy = (
            self.context.tasks.busy or bool(self.context.jobs.running) or self.context.session.busy
        )
        self.busy_bar.setVisible(busy)

    @Slot()
    def _update_status(self) -> None:
        conn = self.context.session.connection
        if conn is None:
            if not self.context.session.busy:
                self.org_label.setText("Not signed in (File > Connection…)")
            self.identity_label.setText("")
            self.token_label.setText("")
            self.rate_label.setText("")
            return
        self.org_label.setText(f"Org: {conn.profile.name} · {conn.region.key}")
        self.identity_label.setText(conn.identity)
        expires = conn.watch.token_expires_at
        if expires is not None and expires > time.time():
            self.token_label.setStyleSheet("")
            self.token_label.setToolTip("")
            self.token_label.setText(format_expiry(expires - time.time()))
        elif not self.token_label.styleSheet():  # not while waiting for a new sign-in
            self.token_label.setText("" if expires is None else format_expiry(0))
        stats = conn.client.rate_stats()
        if stats.paused_s > 0:
            # After a 429 the client's limiter holds every request until Retry-After: say so,
            # or the app just looks stuck.
            self.rate_label.setText(f"Rate limited: waiting {math.ceil(stats.paused_s)} s")
            self.rate_label.setStyleSheet("color: #d35400; font-weight: bold")
            self.rate_label.setToolTip(
                "Genesys Cloud answered 429 (too many requests) "
                f"{stats.rate_limited} time{'s' if stats.rate_limited != 1 else ''}; requests "
                "go on by themselves when the wait is over."
            )
            return
        self.rate_label.setStyleSheet("")
        self.rate_label.setToolTip(RATE_TOOLTIP)
        remaining = conn.watch.remaining()
        self.rate_label.setText(
            "" if remaining is None else f"{remaining[0]}/{remaining[1]} requests left"
        )

    # ------------------------------------------------------------------ shutdown
    def closeEvent(self, event: QCloseEvent) -> None:
        reasons = [r for p in self.panes if (r := p.busy_reason())]
        if reasons and not self._shut_down:
            text = "\n".join(reasons) + "\n\nClose anyway? Running work will be cancelled."
            if not self.context.prompter.confirm(self, "Close Outbound Desk", text, danger=True):
                event.ignore()
                return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Save the layout, cancel workers, wait for threads, close the HTTP client. Once."""
        if self._shut_down:
            return
        self._shut_down = True
        self._status_timer.stop()
        try:
            self.save_layout()
        except Exception:  # saving the layout must never stop the app from closing
            log.exception("could not save the window layout")
        for pane in self.panes:
            pane.shutdown()
        self.context.session.cancel_sign_in()
        jobs_ok = self.context.jobs.shutdown()
        tasks_ok = self.context.tasks.shutdown()
        if not (jobs_ok and tasks_ok):
            log.warning("some work did not stop in time")
        self.context.session.close()
        log.info("main window closed")

    def current_pane(self) -> Pane | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, Pane) else None


__all__ = ["MainWindow", "format_expiry"]


def about_text(context: AppContext) -> str:
    """The About box: what this is, the versions it runs on, and where its files live."""
    import platform

    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    from outbound_desk.config import paths

    ledger = paths.ledger_path(context.settings.preferences.ledger_path)
    return "\n".join(
        [
            f"Outbound Desk {__version__}",
            "Contact-list uploads for Genesys Cloud CX Outbound.",
            "",
            f"Qt {qVersion()} (PySide6 {pyside_version}), Python {platform.python_version()}",
            "",
            f"Settings: {paths.config_dir()}",
            f"Upload ledger: {ledger}",
            f"Outcome reports: {ledger.parent / 'reports'}",
            f"Logs: {context.log_path or paths.log_dir()}",
            "Secrets: the system keyring only (service 'outbound-desk')",
        ]
    )
