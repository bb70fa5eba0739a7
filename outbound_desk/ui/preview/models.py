"""Qt models of the preview pane: the lazy rows table and the issues list (STYLE rules 11-13)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QFont

from outbound_desk.ui.preview.issues import IssueIndex, severity_name
from outbound_desk.ui.preview.rows import RowStore

_Index = QModelIndex | QPersistentModelIndex

#: Custom data roles (STYLE rule 12): views colour and explain cells from these.
IssuesRole = Qt.ItemDataRole.UserRole + 1  # list of Issue objects for the cell (or row)
SeverityRole = Qt.ItemDataRole.UserRole + 2  # "error" | "warning" | "info" | None
RecordRole = Qt.ItemDataRole.UserRole + 3  # physical record number of the row (header = 1)
EditedRole = Qt.ItemDataRole.UserRole + 4  # the file's own value of an edited cell, else None

#: An edited cell's tint (under any issue colour, which wins: a bad edit still shows red).
EDITED_COLOUR = QColor(108, 113, 196, 70)

# Translucent, so the tint reads on light and dark palettes alike.
SEVERITY_COLOURS = {
    "error": QColor(220, 50, 47, 90),
    "warning": QColor(230, 160, 0, 90),
    "info": QColor(38, 139, 210, 60),
}


class RowsTableModel(QAbstractTableModel):
    """The file's records, shown a few hundred at a time as the view scrolls (``fetchMore``).

    Wraps a :class:`RowStore` that a loader fills from a worker and an :class:`IssueIndex`;
    ``data()`` reads one cell and formats only what the role asks for. The vertical header shows
    each row's physical record number, so row numbers match the file and the issues.

    Cells are editable (double-click or F2): an edit is kept in :attr:`edits`, an overlay by
    (record number, file column) over the read-only store, shown in italics with a tint and
    the file's own value in the tooltip. Typing the file's value back removes the edit.

    Signals:
      ``cell_edited(int, str, object)``: record, file column, the new value (None: edit undone).
    """

    FETCH_ROWS = 500

    cell_edited = Signal(int, str, object)

    def __init__(self, store: RowStore, issues: IssueIndex, parent: Any = None) -> None:
        super().__init__(parent)
        self._store = store
        self._issues = issues
        self._shown = 0
        self._inserting = False
        self.edits: dict[tuple[int, str], str] = {}

    @property
    def store(self) -> RowStore:
        return self._store

    def set_issue_index(self, issues: IssueIndex) -> None:
        """Use a new index (a validation built it off the GUI thread) and repaint."""
        self._issues = issues
        self.issues_changed()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._shown

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._store.columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if self.edits:
                edited = self.edits.get((self._store.record(row), self._store.columns[col]))
                if edited is not None:
                    return edited
            return self._store.cell(row, col)
        if role == RecordRole:
            return self._store.record(row)
        if self.edits and role in (
            EditedRole,
            Qt.ItemDataRole.FontRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.BackgroundRole,
        ):
            key = (self._store.record(row), self._store.columns[col])
            if key in self.edits:
                original = self._store.cell(row, col)
                if role == EditedRole:
                    return original
                if role == Qt.ItemDataRole.FontRole:
                    font = QFont()
                    font.setItalic(True)
                    return font
                issues = self._cell_data(row, col, role)
                if role == Qt.ItemDataRole.BackgroundRole:
                    return issues or EDITED_COLOUR
                was = f"Edited; the file says {original!r}"
                return was + ("\n" + issues if issues else "")
        if role == EditedRole:
            return None
        return self._cell_data(row, col, role)

    def _cell_data(self, row: int, col: int, role: int) -> Any:
        """The issue roles of one cell (colour, tooltip, issues, severity)."""
        if role in (
            IssuesRole,
            SeverityRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.BackgroundRole,
        ):
            record = self._store.record(row)
            if not self._issues.has_row(record):
                return None
            found = self._issues.for_cell(record, self._store.columns[col])
            if role == IssuesRole:
                return found or None
            worst = IssueIndex.worst(found)
            if role == SeverityRole:
                return worst
            if role == Qt.ItemDataRole.BackgroundRole:
                return SEVERITY_COLOURS.get(worst) if worst else None
            if found:
                return "\n".join(f"{severity_name(i)}: {i.message} [{i.code}]" for i in found)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.isValid() else base

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        row, col = index.row(), index.column()
        record, column = self._store.record(row), self._store.columns[col]
        text = "" if value is None else str(value)
        key = (record, column)
        if text == self._store.cell(row, col):
            if self.edits.pop(key, None) is None:
                return False  # the file's value, and no edit to undo
            new: str | None = None
        elif self.edits.get(key) == text:
            return False
        else:
            self.edits[key] = new = text
        self.dataChanged.emit(index, index)
        self.cell_edited.emit(record, column, new)
        return True

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(self._store.columns):
                return self._store.columns[section]
            return None
        if 0 <= section < self._shown:
            return str(self._store.record(section))
        return None

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._shown < len(self._store)

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid():
            return
        self._show_up_to(self._shown + self.FETCH_ROWS)

    def _show_up_to(self, count: int) -> None:
        count = min(count, len(self._store))
        if count <= self._shown or self._inserting:
            return
        # A view (or the model tester) may ask for more rows while being told about these:
        # no nested insert.
        self._inserting = True
        try:
            # The last inserted row is first + n - 1 (the off-by-one in Qt's fetchmore example).
            self.beginInsertRows(QModelIndex(), self._shown, count - 1)
            self._shown = count
            self.endInsertRows()
        finally:
            self._inserting = False

    def ensure_row(self, row: int) -> bool:
        """Make *row* part of the model (a jump to an issue far down); False if not loaded."""
        if row >= len(self._store):
            return False
        self._show_up_to(max(row + 1, self._shown))
        return True

    @Slot()
    def rows_available(self) -> None:
        """The store grew: show the first page at once; the view asks for the rest."""
        if self._shown < self.FETCH_ROWS:
            self._show_up_to(self.FETCH_ROWS)

    def issues_changed(self) -> None:
        """Issues arrived for rows already shown: repaint their colours and tooltips."""
        if self._shown and self.columnCount():
            self.dataChanged.emit(
                self.index(0, 0),
                self.index(self._shown - 1, self.columnCount() - 1),
                [
                    Qt.ItemDataRole.BackgroundRole,
                    Qt.ItemDataRole.ToolTipRole,
                    IssuesRole,
                    SeverityRole,
                ],
            )


class IssuesTableModel(QAbstractTableModel):
    """Every problem found in the file: record, column, severity, code and message.

    Issues arrive as the scan and the validation find them (``append``) and are kept sorted
    (by record, file-level ones first, unless the user sorts by another column). Filtering by
    kind (``set_code``) and sorting happen here in one pass over a Python list: a
    ``QSortFilterProxyModel`` would call back into Python for every comparison, which stalls the
    GUI with tens of thousands of issues.
    """

    HEADERS = ("Row", "Column", "Severity", "Code", "Message")
    ROW, COLUMN, SEVERITY, CODE, MESSAGE = range(5)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._all: list[Any] = []
        self._shown: list[Any] = []
        self._code: str | None = None
        self._column: str | None = None
        self._sort_column = self.ROW
        self._sort_order = Qt.SortOrder.AscendingOrder

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._shown)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def issue(self, row: int) -> Any:
        return self._shown[row]

    @property
    def code_filter(self) -> str | None:
        return self._code

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        issue = self._shown[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.ROW:
                return "" if issue.row is None else str(issue.row)
            if col == self.COLUMN:
                return issue.column or ""
            if col == self.SEVERITY:
                return severity_name(issue)
            if col == self.CODE:
                return issue.code
            return issue.message
        if role == Qt.ItemDataRole.ToolTipRole and col == self.MESSAGE:
            return issue.message
        if role == SeverityRole:
            return severity_name(issue)
        if role == RecordRole:
            return issue.row
        if role == IssuesRole:
            return [issue]
        if role == Qt.ItemDataRole.BackgroundRole and col == self.SEVERITY:
            return SEVERITY_COLOURS.get(severity_name(issue))
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    def _key(self, issue: Any) -> Any:
        c = self._sort_column
        if c == self.ROW:
            return (-1 if issue.row is None else int(issue.row), issue.column or "")
        if c == self.COLUMN:
            return issue.column or ""
        if c == self.SEVERITY:
            return severity_name(issue)
        if c == self.CODE:
            return issue.code
        return issue.message

    @property
    def column_filter(self) -> str | None:
        return self._column

    def set_column(self, column: str | None) -> None:
        """Show only issues of this file column (with the kind filter), or all with None."""
        self.beginResetModel()
        self._column = column
        self._shown = self._select()
        self.endResetModel()

    def _select(self) -> list[Any]:
        code, column = self._code, self._column
        shown = self._all if code is None else [i for i in self._all if i.code == code]
        if column is not None:
            shown = [i for i in shown if i.column == column]
        reverse = self._sort_order == Qt.SortOrder.DescendingOrder
        return sorted(shown, key=self._key, reverse=reverse)

    def set_issues(self, issues: list[Any], *, presorted: bool = False) -> None:
        """Replace every issue; *presorted* when already in the default order (by record)."""
        self.beginResetModel()
        self._all = list(issues)
        default = self._code is None and self._column is None and self._sort_column == self.ROW
        default = default and self._sort_order == Qt.SortOrder.AscendingOrder
        self._shown = self._all if presorted and default else self._select()
        self.endResetModel()

    def append(self, issues: list[Any]) -> None:
        if not issues:
            return
        self._all.extend(issues)
        self.beginResetModel()
        self._shown = self._select()
        self.endResetModel()

    def set_code(self, code: str | None) -> None:
        """Show only issues with this code (kind), or all with None."""
        self.beginResetModel()
        self._code = code
        self._shown = self._select()
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.HEADERS):
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_items = [(self._shown[i.row()], i.column()) for i in old]
        self._sort_column, self._sort_order = column, order
        self._shown = self._select()
        position = {id(issue): r for r, issue in enumerate(self._shown)}
        self.changePersistentIndexList(
            old, [self.index(position[id(issue)], c) for issue, c in old_items]
        )
        self.layoutChanged.emit()

    def clear(self) -> None:
        self.beginResetModel()
        self._all = []
        self._shown = []
        self.endResetModel()
