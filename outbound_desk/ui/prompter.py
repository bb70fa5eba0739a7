"""Questions the app asks the user, behind one small interface.

Views never call ``QMessageBox``/``QFileDialog`` statics directly: they ask a :class:`Prompter`.
The app uses :class:`DialogPrompter`; tests inject a scripted one, so a confirmation or a save
dialog is answered without a modal loop and without monkeypatching Qt.
"""

from __future__ import annotations

import os
from typing import Protocol

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget


class Prompter(Protocol):
    def confirm(
        self, parent: QWidget | None, title: str, text: str, *, danger: bool = False
    ) -> bool:
        """Ask yes/no; True for yes."""
        ...

    def inform(self, parent: QWidget | None, title: str, text: str) -> None: ...

    def error(self, parent: QWidget | None, title: str, text: str) -> None: ...

    def save_path(
        self, parent: QWidget | None, title: str, suggested: str, filter_: str
    ) -> str | None:
        """A path to write to, or None when the user cancelled."""
        ...

    def open_path(self, parent: QWidget | None, title: str, filter_: str) -> str | None: ...

    def secret(self, parent: QWidget | None, title: str, text: str) -> str | None:
        """A secret typed by the user (masked), or None when cancelled."""
        ...


class DialogPrompter:
    """The real prompter: standard Qt dialogs.

    File dialogs start in the folder the user last opened or saved in (``last_dir``; the main
    window keeps it in the UI state across runs), not in the working directory.
    """

    def __init__(self, last_dir: str | None = None) -> None:
        self.last_dir = last_dir

    def _start(self, name: str = "") -> str:
        folder = self.last_dir if self.last_dir and os.path.isdir(self.last_dir) else ""
        if not folder:
            return name
        return os.path.join(folder, name) if name else folder

    def _remember(self, path: str) -> None:
        if path:
            self.last_dir = os.path.dirname(os.path.abspath(path))

    def confirm(
        self, parent: QWidget | None, title: str, text: str, *, danger: bool = False
    ) -> bool:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning if danger else QMessageBox.Icon.Question)
        box.setWindowTitle(title)
        box.setText(text)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        # A destructive question defaults to the safe answer.
        box.setDefaultButton(
            QMessageBox.StandardButton.No if danger else QMessageBox.StandardButton.Yes
        )
        return box.exec() == QMessageBox.StandardButton.Yes

    def inform(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.information(parent, title, text)

    def error(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.critical(parent, title, text)

    def save_path(
        self, parent: QWidget | None, title: str, suggested: str, filter_: str
    ) -> str | None:
        path, _ = QFileDialog.getSaveFileName(parent, title, self._start(suggested), filter_)
        self._remember(path)
        return path or None

    def open_path(self, parent: QWidget | None, title: str, filter_: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(parent, title, self._start(), filter_)
        self._remember(path)
        return path or None

    def secret(self, parent: QWidget | None, title: str, text: str) -> str | None:
        value, ok = QInputDialog.getText(parent, title, text, QLineEdit.EchoMode.Password)
        return value if ok and value else None
