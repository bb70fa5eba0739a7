"""The button that folds a part of a pane away and opens it again (an arrow and a label)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QToolButton, QWidget


class FoldButton(QToolButton):
    """A flat, checkable tool button whose arrow points down when open, right when folded.

    Checked means open; ``toggled(bool)`` tells the owner to show or hide what it folds.
    """

    def __init__(self, name: str, tooltip: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setCheckable(True)
        self.setAutoRaise(True)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        if tooltip:
            self.setToolTip(tooltip)
        self.toggled.connect(self._on_toggled)
        self._on_toggled(False)

    @Slot(bool)
    def _on_toggled(self, open_: bool) -> None:
        self.setArrowType(Qt.ArrowType.DownArrow if open_ else Qt.ArrowType.RightArrow)


__all__ = ["FoldButton"]
