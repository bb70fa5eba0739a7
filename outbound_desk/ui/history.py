"""Upload history: past uploads from the ledger, with checksum, list, counts, duration and
outcome; reopen or save an upload's outcome report."""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from outbound_desk.ui.messages import plural
from outbound_desk.ui.panes import Pane
from outbound_desk.ui.prompter import DialogPrompter, Prompter
from outbound_desk.ui.tasks import TaskRunner
from outbound_desk.ui.upload_queue.card import fmt_duration

if TYPE_CHECKING:
    from outbound_desk.ui.context import AppContext

log = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex
#: How often a visible History pane looks whether the ledger changed (a stat, no query).
LIVE_CHECK_MS = 2_000


def _duration(record: Any) -> float | None:
    if record.ended_at is None:
        return None
    return float((record.ended_at - record.started_at).total_seconds())


class HistoryModel(QAbstractTableModel):
    """Past uploads (``UploadRecord`` objects from the ledger), newest first.

    A Qt model over a plain list the ledger query returns (STYLE rule 3); ``set_records``
    replaces it. ``Qt.UserRole`` on any cell gives the record; sorting keys are the raw values.
    """

    HEADERS = (
        "Started",
        "File",
        "SHA-256",
        "List",
        "Rows",
        "Created",
        "Updated",
        "Unchanged",
        "Rejected",
        "Duration",
        "Outcome",
        "Transport",
        "Org",
        "By",
    )
    (
        STARTED,
        FILE,
        SHA,
        LIST,
        ROWS,
        CREATED,
        UPDATED,
        UNCHANGED,
        REJECTED,
        DURATION,
        OUTCOME,
        TRANSPORT,
        ORG,
        BY,
    ) = range(14)
    RecordRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._records: list[Any] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def record(self, row: int) -> Any:
        return self._records[row]

    def set_records(self, records: Sequence[Any]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self._records[index.row()]
        col = index.column()
        if role == self.RecordRole:
            return r
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.SHA:
                return r.file_sha256
            if col == self.FILE:
                return r.file_path
            if col == self.LIST:
                return r.list_id
            if col == self.OUTCOME and r.report_path:
                return f"Report: {r.report_path}"
        if role == Qt.ItemDataRole.TextAlignmentRole and self.ROWS <= col <= self.DURATION:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, r: Any, col: int) -> str:
        c = r.counts
        values = {
            self.STARTED: r.started_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            self.FILE: Path(r.file_path).name,
            self.SHA: (r.file_sha256 or "")[:12],
            self.LIST: r.list_name or r.list_id,
            self.ROWS: f"{c.rows:,}",
            self.CREATED: f"{c.created:,}",
            self.UPDATED: f"{c.updated:,}",
            self.UNCHANGED: f"{c.unchanged:,}",
            # Rows the duplicate policy dropped are no rejects, but not in the list either.
            self.REJECTED: f"{c.rejected:,}" + (f" (+{c.dropped:,} dropped)" if c.dropped else ""),
            self.DURATION: fmt_duration(_duration(r)),
            self.OUTCOME: str(r.status),
            self.TRANSPORT: str(r.transport),
            # The profile (org) the upload ran in, and who was signed in (uploads recorded
            # before the identity was kept have the OS user there).
            self.ORG: r.profile or "",
            self.BY: r.user or "",
        }
        return str(values[col])


class HistoryView(QWidget):
    """The history table with Refresh, Open report and Save report.

    *ledger_path* returns the ledger file; the query runs on the task pool. *open_url* opens a
    report (the desktop's CSV viewer by default; tests pass their own). Signals:
    ``loaded(int)`` after a refresh (the number of uploads shown), ``failed(str)``.
    """

    loaded = Signal(int)
    failed = Signal(str)

    def __init__(
        self,
        *,
        ledger_path: Callable[[], Path],
        tasks: TaskRunner | None = None,
        prompter: Prompter | None = None,
        open_url: Callable[[QUrl], object] = QDesktopServices.openUrl,
        limit: int = 500,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ledger_path = ledger_path
        self._tasks = tasks or TaskRunner(self)
        self._own_tasks = tasks is None
        self._prompter: Prompter = prompter or DialogPrompter()
        self._open_url = open_url
        self._limit = limit
        self.model = HistoryModel(self)
        self.table = QTableView()
        self.table.setObjectName("history")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.status = QLabel()
        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button = QPushButton("&Open report")
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.save_button = QPushButton("&Save report as…")
        self.save_button.clicked.connect(self._on_save_button_clicked)
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Upload history</b>"))
        top.addWidget(self.status, 1)
        for b in (self.refresh_button, self.open_button, self.save_button):
            top.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self._update_buttons()

    @Slot()
    def refresh(self) -> None:
        from outbound_desk.upload.ledger import Ledger

        path = self._ledger_path()
        limit = self._limit

        def work() -> list[Any]:
            if not Path(path).exists():
                return []
            with Ledger(path) as ledger:
                return ledger.history(limit)

        self.status.setText("loading…")
        self._tasks.run(work, self._on_history_loaded, self._on_history_failed)

    def ledger_stamp(self) -> tuple[int, int] | None:
        """(size, newest mtime) of the ledger and its write-ahead log, or None when there is
        no ledger yet: it changes whenever any process writes an upload."""
        path = Path(self._ledger_path())
        stats = []
        for p in (path, path.with_name(path.name + "-wal")):
            try:
                stats.append(p.stat())
            except OSError:
                continue
        if not stats:
            return None
        return sum(st.st_size for st in stats), max(st.st_mtime_ns for st in stats)

    def _on_history_loaded(self, records: list[Any]) -> None:
        # A reload keeps the selected upload selected and the view where it was.
        selected = self.selected()
        keep = getattr(selected, "id", None)
        scroll = self.table.verticalScrollBar().value()
        self.model.set_records(records)
        if keep is not None:
            for row, record in enumerate(records):
                if getattr(record, "id", None) == keep:
                    self.table.selectRow(row)
                    break
        self.table.verticalScrollBar().setValue(scroll)
        self.status.setText(plural(len(records), "upload") if records else "no uploads yet")
        self._update_buttons()
        self.loaded.emit(len(records))

    def _on_history_failed(self, exc: BaseException) -> None:
        text = f"Could not read the upload ledger: {exc}"
        self.status.setText(text)
        self.failed.emit(text)

    def selected(self) -> Any:
        rows = self.table.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _report_of(self, record: Any) -> Path | None:
        if record is None or not record.report_path:
            return None
        path = Path(record.report_path)
        if not path.exists():
            self._prompter.error(self, "Report", f"The report {path} is not there any more.")
            return None
        return path

    def open_report(self, record: Any) -> bool:
        path = self._report_of(record)
        if path is None:
            return False
        self._open_url(QUrl.fromLocalFile(str(path)))
        return True

    @Slot()
    def _on_selection_changed(self) -> None:
        self._update_buttons()

    def _update_buttons(self) -> None:
        record = self.selected()
        has = record is not None and bool(record.report_path)
        self.open_button.setEnabled(has)
        self.save_button.setEnabled(has)

    @Slot(QModelIndex)
    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        self.open_report(self.model.record(index.row()))

    @Slot()
    def _on_open_button_clicked(self) -> None:
        self.open_report(self.selected())

    @Slot()
    def _on_save_button_clicked(self) -> None:
        path = self._report_of(self.selected())
        if path is None:
            return
        target = self._prompter.save_path(self, "Save the outcome report", path.name, "CSV (*.csv)")
        if target:
            try:
                shutil.copyfile(path, target)
            except OSError as exc:
                self._prompter.error(self, "Save report", f"Could not save the report: {exc}")

    def shutdown(self) -> None:
        if self._own_tasks:
            self._tasks.shutdown()


class HistoryPane(Pane):
    """The History tab of the main window."""

    title = "History"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.view = HistoryView(
            ledger_path=lambda: _ledger_path(context),
            tasks=context.tasks,
            prompter=context.prompter,
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self._refresh_action = QAction("Refresh history", self)
        self._refresh_action.triggered.connect(self.view.refresh)
        context.events.uploads_changed.connect(self.view.refresh)
        # Uploads run by the command line (or another copy of the app) write the same ledger:
        # while the pane is visible, a cheap stat of the ledger tells when to reload.
        self._stamp = self.view.ledger_stamp()
        self._live_timer = QTimer(self)
        self._live_timer.setInterval(LIVE_CHECK_MS)
        self._live_timer.timeout.connect(self._on_live_timer_timeout)
        self.view.refresh()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._live_timer.start()
        self._on_live_timer_timeout()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._live_timer.stop()

    @Slot()
    def _on_live_timer_timeout(self) -> None:
        stamp = self.view.ledger_stamp()
        if stamp != self._stamp:
            self._stamp = stamp
            self.view.refresh()

    def shutdown(self) -> None:
        self._live_timer.stop()
        self.view.shutdown()

    def menu_actions(self) -> Sequence[QAction]:
        return (self._refresh_action,)

    def refresh(self) -> None:
        self.view.refresh()


def _ledger_path(context: AppContext) -> Path:
    from outbound_desk.config import ledger_path

    return ledger_path(context.settings.preferences.ledger_path)


def main(argv: list[str] | None = None) -> int:
    """Show the history of this machine's ledger on its own (STYLE rule 4)."""
    from outbound_desk.config import SettingsStore, ledger_path

    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = SettingsStore().load()
    view = HistoryView(ledger_path=lambda: ledger_path(settings.preferences.ledger_path))
    view.setWindowTitle("Outbound Desk: upload history")
    view.resize(1200, 500)
    view.show()
    view.refresh()
    code = app.exec()
    view.shutdown()
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
