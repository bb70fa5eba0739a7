"""The preview pane with the real file engine and validation, offscreen."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from outbound_desk.ui.preview import PreviewPane, TargetList
from outbound_desk.ui.preview.models import RecordRole, SeverityRole
from tests.files import corpus
from tests.reads import count_reads
from tests.ui.conftest import ScriptedPrompter
from tests.ui2 import messy


@pytest.fixture
def make_pane(qtbot, settings_store):
    panes = []

    def make(targets=None):
        settings = settings_store.load()
        pane = PreviewPane(
            settings=settings,
            save_settings=lambda: settings_store.save(settings),
            targets=(lambda: targets) if targets is not None else None,
            prompter=ScriptedPrompter(),  # a message box would wait for a click
        )
        qtbot.addWidget(pane)
        panes.append(pane)
        return pane

    yield make
    for pane in panes:
        pane.shutdown()


def target():
    return TargetList("Spring Renewals", "list-1", messy.schema())


def open_and_validate(qtbot, pane: PreviewPane, path: Path):
    with qtbot.waitSignal(pane.validation_finished, timeout=30_000) as blocker:
        pane.open_file(path)
    qtbot.waitUntil(
        lambda: pane.profile is not None and pane.profile.rows is not None, timeout=30_000
    )
    return blocker.args[0]


def test_every_messy_file_opens_with_row_numbers_that_match_the_file(qtbot, make_pane, tmp_path):
    pane = make_pane([target()])
    qtbot.waitUntil(lambda: pane.schema_panel.target.count() == 2)
    pane.schema_panel.select_target("list-1")
    for kind, path in messy.corpus(tmp_path).items():
        report = open_and_validate(qtbot, pane, path)
        profile = pane.profile
        model = pane.rows_model
        qtbot.waitUntil(lambda m=model: m.store.complete)
        assert report.rows == profile.rows, kind
        # The vertical header and the record role give the file's own record numbers.
        first = profile.data_start
        assert model.data(model.index(0, 0), RecordRole) == first, kind
        assert model.headerData(0, Qt.Orientation.Vertical) == str(first), kind
    # The quoted newline counts as one record: the second data row is record 3.
    assert pane.rows_model.store.record(1) == 3
    assert pane.rows_model.store.cell(0, 5) == "New\nYork"


def test_detection_is_shown_and_an_override_reparses_live(qtbot, make_pane, tmp_path):
    pane = make_pane()
    path = messy.corpus(tmp_path)["cp1252_semicolon"]
    with qtbot.waitSignal(pane.profile_changed, timeout=10_000):
        pane.open_file(path)
    assert pane.profile.encoding == "cp1252"
    assert pane.profile.delimiter == ";"
    assert "cp1252" in pane.profile_bar.encoding.currentText()
    assert "semicolon" in pane.profile_bar.delimiter.currentText()
    qtbot.waitUntil(lambda: pane.rows_model.rowCount() > 0)
    assert pane.rows_model.store.cell(0, 5) == "Málaga"
    # The user says the header row is data: the file is re-read with generated column names.
    bar = pane.profile_bar
    with qtbot.waitSignal(pane.profile_changed, timeout=10_000):
        bar.header.setCurrentIndex(bar.header.findData(False))
        bar.header.activated.emit(bar.header.currentIndex())
    assert pane.overrides == {"has_header": False}
    assert pane.profile.has_header is False
    assert pane.profile.columns[0] == "column_1"
    qtbot.waitUntil(lambda: pane.rows_model.rowCount() > 0)
    assert pane.rows_model.store.cell(0, 0) == "customerId"
    assert pane.rows_model.store.record(0) == 1
    # A wrong encoding forced by hand decodes differently (and live).
    with qtbot.waitSignal(pane.profile_changed, timeout=10_000):
        pane.set_overrides({"encoding": "utf-8", "has_header": True})
    assert pane.profile.encoding == "utf-8"


def test_issues_colour_cells_and_double_click_jumps_to_the_cell(qtbot, make_pane, tmp_path):
    pane = make_pane([target()])
    qtbot.waitUntil(lambda: pane.schema_panel.target.count() == 2)
    pane.schema_panel.select_target("list-1")
    report = open_and_validate(qtbot, pane, messy.corpus(tmp_path)["bad_phones_dupes"])
    assert report.invalid >= 1
    codes = {i.code for i in pane.issue_index.issues()}
    assert "invalid_phone" in codes or "phone_too_short" in codes
    bad = next(i for i in pane.issue_index.issues() if i.column == "phoneNumber")
    # The issues panel lists it; double-click selects the cell in the rows table.
    proxy = pane.issues_model
    row = next(
        r
        for r in range(proxy.rowCount())
        if proxy.index(r, 3).data() == bad.code and proxy.index(r, 0).data() == str(bad.row)
    )
    pane._on_issues_view_double_clicked(proxy.index(row, 0))
    current = pane.table.currentIndex()
    assert pane.rows_model.data(current, RecordRole) == bad.row
    assert pane.rows_model.headerData(current.column(), Qt.Orientation.Horizontal) == "phoneNumber"
    assert pane.rows_model.data(current, SeverityRole) == "error"
    assert bad.message in pane.rows_model.data(current, Qt.ItemDataRole.ToolTipRole)
    # Filter by kind.
    kinds = [pane.issue_kind.itemData(i) for i in range(pane.issue_kind.count())]
    assert bad.code in kinds
    pane.issue_kind.setCurrentIndex(kinds.index(bad.code))
    pane._on_issue_kind_activated()
    assert all(proxy.index(r, 3).data() == bad.code for r in range(proxy.rowCount()))
    assert "invalid" in pane.summary_label.text()


def test_mapping_drives_validation_and_is_remembered_per_list(
    qtbot, make_pane, tmp_path, settings_store
):
    path = messy.write(
        tmp_path / "renamed.csv",
        [
            ["customerId", "First Name", "lastname", "Phone", "email", "city", "notes"],
            *[[*r, "n"] for r in messy.good_rows(10)],
        ],
    )
    pane = make_pane([target()])
    qtbot.waitUntil(lambda: pane.schema_panel.target.count() == 2)
    pane.schema_panel.select_target("list-1")
    report = open_and_validate(qtbot, pane, path)
    panel = pane.schema_panel
    diff = panel.diff
    assert "notes" in diff.extra
    assert report.blocked  # "notes" is neither mapped nor excluded, "Phone" not yet mapped
    assert not pane.upload_button.isEnabled()
    with qtbot.waitSignal(pane.validation_finished, timeout=30_000) as blocker:
        panel.set_file_column_target("notes", None)
        panel.set_file_column_target("Phone", "phoneNumber")
        for fc in panel.mapping.unresolved:
            lc = {"First Name": "firstName", "lastname": "lastName"}.get(fc)
            panel.set_file_column_target(fc, lc)
    report = blocker.args[0]
    assert not report.blocked
    assert report.valid == 10
    assert pane.upload_button.isEnabled()
    remembered = settings_store.load().preferences.column_mappings["list-1"]
    assert remembered["notes"] is None
    assert remembered["Phone"] == "phoneNumber"
    # Opening the file again offers the remembered mapping.
    other = make_pane([target()])
    qtbot.waitUntil(lambda: other.schema_panel.target.count() == 2)
    other.schema_panel.select_target("list-1")
    report = open_and_validate(qtbot, other, path)
    assert not report.blocked
    assert "last time" in other.schema_panel.mapping_note.text()


def test_actions_write_rejects_and_a_fixed_copy(qtbot, make_pane, tmp_path):
    pane = make_pane([target()])
    qtbot.waitUntil(lambda: pane.schema_panel.target.count() == 2)
    pane.schema_panel.select_target("list-1")
    open_and_validate(qtbot, pane, messy.corpus(tmp_path)["bad_phones_dupes"])
    rejects = tmp_path / "out" / "rejects.csv"
    fixed = tmp_path / "out" / "fixed.csv"
    rejects.parent.mkdir()
    with qtbot.waitSignal(pane.validation_finished, timeout=30_000):
        pane.export_rejects(str(rejects))
    text = rejects.read_text(encoding="utf-8")
    assert "C777" in text
    with qtbot.waitSignal(pane.validation_finished, timeout=30_000):
        pane.save_fixed_copy(str(fixed))
    lines = fixed.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",")[:4] == ["customerId", "firstName", "lastName", "phoneNumber"]
    assert "C777" not in fixed.read_text(encoding="utf-8")
    got = []
    pane.upload_requested.connect(got.append)
    pane.upload_button.click()
    assert got
    assert got[0].target.list_id == "list-1"
    assert got[0].mapping.unresolved == []


def test_a_broken_file_is_explained_in_place(qtbot, make_pane, tmp_path):
    pane = make_pane()
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with qtbot.waitSignal(pane.failed, timeout=10_000) as blocker:
        pane.open_file(empty)
    assert "empty" in blocker.args[0].lower()
    assert pane.error_label.isVisibleTo(pane)


def test_validation_can_be_cancelled_and_the_pane_stays_usable(qtbot, make_pane, tmp_path):
    path = messy.write(tmp_path / "big.csv", [messy.HEADER, *messy.good_rows(60_000)])
    pane = make_pane([target()])
    qtbot.waitUntil(lambda: pane.schema_panel.target.count() == 2)
    pane.schema_panel.select_target("list-1")
    with qtbot.waitSignal(pane.profile_changed, timeout=10_000):
        pane.open_file(path)
    pane.validate()
    assert pane.cancel_button.isVisibleTo(pane)
    assert not pane.validate_button.isEnabled()
    pane.cancel_button.click()
    qtbot.waitUntil(lambda: not pane.cancel_button.isVisibleTo(pane), timeout=30_000)
    assert pane.validate_button.isEnabled()
    # Still usable: the table scrolls while nothing validates.
    qtbot.waitUntil(lambda: pane.rows_model.rowCount() > 0)
    pane.rows_model.fetchMore()
    assert pane.rows_model.rowCount() >= 2 * pane.rows_model.FETCH_ROWS


def test_a_dropped_file_opens_and_recent_files_remember_it(qtbot, make_pane, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    pane = make_pane()
    path = messy.corpus(tmp_path)["utf16_tab"]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(pane.profile_changed, timeout=10_000):
        pane.dropEvent(event)
    assert pane.profile.encoding == "utf-16-le"
    assert pane.profile.delimiter == "\t"
    pane._on_recent_menu_about_to_show()
    assert [a.data() for a in pane.recent_menu.actions()] == [str(path)]


def test_big_files_are_scanned_and_validated_on_worker_threads_of_the_app(
    qtbot, make_pane, tmp_path
):
    """Scan and validation run on the app's worker threads (no child process: the engine's
    threads release the interpreter lock); cancelling reaches them."""
    import multiprocessing
    import threading

    pane = make_pane([target()])
    qtbot.waitUntil(lambda: pane.schema_panel.target.count() == 2)
    pane.schema_panel.select_target("list-1")
    report = open_and_validate(qtbot, pane, messy.corpus(tmp_path)["bad_phones_dupes"])
    assert (report.rows, report.invalid) == (pane.profile.rows, report.rows - report.valid)
    assert report.invalid >= 1
    assert pane.profile.sha256
    big = messy.write(tmp_path / "big.csv", [messy.HEADER, *messy.good_rows(150_000)])
    with qtbot.waitSignal(pane.profile_changed, timeout=10_000):
        pane.open_file(big)
    pane.validate()
    assert pane._validate_job is not None
    assert not multiprocessing.active_children()
    assert threading.current_thread() is threading.main_thread()
    pane.cancel_button.click()
    qtbot.waitUntil(lambda: not pane.cancel_button.isVisibleTo(pane), timeout=60_000)
    assert "cancelled" in pane.summary_label.text().lower()


def test_the_id_column_warns_when_it_is_a_phone_column(qtbot):
    from outbound_desk.ui.preview.schema_panel import SchemaPanel

    panel = SchemaPanel()
    qtbot.addWidget(panel)
    panel.show_schema(messy.schema(), messy.HEADER, True)
    assert not panel.id_warning.isVisibleTo(panel)
    assert panel.id_column_name() == "customerId"
    panel.id_column.setCurrentIndex(panel.id_column.findData("phoneNumber"))
    panel._on_id_column_activated()
    assert panel.id_warning.isVisibleTo(panel)
    assert "phone column" in panel.id_warning.text()
    panel.id_column.setCurrentIndex(panel.id_column.findData(""))
    panel._on_id_column_activated()
    assert "duplicate" in panel.id_warning.text()


@pytest.mark.parametrize("case", corpus.cases(), ids=lambda c: c.name)
def test_every_file_of_the_engine_corpus_opens_in_the_pane(qtbot, make_pane, tmp_path, case):
    """The file engine's whole messy corpus, as an admin would open it: detections shown as
    the engine decides them, every value in the table, unreadable files explained in place."""
    pane = make_pane()
    path = case.write(tmp_path)
    if case.error:
        with qtbot.waitSignal(pane.failed, timeout=30_000) as failed:
            pane.open_file(path)
        assert failed.args[0].strip(), case.name
        assert pane.error_label.isVisibleTo(pane)
        return
    with qtbot.waitSignal(pane.scan_finished, timeout=60_000):
        pane.open_file(path)
    profile = pane.profile
    assert profile is not None
    if case.encoding is not None:
        assert profile.encoding == case.encoding
    if case.delimiter is not None:
        assert profile.delimiter == case.delimiter
    if case.has_header is not None:
        assert profile.has_header == case.has_header
    if case.rows is not None and not case.codes & {"ragged_row", "unterminated_quote"}:
        store = pane.rows_model.store
        qtbot.waitUntil(lambda: store.complete, timeout=60_000)
        got = [[store.cell(r, c) for c in range(len(row))] for r, row in enumerate(case.rows)]
        assert got == case.rows


def test_a_new_lists_schema_is_guessed_from_the_header_of_the_file_opened_last(
    qtbot, make_pane, tmp_path
):
    """The header's schema is guessed after the detection is shown (off its path); a guess for
    a file that was replaced before it landed is dropped, and validation waits for the guess."""
    first = tmp_path / "first.csv"
    first.write_text("id,name,mobile\n1,Ann,+12125550101\n", encoding="utf-8")
    second = tmp_path / "second.csv"
    second.write_text(
        "customerId,city,phoneNumber\nC1,Boston,+12125550102\nC2,Austin,555-12\n",
        encoding="utf-8",
    )
    pane = make_pane()  # no lists: the target is "new list", made from the header
    with qtbot.waitSignal(pane.validation_finished, timeout=30_000) as blocker:
        pane.open_file(first)
        pane.open_file(second)
    report = blocker.args[0]
    schema = pane.schema_panel.schema
    assert list(schema.columns) == ["customerId", "city", "phoneNumber"]
    assert "phoneNumber" in schema.phone_columns
    assert report.rows == 2
    assert report.invalid == 1


def test_with_no_list_chosen_the_read_starts_once_the_header_guess_has_landed(
    qtbot, make_pane, tmp_path, monkeypatch
):
    """The guess is phonenumbers in Python; run beside the reader's first blocks and the first
    rows' repaint it made the window wait for the interpreter lock (benchmarks/README.md,
    GUI stall). A guess that fails still lets the rows load."""
    from outbound_desk.ui.preview import pane as pane_module

    path = tmp_path / "contacts.csv"
    path.write_text("customerId,phone\nC1,+12125550101\nC2,+12125550102\n", encoding="utf-8")
    events: list[str] = []
    real_guess, real_load = pane_module._header_schema, pane_module.load_rows

    def guess(profile, region):
        events.append("guess starts")
        schema = real_guess(profile, region)
        events.append("guess ends")
        return schema

    def load(*args, **kwargs):
        events.append("read starts")
        return real_load(*args, **kwargs)

    monkeypatch.setattr(pane_module, "_header_schema", guess)
    monkeypatch.setattr(pane_module, "load_rows", load)
    pane = make_pane()
    report = open_and_validate(qtbot, pane, path)
    assert report.rows == 2
    assert events == ["guess starts", "guess ends", "read starts"]

    def broken(profile, region):
        events.append("broken guess")
        raise ValueError("no schema today")

    events.clear()
    monkeypatch.setattr(pane_module, "_header_schema", broken)
    other = tmp_path / "other.csv"
    other.write_text("customerId,phone\nC1,+12125550101\nC2,+12125550102\nC3,x\n", "utf-8")
    pane.open_file(other)
    qtbot.waitUntil(lambda: pane.rows_model is not None and pane.rows_model.rowCount() == 3)
    assert events == ["broken guess", "read starts"]


def test_the_issue_filter_follows_a_new_file(qtbot, make_pane, tmp_path):
    """After a new file the combo said "all kinds (2,677)" over a list still filtered by the
    old kind, and showed nothing."""
    pane = make_pane([target()])
    qtbot.waitUntil(lambda: pane.schema_panel.target.count() == 2)
    pane.schema_panel.select_target("list-1")
    open_and_validate(qtbot, pane, messy.corpus(tmp_path)["bad_phones_dupes"])
    kinds = [pane.issue_kind.itemData(i) for i in range(pane.issue_kind.count())]
    chosen = next(k for k in kinds if k is not None)
    pane.issue_kind.setCurrentIndex(kinds.index(chosen))
    pane._on_issue_kind_activated()
    assert pane.issues_model.rowCount() >= 1
    # A file whose only problem is of another kind: one record with too many fields.
    rows = [messy.HEADER, *messy.good_rows(5)]
    rows[3] = [*rows[3], "extra"]
    other = messy.write(tmp_path / "other.csv", rows)
    open_and_validate(qtbot, pane, other)
    assert chosen not in {i.code for i in pane.issue_index.issues()}
    assert pane.issue_kind.currentData() is None
    assert pane.issue_kind.currentText().startswith("all kinds")
    assert pane.issues_model.rowCount() == len(pane.issue_index.issues()) >= 1
    assert pane.issue_counts.text() == f"{len(pane.issue_index.issues())} issue" + (
        "" if len(pane.issue_index.issues()) == 1 else "s"
    )


def existing_list_without_id() -> TargetList:
    """A list as the platform describes it: its columns, and no id column."""
    return TargetList("Existing", "list-2", messy.schema().with_id_column(None))


def test_an_existing_list_gets_a_stable_id_by_default_and_it_survives_reparses(
    qtbot, make_pane, tmp_path, settings_store
):
    """Issue 13: the id column starts at the CRM key, not "(none)", for an existing list; the
    duplicate and missing-id checks run; the choice survives overrides and is remembered."""
    pane = make_pane([existing_list_without_id()])
    qtbot.waitUntil(lambda: pane.schema_panel.target.count() == 2)
    pane.schema_panel.select_target("list-2")
    path = messy.corpus(tmp_path)["bad_phones_dupes"]
    report = open_and_validate(qtbot, pane, path)
    panel = pane.schema_panel
    assert panel.id_column_name() == "customerId"
    assert report.duplicates >= 1  # the duplicate-id check ran
    assert not panel.id_warning.isVisibleTo(panel)
    # A re-parse with an override keeps the id column.
    with qtbot.waitSignal(pane.validation_finished, timeout=30_000) as blocker:
        pane.set_overrides({"encoding": "utf-8"})
    assert panel.id_column_name() == "customerId"
    assert blocker.args[0].duplicates == report.duplicates
    # The person's own choice ("no id") survives a re-parse too.
    panel.pick_id_column(None)
    with qtbot.waitSignal(pane.validation_finished, timeout=30_000) as blocker:
        pane.set_overrides({})
    assert panel.id_column_name() is None
    assert blocker.args[0].duplicates == 0
    # A chosen column is remembered for the list and offered the next time.
    panel.pick_id_column("email")
    assert settings_store.load().preferences.id_columns["list-2"] == "email"
    other = make_pane([existing_list_without_id()])
    qtbot.waitUntil(lambda: other.schema_panel.target.count() == 2)
    other.schema_panel.select_target("list-2")
    open_and_validate(qtbot, other, path)
    assert other.schema_panel.id_column_name() == "email"


def test_the_default_id_is_never_a_phone_column_nor_a_column_with_repeats():
    from outbound_desk.contacts import Field, ListSchema
    from outbound_desk.contacts.ids import choose_id_column

    schema = ListSchema(
        "l", (Field("phoneId", format="E.164"), Field("accountNumber"), Field("crm_id"))
    )
    # crm_id is the better name, but repeats in the sample: the account number is taken.
    samples = {
        "phoneId": ["1", "2", "3"],
        "crm_id": ["a", "a", "a"],
        "accountNumber": ["1", "2", "3"],
    }
    choice = choose_id_column(schema, samples=samples)
    assert (choice.column, choice.source) == ("accountNumber", "key-name")
    # The "schema" id-column rule of the preferences guesses nothing.
    assert choose_id_column(schema, samples=samples, guess=False).column is None
    sparse = {**samples, "accountNumber": ["1", "", ""]}
    assert choose_id_column(schema, samples=sparse).column is None
    # A saved choice wins, but only while a file column feeds it.
    assert choose_id_column(schema, saved="crm_id").column == "crm_id"
    assert choose_id_column(schema, saved="crm_id", sources={"accountNumber": "acc"}).column == (
        "accountNumber"
    )


def test_column_overview_and_summary_bar_picture_the_file(qtbot, make_pane, tmp_path):
    from PySide6.QtCore import QPoint

    from outbound_desk.ui.preview.overview import column_stats

    pane = make_pane([target()])
    qtbot.waitUntil(lambda: pane.schema_panel.target.count() == 2)
    pane.schema_panel.select_target("list-1")
    rows = messy.good_rows(40)
    for i in (3, 9, 20):
        rows[i][3] = "12"  # three bad phones
    for i in range(0, 40, 4):
        rows[i][5] = ""  # a quarter of the cities empty
    path = messy.write(tmp_path / "pic.csv", [messy.HEADER, *rows])
    report = open_and_validate(qtbot, pane, path)
    overview = pane.overview
    qtbot.waitUntil(lambda: overview.stats("city") is not None, timeout=30_000)
    city = overview.stats("city")
    assert (city.rows, city.filled) == (40, 30)
    assert city.distinct == len({r[5] for r in rows if r[5]})
    assert overview.stats("customerId").distinct == 40
    assert overview.issues("phoneNumber") == 3
    assert "3 issues" in overview.describe("phoneNumber")
    assert "75% filled" in overview.describe("city")
    # The summary bar holds the validation's counts.
    assert pane.summary_bar.isVisibleTo(pane)
    assert pane.summary_bar.counts == (report.valid, report.invalid, report.duplicates)
    # Clicking a column's bar lists that column's issues; a second click lists all again.
    pane.resize(1200, 800)
    column = pane.rows_model.store.columns.index("phoneNumber")
    x = pane.table.horizontalHeader().sectionViewportPosition(column)
    x += pane.table.verticalHeader().width() + pane.table.frameWidth() + 10
    assert overview.column_at(x) == "phoneNumber"
    qtbot.mouseClick(overview, Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    assert pane.tabs.currentIndex() == 1
    listed = [pane.issues_model.issue(r) for r in range(pane.issues_model.rowCount())]
    assert len(listed) == 3
    assert {i.column for i in listed} == {"phoneNumber"}
    qtbot.mouseClick(overview, Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    assert pane.issues_model.rowCount() == len(pane.issue_index.issues())
    # The statistics themselves, on Arrow arrays as the row store keeps them.
    import pyarrow as pa

    stats = column_stats(["a"], [[pa.array(["x", "", None]), pa.array(["x", " ", "y"])]])
    assert (stats[0].rows, stats[0].filled, stats[0].distinct) == (6, 3, 2)


def test_mapping_in_one_move_with_undo_and_a_diff_that_follows(qtbot, make_pane, tmp_path):
    """Suggestions were shown but not applied, every leftover column took a combo each, the
    diff did not follow the mapping and the wheel over the table changed mappings."""
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    path = messy.write(
        tmp_path / "renamed.csv",
        [
            ["customerId", "First Name", "lastname", "Phone", "email", "city", "notes", "x2"],
            *[[*r, "n", "y"] for r in messy.good_rows(10)],
        ],
    )
    pane = make_pane([target()])
    qtbot.waitUntil(lambda: pane.schema_panel.target.count() == 2)
    pane.schema_panel.select_target("list-1")
    report = open_and_validate(qtbot, pane, path)
    assert report.blocked
    panel = pane.schema_panel
    assert {"First Name", "Phone", "notes", "x2"} <= set(panel.mapping.unresolved)
    assert panel.suggestions()["Phone"] == "phoneNumber"

    def why(fc: str) -> str:
        return panel.mapping_table.item(panel._file_columns.index(fc), 2).text()

    def diff_group(title: str) -> list[str]:
        for i in range(panel.diff_tree.topLevelItemCount()):
            top = panel.diff_tree.topLevelItem(i)
            if top.text(0).startswith(title):
                return [top.child(c).text(0) for c in range(top.childCount())]
        raise AssertionError(title)

    assert "phoneNumber" in diff_group("Missing required")
    assert "choose it or Apply suggestions" in why("Phone")

    panel.apply_button.click()
    assert panel.mapping.targets["Phone"] == "phoneNumber"
    assert panel.mapping.targets["First Name"] == "firstName"
    assert "phoneNumber" in diff_group("Matched")
    assert "phoneNumber" not in diff_group("Missing required")
    assert why("Phone").startswith("suggested")

    with qtbot.waitSignal(pane.validation_finished, timeout=30_000) as done:
        panel.exclude_button.click()
    assert not panel.mapping.unresolved
    assert set(diff_group("Excluded")) == {"notes", "x2"}
    assert why("notes") == "excluded: not uploaded"
    assert not done.args[0].blocked
    assert not panel.exclude_button.isEnabled()

    panel.undo_button.click()  # back to before the exclusion
    assert set(panel.mapping.unresolved) == {"notes", "x2"}
    panel.undo_button.click()  # back to before the suggestions
    assert "Phone" in panel.mapping.unresolved
    assert not panel.undo_button.isEnabled()

    # The wheel over a combo that is not being edited scrolls, and changes nothing.
    row = panel._file_columns.index("customerId")
    combo = panel.mapping_table.cellWidget(row, 1)
    before = combo.currentIndex()
    wheel = QWheelEvent(
        QPointF(5, 5),
        QPointF(combo.mapToGlobal(QPoint(5, 5))),
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(combo, wheel)
    assert combo.currentIndex() == before
    assert panel.mapping.targets["customerId"] == "customerId"


def test_fixed_copy_repairs_what_is_safe_and_sets_the_rest_aside(qtbot, make_pane, tmp_path):
    """Issue 14: "Save fixed copy" dropped the invalid rows and fixed nothing. Now a
    spreadsheet's ``.0`` and a scientific number that kept its digits are repaired, spaces
    trimmed, and the row whose digits were lost goes to a rejects file beside the copy."""
    pane = make_pane([target()])
    qtbot.waitUntil(lambda: pane.schema_panel.target.count() == 2)
    pane.schema_panel.select_target("list-1")
    rows = messy.good_rows(3)
    rows[0][3] = "14155550100.0"
    rows[1][3] = "1.4155550101E+10"
    rows[2][3] = "4.15555E+10"
    rows[2][1] = "  Spaced  "
    path = messy.write(tmp_path / "excel.csv", [messy.HEADER, *rows])
    report = open_and_validate(qtbot, pane, path)
    assert report.invalid == 3  # as read, every phone is rejected
    fixed = tmp_path / "fixed.csv"
    with qtbot.waitSignal(pane.validation_finished, timeout=30_000) as blocker:
        pane.save_fixed_copy(str(fixed))
    written = blocker.args[0]
    assert (written.valid, written.invalid) == (2, 1)
    text = fixed.read_text(encoding="utf-8")
    assert "+14155550100" in text
    assert "+14155550101" in text
    assert "C000002" not in text
    side = tmp_path / "fixed.rejects.csv"
    assert "4.15555E+10" in side.read_text(encoding="utf-8")
    said = pane.last_written
    assert "1 phone without a spreadsheet's '.0'" in said
    assert "1 phone written out from scientific notation" in said
    assert "1 value trimmed" in said
    assert "1 row left out, in " + str(side) in said
    # The summary stays short (two lines); the whole story is its tooltip and a message.
    assert "wrote fixed.csv: 5 changes, 1 row left out" in pane.summary_label.text()
    assert pane.summary_label.toolTip() == said
    told = pane._prompter.asked[-1]
    assert told[:2] == ("inform", "Fixed copy saved")
    assert "\n• 1 phone written out from scientific notation" in told[2]


def test_a_cell_edited_in_the_table_is_validated_saved_and_uploaded(qtbot, make_pane, tmp_path):
    """Issue 14: a cell is corrected in the preview (F2), marked, validated again, written into
    the fixed copy, and the upload sends a copy with the edit while the file stays as it is."""
    from PySide6.QtWidgets import QLineEdit

    from outbound_desk.ui.preview.models import EditedRole

    pane = make_pane([target()])
    qtbot.waitUntil(lambda: pane.schema_panel.target.count() == 2)
    pane.schema_panel.select_target("list-1")
    rows = messy.good_rows(3)
    rows[1][3] = "not a phone"
    path = messy.write(tmp_path / "typo.csv", [messy.HEADER, *rows])
    original = path.read_bytes()
    report = open_and_validate(qtbot, pane, path)
    assert report.invalid == 1
    pane.show()
    model = pane.rows_model
    qtbot.waitUntil(lambda: model.rowCount() == 3)
    index = model.index(1, 3)
    pane.table.setCurrentIndex(index)
    pane.table.setFocus()
    qtbot.keyClick(pane.table, Qt.Key.Key_F2)
    editor = pane.table.findChild(QLineEdit)
    assert editor is not None  # F2 opened an editor on the cell
    editor.selectAll()
    qtbot.keyClicks(editor, "+1 415 555 0199")
    with qtbot.waitSignal(pane.validation_finished, timeout=30_000) as blocker:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert blocker.args[0].invalid == 0
    assert model.data(index) == "+1 415 555 0199"
    assert model.data(index, EditedRole) == "not a phone"  # marked, with the file's value
    assert model.data(index, Qt.ItemDataRole.FontRole).italic()
    assert pane.edits == {(3, "phoneNumber"): "+1 415 555 0199"}
    assert "1 cell edited" in pane.summary_label.text()

    fixed = tmp_path / "fixed.csv"
    with qtbot.waitSignal(pane.validation_finished, timeout=30_000):
        pane.save_fixed_copy(str(fixed))
    assert "+14155550199" in fixed.read_text(encoding="utf-8")
    assert "1 cell edited by hand" in pane.last_written

    got = []
    pane.upload_requested.connect(got.append)
    with qtbot.waitSignal(pane.upload_requested, timeout=30_000):
        pane.upload_button.click()
    request = got[0]
    assert request.path != str(path)
    assert "+1 415 555 0199" in Path(request.path).read_text(encoding="utf-8")
    assert request.profile.sha256 is not None
    assert request.extra["source"] == {
        "file": str(path),
        "sha256": pane.profile.sha256,
        "edited_cells": 1,
    }
    assert path.read_bytes() == original  # the file itself is never changed


def test_typing_the_files_value_back_removes_the_edit(qtbot, make_pane, tmp_path):
    pane = make_pane()
    path = messy.write(tmp_path / "a.csv", [messy.HEADER, *messy.good_rows(2)])
    with qtbot.waitSignal(pane.profile_changed, timeout=10_000):
        pane.open_file(path)
    qtbot.waitUntil(lambda: pane.rows_model is not None and pane.rows_model.rowCount() == 2)
    model = pane.rows_model
    index = model.index(0, 1)
    assert model.flags(index) & Qt.ItemFlag.ItemIsEditable
    assert model.setData(index, "Ann")
    assert pane.edits == {(2, "firstName"): "Ann"}
    assert model.setData(index, "First0")  # the file's own value: the edit is undone
    assert pane.edits == {}
    assert model.data(index, Qt.ItemDataRole.FontRole) is None


def test_validations_take_the_loaded_rows_until_the_file_or_its_reading_changes(
    qtbot, make_pane, tmp_path, monkeypatch
):
    """Issue 13: the row loader's read fills the table, scans, and keeps its chunks for the
    validations (files.ChunkCache); a changed file, or an override, is read again."""
    pane = make_pane([target()])
    qtbot.waitUntil(lambda: pane.schema_panel.target.count() == 2)
    pane.schema_panel.select_target("list-1")
    path = messy.write(tmp_path / "contacts.csv", [messy.HEADER, *messy.good_rows(300)])
    reads = count_reads(monkeypatch, path)
    report = open_and_validate(qtbot, pane, path)
    qtbot.waitUntil(lambda: pane.rows_model.store.complete, timeout=30_000)
    assert (report.rows, report.valid) == (300, 300)
    assert len(reads) == 1
    assert "load_rows" in reads[0]

    # Validating again (another policy) reads nothing either.
    with qtbot.waitSignal(pane.validation_finished, timeout=30_000) as done:
        pane.schema_panel.duplicates.setCurrentIndex(pane.schema_panel.duplicates.findData("last"))
        pane.validate()
    assert done.args[0].valid == 300
    assert len(reads) == 1

    # The file changes on disk: the next validation reads it, and sees the new row.
    with path.open("a", encoding="utf-8") as fh:
        fh.write(",".join(messy.good_rows(1, start=300)[0]) + "\n")
    with qtbot.waitSignal(pane.validation_finished, timeout=30_000) as done:
        pane.validate()
    assert (done.args[0].rows, done.args[0].valid) == (301, 301)
    assert len(reads) == 2
    assert "validate_file" in reads[1]

    # An override is a new reading: loaded (and kept) again, validated from it.
    with qtbot.waitSignal(pane.validation_finished, timeout=30_000) as done:
        pane.set_overrides({"has_header": False})
    assert done.args[0].rows == 302  # the header is a record now
    qtbot.waitUntil(lambda: pane.rows_model.store.complete, timeout=30_000)
    assert len(reads) == 3
    assert "load_rows" in reads[2]
