"""ListTableModel: the Qt face of :class:`~outbound_desk.ui.lists.store.ListStore`."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont

from outbound_desk.ui.lists.store import ListRow, ListStore, StoreEvent

ModelIndex = QModelIndex | QPersistentModelIndex

#: The role that carries the whole :class:`ListRow` for a row (any column).
ListRowRole = Qt.ItemDataRole.UserRole + 1


def _phones(row: ListRow) -> str:
    return ", ".join(f"{name} ({kind})" if kind else name for name, kind in row.phone_columns)


COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("size", "Contacts"),
    ("columns", "Columns"),
    ("phones", "Phone columns"),
    ("import", "Import"),
    ("division", "Division"),
    ("modified", "Last modified"),
)


class ListTableModel(QAbstractTableModel):
    """Adapts a :class:`ListStore`; asks for the next page when the view scrolls to the end.

    It never calls the API: ``fetchMore`` emits ``fetch_requested``, the pane runs the fetch on
    a worker and hands the page to the store, whose events move rows in here.
    Signals: ``fetch_requested()``.
    """

    fetch_requested = Signal()

    def __init__(self, store: ListStore, parent: Any = None) -> None:
        super().__init__(parent)
        self.store = store
        self._bold = QFont()
        self._bold.setBold(True)
        store.subscribe(self._on_store_changed, self._on_store_about_to_change)

    # ------------------------------------------------------------------ store events
    def _on_store_about_to_change(self, event: StoreEvent, first: int, last: int) -> None:
        if event is StoreEvent.RESET:
            self.beginResetModel()
        elif event is StoreEvent.APPENDED:
            self.beginInsertRows(QModelIndex(), first, last)
        elif event is StoreEvent.REMOVED:
            self.beginRemoveRows(QModelIndex(), first, last)

    def _on_store_changed(self, event: StoreEvent, first: int, last: int) -> None:
        if event is StoreEvent.RESET:
            self.endResetModel()
        elif event is StoreEvent.APPENDED:
            self.endInsertRows()
        elif event is StoreEvent.REMOVED:
            self.endRemoveRows()
        elif event is StoreEvent.CHANGED:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    # ------------------------------------------------------------------ Qt model
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.store.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: ModelIndex) -> bool:
        if parent.isValid():
            return False
        return self.store.has_more and not self.store.loading

    def fetchMore(self, parent: ModelIndex) -> None:
        if self.canFetchMore(parent):
            self.fetch_requested.emit()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section][1]
            if role == Qt.ItemDataRole.ToolTipRole and COLUMNS[section][0] == "size":
                return "Number of contacts in the list"
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self.store.rows)):
            return None
        row = self.store.rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, key)
        if role == ListRowRole:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "import" and row.import_failure:
                return row.import_failure
            if key == "columns":
                return ", ".join(row.columns)
            if key == "name":
                return f"{row.name}\nid {row.id}"
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("size", "columns"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and key == "name":
            return self._bold
        return None

    @staticmethod
    def _display(row: ListRow, key: str) -> str:
        if key == "name":
            return row.name
        if key == "size":
            return "" if row.size is None else f"{row.size:,}"
        if key == "columns":
            return str(len(row.columns))
        if key == "phones":
            return _phones(row)
        if key == "import":
            return row.import_text
        if key == "division":
            return row.division or ""
        if key == "modified":
            if row.date_modified is None:
                return ""
            return row.date_modified.astimezone().strftime("%Y-%m-%d %H:%M")
        return ""

    def row_at(self, index: ModelIndex) -> ListRow | None:
        if not index.isValid() or not (0 <= index.row() < len(self.store.rows)):
            return None
        return self.store.rows[index.row()]
