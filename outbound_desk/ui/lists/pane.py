"""The list manager pane: the org's contact lists, their details, and what can be done to them."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from outbound_desk.config import UiState, ledger_path
from outbound_desk.genesys import ExportedFile, GenesysClient, RateLimited, VersionConflict
from outbound_desk.ui.context import AppContext
from outbound_desk.ui.lists import operations
from outbound_desk.ui.lists.details import ListDetails
from outbound_desk.ui.lists.dialogs import AddColumnsDialog, CreateListDialog
from outbound_desk.ui.lists.model import ListTableModel
from outbound_desk.ui.lists.store import (
    PAGE_SIZE,
    ListPage,
    ListRow,
    ListStore,
    PageRequest,
    StoreEvent,
)
from outbound_desk.ui.messages import describe, plural
from outbound_desk.ui.orgline import OrgLine
from outbound_desk.ui.panes import Pane
from outbound_desk.ui.qstate import from_text, to_text
from outbound_desk.ui.session import Connection
from outbound_desk.ui.tasks import JobHandle

log = logging.getLogger(__name__)

STATE_KEY = "lists"
#: How often a visible Lists pane reloads what it shows (sizes, import states).
LIVE_REFRESH_MS = 30_000


def _contacts_text(row: ListRow) -> str:
    """ "all 1,234 contacts", "its one contact", or that the number is not known."""
    if row.size is None:
        return "all its contacts (how many is not known)"
    if row.size == 1:
        return "its one contact"
    return f"all {row.size:,} contacts"


class ListsPane(Pane):
    """Browse, filter and page the org's lists; create, add columns, clear, delete, export.

    The table is a :class:`ListTableModel` over a Qt-free :class:`ListStore`; pages and details
    are fetched on the task pool, long operations run as jobs with progress and Cancel.
    """

    title = "Lists"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.setObjectName("listsPane")
        self.store = ListStore(self._fetch_page, page_size=PAGE_SIZE)
        self.model = ListTableModel(self.store, self)
        self.model.fetch_requested.connect(self._on_model_fetch_requested)
        self.store.subscribe(self._on_store_changed)
        self.job: JobHandle | None = None
        self._details_task = 0
        # The list to select when the next first page arrives (the one selected before a
        # refresh, or one just created); when it is not there, the first row is selected.
        self._select_after_load: str | None = None
        self._pick_after_load = False
        self.store.subscribe(self._select_when_loaded, self._on_store_about_to_change)

        # -- toolbar row
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("listFilter")
        self.filter_edit.setPlaceholderText("Filter by name (contains)…  Ctrl+F")
        self.filter_edit.setClearButtonEnabled(True)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(300)  # wait for the user to stop typing
        self._filter_timer.timeout.connect(self._on_filter_timer_timeout)
        self.filter_edit.textChanged.connect(self._filter_timer.start)
        self.filter_edit.returnPressed.connect(self._on_filter_timer_timeout)
        find = QAction("Find a list", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(self._on_find_triggered)
        self.addAction(find)

        self.new_action = self._action("&New list…", self.new_list, QKeySequence.StandardKey.New)
        self.add_columns_action = self._action("&Add columns…", self.add_columns, "Ctrl+Shift+A")
        self.clear_action = self._action("C&lear contacts…", self.clear_list, "Ctrl+Shift+X")
        self.delete_action = self._action("&Delete list…", self.delete_list, "Ctrl+Delete")
        self.export_action = self._action("&Export to CSV…", self.export_list, "Ctrl+E")
        self.refresh_action = self._action("&Refresh lists", self.refresh, None)
        buttons = QHBoxLayout()
        buttons.addWidget(self.filter_edit, 1)
        for action in (
            self.refresh_action,
            self.new_action,
            self.add_columns_action,
            self.clear_action,
            self.delete_action,
            self.export_action,
        ):
            button = QPushButton(action.text().replace("&", "").rstrip("…").replace(" lists", ""))
            button.setObjectName(f"button_{action.objectName()}")
            button.setToolTip(f"{action.text().replace('&', '')} ({action.shortcut().toString()})")
            button.clicked.connect(action.trigger)
            action.enabledChanged.connect(button.setEnabled)
            button.setEnabled(action.isEnabled())
            buttons.addWidget(button)

        # -- table and details
        self.table = QTableView()
        self.table.setObjectName("listTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        # Default widths that fit every column, Division and "Last modified" included, in a
        # 1024 px window next to the details (the user's own widths are restored over these;
        # every column stays resizable by hand).
        header.setMinimumSectionSize(40)
        for column, width in enumerate((160, 70, 60, 130, 70, 70)):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.details = ListDetails()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("listsSplitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)

        # -- state line: loading, count, errors in place, job progress
        self.loading = QProgressBar()
        self.loading.setObjectName("listsLoading")
        self.loading.setRange(0, 0)
        self.loading.setMaximumWidth(120)
        self.loading.setTextVisible(False)
        self.loading.hide()
        self.count_label = QLabel()
        self.count_label.setObjectName("listsCount")
        self.error_label = QLabel()
        self.error_label.setObjectName("listsError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.retry_button = QPushButton("Retry")
        self.retry_button.setObjectName("listsRetry")
        self.retry_button.clicked.connect(self.refresh)
        self.retry_button.hide()
        self.job_label = QLabel()
        self.job_label.setObjectName("jobLabel")
        self.job_bar = QProgressBar()
        self.job_bar.setObjectName("jobProgress")
        self.job_bar.setMaximumWidth(240)
        self.job_cancel = QPushButton("Cancel")
        self.job_cancel.setObjectName("jobCancel")
        self.job_cancel.clicked.connect(self._on_job_cancel_clicked)
        for w in (self.job_label, self.job_bar, self.job_cancel):
            w.hide()
        status = QHBoxLayout()
        status.addWidget(self.loading)
        status.addWidget(self.count_label)
        status.addWidget(self.error_label, 1)
        status.addWidget(self.retry_button)
        status.addStretch(0)
        status.addWidget(self.job_label)
        status.addWidget(self.job_bar)
        status.addWidget(self.job_cancel)
        # Which org these lists are in, and as whom (issue 14): a clear or delete acts there.
        self.org_line = OrgLine(context.session)
        status.addWidget(self.org_line, 1)

        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addLayout(buttons)
        content_layout.addWidget(self.splitter, 1)
        content_layout.addLayout(status)

        signed_out = QWidget()
        signed_out_layout = QVBoxLayout(signed_out)
        self.signed_out_label = QLabel(
            "Not signed in. Choose File > Connection… (Ctrl+K) to sign in to an org, or start "
            "the app with --demo to try it on a sandbox org."
        )
        self.signed_out_label.setWordWrap(True)
        self.signed_out_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        signed_out_layout.addStretch(1)
        signed_out_layout.addWidget(self.signed_out_label)
        signed_out_layout.addStretch(1)

        self.stack = QStackedWidget()
        self.stack.addWidget(signed_out)
        self.stack.addWidget(content)
        outer = QVBoxLayout(self)
        outer.addWidget(self.stack)

        context.session.connected.connect(self._on_session_connected)
        context.session.disconnected.connect(self._on_session_disconnected)
        context.events.lists_changed.connect(self._on_events_lists_changed)
        # While the pane is on screen it follows the org by itself: sizes and import states
        # change under uploads started elsewhere (another app, a script, the web UI).
        self._live_timer = QTimer(self)
        self._live_timer.setInterval(LIVE_REFRESH_MS)
        self._live_timer.timeout.connect(self._on_live_timer_timeout)
        if context.session.connection is not None:
            self._on_session_connected(context.session.connection)
        self._update_actions()

    def _action(self, text: str, slot: Any, shortcut: Any) -> QAction:
        action = QAction(text, self)
        action.setObjectName(text.replace("&", "").split()[0].lower())
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    # ------------------------------------------------------------------ Pane
    def menu_actions(self) -> list[QAction]:
        return [
            self.new_action,
            self.add_columns_action,
            self.clear_action,
            self.delete_action,
            self.export_action,
            self.refresh_action,
        ]

    def busy_reason(self) -> str | None:
        if self.job is not None:
            return f"A list operation is running: {self.job.name}."
        return None

    def restore_state(self, state: UiState) -> None:
        splitter = from_text(state.splitters.get(STATE_KEY))
        if splitter is not None:
            self.splitter.restoreState(splitter)
        header = from_text(state.headers.get(STATE_KEY))
        if header is not None:
            self.table.horizontalHeader().restoreState(header)

    def save_state(self, state: UiState) -> None:
        state.splitters[STATE_KEY] = to_text(self.splitter.saveState())
        state.headers[STATE_KEY] = to_text(self.table.horizontalHeader().saveState())
        state.column_widths[STATE_KEY] = {
            str(self.model.headerData(i, Qt.Orientation.Horizontal)): self.table.columnWidth(i)
            for i in range(self.model.columnCount())
        }

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._live_timer.start()
        self._update_actions()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._live_timer.stop()
        self._update_actions()

    @Slot()
    def _on_find_triggered(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    @Slot(str)
    def _on_events_lists_changed(self, list_id: str) -> None:
        """Something changed a list (an upload ended, a list was made, cleared or deleted):
        show it as it is now, keeping the selection."""
        self._refresh_quietly()

    @Slot()
    def _on_live_timer_timeout(self) -> None:
        self._refresh_quietly()

    def _refresh_quietly(self) -> None:
        # Never under a running list operation (its result is about to arrive) or a page load.
        if self.client() is None or self.job is not None or self.store.loading:
            return
        self.refresh()

    def shutdown(self) -> None:
        self._filter_timer.stop()
        self._live_timer.stop()
        if self.job is not None:
            self.job.cancel()

    # ------------------------------------------------------------------ session
    def client(self) -> GenesysClient | None:
        conn = self.context.session.connection
        return conn.client if conn is not None else None

    @Slot(object)
    def _on_session_connected(self, connection: Connection) -> None:
        self.stack.setCurrentIndex(1)
        self.refresh()

    @Slot()
    def _on_session_disconnected(self) -> None:
        self.stack.setCurrentIndex(0)
        self.store.reset("")
        self.details.show_row(None)
        self._update_actions()

    # ------------------------------------------------------------------ paging
    def _fetch_page(self, request: PageRequest) -> ListPage:
        client = self.client()
        if client is None:
            raise RuntimeError("Not signed in.")
        return operations.fetch_page(client, request, self.store.page_size)

    @Slot()
    def refresh(self) -> None:
        """Start again at page 1 with the current filter."""
        if self.client() is None:
            return
        self.store.reset(self.filter_edit.text())
        self._load_next_page()

    @Slot()
    def _on_filter_timer_timeout(self) -> None:
        self._filter_timer.stop()
        if self.filter_edit.text().strip() != self.store.name_filter or self.store.error:
            self.refresh()

    @Slot()
    def _on_model_fetch_requested(self) -> None:
        self._load_next_page()

    def _load_next_page(self) -> None:
        request = self.store.start_fetch()
        if request is None:
            return
        self.context.tasks.run(
            lambda: self.store.fetch(request),
            lambda page: self.store.finish_fetch(request, page),
            lambda exc: self.store.fail_fetch(request, failure_text(exc)),
        )

    def _on_store_changed(self, *_: object) -> None:
        store = self.store
        self.loading.setVisible(store.loading)
        if store.error:
            self.error_label.setText(f"Could not load the lists. {store.error}")
        self.error_label.setVisible(bool(store.error))
        self.retry_button.setVisible(bool(store.error))
        if store.total is None:
            self.count_label.setText("Loading…" if store.loading else "")
        else:
            shown = len(store.rows)
            what = f" containing “{store.name_filter}”" if store.name_filter else ""
            more = " (scroll for more)" if store.has_more else ""
            self.count_label.setText(f"{shown:,} of {plural(store.total, 'list')}{what}{more}")
        self._update_actions()

    # ------------------------------------------------------------------ selection
    def selected(self) -> ListRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0]) if rows else None

    def _idle_target(self) -> tuple[ListRow, GenesysClient] | None:
        """The selected list and the client to act on it, when no job is running."""
        row, client = self.selected(), self.client()
        if row is None or client is None or self.job is not None:
            return None
        return row, client

    def select_list(self, list_id: str) -> bool:
        index = self.store.index_of(list_id)
        if index is None:
            return False
        self.table.selectRow(index)
        return True

    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, *_: object) -> None:
        row = self.selected()
        self.details.show_row(row)
        self._update_actions()
        client = self.client()
        if row is None or client is None:
            return
        self.context.tasks.discard(self._details_task)
        list_id = row.id
        self._details_task = self.context.tasks.run(
            lambda: operations.fetch_details(client, list_id),
            self._on_details_loaded,
            self._on_details_failed,
        )

    def _on_details_loaded(self, row: ListRow) -> None:
        self.store.replace(row)
        current = self.selected()
        if current is not None and current.id == row.id:
            self.details.show_row(row)

    def _on_details_failed(self, exc: BaseException) -> None:
        self.details.import_label.setText(f"Could not load the details: {failure_text(exc)}")

    def _update_actions(self) -> None:
        signed_in = self.client() is not None
        idle = self.job is None
        # Acting on the selected list needs it on screen: the menu's shortcuts (Ctrl+Delete)
        # reach the window from every tab, and must not delete a list the user cannot see.
        has_row = self.selected() is not None and self.isVisibleTo(self.window())
        self.new_action.setEnabled(signed_in and idle)
        self.refresh_action.setEnabled(signed_in)
        for action in (
            self.add_columns_action,
            self.clear_action,
            self.delete_action,
            self.export_action,
        ):
            action.setEnabled(signed_in and idle and has_row)

    # ------------------------------------------------------------------ jobs
    def _start_job(self, name: str, fn: Any, on_success: Any) -> None:
        self.job = self.context.jobs.start(
            fn,
            name=name,
            on_success=on_success,
            on_failure=self._on_job_failed,
            on_progress=self._on_job_progress,
            on_cancelled=self._on_job_cancelled,
        )
        if self.job is None:
            return
        self.job.ended.connect(self._on_job_ended)
        self.job_label.setText(name)
        self.job_bar.setRange(0, 0)
        for w in (self.job_label, self.job_bar, self.job_cancel):
            w.show()
        self.job_cancel.setEnabled(True)
        self._update_actions()

    def _on_job_progress(self, done: int, total: int, phase: str) -> None:
        if self.job is not None:
            self.job_label.setText(f"{self.job.name}: {phase}")
        self.job_bar.setRange(0, max(total, 1))
        self.job_bar.setValue(min(done, total))

    def _on_job_failed(self, exc: BaseException) -> None:
        name = self.job.name if self.job is not None else "The operation"
        text = failure_text(exc)
        if isinstance(exc, VersionConflict):
            text = (
                "Someone else kept changing this list while the columns were being added; "
                f"the change was retried and still conflicted. Refresh and try again. ({text})"
            )
        self.context.prompter.error(self, name, text)

    def _on_job_cancelled(self) -> None:
        self.job_label.setText("Cancelled.")

    @Slot(str)
    def _on_job_ended(self, outcome: str) -> None:
        self.job = None
        self.job_bar.hide()
        self.job_cancel.hide()
        if outcome != "cancelled":
            self.job_label.hide()
        self._update_actions()

    @Slot()
    def _on_job_cancel_clicked(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job_cancel.setEnabled(False)
            self.job_label.setText(f"{self.job.name}: cancelling…")

    # ------------------------------------------------------------------ actions
    @Slot()
    def new_list(self) -> CreateListDialog | None:
        """Open the schema editor; on Create, create the list and wait until it is ready."""
        if self.client() is None or self.job is not None:
            return None
        dialog = CreateListDialog(
            [r.name for r in self.store.rows], self.context.files.current, self
        )
        dialog.accepted.connect(self._on_create_dialog_accepted)
        dialog.open()
        return dialog

    @Slot()
    def _on_create_dialog_accepted(self) -> None:
        dialog = self.sender()
        client = self.client()
        if not isinstance(dialog, CreateListDialog) or client is None:
            return
        schema = dialog.schema()
        self._start_job(
            f"Create {schema.name}",
            lambda progress, cancelled: operations.create_list(client, schema, progress, cancelled),
            self._on_list_created,
        )

    def _on_list_created(self, row: ListRow) -> None:
        self.context.events.lists_changed.emit(row.id)
        self.filter_edit.setText(row.name)
        self._filter_timer.stop()
        self.store.reset(row.name)
        self._select_after_load = row.id
        self._load_next_page()

    def _on_store_about_to_change(self, event: StoreEvent, *_: object) -> None:
        if event is StoreEvent.RESET:
            # The view's selection is gone after the reset: remember it by list id.
            current = self.selected()
            if current is not None and self._select_after_load is None:
                self._select_after_load = current.id
            self._pick_after_load = True

    def _select_when_loaded(self, event: StoreEvent, *_: object) -> None:
        """After a (re)load, select the remembered list, else the first: never an empty pane."""
        if event is StoreEvent.RESET or not self._pick_after_load:
            return
        target = self._select_after_load
        if target and self.select_list(target):
            self._select_after_load = None
            self._pick_after_load = False
            return
        if event is StoreEvent.STATE and not self.store.loading and self.store.total is not None:
            # The first page is in (or the load failed) and the remembered list is not on it.
            self._pick_after_load = False
            self._select_after_load = None
            if self.store.rows and self.selected() is None:
                self.table.selectRow(0)

    @Slot()
    def add_columns(self) -> AddColumnsDialog | None:
        row = self.selected()
        if row is None or self.job is not None:
            return None
        dialog = AddColumnsDialog(row.name, row.columns, self)
        dialog.accepted.connect(self._on_add_columns_dialog_accepted)
        dialog.open()
        return dialog

    @Slot()
    def _on_add_columns_dialog_accepted(self) -> None:
        dialog = self.sender()
        row = self.selected()
        client = self.client()
        if not isinstance(dialog, AddColumnsDialog) or row is None or client is None:
            return
        columns, phones, list_id = dialog.columns(), dialog.phone_columns(), row.id
        emails = dialog.email_columns()
        self._start_job(
            f"Add columns to {row.name}",
            lambda progress, cancelled: operations.add_columns(
                client, list_id, columns, phones, progress, cancelled, email_columns=emails
            ),
            self._on_list_changed,
        )

    def _on_list_changed(self, row: ListRow) -> None:
        self.context.events.lists_changed.emit(row.id)
        self.store.replace(row)
        current = self.selected()
        if current is not None and current.id == row.id:
            self.details.show_row(row)

    @Slot()
    def clear_list(self) -> None:
        chosen = self._idle_target()
        if chosen is None:
            return
        row, client = chosen
        if not self.context.prompter.confirm(
            self,
            "Clear contacts",
            f"Remove {_contacts_text(row)} from “{row.name}”?\nThe list and its columns stay; "
            "the contacts cannot be brought back.",
            danger=True,
        ):
            return
        list_id = row.id
        ledger = ledger_path(self.context.settings.preferences.ledger_path)
        self._start_job(
            f"Clear {row.name}",
            lambda progress, cancelled: operations.clear_list(
                client, list_id, progress, cancelled, ledger_path=ledger
            ),
            self._on_list_changed,
        )

    @Slot()
    def delete_list(self) -> None:
        chosen = self._idle_target()
        if chosen is None:
            return
        row, client = chosen
        if not self.context.prompter.confirm(
            self,
            "Delete list",
            f"Delete the list “{row.name}” and {_contacts_text(row)}?\nThis cannot be undone.",
            danger=True,
        ):
            return
        list_id = row.id
        ledger = ledger_path(self.context.settings.preferences.ledger_path)
        self._start_job(
            f"Delete {row.name}",
            lambda progress, cancelled: operations.delete_list(client, list_id, ledger_path=ledger),
            self._on_list_deleted,
        )

    def _on_list_deleted(self, list_id: str) -> None:
        self.context.events.lists_changed.emit(list_id)
        index = self.store.index_of(list_id)
        self.store.remove(list_id)
        if index is not None and self.store.rows:
            # The list that took its place (or the new last one) keeps the details filled.
            self.table.selectRow(min(index, len(self.store.rows) - 1))
        self.details.show_row(self.selected())

    @Slot()
    def export_list(self) -> None:
        chosen = self._idle_target()
        if chosen is None:
            return
        row, client = chosen
        safe = "".join(c if c.isalnum() or c in " -_." else "_" for c in row.name).strip()
        path = self.context.prompter.save_path(
            self, f"Export {row.name}", f"{safe or 'contacts'}.csv", "CSV files (*.csv)"
        )
        if not path:
            return
        list_id, target = row.id, Path(path)
        self._start_job(
            f"Export {row.name}",
            lambda progress, cancelled: operations.export_list(
                client, list_id, target, progress, cancelled
            ),
            self._on_exported,
        )

    def _on_exported(self, saved: ExportedFile) -> None:
        self.job_label.setText(f"Exported {plural(saved.rows, 'contact')} to {saved.path}")
        self.job_label.show()


def failure_text(exc: BaseException) -> str:
    """What to tell the user about a failed request, with what to do about a rate limit."""
    if isinstance(exc, RateLimited):
        when = f"in about {math.ceil(exc.retry_after)} s" if exc.retry_after else "in a minute"
        where = f" (correlation id {exc.correlation_id})" if exc.correlation_id else ""
        return (
            "Genesys Cloud is rate limiting this connection (HTTP 429, too many requests) and "
            f"the app's retries ran out{where}. Press Retry {when}. If it keeps happening, "
            "another app or script is spending the same OAuth client's allowance: pause it, "
            "or use an OAuth client of its own for it."
        )
    return describe(exc)


if __name__ == "__main__":  # STYLE rule 4: the pane on its own, over a sandbox org
    import sys

    from outbound_desk.ui.app import main

    sys.exit(main(["--demo", "--only-pane", "lists", *sys.argv[1:]]))
