"""The Preferences dialog: the preferences both front ends read, edited in one form.

The form is built from ``config.PREFERENCE_FIELDS`` (the Qt-free description the command line
reads the same preferences by), so a preference added there appears here without a change.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from outbound_desk.config.settings import PREFERENCE_FIELDS, PreferenceField, Preferences


class PreferencesDialog(QDialog):
    """Edits ``context.settings.preferences``; OK saves them (merged with what other processes
    saved meanwhile, by the settings store).

    Signals: ``preferences_saved(object)`` (the ``Preferences``) after OK.
    """

    preferences_saved = Signal(object)

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PreferencesDialog")
        self.setWindowTitle("Preferences")
        self.context = context
        self.editors: dict[str, QWidget] = {}
        form = QFormLayout()
        prefs = context.settings.preferences
        for spec in PREFERENCE_FIELDS:
            editor, row = self._editor(spec, getattr(prefs, spec.name))
            editor.setObjectName(f"pref-{spec.name}")
            editor.setToolTip(spec.help)
            self.editors[spec.name] = editor
            label = QLabel(spec.label)
            label.setToolTip(spec.help)
            label.setBuddy(editor)
            form.addRow(label, row)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b;")
        self.error_label.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def _editor(self, spec: PreferenceField, value: Any) -> tuple[QWidget, QWidget]:
        if spec.choices:
            combo = QComboBox()
            for choice in spec.choices:
                combo.addItem(choice, choice)
            combo.setCurrentIndex(max(combo.findData(value), 0))
            return combo, combo
        if spec.minimum is not None or spec.maximum is not None:
            spin = QSpinBox()
            spin.setRange(spec.minimum or 0, spec.maximum or 2**31 - 1)
            spin.setGroupSeparatorShown(True)
            spin.setValue(int(value))
            return spin, spin
        edit = QLineEdit("" if value is None else str(value))
        if not spec.path:
            return edit, edit
        edit.setPlaceholderText("(the default place)")
        browse = QPushButton("Browse…")
        browse.setProperty("pref", spec.name)
        browse.clicked.connect(self._on_browse_clicked)
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(edit, 1)
        box.addWidget(browse)
        return edit, row

    def values(self) -> dict[str, Any]:
        """What the form says, per preference name."""
        out: dict[str, Any] = {}
        for spec in PREFERENCE_FIELDS:
            editor = self.editors[spec.name]
            if isinstance(editor, QComboBox):
                out[spec.name] = editor.currentData()
            elif isinstance(editor, QSpinBox):
                out[spec.name] = editor.value()
            elif isinstance(editor, QLineEdit):
                text = editor.text().strip()
                if spec.name == "phone_region":
                    text = text.upper()
                out[spec.name] = (text or None) if spec.path else text
        return out

    def set_value(self, name: str, value: Any) -> None:
        """Set one editor as the person would (tests, and the dialog's own preview)."""
        editor = self.editors[name]
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(editor.findData(value))
        elif isinstance(editor, QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QLineEdit):
            editor.setText("" if value is None else str(value))

    def apply(self) -> bool:
        """Check the form, copy it into the preferences and save; False (and why, shown)
        when a value is not usable."""
        values = self.values()
        region = values.get("phone_region")
        if "phone_region" in values and not (
            isinstance(region, str) and len(region) == 2 and region.isalpha()
        ):
            self._show_error("The phone region is a two-letter country code, e.g. US or GB.")
            return False
        prefs = self.context.settings.preferences
        known = {f.name for f in fields(Preferences)}
        for name, value in values.items():
            if name in known:
                setattr(prefs, name, value)
        self.context.save_settings()
        self.preferences_saved.emit(prefs)
        return True

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    @Slot()
    def _on_buttons_accepted(self) -> None:
        if self.apply():
            self.accept()

    @Slot()
    def _on_browse_clicked(self) -> None:
        button = self.sender()
        name = str(button.property("pref")) if button is not None else "ledger_path"
        editor = self.editors[name]
        assert isinstance(editor, QLineEdit)
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Upload ledger",
            editor.text(),
            "SQLite database (*.sqlite3 *.db);;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            editor.setText(path)
