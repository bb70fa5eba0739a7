"""Target list, schema diff and the column mapping editor of the preview pane."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

NEW_LIST = "__new__"
EXCLUDED = "__excluded__"
UNRESOLVED = "__unresolved__"
REGIONS = (
    "US",
    "CA",
    "GB",
    "IE",
    "AU",
    "NZ",
    "DE",
    "FR",
    "ES",
    "IT",
    "NL",
    "BE",
    "MX",
    "BR",
    "IN",
    "ZA",
)


@dataclass(frozen=True)
class TargetList:
    """A contact list the file may go to: its id (None for a list still to create) and schema."""

    name: str
    list_id: str | None
    schema: Any  # outbound_desk.contacts.ListSchema


class SchemaPanel(QWidget):
    """Chooses the target list, shows the schema diff and edits the column mapping.

    The id column starts from :func:`outbound_desk.contacts.ids.choose_id_column` (the
    list's saved id column, the schema's, a unique CRM-key-looking column); once the person
    picks one (or "none") that choice is kept across re-parses and overrides while the column
    exists.

    Signals: ``target_changed(object)`` (a :class:`TargetList`, or None for "new list"),
    ``mapping_changed(object)`` (a ``ColumnMapping``) whenever the user edits it,
    ``options_changed()`` when the phone region, id column or duplicate policy changes,
    ``id_column_chosen(object)`` (a list column, or None) when the person picks the id column.
    """

    target_changed = Signal(object)
    mapping_changed = Signal(object)
    options_changed = Signal()
    id_column_chosen = Signal(object)

    NO_ID = "(none: a rerun adds every contact again)"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target = QComboBox()
        self.target.setMinimumContentsLength(24)
        self.region = QComboBox()
        self.region.setEditable(True)
        self.region.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for r in REGIONS:
            self.region.addItem(r)
        self.id_column = QComboBox()
        self.duplicates = QComboBox()
        for value, label in (
            ("reject", "reject every copy"),
            ("first", "keep the first"),
            ("last", "keep the last"),
        ):
            self.duplicates.addItem(label, value)
        self.id_warning = QLabel()
        self.id_warning.setWordWrap(True)
        self.id_warning.setStyleSheet("color: #c0392b;")
        self.id_warning.hide()
        self.diff_tree = QTreeWidget()
        self.diff_tree.setHeaderLabels(["Schema diff", "Detail"])
        self.diff_tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.mapping_table = QTableWidget(0, 3)
        self.mapping_table.setHorizontalHeaderLabels(["File column", "List column", "Why"])
        self.mapping_table.horizontalHeader().setStretchLastSection(True)
        self.mapping_table.verticalHeader().hide()
        self.mapping_note = QLabel()
        self.mapping_note.setWordWrap(True)

        form = QFormLayout()
        form.addRow("&Target list", self.target)
        form.addRow("Phone &region", self.region)
        form.addRow("&Id column", self.id_column)
        form.addRow("", self.id_warning)
        form.addRow("D&uplicate ids", self.duplicates)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addLayout(form)
        lv.addWidget(self.diff_tree, 1)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(QLabel("Column mapping (file column → list column, or excluded)"))
        rv.addWidget(self.mapping_table, 1)
        rv.addWidget(self.mapping_note)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        box = QHBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(split)

        self._targets: list[TargetList] = []
        self._schema: Any = None
        self._file_columns: tuple[str, ...] = ()
        self._has_header = True
        self._diff: Any = None
        self._mapping: Any = None
        self._quiet = False
        # The person's own id choice: unset (False), or a list column / None ("no id").
        self._picked_id: str | bool | None = False
        self.id_choice: Any = None  # the rule's last IdChoice (contacts.ids)
        self.set_targets([])
        self.target.activated.connect(self._on_target_activated)
        self.region.activated.connect(self._on_option_changed)
        edit = self.region.lineEdit()
        assert edit is not None  # the combo is editable
        edit.editingFinished.connect(self._on_option_changed)
        self.id_column.activated.connect(self._on_id_column_activated)
        self.duplicates.activated.connect(self._on_option_changed)

    # ------------------------------------------------------------------ inputs
    def set_targets(self, targets: Sequence[TargetList], select_id: str | None = None) -> None:
        current = self.current_target()
        keep = select_id if select_id is not None else (current.list_id if current else None)
        self._quiet = True
        self._targets = list(targets)
        self.target.clear()
        self.target.addItem("New list (from this file's header)", NEW_LIST)
        for t in self._targets:
            self.target.addItem(t.name, t.list_id)
        i = self.target.findData(keep) if keep else 0
        self.target.setCurrentIndex(max(i, 0))
        self._quiet = False

    def set_region(self, region: str) -> None:
        self.region.setCurrentText(region)

    def current_target(self) -> TargetList | None:
        data = self.target.currentData()
        if data in (None, NEW_LIST):
            return None
        return next((t for t in self._targets if t.list_id == data), None)

    def select_target(self, list_id: str | None) -> None:
        i = self.target.findData(list_id or NEW_LIST)
        if i >= 0 and i != self.target.currentIndex():
            self.target.setCurrentIndex(i)
            self._on_target_activated()

    def region_code(self) -> str:
        return self.region.currentText().strip().upper() or "US"

    def duplicate_policy(self) -> str:
        return str(self.duplicates.currentData())

    def id_column_name(self) -> str | None:
        data = self.id_column.currentData()
        return None if data in (None, "") else str(data)

    @property
    def schema(self) -> Any:
        return self._schema

    @property
    def diff(self) -> Any:
        return self._diff

    @property
    def mapping(self) -> Any:
        return self._mapping

    def show_schema(
        self,
        schema: Any,
        file_columns: Sequence[str],
        has_header: bool,
        remembered: Mapping[str, str | None] | None = None,
        *,
        samples: Mapping[str, Sequence[str]] | None = None,
        saved_id: str | None = None,
    ) -> None:
        """Diff *file_columns* against *schema* and suggest a mapping (or re-offer *remembered*).

        *samples* (file column -> sample values) and *saved_id* (the id column remembered for
        this list) feed the id column's default."""
        from outbound_desk.contacts import ColumnMapping, diff_columns, suggest_mapping

        self._schema = schema
        self._file_columns = tuple(file_columns)
        self._has_header = has_header
        self._diff = diff_columns(list(file_columns), schema, has_header=has_header)
        mapping = suggest_mapping(self._diff, schema, list(file_columns))
        note = ""
        if remembered:
            usable = {
                fc: lc
                for fc, lc in remembered.items()
                if fc in self._file_columns and (lc is None or lc in schema.columns)
            }
            if usable:
                try:
                    mapping = ColumnMapping(mapping.file_columns, mapping.list_columns, usable)
                    # Columns the remembered mapping did not know keep the suggestion.
                    rest = {
                        fc: lc
                        for fc, lc in suggest_mapping(
                            self._diff, schema, list(file_columns)
                        ).targets.items()
                        if fc not in usable and lc not in usable.values()
                    }
                    mapping = mapping.with_changes(
                        mapped={k: v for k, v in rest.items() if v is not None},
                        excluded=[k for k, v in rest.items() if v is None],
                    )
                    note = "The mapping you used last time for this list was applied."
                except ValueError:
                    note = ""
        self._mapping = mapping
        self._fill_id_columns(schema, samples, saved_id)
        self._fill_diff()
        self._fill_mapping(note)

    # ------------------------------------------------------------------ views
    def forget_id_choice(self) -> None:
        """Let the rule choose the id column again (another target list was chosen)."""
        self._picked_id = False

    def _fill_id_columns(
        self,
        schema: Any,
        samples: Mapping[str, Sequence[str]] | None = None,
        saved_id: str | None = None,
    ) -> None:
        from outbound_desk.contacts.ids import IdChoice, choose_id_column

        picked = self._picked_id
        if picked is None or (isinstance(picked, str) and picked in schema.columns):
            self.id_choice = IdChoice(picked, "saved" if picked else "none")
        else:
            self._picked_id = False
            self.id_choice = choose_id_column(
                schema, sources=self._mapping.sources, samples=samples, saved=saved_id
            )
        self._quiet = True
        self.id_column.clear()
        self.id_column.addItem(self.NO_ID, "")
        for c in schema.columns:
            self.id_column.addItem(c, c)
        column = self.id_choice.column
        self.id_column.setCurrentIndex(max(self.id_column.findData(column), 0) if column else 0)
        self._quiet = False
        self._update_id_warning()

    def _update_id_warning(self) -> None:
        col = self.id_column_name()
        schema = self._schema
        if schema is None:
            self.id_warning.hide()
            return
        if col is None:
            self.id_warning.setText(
                "No id column: every upload creates new contacts, so a rerun would duplicate."
            )
        elif col in schema.phone_columns:
            self.id_warning.setText(
                f"'{col}' is a phone column: contacts sharing a number collapse into one, and "
                "a changed number creates a new contact. Prefer a CRM key."
            )
        else:
            self.id_warning.hide()
            return
        self.id_warning.show()

    def _fill_diff(self) -> None:
        d = self._diff
        self.diff_tree.clear()
        groups: list[tuple[str, list[tuple[str, str]]]] = [
            ("Matched", [(c, "") for c in d.matched]),
            ("Missing required", [(c, "required by the list") for c in d.missing_required]),
            ("Missing optional", [(c, "will be empty") for c in d.missing_optional]),
            ("Extra (not in the list)", [(c, "map it or exclude it") for c in d.extra]),
            (
                "Case or spacing only",
                [(r.file_column, f"→ {r.list_column}") for r in d.renamed if r.kind != "similar"],
            ),
            (
                "Suggested renames",
                [
                    (r.file_column, f"→ {r.list_column} ({r.score:.0%})")
                    for r in d.renamed
                    if r.kind == "similar"
                ],
            ),
        ]
        for title, items in groups:
            top = QTreeWidgetItem([f"{title} ({len(items)})", ""])
            for name, detail in items:
                top.addChild(QTreeWidgetItem([name, detail]))
            self.diff_tree.addTopLevelItem(top)
            top.setExpanded(bool(items) and title != "Matched")

    def _fill_mapping(self, note: str = "") -> None:
        mapping = self._mapping
        d = self._diff
        renames = {r.file_column: r for r in d.renamed}
        self.mapping_table.setRowCount(len(self._file_columns))
        for row, fc in enumerate(self._file_columns):
            item = QTableWidgetItem(fc)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.mapping_table.setItem(row, 0, item)
            combo = QComboBox()
            combo.addItem("— choose —", UNRESOLVED)
            combo.addItem("(excluded)", EXCLUDED)
            for lc in mapping.list_columns:
                combo.addItem(lc, lc)
            target = mapping.targets.get(fc, UNRESOLVED) if fc in mapping.targets else UNRESOLVED
            i = combo.findData(EXCLUDED if target is None else target)
            combo.setCurrentIndex(max(i, 0))
            combo.setProperty("file_column", fc)
            combo.activated.connect(self._on_mapping_combo_activated)
            self.mapping_table.setCellWidget(row, 1, combo)
            why = ""
            if fc in d.matched:
                why = "same name"
            elif fc in renames:
                r = renames[fc]
                why = (
                    "case/spacing differs"
                    if r.kind != "similar"
                    else f"looks like {r.list_column} ({r.score:.0%})"
                )
            elif fc in d.extra:
                why = "not in the list"
            why_item = QTableWidgetItem(why)
            why_item.setFlags(why_item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.mapping_table.setItem(row, 2, why_item)
        self.mapping_table.resizeColumnToContents(0)
        self._update_mapping_note(note)

    def _update_mapping_note(self, extra: str = "") -> None:
        m = self._mapping
        parts = []
        if m.unresolved:
            parts.append(
                "Unresolved (blocks validation until mapped or excluded): "
                + ", ".join(m.unresolved)
            )
        if m.excluded:
            parts.append("Excluded, not uploaded: " + ", ".join(m.excluded))
        missing_req = [c for c in self._schema.required_columns if c not in m.sources]
        if missing_req:
            parts.append("Required list columns with no source: " + ", ".join(missing_req))
        if extra:
            parts.append(extra)
        self.mapping_note.setText("\n".join(parts))

    def set_file_column_target(self, file_column: str, list_column: str | None) -> None:
        """Map (or exclude, with None) one file column, as the user would with the combo."""
        row = self._file_columns.index(file_column)
        combo = self.mapping_table.cellWidget(row, 1)
        assert isinstance(combo, QComboBox)
        combo.setCurrentIndex(combo.findData(EXCLUDED if list_column is None else list_column))
        self._apply_combo(combo)

    # ------------------------------------------------------------------ slots
    @Slot()
    def _on_target_activated(self) -> None:
        self._picked_id = False  # another list: its own saved id column, or the rule's
        if not self._quiet:
            self.target_changed.emit(self.current_target())

    @Slot()
    def _on_option_changed(self) -> None:
        if not self._quiet:
            self.options_changed.emit()

    @Slot()
    def _on_id_column_activated(self) -> None:
        self._picked_id = self.id_column_name()
        self._update_id_warning()
        self.id_column_chosen.emit(self._picked_id)
        self._on_option_changed()

    def pick_id_column(self, column: str | None) -> None:
        """Choose the id column (None: no id) as the person would with the combo."""
        self.id_column.setCurrentIndex(max(self.id_column.findData(column or ""), 0))
        self._on_id_column_activated()

    @Slot()
    def _on_mapping_combo_activated(self) -> None:
        combo = self.sender()
        if isinstance(combo, QComboBox):
            self._apply_combo(combo)

    def _apply_combo(self, combo: QComboBox) -> None:
        fc = str(combo.property("file_column"))
        data = combo.currentData()
        targets = dict(self._mapping.targets)
        if data == UNRESOLVED:
            targets.pop(fc, None)
        elif data == EXCLUDED:
            targets[fc] = None
        else:
            # Taking a list column from another file column leaves that one unresolved.
            for other, lc in list(targets.items()):
                if lc == data and other != fc:
                    del targets[other]
            targets[fc] = data
        from outbound_desk.contacts import ColumnMapping

        self._mapping = ColumnMapping(
            self._mapping.file_columns, self._mapping.list_columns, targets
        )
        # The combos are updated in place: rebuilding them would delete the sender mid-signal.
        self._sync_combos()
        self._update_mapping_note()
        self.mapping_changed.emit(self._mapping)

    def _sync_combos(self) -> None:
        targets = self._mapping.targets
        for row, fc in enumerate(self._file_columns):
            combo = self.mapping_table.cellWidget(row, 1)
            if not isinstance(combo, QComboBox):
                continue
            target = targets.get(fc, UNRESOLVED)
            combo.blockSignals(True)
            combo.setCurrentIndex(max(combo.findData(EXCLUDED if target is None else target), 0))
            combo.blockSignals(False)
