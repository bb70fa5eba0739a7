"""Qt byte arrays (geometry, splitter and header state) as text for the JSON UI state."""

from __future__ import annotations

from PySide6.QtCore import QByteArray


def to_text(data: QByteArray) -> str:
    return bytes(data.toBase64().data()).decode("ascii")


def from_text(text: str | None) -> QByteArray | None:
    if not text:
        return None
    return QByteArray.fromBase64(QByteArray(text.encode("ascii")))
