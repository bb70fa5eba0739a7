"""The Upload and History tabs in the app's context: preview -> queue -> ledger -> history."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import QUrl

from outbound_desk.config import OrgProfile
from outbound_desk.ui.context import make_context
from outbound_desk.ui.history import HistoryPane, HistoryView
from outbound_desk.ui.upload_queue.tab import UploadPane
from tests.reads import count_reads
from tests.ui.conftest import ScriptedPrompter
from tests.ui2 import messy


@pytest.fixture
def context(qtbot, sandbox):
    ctx = make_context(prompter=ScriptedPrompter())
    profile = OrgProfile(
        name="test sandbox",
        region="sandbox",
        client_id=sandbox.client_id,
        sandbox_url=sandbox.base_url,
    )
    with qtbot.waitSignal(ctx.session.connected, timeout=30_000):
        ctx.session.sign_in(profile, sandbox.client_secret)
    yield ctx
    ctx.jobs.shutdown()
    ctx.tasks.shutdown()
    ctx.session.close()


def test_validate_upload_and_find_it_in_the_history(qtbot, context, sandbox, tmp_path):
    schema = messy.schema()
    created = context.session.connection.client.contact_lists.create(_spec(schema))
    pane = UploadPane(context)
    qtbot.addWidget(pane)
    preview = pane.preview
    preview.refresh_targets()
    qtbot.waitUntil(lambda: preview.schema_panel.target.findData(created.id) >= 0, timeout=30_000)
    preview.schema_panel.select_target(created.id)
    rows = messy.good_rows(120)
    rows[7][3] = "12"  # an invalid phone: rejected, never sent
    path = messy.write(tmp_path / "contacts.csv", [messy.HEADER, *rows], delimiter=";")
    with qtbot.waitSignal(preview.validation_finished, timeout=30_000) as done:
        context.files.open(str(path))  # File > Open in the main window
    report = done.args[0]
    assert (report.valid, report.invalid) == (119, 1)
    qtbot.waitUntil(preview.upload_button.isEnabled, timeout=30_000)  # scanned too
    with qtbot.waitSignal(pane.queue.job_ended, timeout=60_000) as ended:
        preview.upload_button.click()
    job = pane.queue.store.get(ended.args[0])
    assert job.state == "done", job.error
    assert (job.result.created, job.result.rejected) == (119, 1)
    assert sandbox.store.contact_count(created.id) == 119
    assert pane.busy_reason() is None

    assert pane.org_line.text() == (
        f"Org: test sandbox (sandbox) · signed in as client {sandbox.client_id}"
    )
    opened: list[QUrl] = []
    history = HistoryPane(context)
    qtbot.addWidget(history)
    view: HistoryView = history.view
    view._open_url = opened.append
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=30_000)
    model = view.model
    texts = [model.index(0, c).data() for c in range(model.columnCount())]
    assert texts[model.FILE] == "contacts.csv"
    assert texts[model.LIST] == created.name
    assert texts[model.CREATED] == "119"
    assert texts[model.REJECTED] == "1"
    assert texts[model.OUTCOME] == "done"
    # Issue 14: the org it ran in, and the signed-in identity (not the OS user) as "By".
    assert texts[model.ORG] == "test sandbox"
    assert texts[model.BY] == f"client {sandbox.client_id}"
    assert job.result.file_sha256.startswith(texts[model.SHA])
    view.select_row(0)
    assert view.open_button.isEnabled()
    view.open_button.click()
    assert [u.toLocalFile() for u in opened] == [str(job.result.report)]
    with open(job.result.report, encoding="utf-8", newline="") as fh:
        outcomes = [r for r in csv.DictReader(fh)]
    assert len(outcomes) == 120
    pane.shutdown()


def test_an_override_reaches_the_engine_with_the_previewed_profile(
    qtbot, context, sandbox, tmp_path, monkeypatch
):
    """Issue 13: the upload takes what the preview detected (the person's overrides applied)
    and neither sniffs nor scans the file again: it reads it once, to send it."""
    pane = UploadPane(context)
    qtbot.addWidget(pane)
    preview = pane.preview
    # Headerless pipe file: the user says there is no header (and it is so detected too),
    # then chooses the new-list schema from the file's own columns.
    rows = messy.good_rows(30)
    path = messy.write(tmp_path / "noheader.csv", rows, delimiter="|")
    with qtbot.waitSignal(preview.validation_finished, timeout=30_000):
        preview.open_file(path)
    with qtbot.waitSignal(preview.validation_finished, timeout=30_000) as done:
        preview.set_overrides({"has_header": False, "delimiter": "|"})
    assert done.args[0].valid == 30
    qtbot.waitUntil(lambda: preview.upload_button.isEnabled(), timeout=30_000)
    request = preview.upload_request()
    assert request is not None
    assert request.target is None  # a new list from the file's header
    panel = preview.schema_panel
    panel.pick_id_column("column_1")
    qtbot.waitUntil(lambda: preview.upload_button.isEnabled(), timeout=30_000)
    reads = count_reads(monkeypatch, path)
    qtbot.waitUntil(preview.upload_button.isEnabled, timeout=30_000)  # scanned too
    with qtbot.waitSignal(pane.queue.job_ended, timeout=60_000) as ended:
        preview.upload_button.click()
    job = pane.queue.store.get(ended.args[0])
    assert job.state == "done", job.error
    assert job.options.file == path.resolve()  # the file itself, no prepared copy
    assert job.prepared.overrides.delimiter == "|"
    assert job.options.read == {"has_header": False, "delimiter": "|"}
    # Every read is the engine's stream of validated chunks (to send);
    # none is a sniff or a scan of what the preview already profiled.
    assert reads
    assert not [r for r in reads if "open_plan" in r or "in scan" in r or "in sniff" in r]
    assert all("in chunks" in r for r in reads)
    found = sandbox.store.find_list(request.schema.name)
    assert sandbox.store.contact_count(found["id"]) == 30
    asked = [a for a in context.prompter.asked if a[0] == "confirm"]
    assert asked
    assert "column_1" in asked[-1][2]
    pane.shutdown()


def _spec(schema):
    from outbound_desk.genesys import ContactListSpec, PhoneColumn

    return ContactListSpec(
        name=schema.name,
        column_names=schema.columns,
        phone_columns=[PhoneColumn(c, "cell") for c in schema.phone_columns],
    )


def test_history_model_passes_the_model_tester(qtmodeltester):
    from datetime import UTC, datetime, timedelta

    from outbound_desk.ui.history import HistoryModel
    from outbound_desk.upload.ledger import UploadCounts, UploadRecord

    start = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)
    records = [
        UploadRecord(
            id=f"u{i}",
            file_path=f"/data/f{i}.csv",
            file_sha256="ab" * 32,
            list_id=f"l{i}",
            list_name=None if i else "Spring",
            options={},
            transport="api",
            status="done" if i else "running",
            started_at=start,
            ended_at=start + timedelta(seconds=75) if i else None,
            counts=UploadCounts(rows=10, created=9, rejected=1),
            report_path=None,
            profile=None,
            user="ann",
        )
        for i in range(3)
    ]
    model = HistoryModel()
    model.set_records(records)
    qtmodeltester.check(model)
    assert model.index(0, model.LIST).data() == "Spring"
    assert model.index(1, model.LIST).data() == "l1"  # no name recorded: the id
    assert model.index(1, model.DURATION).data() == "1:15"
    assert model.index(0, model.DURATION).data() == "—"
    assert model.index(2, model.BY).data() == "ann"


def test_after_an_upload_no_file_holds_the_secret_or_the_token(qtbot, context, sandbox, tmp_path):
    """Issue 5's proof: sign in, use the app (upload, ledger, report, logs), then search every
    file the app wrote (settings, state, logs, ledger, journal, reports) for the secret and
    the token."""
    import os
    from pathlib import Path

    from outbound_desk.config import setup_logging, teardown_logging

    log_path = setup_logging("DEBUG")
    try:
        schema = messy.schema()
        client = context.session.connection.client
        created = client.contact_lists.create(_spec(schema))
        pane = UploadPane(context)
        qtbot.addWidget(pane)
        preview = pane.preview
        preview.refresh_targets()
        qtbot.waitUntil(
            lambda: preview.schema_panel.target.findData(created.id) >= 0, timeout=30_000
        )
        preview.schema_panel.select_target(created.id)
        path = messy.write(tmp_path / "contacts.csv", [messy.HEADER, *messy.good_rows(40)])
        with qtbot.waitSignal(preview.validation_finished, timeout=30_000):
            context.files.open(str(path))
        qtbot.waitUntil(preview.upload_button.isEnabled, timeout=30_000)  # scanned too
        with qtbot.waitSignal(pane.queue.job_ended, timeout=60_000) as ended:
            preview.upload_button.click()
        job = pane.queue.store.get(ended.args[0])
        assert job.state == "done", job.error
        token = client.tokens.token().access_token.get()
        context.save_settings()
        pane.shutdown()
    finally:
        teardown_logging()
    home = Path(os.environ["OUTBOUND_DESK_CONFIG_DIR"]).parent
    written = [p for p in home.rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert log_path in written
    assert "ledger.sqlite3" in names
    assert Path(job.result.report) in written
    assert "settings.json" in names
    for file in written:
        data = file.read_bytes()
        assert sandbox.client_secret.encode() not in data, file
        assert token.encode() not in data, file


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_at_1024x700_the_table_gets_the_room_and_folds_are_remembered(qtbot, context, tmp_path):
    """At 1024x700 the preview table showed two rows under the detection form and a fixed
    block of upload queue."""
    from outbound_desk.ui.mainwindow import MainWindow

    window = MainWindow(context, [UploadPane])
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    pane: UploadPane = window.panes[0]
    preview = pane.preview
    path = messy.write(tmp_path / "c.csv", [messy.HEADER, *messy.good_rows(500)])
    with qtbot.waitSignal(preview.scan_finished, timeout=30_000):
        context.files.open(str(path))
    bar = preview.profile_bar
    assert not bar.expanded()
    assert not bar.details.isVisible()
    assert "utf-8" in bar.summary.text()
    assert "500 rows" in bar.summary.text()
    assert not pane.queue.expanded()  # nothing queued: one line
    rows_shown = (
        preview.table.viewport().height() // preview.table.verticalHeader().defaultSectionSize()
    )
    assert rows_shown >= 8, rows_shown
    assert window.minimumSizeHint().height() <= 700
    # Opening the detection, and the splitters' positions, are remembered with the layout.
    bar.toggle.click()
    assert bar.details.isVisible()
    preview.schema_panel.splitter.setSizes([200, 700])
    sizes = preview.schema_panel.splitter.sizes()
    window.save_layout()
    window.shutdown()
    again = MainWindow(make_context(store=context.store, prompter=context.prompter), [UploadPane])
    qtbot.addWidget(again)
    again.resize(1024, 700)
    again.show()
    qtbot.waitExposed(again)
    assert again.panes[0].preview.profile_bar.expanded()
    assert again.panes[0].preview.schema_panel.splitter.sizes() == sizes
    again.shutdown()


def test_the_queue_strip_opens_for_a_new_job(qtbot, context, sandbox, tmp_path):
    from outbound_desk.upload.model import UploadOptions
    from tests.upload import helpers

    pane = UploadPane(context)
    qtbot.addWidget(pane)
    assert not pane.queue.expanded()
    assert "no uploads yet" in pane.queue.toggle.text()
    f = helpers.write_csv(tmp_path / "q.csv", 5)
    opts = UploadOptions(
        file=f,
        list="Q",
        create=True,
        schema_path=helpers.schema_file(tmp_path / "q.json", "Q"),
        id_column="customerId",
        via="api",
    )
    with qtbot.waitSignal(pane.queue.job_ended, timeout=60_000):
        pane.queue.enqueue(opts, list_name="Q")
        assert pane.queue.expanded()
    assert "1 job" in pane.queue.toggle.text()
    pane.shutdown()


def test_an_edited_cell_is_uploaded_and_the_ledger_names_the_original(
    qtbot, context, sandbox, tmp_path
):
    """Issue 14: a cell corrected in the preview reaches the list; the upload sends a copy
    with the edit, and the ledger keeps the original file and its SHA-256 beside it."""
    from outbound_desk.upload.ledger import Ledger

    schema = messy.schema()
    created = context.session.connection.client.contact_lists.create(_spec(schema))
    pane = UploadPane(context)
    qtbot.addWidget(pane)
    preview = pane.preview
    preview.refresh_targets()
    qtbot.waitUntil(lambda: preview.schema_panel.target.findData(created.id) >= 0, timeout=30_000)
    preview.schema_panel.select_target(created.id)
    rows = messy.good_rows(5)
    rows[2][3] = "12"
    path = messy.write(tmp_path / "typo.csv", [messy.HEADER, *rows])
    with qtbot.waitSignal(preview.validation_finished, timeout=30_000) as done:
        preview.open_file(path)
    assert done.args[0].invalid == 1
    qtbot.waitUntil(lambda: preview.rows_model.rowCount() == 5)
    model = preview.rows_model
    with qtbot.waitSignal(preview.validation_finished, timeout=30_000) as done:
        model.setData(model.index(2, 3), "(415) 555-0177")
    assert done.args[0].invalid == 0
    qtbot.waitUntil(lambda: preview.upload_button.isEnabled(), timeout=30_000)
    original_sha = preview.profile.sha256
    with qtbot.waitSignal(pane.queue.job_ended, timeout=60_000) as ended:
        preview.upload_button.click()
    job = pane.queue.store.get(ended.args[0])
    assert job.state == "done", job.error
    assert job.result.created == 5
    phones = {c["data"]["phoneNumber"] for c in sandbox.store.all_contacts(created.id)}
    assert "+14155550177" in phones
    assert job.options.file != path.resolve()
    asked = [a for a in context.prompter.asked if a[0] == "confirm"]
    assert "Edited: 1 cell changed in the preview" in asked[-1][2]
    ledger = Ledger(pane._ledger_path())
    try:
        record = ledger.get_upload(job.result.upload_id)
    finally:
        ledger.close()
    assert record.file_sha256 == job.result.file_sha256 != original_sha
    assert record.options["source"] == {
        "file": str(path),
        "sha256": original_sha,
        "edited_cells": 1,
    }
    pane.shutdown()


def test_replace_list_contents_is_one_confirmed_action(qtbot, context, sandbox, tmp_path):
    """Issue 14: Replace was CLI-only (in the app: Clear, then a separate upload). Now the
    preview's "Replace list contents…" asks once, naming org, list, its size and what is
    sent, then clears, waits for 0 and uploads; declined, nothing changes."""
    schema = messy.schema()
    created = context.session.connection.client.contact_lists.create(_spec(schema))
    pane = UploadPane(context)
    qtbot.addWidget(pane)
    preview = pane.preview
    preview.refresh_targets()
    qtbot.waitUntil(lambda: preview.schema_panel.target.findData(created.id) >= 0, timeout=30_000)
    preview.schema_panel.select_target(created.id)
    old = messy.write(tmp_path / "old.csv", [messy.HEADER, *messy.good_rows(12, start=500)])
    with qtbot.waitSignal(preview.validation_finished, timeout=30_000):
        preview.open_file(old)
    qtbot.waitUntil(lambda: preview.upload_button.isEnabled(), timeout=30_000)
    with qtbot.waitSignal(pane.queue.job_ended, timeout=60_000):
        preview.upload_button.click()
    assert sandbox.store.contact_count(created.id) == 12

    new = messy.write(tmp_path / "new.csv", [messy.HEADER, *messy.good_rows(5)])
    with qtbot.waitSignal(preview.validation_finished, timeout=30_000):
        preview.open_file(new)
    qtbot.waitUntil(lambda: preview.replace_button.isEnabled(), timeout=30_000)
    prompter = context.prompter
    prompter.confirm_answer = False
    preview.replace_button.click()
    qtbot.waitUntil(lambda: prompter.asked[-1][1] == "Replace list contents?", timeout=30_000)
    text = prompter.asked[-1][2]
    assert "Org: test sandbox" in text
    assert f"({created.id})" in text
    assert "the list now holds 12 contacts" in text
    assert "then sends 5 valid rows" in text
    assert sandbox.store.contact_count(created.id) == 12  # declined: untouched

    prompter.confirm_answer = True
    with qtbot.waitSignal(pane.queue.job_ended, timeout=60_000) as ended:
        preview.replace_button.click()
    job = pane.queue.store.get(ended.args[0])
    assert job.state == "done", job.error
    assert job.options.replace is True
    ids = {c["data"]["customerId"] for c in sandbox.store.all_contacts(created.id)}
    assert ids == {f"C{i:06d}" for i in range(5)}
    pane.shutdown()


def test_replace_needs_a_list_that_exists(qtbot, context, tmp_path):
    pane = UploadPane(context)
    qtbot.addWidget(pane)
    preview = pane.preview
    path = messy.write(tmp_path / "a.csv", [messy.HEADER, *messy.good_rows(3)])
    with qtbot.waitSignal(preview.validation_finished, timeout=30_000):
        preview.open_file(path)
    qtbot.waitUntil(lambda: preview.upload_button.isEnabled(), timeout=30_000)
    assert preview.schema_panel.current_target() is None  # a new list
    assert not preview.replace_button.isEnabled()
    pane.shutdown()


def test_full_reads_from_open_to_upload_done_with_the_default_settings(
    qtbot,
    context,
    sandbox,
    tmp_path,
    monkeypatch,
):
    """The preview's table and its scan are one read, and the preview's validation (its
    duplicate pre-pass, policy reject, the default, then its main pass) takes that read's
    chunks from memory (files.ChunkCache); the pre-pass's answer goes to the engine with the
    profile. What is left: the stream to the platform; the reconcile works from the ledger
    (docs/ARCHITECTURE.md, "How often a file is read")."""
    schema = messy.schema()
    created = context.session.connection.client.contact_lists.create(_spec(schema))
    pane = UploadPane(context)
    qtbot.addWidget(pane)
    preview = pane.preview
    preview.refresh_targets()
    qtbot.waitUntil(lambda: preview.schema_panel.target.findData(created.id) >= 0, timeout=30_000)
    preview.schema_panel.select_target(created.id)
    rows = messy.good_rows(120)
    path = messy.write(tmp_path / "contacts.csv", [messy.HEADER, *rows], delimiter=";")
    reads = count_reads(monkeypatch, path)
    with qtbot.waitSignal(preview.validation_finished, timeout=30_000):
        context.files.open(str(path))  # File > Open
    qtbot.waitUntil(preview.upload_button.isEnabled, timeout=30_000)
    assert preview.schema_panel.duplicate_policy() == "reject"  # the default preference
    with qtbot.waitSignal(pane.queue.job_ended, timeout=60_000) as ended:
        preview.upload_button.click()
    job = pane.queue.store.get(ended.args[0])
    assert job.state == "done", job.error
    assert sandbox.store.contact_count(created.id) == 120

    def where(stack: str) -> str:
        if "load_rows" in stack:
            return "table+scan"
        if "_prepass" in stack:
            return "duplicates"
        if "reconcile" in stack:
            return "reconcile"
        if "iter_to_send" in stack:
            return "send"
        if "validate_file" in stack:
            return "validate"
        return stack

    # Before issue 13's read work: 8 (table, scan, and a duplicate pre-pass before each of
    # validate, send and reconcile); then 5 (the preview's pre-pass and validation read it),
    # then 3 (the reconcile read it again).
    assert sorted(where(r) for r in reads) == sorted(["table+scan", "send"])
    assert preview.report.valid == 120  # validated all the same
    pane.shutdown()
