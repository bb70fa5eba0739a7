"""Uncaught exceptions: logged, then shown in a dialog that names the log file.

Without this a PySide app prints a traceback to a console nobody sees and carries on in an
unknown state, or vanishes. The hook logs the exception (the log is redacted by the config
package's filter) and shows :class:`ExceptionDialog` on the GUI thread.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

Redactor = Callable[[str], str]


class ExceptionDialog(QDialog):
    """Tells the user something went wrong, where the log is, and lets them copy details."""

    def __init__(
        self, summary: str, details: str, log_path: Path | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exceptionDialog")
        self.setWindowTitle("Outbound Desk: unexpected error")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.log_path = log_path
        layout = QVBoxLayout(self)
        where = (
            f"The details are in the log file:<br><code>{log_path}</code>"
            if log_path
            else "Logging to a file is switched off, so the details below are all there is."
        )
        self.message = QLabel(
            f"<b>Something went wrong that Outbound Desk did not expect.</b><br>{summary}<br><br>"
            f"{where}<br>Your data has not been changed by this error; you can carry on, or "
            "restart the app if it misbehaves."
        )
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        self.details = QPlainTextEdit(details)
        self.details.setReadOnly(True)
        self.details.setMinimumSize(560, 180)
        layout.addWidget(self.details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy details")
        copy.clicked.connect(self._on_copy_clicked)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        if log_path is not None:
            open_folder = QPushButton("Open log folder")
            open_folder.clicked.connect(self._on_open_folder_clicked)
            buttons.addButton(open_folder, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @Slot()
    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.details.toPlainText())

    @Slot()
    def _on_open_folder_clicked(self) -> None:
        if self.log_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.log_path.parent)))


class ExceptionHook(QObject):
    """Installs itself as ``sys.excepthook`` and ``threading.excepthook``.

    Signals: ``caught(summary, details)``, always delivered on the GUI thread, so an exception
    in any thread ends in one dialog on the GUI thread.
    """

    caught = Signal(str, str)

    def __init__(
        self,
        log_path: Path | None,
        redact: Redactor,
        parent_widget: Callable[[], QWidget | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._log_path = log_path
        self._redact = redact
        self._parent_widget = parent_widget
        self._previous_sys = sys.excepthook
        self._previous_threading = threading.excepthook
        self.dialogs: list[ExceptionDialog] = []
        self.caught.connect(self._on_caught)

    def install(self) -> None:
        sys.excepthook = self._sys_hook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        sys.excepthook = self._previous_sys
        threading.excepthook = self._previous_threading

    def handle(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        """Log the exception and ask the GUI thread to show it."""
        if issubclass(exc_type, KeyboardInterrupt):
            self._previous_sys(exc_type, exc, tb)
            return
        log.critical("uncaught exception", exc_info=(exc_type, exc, tb))
        summary = self._redact(f"{exc_type.__name__}: {exc}")
        details = self._redact("".join(traceback.format_exception(exc_type, exc, tb)))
        self.caught.emit(summary, details)

    def _sys_hook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        self.handle(exc_type, exc, tb)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.handle(args.exc_type, args.exc_value, args.exc_traceback)

    @Slot(str, str)
    def _on_caught(self, summary: str, details: str) -> None:
        # Drop dialogs already closed (deleted on close), keep at most a few on screen.
        self.dialogs = [d for d in self.dialogs if _alive(d)]
        if len(self.dialogs) >= 3:
            return
        dialog = ExceptionDialog(summary, details, self._log_path, self._parent_widget())
        self.dialogs.append(dialog)
        dialog.show()


def _alive(widget: QWidget) -> bool:
    from shiboken6 import isValid

    return bool(isValid(widget)) and widget.isVisible()
