"""Create a list (schema editor) and add columns to one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from outbound_desk.contacts import ListSchema
from outbound_desk.ui.lists.schema_check import (
    EMAIL_TYPES,
    PHONE_TYPES,
    ROLES,
    build_schema,
    new_column_problems,
    schema_problems,
)

EditorRow = tuple[str, str, str, bool]


def _problems_label(name: str) -> QLabel:
    """The red label under a form that says what stops it."""
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet("color: #c0392b")
    return label


def _ok_cancel(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    """OK (named *ok_text*) and Cancel, wired to *dialog*'s accept and reject."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class ColumnTable(QTableWidget):
    """Editable rows: column name, role (data/phone/email), type, and optionally required."""

    def __init__(self, *, with_required: bool, parent: QWidget | None = None) -> None:
        headers = ["Column", "Role", "Type"] + (["Required"] if with_required else [])
        super().__init__(0, len(headers), parent)
        self.with_required = with_required
        self.setHorizontalHeaderLabels(headers)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().hide()
        self.on_change: Callable[[], None] = lambda: None
        self.itemChanged.connect(self._on_item_changed)

    def add_row(
        self, name: str = "", role: str = "data", kind: str = "", required: bool = False
    ) -> int:
        r = self.rowCount()
        self.blockSignals(True)  # the row is not complete until its widgets are set
        self.insertRow(r)
        self.setItem(r, 0, QTableWidgetItem(name))
        role_box = QComboBox()
        role_box.addItems(list(ROLES))
        role_box.setCurrentText(role)
        type_box = QComboBox()
        type_box.setEditable(True)
        self._fill_types(type_box, role, kind)
        role_box.currentTextChanged.connect(self._on_role_box_changed)
        type_box.currentTextChanged.connect(self._on_any_changed)
        self.setCellWidget(r, 1, role_box)
        self.setCellWidget(r, 2, type_box)
        if self.with_required:
            check = QCheckBox()
            check.setChecked(required)
            check.toggled.connect(self._on_any_changed)
            self.setCellWidget(r, 3, check)
        self.blockSignals(False)
        self.on_change()
        return r

    @staticmethod
    def _fill_types(box: QComboBox, role: str, kind: str) -> None:
        box.blockSignals(True)
        box.clear()
        choices = PHONE_TYPES if role == "phone" else EMAIL_TYPES if role == "email" else ()
        box.addItems(list(choices))
        box.setEnabled(bool(choices))
        if choices:
            box.setCurrentText(kind or choices[0])
        box.blockSignals(False)

    def remove_selected(self) -> None:
        for r in sorted({i.row() for i in self.selectedIndexes()}, reverse=True):
            self.removeRow(r)
        self.on_change()

    def rows(self) -> list[EditorRow]:
        out: list[EditorRow] = []
        for r in range(self.rowCount()):
            item = self.item(r, 0)
            role_box = self.cellWidget(r, 1)
            type_box = self.cellWidget(r, 2)
            check = self.cellWidget(r, 3) if self.with_required else None
            if not isinstance(role_box, QComboBox) or not isinstance(type_box, QComboBox):
                continue
            role = role_box.currentText()
            out.append(
                (
                    item.text().strip() if item is not None else "",
                    role,
                    type_box.currentText() if role != "data" else "",
                    bool(isinstance(check, QCheckBox) and check.isChecked()),
                )
            )
        return out

    @Slot(str)
    def _on_role_box_changed(self, role: str) -> None:
        sender = self.sender()
        for r in range(self.rowCount()):
            if self.cellWidget(r, 1) is sender:
                type_box = self.cellWidget(r, 2)
                if isinstance(type_box, QComboBox):
                    self._fill_types(type_box, role, "")
        self.on_change()

    @Slot()
    def _on_any_changed(self, *_: object) -> None:
        self.on_change()

    @Slot()
    def _on_item_changed(self, *_: object) -> None:
        self.on_change()


class CreateListDialog(QDialog):
    """The schema editor for a new list: columns, phone and email columns with their types,
    the id column and required fields; or the columns of the open file's header.

    Problems (names, limits) show in place and keep Create disabled until fixed.
    """

    def __init__(
        self,
        existing_names: Iterable[str],
        current_file: str | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("createListDialog")
        self.setWindowTitle("New contact list")
        self.resize(640, 520)
        self.existing_names = list(existing_names)
        self.current_file = current_file
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("listName")
        self.name_edit.textChanged.connect(self._on_any_changed)
        self.id_combo = QComboBox()
        self.id_combo.setObjectName("idColumn")
        self.id_combo.currentIndexChanged.connect(self._on_any_changed)
        form = QFormLayout()
        form.addRow("List name", self.name_edit)
        self.table = ColumnTable(with_required=True)
        self.table.setObjectName("schemaTable")
        self.table.on_change = self._refresh
        add = QPushButton("Add column")
        add.clicked.connect(self._on_add_clicked)
        remove = QPushButton("Remove column")
        remove.clicked.connect(self.table.remove_selected)
        self.from_file_button = QPushButton("From the open file's header")
        self.from_file_button.setObjectName("fromFileHeader")
        self.from_file_button.setEnabled(current_file is not None)
        self.from_file_button.setToolTip(current_file or "Open a file first (File > Open file…)")
        self.from_file_button.clicked.connect(self._on_from_file_clicked)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        row.addWidget(self.from_file_button)
        id_row = QFormLayout()
        id_row.addRow("Contact id column", self.id_combo)
        self.problems_label = _problems_label("schemaProblems")
        self.buttons = _ok_cancel(self, "Create")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Columns"))
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addLayout(id_row)
        layout.addWidget(self.problems_label)
        layout.addWidget(self.buttons)
        self._refresh()

    def set_schema(self, schema: ListSchema) -> None:
        """Fill the editor from *schema* (a file's header, a schema file)."""
        self.table.setRowCount(0)
        for f in schema.fields:
            role = "phone" if f.is_phone else "email" if f.is_email else "data"
            self.table.add_row(f.name, role, f.phone_type or "", f.required)
        if not self.name_edit.text().strip():
            self.name_edit.setText(schema.name)
        self._refresh()
        if schema.id_column:
            self.id_combo.setCurrentText(schema.id_column)

    @Slot()
    def _on_add_clicked(self) -> None:
        r = self.table.add_row()
        item = self.table.item(r, 0)
        if item is not None:
            self.table.editItem(item)

    @Slot()
    def _on_from_file_clicked(self) -> None:
        if self.current_file is None:
            return
        try:
            schema = schema_from_file(self.current_file)
        except Exception as exc:  # a file we cannot read: say why, keep the editor
            from outbound_desk.ui.messages import describe

            self.problems_label.setText(f"Could not read the file's header: {describe(exc)}")
            return
        self.set_schema(schema)

    @Slot()
    def _on_any_changed(self, *_: object) -> None:
        self._refresh()

    def _refresh(self) -> None:
        columns = [r[0] for r in self.table.rows() if r[0]]
        current = self.id_combo.currentText()
        self.id_combo.blockSignals(True)
        self.id_combo.clear()
        self.id_combo.addItem("(none: the platform makes ids)", "")
        for c in columns:
            self.id_combo.addItem(c, c)
        index = self.id_combo.findData(current)
        self.id_combo.setCurrentIndex(max(0, index))
        self.id_combo.blockSignals(False)
        problems = self.problems()
        self.problems_label.setText("\n".join(problems))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problems)

    def id_column(self) -> str | None:
        return self.id_combo.currentData() or None

    def problems(self) -> list[str]:
        return schema_problems(
            self.name_edit.text(), self.table.rows(), self.id_column(), self.existing_names
        )

    def schema(self) -> ListSchema:
        return build_schema(self.name_edit.text(), self.table.rows(), self.id_column())


def schema_from_file(path: str) -> ListSchema:
    """A schema from the header (and first rows) of the file at *path*."""
    from outbound_desk.files import sniff

    profile = sniff(Path(path))
    columns = list(profile.columns)
    samples = {
        c: [row[i] for row in profile.preview if i < len(row)] for i, c in enumerate(columns)
    }
    return ListSchema.from_header(columns, name=Path(path).stem, samples=samples)


class AddColumnsDialog(QDialog):
    """New columns for an existing list: data, phone or email columns with their types."""

    def __init__(
        self, list_name: str, existing: Sequence[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("addColumnsDialog")
        self.setWindowTitle(f"Add columns to {list_name}")
        self.resize(520, 380)
        self.existing = list(existing)
        self.table = ColumnTable(with_required=False)
        self.table.setObjectName("newColumnsTable")
        self.table.on_change = self._refresh
        add = QPushButton("Add column")
        add.clicked.connect(self._on_add_clicked)
        remove = QPushButton("Remove column")
        remove.clicked.connect(self.table.remove_selected)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        self.problems_label = _problems_label("columnProblems")
        self.buttons = _ok_cancel(self, "Add")
        layout = QVBoxLayout(self)
        existing_label = QLabel("Existing columns: " + ", ".join(self.existing))
        existing_label.setWordWrap(True)
        existing_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(existing_label)
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(self.problems_label)
        layout.addWidget(self.buttons)
        self._refresh()

    @Slot()
    def _on_add_clicked(self) -> None:
        r = self.table.add_row()
        item = self.table.item(r, 0)
        if item is not None:
            self.table.editItem(item)

    def problems(self) -> list[str]:
        return new_column_problems(self.existing, [r[0] for r in self.table.rows()])

    def _refresh(self) -> None:
        problems = self.problems()
        self.problems_label.setText("\n".join(problems))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problems)

    def columns(self) -> list[str]:
        return [r[0] for r in self.table.rows()]

    def phone_columns(self) -> list[tuple[str, str]]:
        return [(name, kind) for name, role, kind, _ in self.table.rows() if role == "phone"]

    def email_columns(self) -> list[tuple[str, str]]:
        return [(name, kind) for name, role, kind, _ in self.table.rows() if role == "email"]
