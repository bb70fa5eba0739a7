"""A workbook in the preview pane: the sheet picker in the profile bar (issue 15)."""

from __future__ import annotations

import pytest

from outbound_desk.ui.preview import PreviewPane
from tests.files.test_workbook import CONTACTS, xlsx


@pytest.fixture
def pane(qtbot, settings_store):
    settings = settings_store.load()
    p = PreviewPane(settings=settings, save_settings=lambda: settings_store.save(settings))
    qtbot.addWidget(p)
    yield p
    p.shutdown()


def test_sheet_picker_lists_hidden_sheets_and_a_pick_rereads_live(qtbot, pane, tmp_path):
    path = xlsx(
        tmp_path / "book.xlsx",
        {
            "Empty": [],
            "~Lookup": [["code"], ["x"]],
            "Contacts": [["Q3 export"], *CONTACTS],
            "Old": [["a"], [1]],
        },
    )
    with qtbot.waitSignal(pane.scan_finished, timeout=30_000):
        pane.open_file(path)
    bar = pane.profile_bar
    assert bar.sheet.isVisibleTo(bar.details)  # the details fold; the picker is in them
    assert "sheet Contacts" in bar.summary.text()
    assert bar.sheet.currentText() == "auto (Contacts)"
    labels = [bar.sheet.itemText(i) for i in range(bar.sheet.count())]
    assert labels[1:] == ["Empty (empty)", "Lookup (hidden)", "Contacts", "Old"]
    assert not bar.encoding.isEnabled()
    assert not bar.delimiter.isEnabled()
    assert "1 row above it skipped" in bar.encoding_note.text()
    store = pane.rows_model.store
    qtbot.waitUntil(lambda: store.complete, timeout=30_000)
    assert [store.cell(0, c) for c in range(3)] == ["1001", "4155551234", "02134"]
    assert store.record(0) == 3  # the sheet row, as Excel shows it
    assert pane.profile.rows == 3
    with qtbot.waitSignal(pane.profile_changed, timeout=10_000):
        bar.sheet.setCurrentIndex(bar.sheet.findData("Old"))
        bar.sheet.activated.emit(bar.sheet.currentIndex())
    assert pane.overrides == {"sheet": "Old"}
    assert pane.profile.columns == ["a"]
    assert bar.sheet.currentData() == "Old"


def test_a_text_file_has_no_sheet_picker(qtbot, pane, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,phone\n1,4155551234\n")
    with qtbot.waitSignal(pane.profile_changed, timeout=10_000):
        pane.open_file(path)
    assert not pane.profile_bar.sheet.isVisibleTo(pane.profile_bar.details)
    assert "sheet" not in pane.profile_bar.summary.text()
    assert pane.profile_bar.encoding.isEnabled()


def test_repair_encoding_and_fix_mojibake_are_offered_and_reread_live(qtbot, pane, tmp_path):
    from tests.files.test_repairs import mixed_file, mojibake_file

    with qtbot.waitSignal(pane.scan_finished, timeout=30_000):
        pane.open_file(mixed_file(tmp_path / "m.csv"))
    bar = pane.profile_bar
    assert bar.repair_encoding.isEnabled()
    assert not bar.fix_mojibake.isEnabled()
    assert "Repair encoding: offered" in bar.summary_text()
    with qtbot.waitSignal(pane.scan_finished, timeout=30_000):
        bar.repair_encoding.setChecked(True)
    assert pane.overrides == {"repair_encoding": True}
    assert "invalid_bytes" not in pane.profile.issue_counts
    store = pane.rows_model.store
    qtbot.waitUntil(lambda: store.complete, timeout=30_000)
    assert store.cell(2499, 1) == "Renée"
    assert store.cell(0, 2) == "Málaga"

    with qtbot.waitSignal(pane.scan_finished, timeout=30_000):
        pane.open_file(mojibake_file(tmp_path / "j.csv"))
    assert bar.fix_mojibake.isEnabled()
    assert pane.profile.issue_counts["mojibake"] == 12
    with qtbot.waitSignal(pane.scan_finished, timeout=30_000):
        bar.fix_mojibake.setChecked(True)
    assert pane.profile.issue_counts["mojibake_fixed"] == 12
    store = pane.rows_model.store
    qtbot.waitUntil(lambda: store.complete, timeout=30_000)
    assert store.cell(49, 1) == "Café 50"
