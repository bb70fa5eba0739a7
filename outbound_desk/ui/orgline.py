"""The small line naming the org and the signed-in identity, shown on the Lists and Upload
panes (the status bar has it too, but it is far from where a list is cleared or uploaded to)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


def org_text(connection: Any) -> str:
    """``Org: NAME (REGION) · signed in as IDENTITY``, or that nobody is signed in."""
    if connection is None:
        return "Not signed in"
    return (
        f"Org: {connection.profile.name} ({connection.region.key})"
        f" · signed in as {connection.identity}"
    )


class OrgLine(QLabel):
    """Follows the session: the org and identity while signed in, "Not signed in" otherwise."""

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("orgLine")
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Never the reason a pane is wider than the screen: a long name is cut, in full in
        # the tooltip.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(120)
        self._session = session
        session.connected.connect(self._on_session_connected)
        session.disconnected.connect(self._on_session_disconnected)
        self._show(session.connection)

    def _show(self, connection: Any) -> None:
        text = org_text(connection)
        self.setText(text)
        self.setToolTip(text)

    @Slot(object)
    def _on_session_connected(self, connection: Any) -> None:
        self._show(connection)

    @Slot()
    def _on_session_disconnected(self) -> None:
        self._show(None)
