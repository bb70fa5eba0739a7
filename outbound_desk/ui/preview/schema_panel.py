"""Target list, schema diff and the column mapping editor of the preview pane."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

# Imported with the window (before ui.heap's freeze): imported at the first file, on the GUI
# thread, it took 20-30 ms while the first rows waited.
from outbound_desk.contacts.ids import IdChoice, choose_id_column

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


class MappingCombo(QComboBox):
    """A mapping combo that the mouse wheel scrolls past unless the user is working in it:
    wheeling down the mapping table changed one mapping after another."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # no focus from the wheel

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # the table scrolls instead


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
        lv.addStretch(1)
        # Mapping in one move: take every suggestion, exclude every column left over, undo.
        self.apply_button = QPushButton("Apply &suggestions")
        self.apply_button.setToolTip("Map every unresolved column to the list column it looks like")
        self.apply_button.clicked.connect(self.apply_suggestions)
        self.exclude_button = QPushButton("E&xclude unmatched")
        self.exclude_button.setToolTip("Exclude every file column that is still unresolved")
        self.exclude_button.clicked.connect(self.exclude_unmatched)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Undo the last mapping change (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        self.undo_action = QAction("Undo mapping change", self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.undo_action.triggered.connect(self.undo)
        self.addAction(self.undo_action)
        tools = QHBoxLayout()
        hint = QLabel("File column → list column, or excluded")
        hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        tools.addWidget(hint, 1)
        for b in (self.apply_button, self.exclude_button, self.undo_button):
            tools.addWidget(b)
        mapping_page = QWidget()
        rv = QVBoxLayout(mapping_page)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addLayout(tools)
        rv.addWidget(self.mapping_table, 1)
        rv.addWidget(self.mapping_note)
        self.right_tabs = QTabWidget()
        self.right_tabs.setDocumentMode(True)
        self.right_tabs.addTab(mapping_page, "Column &mapping")
        self.right_tabs.addTab(self.diff_tree, "Schema &diff")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("schema-splitter")
        split.addWidget(left)
        split.addWidget(self.right_tabs)
        split.setStretchFactor(1, 1)
        self.splitter = split
        box = QHBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(split)

        self._targets: list[TargetList] = []
        self._schema: Any = None
        self._file_columns: tuple[str, ...] = ()
        self._has_header = True
        self._diff: Any = None
        self._mapping: Any = None
        self._undo: list[dict[str, str | None]] = []  # earlier mappings' targets, newest last
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
        guess_id: bool = True,
    ) -> None:
        """Diff *file_columns* against *schema* and suggest a mapping (or re-offer *remembered*).

        *samples* (file column -> sample values) and *saved_id* (the id column remembered for
        this list) feed the id column's default; without *guess_id* (the "schema" id-column
        rule) no CRM-key-looking column is guessed."""
        from outbound_desk.contacts import ColumnMapping, diff_columns, suggest_mapping

        self._schema = schema
        self._file_columns = tuple(file_columns)
        self._has_header = has_header
        # A headerless file's columns are guessed from their values (issue 15).
        self._diff = diff_columns(
            list(file_columns), schema, has_header=has_header, samples=samples
        )
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
        self._undo.clear()
        self._fill_id_columns(schema, samples, saved_id, guess_id)
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
        guess_id: bool = True,
    ) -> None:
        picked = self._picked_id
        if picked is None or (isinstance(picked, str) and picked in schema.columns):
            self.id_choice = IdChoice(picked, "saved" if picked else "none")
        else:
            self._picked_id = False
            self.id_choice = choose_id_column(
                schema,
                sources=self._mapping.sources,
                samples=samples,
                saved=saved_id,
                guess=guess_id,
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
        """The diff as the mapping leaves it: what each list column gets, and what is left."""
        d, m, schema = self._diff, self._mapping, self._schema
        fed = {lc: fc for fc, lc in m.targets.items() if lc is not None}
        required = set(schema.required_columns)
        unresolved = set(m.unresolved)
        renames = {r.file_column: r for r in d.renamed if r.file_column in unresolved}
        groups: list[tuple[str, list[tuple[str, str]]]] = [
            (
                "Matched",
                [(lc, "" if fc == lc else f"← {fc}") for lc, fc in fed.items()],
            ),
            (
                "Missing required",
                [
                    (c, "required by the list")
                    for c in schema.columns
                    if c in required and c not in fed
                ],
            ),
            (
                "Missing optional",
                [
                    (c, "will be empty")
                    for c in schema.columns
                    if c not in required and c not in fed
                ],
            ),
            (
                "Extra (not in the list)",
                [
                    (c, "map it or exclude it")
                    for c in m.file_columns
                    if c in unresolved and c not in renames
                ],
            ),
            (
                "Suggested renames",
                [(fc, f"→ {r.list_column} ({r.score:.0%})") for fc, r in renames.items()],
            ),
            ("Excluded", [(c, "not uploaded") for c in m.excluded]),
        ]
        self.diff_tree.clear()
        for title, items in groups:
            top = QTreeWidgetItem([f"{title} ({len(items)})", ""])
            for name, detail in items:
                top.addChild(QTreeWidgetItem([name, detail]))
            self.diff_tree.addTopLevelItem(top)
            top.setExpanded(bool(items) and title != "Matched")

    def _why(self, fc: str) -> str:
        """Why file column *fc* goes where it goes now (not where it went at first)."""
        m, d = self._mapping, self._diff
        renames = {r.file_column: r for r in d.renamed}
        if fc not in m.targets:
            r = renames.get(fc)
            if r is not None:
                return f"looks like {r.list_column} ({r.score:.0%}): choose it or Apply suggestions"
            return "not in the list: map it or exclude it"
        target = m.targets[fc]
        if target is None:
            return "excluded: not uploaded"
        if target == fc:
            return "same name"
        r = renames.get(fc)
        if r is not None and r.list_column == target:
            if r.kind == "position":
                return f"no header: by position ({r.score:.0%}), check it"
            if r.kind.startswith("values:"):
                return f"no header: values look like {r.kind[7:]}s ({r.score:.0%})"
            return "case/spacing differs" if r.kind != "similar" else f"suggested ({r.score:.0%})"
        return "mapped by you"

    def _fill_mapping(self, note: str = "") -> None:
        mapping = self._mapping
        self.mapping_table.setRowCount(len(self._file_columns))
        for row, fc in enumerate(self._file_columns):
            item = QTableWidgetItem(fc)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.mapping_table.setItem(row, 0, item)
            combo = MappingCombo()
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
            why = self._why(fc)
            why_item = QTableWidgetItem(why)
            why_item.setFlags(why_item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.mapping_table.setItem(row, 2, why_item)
        self.mapping_table.resizeColumnToContents(0)
        self._update_mapping_note(note)
        self._update_mapping_buttons()

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
        self._set_targets(targets)

    def _set_targets(self, targets: dict[str, str | None], *, undoable: bool = True) -> None:
        from outbound_desk.contacts import ColumnMapping

        if dict(targets) == dict(self._mapping.targets):
            return
        if undoable:
            self._undo.append(dict(self._mapping.targets))
        self._mapping = ColumnMapping(
            self._mapping.file_columns, self._mapping.list_columns, targets
        )
        # The combos are updated in place: rebuilding them would delete the sender mid-signal.
        self._sync_combos()
        self._update_mapping_note()
        self._fill_diff()
        self._update_mapping_buttons()
        self.mapping_changed.emit(self._mapping)

    def suggestions(self) -> dict[str, str]:
        """Unresolved file column -> the free list column it looks like."""
        if self._mapping is None:
            return {}
        taken = {lc for lc in self._mapping.targets.values() if lc is not None}
        out: dict[str, str] = {}
        for r in sorted(self._diff.renamed, key=lambda r: -r.score):
            free = r.list_column not in taken and r.file_column not in out
            if free and r.file_column in self._mapping.unresolved:
                out[r.file_column] = r.list_column
                taken.add(r.list_column)
        return out

    @Slot()
    def apply_suggestions(self) -> None:
        if self._mapping is not None:
            self._set_targets({**self._mapping.targets, **self.suggestions()})

    @Slot()
    def exclude_unmatched(self) -> None:
        if self._mapping is not None:
            self._set_targets({**self._mapping.targets, **dict.fromkeys(self._mapping.unresolved)})

    @Slot()
    def undo(self) -> None:
        if self._undo:
            self._set_targets(self._undo.pop(), undoable=False)

    def _update_mapping_buttons(self) -> None:
        has = self._mapping is not None
        self.apply_button.setEnabled(has and bool(self.suggestions()))
        self.exclude_button.setEnabled(has and bool(self._mapping.unresolved))
        self.undo_button.setEnabled(bool(self._undo))

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
            why = self.mapping_table.item(row, 2)
            if why is not None:
                why.setText(self._why(fc))
