"""The file preview and validation pane (issue 6).

Open a file (dialog, drag and drop, recent files) and see at once what the file engine
detected, with controls to override it; a lazy table of the records with problem cells coloured
and explained; the schema diff against the target list with a mapping editor; every issue in a
filterable list; and the actions: export the rejected rows, save a fixed copy, upload the valid
rows. Everything slow runs off the GUI thread through :mod:`outbound_desk.ui.tasks`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from outbound_desk.contacts.repair import KINDS as REPAIR_KINDS
from outbound_desk.ui.filetypes import CSV_FILTER, OPEN_FILTER
from outbound_desk.ui.messages import plural
from outbound_desk.ui.preview.issues import IssueIndex
from outbound_desk.ui.preview.models import IssuesTableModel, RowsTableModel
from outbound_desk.ui.preview.overview import (
    ColumnOverview,
    SummaryBar,
    column_stats,
    issues_per_column,
)
from outbound_desk.ui.preview.profile_bar import ProfileBar
from outbound_desk.ui.preview.rows import RowStore, load_rows
from outbound_desk.ui.preview.schema_panel import SchemaPanel, TargetList
from outbound_desk.ui.prompter import DialogPrompter, Prompter
from outbound_desk.ui.tasks import JobHandle, JobRunner, TaskRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadRequest:
    """What the pane hands the upload queue: the file as the user fixed it, and where it goes."""

    path: str
    profile: Any  # outbound_desk.files.FileProfile (with the user's overrides applied)
    target: TargetList | None  # None: create a new list from ``schema``
    schema: Any  # outbound_desk.contacts.ListSchema
    mapping: Any  # outbound_desk.contacts.ColumnMapping
    region: str
    id_column: str | None
    duplicate_policy: str
    valid_rows: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Clear the list first, wait until it holds 0, then upload (``upload --replace``).
    replace: bool = False
    #: The validation's duplicate pre-pass (``contacts.DuplicatePlan``), for the engine.
    duplicate_plan: Any = None


class PreviewPane(QWidget):
    """Preview, validate and fix a contact file before uploading it.

    Collaborators are injected so that the pane runs alone (``python -m
    outbound_desk.ui.preview``) and in tests: *settings* (``config.Settings``: recent files,
    remembered mappings, default region) with *save_settings* to persist them, *targets* (a
    blocking callable listing the lists a file may go to; run on the task pool), *prompter*
    (dialogs).

    Signals:
      ``file_opened(str)``: a file was opened (its path).
      ``profile_changed(object)``: a new ``FileProfile`` (after opening or an override).
      ``scan_finished(object)``: the streaming scan counted the rows (the scanned profile).
      ``rows_loaded(object)``: every record is in the table (their count).
      ``validation_finished(object)``: a ``ValidationReport``.
      ``upload_requested(object)``: an :class:`UploadRequest` for the upload queue.
      ``failed(str)``: an error the pane showed to the user.
    """

    file_opened = Signal(str)
    profile_changed = Signal(object)
    scan_finished = Signal(object)
    rows_loaded = Signal(object)
    validation_finished = Signal(object)
    upload_requested = Signal(object)
    failed = Signal(str)

    #: Pause after the last change before validation restarts.
    VALIDATE_DELAY_MS = 400
    #: Row issues kept for the panel and the cell colours; beyond this they are only counted.
    MAX_ISSUES = 50_000
    #: Longest wait for the first repaint after a detection before the file's workers start
    #: anyway (a hidden pane is never painted).
    START_FALLBACK_MS = 300
    SNIFF_FALLBACK_MS = 50

    def __init__(
        self,
        *,
        settings: Any = None,
        save_settings: Callable[[], None] | None = None,
        targets: Callable[[], Sequence[TargetList]] | None = None,
        prompter: Prompter | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("PreviewPane")
        self.setAcceptDrops(True)
        self._settings = settings
        self._save_settings_fn = save_settings
        self._targets_fn = targets
        self._prompter: Prompter = prompter or DialogPrompter()
        self._tasks = TaskRunner(self)
        self._jobs = JobRunner(self)

        self._path: str | None = None
        self._overrides: dict[str, Any] = {}
        self._profile: Any = None
        self._store: RowStore | None = None
        #: The parsed chunks of the row loader's read, for the validations (files.ChunkCache).
        self._cache: Any = None
        self._index = IssueIndex()
        self._rows_model: RowsTableModel | None = None
        self._report: Any = None
        self._sniff_task = 0
        self._schema_task = 0  # guessing the "new list" schema from the header
        self._load_job: JobHandle | None = None
        self._validate_job: JobHandle | None = None
        self._generation = 0  # bumped per file (re)read: stale loader answers are ignored
        #: The generation whose read waits for the header's schema guess (-1: none).
        self._loading_after_guess = -1
        self._run = 0  # bumped per validation run: stale validation answers are ignored
        self._header_schema: Any = None  # "new list" schema guessed from the file's header
        self._header_region = ""
        self._file_issues: list[Any] = []  # from sniff and scan: they outlive validations
        self._file_issue_counts: dict[str, int] = {}
        #: Cells edited in the table: (record number, file column) -> value (see set_cell).
        self._edits: dict[tuple[int, str], str] = {}
        #: What the last export or fixed copy wrote, in words (also in the summary line).
        self.last_written = ""
        # Workers of a newly opened file wait for the pane's first repaint (see _on_sniffed).
        self._pending_start: Callable[[], None] | None = None
        self._pending_widget: QWidget | None = None

        self._build()
        self._start_fallback = QTimer(self)
        self._start_fallback.setSingleShot(True)
        self._start_fallback.setInterval(self.START_FALLBACK_MS)
        self._start_fallback.timeout.connect(self._start_pending)
        self._validate_timer = QTimer(self)
        self._validate_timer.setSingleShot(True)
        self._validate_timer.setInterval(self.VALIDATE_DELAY_MS)
        self._validate_timer.timeout.connect(self.validate)
        self.apply_preferences()
        self.refresh_targets()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.open_button = QPushButton("&Open file…")
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.recent_button = QToolButton()
        self.recent_button.setText("Recent")
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QMenu(self.recent_button)
        self.recent_menu.aboutToShow.connect(self._on_recent_menu_about_to_show)
        self.recent_button.setMenu(self.recent_menu)
        self.path_label = QLabel("Open a CSV file, or drop one here.")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.recent_button)
        top.addWidget(self.path_label, 2)
        #: The open-file row; the app adds the org line at its end (ui.orgline).
        self.top_row = top

        self.profile_bar = ProfileBar()
        self.profile_bar.overrides_changed.connect(self._on_profile_bar_overrides_changed)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(
            "QLabel { background: rgba(220,50,47,40); border: 1px solid rgba(220,50,47,160);"
            " padding: 6px; }"
        )
        self.error_label.hide()

        self.table = QTableView()
        self.table.setObjectName("rows")
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        # A cell is corrected where it is seen (double-click or F2); the edit is validated,
        # written into the fixed copy and uploaded.
        self.table.setEditTriggers(
            QTableView.EditTrigger.DoubleClicked
            | QTableView.EditTrigger.EditKeyPressed
            | QTableView.EditTrigger.SelectedClicked
        )
        vh = self.table.verticalHeader()
        # Fixed row heights keep a million-row table cheap to lay out and scroll.
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setDefaultSectionSize(130)
        self.table.horizontalHeader().setStretchLastSection(True)

        self.schema_panel = SchemaPanel()
        self.schema_panel.target_changed.connect(self._on_schema_panel_target_changed)
        self.schema_panel.mapping_changed.connect(self._on_schema_panel_mapping_changed)
        self.schema_panel.options_changed.connect(self._on_schema_panel_options_changed)
        self.schema_panel.id_column_chosen.connect(self._on_schema_panel_id_column_chosen)

        self.issues_model = IssuesTableModel(self)
        self.issues_view = QTableView()
        self.issues_view.setObjectName("issues")
        self.issues_view.setModel(self.issues_model)
        self.issues_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.issues_view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        for column, width in (
            (IssuesTableModel.ROW, 80),
            (IssuesTableModel.COLUMN, 120),
            (IssuesTableModel.SEVERITY, 70),
            (IssuesTableModel.CODE, 170),
        ):
            self.issues_view.setColumnWidth(column, width)
        self.issues_view.setSortingEnabled(True)
        self.issues_view.sortByColumn(IssuesTableModel.ROW, Qt.SortOrder.AscendingOrder)
        self.issues_view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.issues_view.verticalHeader().hide()
        self.issues_view.horizontalHeader().setStretchLastSection(True)
        self.issues_view.doubleClicked.connect(self._on_issues_view_double_clicked)
        self.issue_kind = QComboBox()
        self.issue_kind.activated.connect(self._on_issue_kind_activated)
        self.issue_counts = QLabel()
        self.issue_counts.setWordWrap(True)
        self.issue_counts.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        issues_page = QWidget()
        iv = QVBoxLayout(issues_page)
        ih = QHBoxLayout()
        ih.addWidget(QLabel("Show"))
        ih.addWidget(self.issue_kind)
        ih.addWidget(self.issue_counts, 1)
        iv.addLayout(ih)
        iv.addWidget(self.issues_view, 1)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.schema_panel, "&Schema and mapping")
        self.tabs.addTab(issues_page, "&Issues")

        self.overview = ColumnOverview(self.table)
        self.overview.column_clicked.connect(self._on_overview_column_clicked)
        rows_page = QWidget()
        rows_box = QVBoxLayout(rows_page)
        rows_box.setContentsMargins(0, 0, 0, 0)
        rows_box.setSpacing(0)
        rows_box.addWidget(self.overview)
        rows_box.addWidget(self.table, 1)

        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("preview-splitter")
        split.addWidget(rows_page)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.splitter = split

        self.summary_label = QLabel("")
        # Long summaries wrap instead of widening the window past the screen.
        self.summary_label.setWordWrap(True)
        self.summary_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # Two lines reserved: a summary that wraps must not push the pane up and down.
        self.summary_label.setMinimumHeight(2 * self.fontMetrics().lineSpacing() + 2)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.cancel_button.hide()
        self.validate_button = QPushButton("&Validate")
        self.validate_button.clicked.connect(self.validate)
        self.rejects_button = QPushButton("Export &rejected rows…")
        self.rejects_button.clicked.connect(self._on_rejects_button_clicked)
        self.fixed_button = QPushButton("Save &fixed copy…")
        self.fixed_button.clicked.connect(self._on_fixed_button_clicked)
        self.fixed_button.setToolTip(
            "Write the rows as the list takes them (UTF-8, E.164 phones), with your edits and"
            " the repairs that are certain: spaces trimmed, a spreadsheet's '.0' and scientific"
            " notation undone where no digit was lost, leading zeros put back where the"
            " column's width is certain. Rows that still fail go to a .rejects.csv beside it."
        )
        self.upload_button = QPushButton("&Upload valid rows")
        self.upload_button.clicked.connect(self._on_upload_button_clicked)
        self.replace_button = QPushButton("Re&place list contents…")
        self.replace_button.setToolTip(
            "Empty the chosen list, wait until it holds no contact, then upload the valid rows:"
            " one action, confirmed first (the command line's upload --replace)."
        )
        self.replace_button.clicked.connect(self._on_replace_button_clicked)
        self.summary_bar = SummaryBar()
        self.summary_bar.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary_bar)
        bottom.addWidget(self.summary_label, 1)
        bottom.addWidget(self.progress)
        bottom.addWidget(self.cancel_button)
        for b in (
            self.validate_button,
            self.rejects_button,
            self.fixed_button,
            self.upload_button,
            self.replace_button,
        ):
            bottom.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.profile_bar)
        layout.addWidget(self.error_label)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)

        # No shortcut of its own: in the main window Ctrl+O is File > Open, which opens the
        # file here; a second Ctrl+O on this widget made Qt call the key ambiguous and do
        # nothing. Standing alone (python -m outbound_desk.ui.preview) it gets Ctrl+O.
        self.open_action = QAction("Open file…", self)
        self.open_action.triggered.connect(self._on_open_button_clicked)
        self.addAction(self.open_action)
        self._update_actions()

    # ------------------------------------------------------------------ public API
    @property
    def profile(self) -> Any:
        return self._profile

    @property
    def current_path(self) -> str | None:
        return self._path

    @property
    def rows_model(self) -> RowsTableModel | None:
        return self._rows_model

    @property
    def issue_index(self) -> IssueIndex:
        return self._index

    @property
    def report(self) -> Any:
        return self._report

    @property
    def overrides(self) -> dict[str, Any]:
        return dict(self._overrides)

    def open_file(self, path: str | os.PathLike[str]) -> None:
        """Open *path*: detect its profile (fast), then count and load its rows in workers."""
        self._path = str(Path(path).expanduser())
        self._overrides = {}
        self.path_label.setText(self._path)
        if self._settings is not None:
            self._settings.add_recent_file(self._path)
            self._save_settings()
        self.file_opened.emit(self._path)
        self._cancel_file_jobs()
        # The sniff (a busy Python thread) starts once the new path is painted, so that
        # repaint does not queue for the interpreter lock; a hidden pane waits SNIFF_FALLBACK_MS.
        self._after_paint(self.path_label, self._sniff, self.SNIFF_FALLBACK_MS)

    def set_overrides(self, overrides: dict[str, Any]) -> None:
        """Re-read the open file with *overrides* (keys of ``files.Overrides``)."""
        self._overrides = {k: v for k, v in overrides.items() if v is not None}
        if self._path is not None:
            self._sniff()

    def apply_preferences(self) -> None:
        """Take the default region, duplicate policy and id-column rule from the settings (at
        start and after the Preferences dialog); an open file is validated again."""
        if self._settings is None:
            return
        prefs = self._settings.preferences
        self.schema_panel.set_region(prefs.phone_region)
        i = self.schema_panel.duplicates.findData(prefs.duplicate_policy)
        if i >= 0:
            self.schema_panel.duplicates.setCurrentIndex(i)
        if self._profile is not None:
            self._report = None
            self._update_schema()
            self._update_actions()

    def refresh_targets(self) -> None:
        if self._targets_fn is None:
            return
        self._tasks.run(self._targets_fn, self._on_targets_loaded, self._on_targets_failed)

    def shutdown(self) -> None:
        """Stop every worker and wait for it (the window calls this when closing)."""
        self._validate_timer.stop()
        self._drop_pending_start()
        self._jobs.shutdown()
        self._tasks.shutdown()

    # ------------------------------------------------------------------ opening
    def _cancel_file_jobs(self) -> None:
        self._validate_timer.stop()
        self._drop_pending_start()
        for handle in (self._load_job, self._validate_job):
            if handle is not None:
                handle.cancel()
        self._load_job = self._validate_job = None
        for task in (self._sniff_task, self._schema_task):
            if task:
                self._tasks.discard(task)
        self._sniff_task = self._schema_task = 0

    def _sniff(self) -> None:
        from outbound_desk.files import Overrides, sniff

        self._cancel_file_jobs()
        self._generation += 1
        self._run += 1
        path = self._path
        assert path is not None
        overrides = Overrides(**self._overrides)
        self.error_label.hide()
        # Only the sniff is on the way to showing the detection (issue 6: within 300 ms); the
        # "new list" schema is guessed afterwards, in its own task (_update_schema).
        self._sniff_task = self._tasks.run(
            lambda: sniff(path, overrides), self._on_sniffed, self._on_sniff_failed
        )

    def _on_sniff_failed(self, exc: BaseException) -> None:
        self._sniff_task = 0
        self._show_error(_message(exc))
        if self._profile is None:
            self.profile_bar.clear()

    def _on_sniffed(self, profile: Any) -> None:
        self._sniff_task = 0
        self._header_schema = None
        self._profile = profile
        self._report = None
        self.profile_bar.show_profile(profile, self._overrides)
        self._index = IssueIndex()
        self._store = RowStore(profile.columns)
        self._new_cache(profile)
        self._rows_model = RowsTableModel(self._store, self._index, self)
        # Edits belong to one reading of the file: a re-parse may number its records anew.
        self._edits = self._rows_model.edits
        self._rows_model.cell_edited.connect(self._on_rows_model_cell_edited)
        old = self.table.model()
        self.table.setModel(self._rows_model)
        if old is not None and old is not self._rows_model:
            old.deleteLater()
        self.issues_model.clear()
        self.issues_model.set_column(None)
        self.overview.clear()
        self.overview.set_columns(profile.columns)
        self._file_issues = list(profile.issues)
        self._file_issue_counts = dict(getattr(profile, "issue_counts", {}) or {})
        self._add_issues(profile.issues)
        self.summary_label.setText("")
        # A chosen list's schema is at hand (no worker): shown now, so validation can start.
        known_target = self.schema_panel.current_target() is not None
        if known_target:
            self._update_schema()
        self.profile_changed.emit(profile)
        self._update_actions()
        # The first repaint after a detection re-lays-out the whole pane (hundreds of events,
        # each needing the GIL); with the row loader, the scan's feeders and the schema guess
        # already running it took 100-200 ms. They start once that repaint is done.
        generation = self._generation

        def start() -> None:
            if generation != self._generation:
                return
            if known_target:
                self._start_loading(profile)  # the table's rows and the scan: one read
            else:
                # The guess runs phonenumbers in Python: beside the reader's first blocks and
                # the first rows' repaint, each of the GUI thread's many takes of the lock
                # waited a switch interval (open-phase stalls of 50-70 ms). The read starts
                # when the guess lands (tens of ms; _start_loading_after_guess).
                self._loading_after_guess = generation
                self._update_schema()  # guesses the "new list" schema in a worker
            self._update_actions()

        self._after_paint(self.table.viewport(), start, self.START_FALLBACK_MS)

    def _new_cache(self, profile: Any) -> None:
        """A cache for this reading of the file (the row loader fills it, the validations read
        it); the last reading's is dropped, so its memory goes with the table it shared."""
        from outbound_desk.contacts import ValidationOptions
        from outbound_desk.files import ChunkCache

        if self._cache is not None:
            self._cache.drop("another reading of the file replaced it")
        self._cache = ChunkCache(profile, chunk_rows=ValidationOptions().chunk_rows)

    def _after_paint(self, widget: QWidget, fn: Callable[[], None], fallback_ms: int) -> None:
        """Run *fn* once *widget* has been repainted (or after *fallback_ms*, as a hidden widget
        is never painted): GIL-hungry workers started meanwhile would make that repaint wait
        for the interpreter lock at each of its hundreds of events."""
        self._drop_pending_start()
        self._pending_start = fn
        self._pending_widget = widget
        widget.installEventFilter(self)
        self._start_fallback.start(fallback_ms)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            self._pending_start is not None
            and watched is self._pending_widget
            and event.type() == QEvent.Type.Paint
        ):
            # Queued: the rest of this repaint pass (other widgets) runs first.
            QTimer.singleShot(0, self._start_pending)
        return super().eventFilter(watched, event)

    def _drop_pending_start(self) -> None:
        self._start_fallback.stop()
        if self._pending_widget is not None:
            self._pending_widget.removeEventFilter(self)
        self._pending_start = self._pending_widget = None

    def _start_pending(self) -> None:
        start = self._pending_start
        self._drop_pending_start()
        if start is not None:
            start()

    def _start_loading(self, profile: Any) -> None:
        """Read the file once on a worker: the table's rows and the scan (rows, SHA-256,
        issues) together (issue 13: the table load and the scan were two full reads)."""
        store, cache = self._store, self._cache
        assert store is not None
        assert cache is not None
        generation = self._generation

        def work(progress: Any, cancelled: Any) -> Any:
            return load_rows(
                profile,
                store,
                progress=progress,
                cancelled=cancelled,
                chunk_rows=cache.chunk_rows,
                cache=cache,
            )

        def on_progress(done: int, total: int, _phase: str) -> None:
            self._on_load_progress(generation)
            self._on_scan_progress(generation, done, total)

        def on_success(scanned: Any) -> None:
            self._on_loaded(generation, len(store))
            if scanned is not None:
                self._on_scanned(generation, scanned)

        self._load_job = self._jobs.start(
            work,
            name="load-rows",
            on_progress=on_progress,
            on_success=on_success,
            on_failure=lambda exc: self._on_job_failed(generation, "Reading the file", exc),
        )

    def _on_load_progress(self, generation: int) -> None:
        if generation == self._generation and self._rows_model is not None:
            self._rows_model.rows_available()

    def _on_loaded(self, generation: int, count: int) -> None:
        if generation != self._generation or self._rows_model is None:
            return
        self._load_job = None
        self._rows_model.rows_available()
        store = self._store
        if store is not None and store.complete:
            names = list(store.columns)
            arrays = [store.column_arrays(c) for c in range(len(names))]
            self._tasks.run(
                lambda: column_stats(names, arrays),
                lambda stats: self._on_column_stats(generation, stats),
                lambda exc: log.warning("column statistics failed: %s", exc),
            )
        self.rows_loaded.emit(count)

    def _on_column_stats(self, generation: int, stats: list[Any]) -> None:
        if generation == self._generation:
            self.overview.set_stats(stats)

    def _on_scan_progress(self, generation: int, done: int, total: int) -> None:
        if generation == self._generation:
            self.profile_bar.show_counting(done, total)

    def _on_scanned(self, generation: int, scanned: Any) -> None:
        if generation != self._generation:
            return
        self._profile = scanned
        self.profile_bar.show_counts(scanned)
        self._file_issues = list(scanned.issues)
        self._file_issue_counts = dict(getattr(scanned, "issue_counts", {}) or {})
        self._add_issues(scanned.issues, self._file_issue_counts)
        self._update_summary()
        self.scan_finished.emit(scanned)
        self._update_actions()

    def _on_job_failed(self, generation: int, what: str, exc: BaseException) -> None:
        if generation != self._generation:
            return
        log.warning("%s failed: %s", what, exc, exc_info=exc)
        self._show_error(f"{what} failed: {_message(exc)}")
        self._update_actions()

    def _add_issues(self, issues: Sequence[Any], counts: dict[str, int] | None = None) -> None:
        added = self._index.add(issues)
        if counts:
            self._index.add_counts(counts)
        self.issues_model.append(added)
        if added and self._rows_model is not None:
            self._rows_model.issues_changed()
        self._update_issue_kinds()

    def _update_issue_kinds(self) -> None:
        counts = self._index.counts()
        current = self.issue_kind.currentData()
        self.issue_kind.blockSignals(True)
        self.issue_kind.clear()
        self.issue_kind.addItem(f"all kinds ({sum(counts.values()):,})", None)
        for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            self.issue_kind.addItem(f"{code} ({n:,})", code)
        i = self.issue_kind.findData(current)
        self.issue_kind.setCurrentIndex(max(i, 0))
        self.issue_kind.blockSignals(False)
        # A new file or a re-parse may drop the kind that was chosen: the list must show what
        # the combo says ("all kinds (2,677)" over an empty, still-filtered list did not).
        chosen = self.issue_kind.currentData()
        if chosen != self.issues_model.code_filter:
            self.issues_model.set_code(chosen)
        self.overview.set_issue_counts(issues_per_column(self._index.issues()))
        shown = len(self._index)
        total = sum(counts.values())
        column = self.issues_model.column_filter
        self.issue_counts.setText(
            plural(total, "issue")
            + (
                f"; showing column {column} ({self.issues_model.rowCount():,}): click its "
                "bar above the table again to show every column"
                if column is not None
                else ""
            )
            + (f" ({shown:,} listed; the rest are counted)" if total > shown else "")
        )
        self.tabs.setTabText(1, f"&Issues ({total:,})")

    # ------------------------------------------------------------------ schema and validation
    def _update_schema(self) -> None:
        profile = self._profile
        if profile is None:
            return
        target = self.schema_panel.current_target()
        if target is None:
            region = self.schema_panel.region_code()
            schema = self._header_schema
            if schema is None or self._header_region != region:
                self._guess_header_schema(profile, region)
                return
            remembered = saved_id = None
        else:
            schema = target.schema
            prefs = self._settings.preferences if self._settings is not None else None
            remembered = prefs.column_mappings.get(target.list_id) if prefs else None
            saved_id = prefs.id_columns.get(target.list_id) if prefs else None
        self.schema_panel.show_schema(
            schema,
            profile.columns,
            profile.has_header,
            remembered,
            samples=_samples(profile),
            saved_id=saved_id,
            guess_id=self._settings is None or self._settings.preferences.id_column_rule == "auto",
        )
        self._schedule_validation()

    def _guess_header_schema(self, profile: Any, region: str) -> None:
        """Guess the "new list" schema on the task pool (it loads phone metadata: tens of ms);
        :meth:`_update_schema` shows it when it lands."""
        if self._schema_task:
            self._tasks.discard(self._schema_task)
        generation = self._generation

        def on_guessed(schema: Any) -> None:
            self._schema_task = 0
            if generation != self._generation:
                return
            self._header_schema, self._header_region = schema, region
            self._start_loading_after_guess()
            self._update_schema()
            self._update_actions()

        def on_failed(exc: BaseException) -> None:
            self._schema_task = 0
            if generation == self._generation:
                self._start_loading_after_guess()
                self._show_error(f"Could not read the header as a list schema: {_message(exc)}")

        self._schema_task = self._tasks.run(
            lambda: _header_schema(profile, region), on_guessed, on_failed
        )

    def _start_loading_after_guess(self) -> None:
        """Start the read that waited for the header's schema guess (once per reading)."""
        if self._loading_after_guess == self._generation and self._profile is not None:
            self._loading_after_guess = -1
            self._start_loading(self._profile)

    def _schedule_validation(self) -> None:
        if self._profile is not None:
            self._validate_timer.start()

    def _validation_inputs(self) -> tuple[Any, Any, Any] | None:
        from outbound_desk.contacts import DuplicatePolicy, ValidationOptions

        schema = self.schema_panel.schema
        mapping = self.schema_panel.mapping
        if self._profile is None or schema is None or mapping is None:
            return None
        schema = schema.with_id_column(self.schema_panel.id_column_name())
        options = ValidationOptions(
            region=self.schema_panel.region_code(),
            duplicates=DuplicatePolicy(self.schema_panel.duplicate_policy()),
            # The issues panel and the cell colours show many more than the CLI lists.
            max_issues=self.MAX_ISSUES,
        )
        return schema, mapping, options

    @Slot()
    def validate(self) -> None:
        """Validate the whole file against the target in a worker (cancels a running one)."""
        self._validate_timer.stop()
        if self._validate_job is not None:
            self._validate_job.cancel()
            self._validate_job = None
        inputs = self._validation_inputs()
        if inputs is None or self._schema_task:
            return  # a schema being guessed validates when it lands (_update_schema)
        self._start_validation(inputs, name="validate", busy="Validating…")

    def _start_validation(
        self,
        inputs: tuple[Any, Any, Any],
        *,
        name: str,
        busy: str,
        out: str | None = None,
        rejects: str | None = None,
        repair: bool = False,
    ) -> None:
        """Run ``validate_file`` over the whole file on a worker thread, optionally writing the
        normalised and the rejects files; one path for the Validate button and the two export
        actions. The cells edited in the table are applied to every run; *repair* (the fixed
        copy) adds the safe repairs of ``contacts.repair``."""
        from outbound_desk.contacts import validate_file
        from outbound_desk.contacts.repair import edits_only, plan_repairs

        schema, mapping, options = inputs
        profile = self._profile
        self._run += 1
        run = self._run
        file_issues, file_counts = list(self._file_issues), dict(self._file_issue_counts)
        edits = dict(self._edits)
        cache = self._cache  # the row loader's chunks: no second read of the file

        def work(progress: Any, cancelled: Any) -> Any:
            plan = None
            if repair:
                plan = plan_repairs(
                    profile,
                    schema,
                    mapping,
                    edits=edits,
                    progress=lambda d, t, _p: progress(d, t, "repairs"),
                    cancelled=cancelled,
                    cache=cache,
                )
            elif edits:
                plan = edits_only(edits)
            report = validate_file(
                profile,
                schema,
                mapping,
                options,
                out=out,
                rejects=rejects,
                progress=progress,
                cancelled=cancelled,
                repair=plan,
                cache=cache,
            )
            if rejects is not None and repair and not report.invalid:
                Path(rejects).unlink(missing_ok=True)  # no rejected row: no side file
                report.rejects = None
            return _indexed(report, file_issues, file_counts)

        written = out or rejects

        def on_success(result: Any) -> None:
            if written is None:
                self._on_validated(run, result)
            else:
                self._on_written(run, result, str(written))

        self._set_busy(busy)
        self._validate_job = self._jobs.start(
            work,
            name=name,
            on_progress=lambda d, t, p: self._on_validate_progress(run, d, t, p),
            on_success=on_success,
            on_failure=lambda exc: self._on_validate_failed(run, exc),
            on_cancelled=lambda: self._on_validate_cancelled(run),
        )
        self._update_actions()

    def _set_busy(self, text: str) -> None:
        self.progress.setRange(0, 0)
        self.progress.setFormat(text)
        self.progress.show()
        self.cancel_button.show()

    def _set_idle(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    def _on_validate_progress(self, run: int, done: int, total: int, phase: str) -> None:
        if run != self._run:
            return
        if total > 0:
            # Byte counts pass 2**31: scale to permille so the bar's int range never overflows.
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(done * 1000 // total))
        self.progress.setFormat(f"{phase} %p%")

    def _on_validated(self, run: int, result: tuple[Any, IssueIndex, list[Any]]) -> None:
        if run != self._run:
            return
        report, index, ordered = result
        self._validate_job = None
        self._set_idle()
        self._report = report
        # A new validation replaces the last one's row issues (the file's own issues stay);
        # the index was built on the worker, so tens of thousands of issues cost nothing here.
        self._index = index
        if self._rows_model is not None:
            self._rows_model.set_issue_index(index)
        self.issues_model.set_issues(ordered, presorted=True)
        self._update_issue_kinds()
        self._update_summary()
        self._update_actions()
        self.validation_finished.emit(report)

    def _on_validate_failed(self, run: int, exc: BaseException) -> None:
        if run != self._run:
            return
        self._validate_job = None
        self._set_idle()
        self._show_error(f"Validation failed: {_message(exc)}")
        self._update_actions()

    def _on_validate_cancelled(self, run: int) -> None:
        if run != self._run:
            return
        self._validate_job = None
        self._set_idle()
        self.summary_label.setText("Validation cancelled.")
        self._update_actions()

    def _update_summary(self) -> None:
        parts = []
        profile = self._profile
        if profile is not None and profile.rows is not None:
            parts.append(plural(profile.rows, "row"))
        r = self._report
        self.summary_bar.setVisible(r is not None)
        if r is not None:
            self.summary_bar.set_counts(r.valid, r.invalid, r.duplicates)
            parts.append(f"<b>{r.valid:,}</b> valid")
            parts.append(f"<b>{r.invalid:,}</b> invalid")
            parts.append(plural(r.duplicates, "duplicate id"))
        if self._edits:
            parts.append(plural(len(self._edits), "cell") + " edited")
            if r.blocked:
                parts.append(
                    "<span style='color:#c0392b'>blocked by the schema: map or exclude "
                    + ", ".join(r.mapping.unresolved or ["the columns"])
                    + ", or feed the required list columns</span>"
                )
        self.summary_label.setText(" · ".join(parts))

    # ------------------------------------------------------------------ actions
    def _update_actions(self) -> None:
        has_file = self._profile is not None
        busy = self._validate_job is not None
        validated = self._report is not None and not busy
        blocked = bool(getattr(self._report, "blocked", False))
        self.validate_button.setEnabled(has_file and not busy)
        self.rejects_button.setEnabled(validated and bool(getattr(self._report, "invalid", 0)))
        self.fixed_button.setEnabled(validated and not blocked)
        # The upload takes the scanned profile (rows, SHA-256) as it is: wait for the scan.
        scanned = getattr(self._profile, "sha256", None) is not None
        can_upload = (
            validated and scanned and not blocked and bool(getattr(self._report, "valid", 0))
        )
        self.upload_button.setEnabled(can_upload)
        # Replacing needs a list that exists; a new list is empty anyway.
        target = self.schema_panel.current_target()
        self.replace_button.setEnabled(can_upload and target is not None and bool(target.list_id))

    def export_rejects(self, path: str) -> None:
        """Write the rejected rows with their row numbers and reasons (a spreadsheet-safe CSV)."""
        self._write_outputs(rejects=path)

    def save_fixed_copy(self, path: str) -> None:
        """Write the rows as UTF-8, comma-separated, with the list's header and E.164, after
        the edits and the safe repairs (``contacts.repair``); the rows still invalid go to
        ``<name>.rejects.csv`` beside it (none when every row passed)."""
        rejects = str(Path(path).with_suffix("")) + ".rejects.csv"
        self._write_outputs(out=path, rejects=rejects, repair=True)

    def _write_outputs(
        self, *, out: str | None = None, rejects: str | None = None, repair: bool = False
    ) -> None:
        inputs = self._validation_inputs()
        if inputs is None:
            return
        self._start_validation(
            inputs, name="write", busy="Writing…", out=out, rejects=rejects, repair=repair
        )

    def _on_written(self, run: int, result: Any, path: str) -> None:
        self._on_validated(run, result)
        if run != self._run:
            return
        report = result[0]
        self.last_written = written_summary(report, path)
        if report.out is None:  # the rejected rows: where they went is all there is to say
            self.summary_label.setText(self.summary_label.text() + " · " + self.last_written)
            return
        # The summary keeps to its two lines (a longer one pushed the pane up); the repairs,
        # kind by kind, are in its tooltip and in the message that follows the save.
        repaired = sum(report.repairs.get(k, 0) for k in REPAIR_KINDS)
        short = f"wrote {Path(report.out).name}: " + plural(repaired, "change")
        if report.invalid:
            short += f", {plural(report.invalid, 'row')} left out"
        self.summary_label.setText(self.summary_label.text() + " · " + short)
        self.summary_label.setToolTip(self.last_written)
        self._prompter.inform(self, "Fixed copy saved", _sentences(self.last_written))

    def upload_request(self) -> UploadRequest | None:
        inputs = self._validation_inputs()
        if inputs is None or self._path is None:
            return None
        schema, mapping, options = inputs
        return UploadRequest(
            path=self._path,
            profile=self._profile,
            target=self.schema_panel.current_target(),
            schema=schema,
            mapping=mapping,
            region=options.region,
            id_column=schema.id_column,
            duplicate_policy=self.schema_panel.duplicate_policy(),
            valid_rows=getattr(self._report, "valid", None),
            duplicate_plan=getattr(self._report, "duplicate_plan", None),
        )

    # ------------------------------------------------------------------ slots
    @Slot()
    def _on_open_button_clicked(self) -> None:
        path = self._prompter.open_path(self, "Open a contact file", OPEN_FILTER)
        if path:
            self.open_file(path)

    @Slot()
    def _on_recent_menu_about_to_show(self) -> None:
        self.recent_menu.clear()
        recent = self._settings.preferences.recent_files if self._settings is not None else []
        for p in recent:
            if not Path(p).exists():
                continue
            action = self.recent_menu.addAction(p)
            action.setData(p)
            action.triggered.connect(self._on_recent_action_triggered)
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(no recent files)").setEnabled(False)

    @Slot()
    def _on_recent_action_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction) and action.data():
            self.open_file(str(action.data()))

    @Slot(object)
    def _on_profile_bar_overrides_changed(self, overrides: dict[str, Any]) -> None:
        self.set_overrides(overrides)

    @Slot(object)
    def _on_schema_panel_target_changed(self, _target: Any) -> None:
        self._report = None
        self._update_schema()
        self._update_actions()

    @Slot(object)
    def _on_schema_panel_mapping_changed(self, mapping: Any) -> None:
        target = self.schema_panel.current_target()
        if self._settings is not None and target is not None and target.list_id:
            self._settings.remember_mapping(target.list_id, dict(mapping.targets))
            self._save_settings()
        self._report = None
        self._schedule_validation()
        self._update_actions()

    @Slot()
    def _on_schema_panel_options_changed(self) -> None:
        if self._settings is not None:
            self._settings.preferences.phone_region = self.schema_panel.region_code()
            self._save_settings()
        self._report = None
        self._schedule_validation()
        self._update_actions()

    @Slot(object)
    def _on_schema_panel_id_column_chosen(self, column: str | None) -> None:
        target = self.schema_panel.current_target()
        if self._settings is not None and target is not None and target.list_id and column:
            self._settings.preferences.id_columns[target.list_id] = column
            self._save_settings()

    @Slot(int, str, object)
    def _on_rows_model_cell_edited(self, _record: int, _column: str, _value: Any) -> None:
        # The model keeps the overlay (self._edits is the same dict): validate it again.
        self._report = None
        self._schedule_validation()
        self._update_actions()

    @property
    def edits(self) -> dict[tuple[int, str], str]:
        """The cells edited in the table: (record number, file column) -> value."""
        return dict(self._edits)

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        # The job ends at its next check; its "cancelled" answer puts the pane back to idle.
        if self._validate_job is not None:
            self._validate_job.cancel()

    @Slot(object)
    def _on_overview_column_clicked(self, column: str) -> None:
        """A column's bar lists that column's issues (a second click lists all again)."""
        same = self.issues_model.column_filter == column
        self.issues_model.set_column(None if same else column)
        self.tabs.setCurrentIndex(1)
        self._update_issue_kinds()

    def _on_issue_kind_activated(self) -> None:
        self.issues_model.set_code(self.issue_kind.currentData())

    @Slot(QModelIndex)
    def _on_issues_view_double_clicked(self, index: QModelIndex) -> None:
        self.jump_to_issue(self.issues_model.issue(index.row()))

    def jump_to_issue(self, issue: Any) -> bool:
        """Select the cell *issue* points at in the rows table; False when it has no cell."""
        if issue.row is None or self._store is None or self._rows_model is None:
            return False
        row = self._store.row_of_record(int(issue.row))
        if row is None or not self._rows_model.ensure_row(row):
            return False
        col = 0
        if issue.column in self._store.columns:
            col = self._store.columns.index(issue.column)
        index = self._rows_model.index(row, col)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index, QTableView.ScrollHint.PositionAtCenter)
        self.table.setFocus()
        return True

    @Slot()
    def _on_rejects_button_clicked(self) -> None:
        suggested = str(Path(self._path or "file").with_suffix("")) + ".rejects.csv"
        path = self._prompter.save_path(self, "Export rejected rows", suggested, CSV_FILTER)
        if path:
            self.export_rejects(path)

    @Slot()
    def _on_fixed_button_clicked(self) -> None:
        suggested = str(Path(self._path or "file").with_suffix("")) + ".fixed.csv"
        path = self._prompter.save_path(
            self,
            "Save a repaired copy (UTF-8 CSV; rows still invalid go beside it)",
            suggested,
            CSV_FILTER,
        )
        if path:
            self.save_fixed_copy(path)

    @Slot()
    def _on_upload_button_clicked(self) -> None:
        self._request_upload(replace=False)

    @Slot()
    def _on_replace_button_clicked(self) -> None:
        self._request_upload(replace=True)

    def _request_upload(self, *, replace: bool) -> None:
        request = self.upload_request()
        if request is None:
            return
        if replace:
            request = dataclass_replace(request, replace=True)
        if self._edits:
            self._prepare_edited_upload(request)
        else:
            self.upload_requested.emit(request)

    def _prepare_edited_upload(self, request: UploadRequest) -> None:
        """Write the file with the edits (``contacts.repair.write_edited_copy``) into the data
        directory, read it back as the upload will, and ask for its upload: the original
        file stays as it is, and the request names it (``extra["source"]``)."""
        import hashlib
        import json

        from outbound_desk.config import data_dir
        from outbound_desk.contacts.repair import write_edited_copy
        from outbound_desk.files import Overrides, scan, sniff

        profile = self._profile
        edits = dict(self._edits)
        source_sha = getattr(profile, "sha256", None)
        key = json.dumps([source_sha, sorted([r, c, v] for (r, c), v in edits.items())])
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
        folder = data_dir() / "prepared" / "edited"
        copy = folder / f"{Path(request.path).stem}.edited-{digest}.csv"
        run = self._run

        def work(progress: Any, cancelled: Any) -> Any:
            folder.mkdir(parents=True, exist_ok=True)
            write_edited_copy(profile, edits, copy, progress=progress, cancelled=cancelled)
            # Written with a header of the file's own column names: read it as such.
            return scan(sniff(copy, Overrides(has_header=True)), cancelled=cancelled)

        def on_success(scanned: Any) -> None:
            self._validate_job = None
            self._set_idle()
            self._update_actions()
            if run != self._run:
                return  # the file or the edits changed meanwhile
            source = {"file": request.path, "sha256": source_sha, "edited_cells": len(edits)}
            self.upload_requested.emit(
                dataclass_replace(
                    request,
                    path=str(copy),
                    profile=scanned,
                    extra={**request.extra, "source": source},
                )
            )

        def on_failure(exc: BaseException) -> None:
            self._validate_job = None
            self._set_idle()
            self._show_error(f"Could not write the edited copy to upload: {_message(exc)}")
            self._update_actions()

        def on_cancelled() -> None:
            self._validate_job = None
            self._set_idle()
            self._update_actions()

        self._set_busy("Writing the edited copy…")
        self._validate_job = self._jobs.start(
            work,
            name="edited-copy",
            on_progress=lambda d, t, p: self._on_validate_progress(run, d, t, p),
            on_success=on_success,
            on_failure=on_failure,
            on_cancelled=on_cancelled,
        )
        self._update_actions()

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if len(urls) == 1 and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            self.open_file(urls[0].toLocalFile())

    # ------------------------------------------------------------------ helpers
    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()
        self.failed.emit(text)

    def _save_settings(self) -> None:
        if self._save_settings_fn is not None:
            try:
                self._save_settings_fn()
            except OSError as exc:  # settings are a convenience: never fail the pane for them
                log.warning("could not save settings: %s", exc)

    def _on_targets_loaded(self, targets: Sequence[TargetList]) -> None:
        self.schema_panel.set_targets(targets)

    def _on_targets_failed(self, exc: BaseException) -> None:
        self._show_error(f"Could not list the contact lists: {_message(exc)}")


def _sentences(text: str) -> str:
    """A summary's ``; ``-joined parts, one a line, for a message box."""
    first, *rest = text.split("; ")
    return first[:1].upper() + first[1:] + "." + "".join(f"\n• {p}" for p in rest)


def written_summary(report: Any, path: str) -> str:
    """What an export or the fixed copy wrote, in plain words: rows, repairs, rows left out."""
    from outbound_desk.contacts.repair import describe

    if report.out is None:
        return f"wrote {report.rejects or path}"
    text = f"wrote {plural(report.rows_out, 'row')} to {report.out}"
    done = describe(report.repairs)
    text += f"; repaired: {done}" if done else "; nothing needed repairing"
    if report.invalid:
        left = plural(report.invalid, "row")
        text += f"; {left} left out" + (f", in {report.rejects}" if report.rejects else "")
    return text


def _indexed(
    report: Any, file_issues: list[Any], file_counts: dict[str, int]
) -> tuple[Any, IssueIndex, list[Any]]:
    """The report, an issue index over the file's and the report's issues, and those issues
    in the panel's default order: built on the worker, handed to the GUI whole."""
    index = IssueIndex()
    index.add(file_issues)
    index.add_counts(file_counts)
    index.add(report.issues)
    index.add_counts(dict(getattr(report, "issue_counts", {}) or {}))
    ordered = sorted(
        index.issues(), key=lambda i: (-1 if i.row is None else int(i.row), i.column or "")
    )
    return report, index, ordered


def _samples(profile: Any) -> dict[str, list[str]]:
    """The detection's sample values per file column."""
    return {c: [r[i] for r in profile.preview if i < len(r)] for i, c in enumerate(profile.columns)}


def _header_schema(profile: Any, region: str) -> Any:
    """The schema of a new list made from the file's header (phone columns guessed)."""
    from outbound_desk.contacts import ListSchema

    # The platform's column names are unique regardless of case; the file engine already made
    # empty and exact-duplicate names unique (and reports them), so do the same for names that
    # differ only in case ("name", "Name" -> "name", "Name_2"). The file still opens with its
    # duplicate_header issue shown, instead of failing to open at all.
    seen: set[str] = set()
    columns: list[str] = []
    for column in profile.columns:
        name, n = column, 1
        while name.casefold() in seen:
            n += 1
            name = f"{column}_{n}"
        seen.add(name.casefold())
        columns.append(name)
    samples = {c: [r[i] for r in profile.preview if i < len(r)] for i, c in enumerate(columns)}
    return ListSchema.from_header(
        columns, name=Path(profile.path).stem, samples=samples, region=region
    )


def _message(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0] if text else type(exc).__name__
