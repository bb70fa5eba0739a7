"""The details of the selected list: its columns with their role and type, size, import."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from outbound_desk.ui.lists.store import ListRow


class ListDetails(QWidget):
    """Read-only view of one :class:`ListRow`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("listDetails")
        self.title = QLabel("Select a list")
        self.title.setObjectName("detailsTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.size_label = QLabel()
        self.import_label = QLabel()
        self.import_label.setWordWrap(True)
        self.id_label = QLabel()
        self.id_label.setTextInteractionFlags(self.id_label.textInteractionFlags())
        self.division_label = QLabel()
        self.modified_label = QLabel()
        form = QFormLayout()
        form.addRow("Contacts", self.size_label)
        form.addRow("Import", self.import_label)
        form.addRow("Division", self.division_label)
        form.addRow("Modified", self.modified_label)
        form.addRow("Id", self.id_label)
        self.columns = QTableWidget(0, 3)
        self.columns.setObjectName("detailsColumns")
        self.columns.setHorizontalHeaderLabels(["Column", "Role", "Type"])
        self.columns.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.columns.verticalHeader().hide()
        self.columns.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.columns, 1)
        self.row: ListRow | None = None

    def show_row(self, row: ListRow | None) -> None:
        self.row = row
        if row is None:
            self.title.setText("Select a list")
            for label in (self.size_label, self.import_label, self.id_label):
                label.clear()
            self.division_label.clear()
            self.modified_label.clear()
            self.columns.setRowCount(0)
            return
        self.title.setText(row.name)
        self.size_label.setText("unknown" if row.size is None else f"{row.size:,}")
        status = row.import_text
        if row.import_failure:
            status += f": {row.import_failure}"
        self.import_label.setText(status)
        self.division_label.setText(row.division or "")
        self.modified_label.setText(
            row.date_modified.astimezone().strftime("%Y-%m-%d %H:%M") if row.date_modified else ""
        )
        self.id_label.setText(row.id)
        self.columns.setRowCount(len(row.columns))
        for r, column in enumerate(row.columns):
            self.columns.setItem(r, 0, QTableWidgetItem(column))
            self.columns.setItem(r, 1, QTableWidgetItem(row.column_role(column)))
            self.columns.setItem(r, 2, QTableWidgetItem(row.data_types.get(column, "TEXT")))
