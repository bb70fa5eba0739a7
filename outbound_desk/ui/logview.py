"""Help > Show logs: the tail of the (redacted) log file, and a way to its folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl, Slot
from PySide6.QtGui import QDesktopServices, QFontDatabase, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

#: Enough to see what just happened without reading a 2 MB file into a text widget.
TAIL_BYTES = 256 * 1024


def read_tail(path: Path, limit: int = TAIL_BYTES) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            data = handle.read()
    except FileNotFoundError:
        return "(nothing logged yet)"
    text = data.decode("utf-8", errors="replace")
    if size > limit:
        text = text.partition("\n")[2]  # drop the partial first line
    return text


class LogDialog(QDialog):
    """Shows the log file's last lines; Reload and Open folder buttons."""

    def __init__(self, path: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logDialog")
        self.setWindowTitle("Outbound Desk logs")
        self.resize(900, 520)
        self.path = path
        layout = QVBoxLayout(self)
        self.where = QLabel(
            f"Log file: {path}" if path else "Logging to a file is switched off for this run."
        )
        self.where.setWordWrap(True)
        layout.addWidget(self.where)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        reload_button = QPushButton("Reload")
        reload_button.clicked.connect(self.reload)
        buttons.addButton(reload_button, QDialogButtonBox.ButtonRole.ActionRole)
        if path is not None:
            folder = QPushButton("Open folder")
            folder.clicked.connect(self._on_folder_clicked)
            buttons.addButton(folder, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.reload()

    @Slot()
    def reload(self) -> None:
        self.text.setPlainText(read_tail(self.path) if self.path else "")
        self.text.moveCursor(QTextCursor.MoveOperation.End)

    @Slot()
    def _on_folder_clicked(self) -> None:
        if self.path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path.parent)))
