"""What the file engine detected, each with a control to override it."""

from __future__ import annotations

import codecs
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from outbound_desk.ui.fold import FoldButton

AUTO = None
ENCODINGS = (
    "utf-8",
    "cp1252",
    "iso8859-1",
    "utf-16-le",
    "utf-16-be",
    "utf-32",
    "cp850",
    "mac-roman",
    "iso8859-15",
)
DELIMITERS = (
    (",", "comma ,"),
    (";", "semicolon ;"),
    ("\t", "tab"),
    ("|", "pipe |"),
    (":", "colon :"),
    (" ", "space"),
)

QUOTES = (('"', 'double "'), ("'", "single '"), ("", "none"))
LINE_ENDINGS = ("LF", "CRLF", "CR", "mixed")


def describe_delimiter(d: str | None) -> str:
    for value, label in DELIMITERS:
        if value == d:
            return label
    return repr(d) if d else "?"


def describe_quote(q: str | None) -> str:
    for value, label in QUOTES:
        if value == (q or ""):
            return label
    return repr(q)


class ProfileBar(QGroupBox):
    """Detected encoding, delimiter, quote character, header row and line endings, with the row
    count, size and checksum once the streaming scan is done.

    Each detection has a combo whose first entry is "auto (detected: X)"; picking another entry
    is an override. Signals: ``overrides_changed(dict)`` with keys ``encoding``, ``delimiter``,
    ``quotechar``, ``has_header`` and, for a workbook, ``sheet`` (None = auto), emitted when
    the user changes one. A workbook has no encoding, delimiter or quoting: those combos are
    disabled and the sheet picker (hidden sheets marked) is shown instead.
    """

    overrides_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)  # no title: the fold's "Detection" line says what it is
        self.encoding = QComboBox()
        self.encoding.setEditable(True)  # any Python codec name may be typed
        self.encoding.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.delimiter = QComboBox()
        self.quotechar = QComboBox()
        self.header = QComboBox()
        self.line_ending = QComboBox()
        self.sheet = QComboBox()
        self.sheet.setToolTip("The workbook's sheet to read (hidden sheets are marked)")
        self.rows_label = QLabel("—")
        self.size_label = QLabel("—")
        self.sha_label = QLabel("—")
        self.sha_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.encoding_note = QLabel("")
        self.encoding_note.setWordWrap(True)
        # The repairs that keep the rest of the file (issue 15), offered when the file needs
        # them: invalid UTF-8 bytes read as cp1252, and mojibake undone.
        self.repair_encoding = QCheckBox("&Repair encoding")
        self.repair_encoding.setToolTip(
            "Read the bytes that are not UTF-8 as cp1252 and the rest of the file as UTF-8 "
            "(opening the whole file as cp1252 would garble its other accented letters)"
        )
        self.fix_mojibake = QCheckBox("Fix &mojibake")
        self.fix_mojibake.setToolTip(
            "Repair text that was UTF-8 once read as cp1252 ('CafÃ©' becomes 'Café')"
        )
        repairs = QHBoxLayout()
        repairs.addWidget(self.repair_encoding)
        repairs.addWidget(self.fix_mojibake)
        repairs.addStretch(1)
        left = QFormLayout()
        left.addRow("&Encoding", self.encoding)
        left.addRow("&Delimiter", self.delimiter)
        left.addRow("&Quote", self.quotechar)
        mid = QFormLayout()
        mid.addRow("&Sheet", self.sheet)
        self._sheet_label = mid.labelForField(self.sheet)
        mid.addRow("&Header row", self.header)
        mid.addRow("&Line endings", self.line_ending)
        mid.addRow("Detection", self.encoding_note)
        mid.addRow("Repairs", repairs)
        right = QFormLayout()
        right.addRow("Rows", self.rows_label)
        right.addRow("Size", self.size_label)
        right.addRow("SHA-256", self.sha_label)
        # The details are folded by default: one summary line tells what was detected, and
        # the table below gets the room (at 1024x700 the form left the table two rows).
        self.details = QWidget()
        self.details.setObjectName("detectionDetails")
        box = QHBoxLayout(self.details)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(left, 3)
        box.addLayout(mid, 2)
        box.addLayout(right, 3)
        self.toggle = FoldButton("detectionToggle", "Show or hide the detection and its overrides")
        self.toggle.toggled.connect(self._on_toggle_toggled)
        self.summary = QLabel("")
        self.summary.setObjectName("detectionSummary")
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.toggle)
        head.addWidget(self.summary, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 2, 6, 4)
        outer.addLayout(head)
        outer.addWidget(self.details)
        self.set_expanded(False)
        self._quiet = False
        self._detected: dict[str, Any] = {}
        self.clear()
        self.encoding.activated.connect(self._on_control_activated)
        edit = self.encoding.lineEdit()
        assert edit is not None  # the combo is editable
        edit.editingFinished.connect(self._on_control_activated)
        self.delimiter.activated.connect(self._on_control_activated)
        self.quotechar.activated.connect(self._on_control_activated)
        self.header.activated.connect(self._on_control_activated)
        self.sheet.activated.connect(self._on_control_activated)
        self.repair_encoding.toggled.connect(self._on_control_activated)
        self.fix_mojibake.toggled.connect(self._on_control_activated)

    # ------------------------------------------------------------------ folding
    def expanded(self) -> bool:
        return self.toggle.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        self.toggle.setChecked(expanded)
        self._on_toggle_toggled(expanded)

    @Slot(bool)
    def _on_toggle_toggled(self, expanded: bool) -> None:
        self.details.setVisible(expanded)
        self.toggle.setText("Detection" if expanded else "Detection:")
        self.summary.setVisible(not expanded)

    def summary_text(self) -> str:
        """One line of what the combos say: detected values, overrides marked."""
        parts = []
        for combo, what in (
            (self.sheet, "sheet"),
            (self.encoding, ""),
            (self.delimiter, ""),
            (self.quotechar, "quote"),
            (self.header, "header"),
        ):
            if not combo.isVisibleTo(self.details) or combo.count() == 0 or not combo.isEnabled():
                continue
            text = combo.currentText()
            if combo.currentData() is not None:
                text = f"{text} (override)"
            elif text.startswith("auto (") and text.endswith(")"):
                text = text[len("auto (") : -1]
            parts.append(f"{what} {text}".strip())
        if self.line_ending.count() and self.line_ending.isEnabled():
            parts.append(self.line_ending.currentText())
        for label, what in ((self.rows_label, "rows"), (self.size_label, "")):
            if label.text() not in ("", "—"):
                parts.append(f"{label.text()} {what}".strip())
        for box in (self.repair_encoding, self.fix_mojibake):
            if box.isEnabled():
                name = box.text().replace("&", "")
                parts.append(f"{name}: {'on' if box.isChecked() else 'offered'}")
        return " · ".join(parts)

    def _update_summary(self) -> None:
        self.summary.setText(self.summary_text())
        self.summary.setToolTip(self.sha_label.toolTip() and f"SHA-256 {self.sha_label.toolTip()}")

    def _show_sheet_row(self, shown: bool) -> None:
        self.sheet.setVisible(shown)
        if self._sheet_label is not None:
            self._sheet_label.setVisible(shown)

    def clear(self) -> None:
        self._quiet = True
        for combo in (
            self.encoding,
            self.delimiter,
            self.quotechar,
            self.header,
            self.line_ending,
            self.sheet,
        ):
            combo.clear()
            combo.setEnabled(False)
        self._show_sheet_row(False)
        self.rows_label.setText("—")
        self.size_label.setText("—")
        self.sha_label.setText("—")
        self.encoding_note.setText("")
        for box in (self.repair_encoding, self.fix_mojibake):
            box.setChecked(False)
            box.setEnabled(False)
        self._quiet = False
        self._update_summary()

    def show_profile(self, profile: Any, overrides: dict[str, Any]) -> None:
        """Show what was detected (*profile*) and keep the user's *overrides* selected."""
        self._quiet = True
        self._detected = {
            "encoding": profile.encoding,
            "delimiter": profile.delimiter,
            "quotechar": profile.quotechar,
            "has_header": profile.has_header,
        }
        enc = profile.encoding + (" + BOM" if getattr(profile, "bom", False) else "")
        self._fill(
            self.encoding, f"auto ({enc})", [(e, e) for e in ENCODINGS], overrides.get("encoding")
        )
        self._fill(
            self.delimiter,
            f"auto ({describe_delimiter(profile.delimiter)})",
            [(v, label) for v, label in DELIMITERS],
            overrides.get("delimiter"),
        )
        self._fill(
            self.quotechar,
            f"auto ({describe_quote(profile.quotechar)})",
            [(v, label) for v, label in QUOTES],
            overrides.get("quotechar"),
        )
        self._fill(
            self.header,
            f"auto ({'yes' if profile.has_header else 'no'})",
            [(True, "first row is the header"), (False, "no header: all rows are data")],
            overrides.get("has_header"),
        )
        # The reader takes CR, LF, CRLF and a mix alike, so line endings are reported, and the
        # fixed copy always writes one kind; there is nothing to re-parse.
        self.line_ending.clear()
        self.line_ending.addItem(str(profile.line_ending or "?"))
        self.line_ending.setToolTip(
            "Detected line endings. The reader accepts CR, LF, CRLF and a mix of them; the fixed "
            "copy and the upload always use one kind."
        )
        conf = getattr(profile, "encoding_confidence", None)
        runner = getattr(profile, "encoding_runner_up", None)
        note = []
        if conf is not None:
            note.append(f"confidence {float(conf):.0%}")
        if runner:
            note.append(f"runner-up {runner}")
        self.encoding_note.setText("encoding " + ", ".join(note) if note else "")
        self.size_label.setText(_human_size(getattr(profile, "size_bytes", None)))
        self._show_workbook(getattr(profile, "workbook", None), overrides.get("sheet"))
        self.repair_encoding.setChecked(bool(overrides.get("repair_encoding")))
        self.fix_mojibake.setChecked(bool(overrides.get("fix_mojibake")))
        self.show_counts(profile)
        self._quiet = False
        self._update_summary()

    def _show_workbook(self, book: Any, chosen: str | None) -> None:
        """A workbook: the sheet picker, and no encoding, delimiter, quote or line endings."""
        self._show_sheet_row(book is not None)
        if book is None:
            self.sheet.clear()
            return
        for combo in (self.encoding, self.delimiter, self.quotechar, self.line_ending):
            combo.setEnabled(False)
        items = []
        for sheet in book.sheets:
            notes = [
                w for w, on in (("hidden", sheet.hidden), ("empty", sheet.has_data is False)) if on
            ]
            items.append((sheet.name, sheet.name + (f" ({', '.join(notes)})" if notes else "")))
        self._fill(self.sheet, f"auto ({book.sheet})", items, chosen)
        where = f"{book.format} workbook; table from sheet row {book.first_row}"
        if book.skipped:
            above = "row" if book.skipped == 1 else "rows"
            where += f" ({book.skipped:,} {above} above it skipped)"
        self.encoding_note.setText(where)

    def show_counts(self, profile: Any) -> None:
        counts = dict(getattr(profile, "issue_counts", {}) or {})
        utf8 = profile.encoding == "utf-8" and getattr(profile, "workbook", None) is None
        self.repair_encoding.setEnabled(
            utf8 and bool(counts.get("invalid_bytes") or self.repair_encoding.isChecked())
        )
        self.fix_mojibake.setEnabled(
            bool(counts.get("mojibake") or counts.get("mojibake_fixed"))
            or self.fix_mojibake.isChecked()
        )
        if (self.repair_encoding.isEnabled() or self.fix_mojibake.isEnabled()) and not (
            self.toggle.isChecked()
        ):
            self.toggle.setChecked(True)  # a repair is offered: show it
        rows = getattr(profile, "rows", None)
        self.rows_label.setText("counting…" if rows is None else f"{rows:,}")
        sha = getattr(profile, "sha256", None)
        self.sha_label.setText(sha[:16] + "…" if sha else "—")
        self.sha_label.setToolTip(sha or "")
        self._update_summary()

    def show_counting(self, done: int, total: int) -> None:
        if total:
            self.rows_label.setText(f"counting… {done * 100 // total}%")
            self._update_summary()

    @staticmethod
    def _fill(combo: QComboBox, auto_label: str, items: list[tuple[Any, str]], chosen: Any) -> None:
        combo.clear()
        combo.addItem(auto_label, AUTO)
        for value, label in items:
            combo.addItem(label, value)
        combo.setEnabled(True)
        if chosen is not None:
            i = combo.findData(chosen)
            if i < 0 and combo.isEditable():
                combo.addItem(str(chosen), chosen)
                i = combo.count() - 1
            combo.setCurrentIndex(max(i, 0))

    def overrides(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, combo in (
            ("encoding", self.encoding),
            ("delimiter", self.delimiter),
            ("quotechar", self.quotechar),
            ("has_header", self.header),
            ("sheet", self.sheet),
        ):
            value = combo.currentData()
            if value is not None:
                out[key] = value
        for key, box in (
            ("repair_encoding", self.repair_encoding),
            ("fix_mojibake", self.fix_mojibake),
        ):
            if box.isChecked():
                out[key] = True
        return out

    @Slot()
    def _on_control_activated(self) -> None:
        if self._quiet or not (
            self.encoding.isEnabled()
            or self.sheet.isEnabled()
            or self.repair_encoding.isEnabled()
            or self.fix_mojibake.isEnabled()
        ):
            return
        text = self.encoding.currentText().strip()
        if text != self.encoding.itemText(self.encoding.currentIndex()):
            # A codec name typed by hand: accept what Python can decode with, by its real name.
            try:
                name = codecs.lookup(text).name
            except LookupError:
                self.encoding_note.setText(f"'{text}' is not an encoding Python knows")
                return
            self._quiet = True
            self._fill(self.encoding, self.encoding.itemText(0), [(e, e) for e in ENCODINGS], name)
            self._quiet = False
        self._update_summary()
        self.overrides_changed.emit(self.overrides())


def _human_size(n: int | None) -> str:
    if n is None:
        return "—"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} B"
