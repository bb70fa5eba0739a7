"""The Upload tab of the main window: the file preview above, the upload queue below."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from outbound_desk.ui.messages import plural
from outbound_desk.ui.orgline import OrgLine
from outbound_desk.ui.panes import Pane
from outbound_desk.ui.preview import PreviewPane, TargetList, UploadRequest
from outbound_desk.ui.upload_queue.pane import UploadQueuePane

if TYPE_CHECKING:
    from outbound_desk.config import Preferences, UiState
    from outbound_desk.ui.context import AppContext

log = logging.getLogger(__name__)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "list"


def options_for_request(request: UploadRequest, prefs: Preferences, work_dir: Path) -> Any:
    """The engine's ``UploadOptions`` for what the preview pane asked.

    A new list is created from the schema the pane showed (written to *work_dir*, so that a
    resume finds it). The file's path is absolute: a resume may run from any directory. The
    person's detection overrides are the options' ``read`` (a resume reads the file the same
    way); the preview's scanned profile goes to the engine beside these options
    (``enqueue(prepared=...)``), so nothing is detected twice.
    """

    from outbound_desk.upload.model import UploadOptions

    work_dir.mkdir(parents=True, exist_ok=True)
    overrides = getattr(request.profile, "overrides", None)
    read = overrides.given() if overrides is not None else {}
    schema = request.schema
    create = request.target is None
    schema_path = None
    if create:
        schema_path = work_dir / f"{_safe_name(schema.name)}.schema.json"
        schema_path.write_text(json.dumps(schema.to_dict(), indent=2), encoding="utf-8")
    return UploadOptions(
        file=Path(request.path).expanduser().resolve(),
        list=request.target.list_id if request.target and request.target.list_id else schema.name,
        create=create,
        schema_path=schema_path,
        id_column=request.id_column,
        allow_no_id=request.id_column is None,
        via=prefs.default_transport,
        batch_size=prefs.batch_size,
        concurrency=prefs.concurrency,
        region=request.region,
        mapping=dict(request.mapping.targets),
        duplicates=request.duplicate_policy,  # type: ignore[arg-type]
        file_threshold=prefs.csv_import_threshold,
        lock_timeout_s=None,  # queued behind this app's jobs; wait for other processes too
        replace=request.replace,
        read=read,  # how the preview read it: a resume reads it the same way
        # An edited upload sends a copy: the ledger keeps the file it was made from.
        source=dict(request.extra.get("source") or {}),
    )


def confirmation_text(
    request: UploadRequest, options: Any, connection: Any, current_size: int | None = None
) -> str:
    """What the confirmation before an upload says: org, identity, list, transport, counts;
    for a replace, the list's *current_size* and that it is emptied first."""
    valid = request.valid_rows
    rows = getattr(request.profile, "rows", None)
    if options.via == "auto":
        chosen = "file" if (valid or 0) > options.file_threshold else "api"
    else:
        chosen = options.via
    transport = {
        "api": "JSON contact batches (POST …/contacts)",
        "file": "a CSV import (presigned upload, progress from importstatus)",
    }[chosen]
    if options.via == "auto":
        transport += f" (automatic: above {options.file_threshold:,} rows a CSV import)"
    if request.target is None:
        where = f"a NEW list {request.schema.name!r}, created from this file's header"
    else:
        where = f"list {request.target.name!r} ({request.target.list_id})"
    lines = [
        f"Org: {connection.profile.name} ({connection.region.key})",
        f"Signed in as: {connection.identity}",
        f"List: {where}",
        f"Transport: {transport}",
        f"File: {request.path}",
    ]
    source = request.extra.get("source") or {}
    if source:
        lines.append(
            f"Edited: {plural(int(source.get('edited_cells', 0)), 'cell')} changed in the"
            f" preview; this copy is sent, {source.get('file')} stays as it is"
        )
    lines += [
        "Rows: "
        + (f"{rows:,} in the file, " if rows is not None else "")
        + (f"{valid:,} valid to upload" if valid is not None else "valid rows to upload"),
        f"Duplicate ids: {request.duplicate_policy}",
    ]
    if request.replace:
        now = plural(current_size, "contact") if current_size is not None else "its contacts"
        lines += [
            "",
            f"REPLACE: the list now holds {now}. Every one of them is removed first; the"
            " upload waits until the list reads 0, then sends "
            + (plural(valid, "valid row") if valid is not None else "the valid rows")
            + ". Until then the list is empty (or partly filled): pause its campaign if it"
            " is dialling.",
        ]
    if request.id_column:
        lines.append(f"Contact id: column {request.id_column!r} (a rerun updates, never adds)")
    else:
        lines += [
            "",
            "NO STABLE ID: the platform makes up an id for every contact. A rerun, or a resume"
            " after a crash, adds every contact again as a duplicate. Choose an id column in"
            " the preview to avoid this; upload without one only if this is really a one-off.",
        ]
    return "\n".join(lines)


class UploadPane(Pane):
    """Preview and validate a file, then queue its upload; the queue shows every job."""

    title = "Upload"
    opens_files = True

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.preview = PreviewPane(
            settings=context.settings,
            save_settings=context.save_settings,
            targets=self._list_targets,
            prompter=context.prompter,
        )
        self.queue = UploadQueuePane(
            client=self._client,
            ledger_path=self._ledger_path,
            org=self._org,
            identity=self._identity,
            jobs=context.jobs,
            tasks=context.tasks,
            prompter=context.prompter,
            max_running=2,
        )
        # Which org an upload goes to, and as whom, beside the file it takes (issue 14).
        self.org_line = OrgLine(context.session)
        self.preview.top_row.addWidget(self.org_line, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("upload-splitter")
        self.splitter.addWidget(self.preview)
        self.splitter.addWidget(self.queue)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(0, False)
        self._queue_height = 210  # what an opened queue gets until the user drags it
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self.preview.upload_requested.connect(self._on_preview_upload_requested)
        self.queue.expanded_changed.connect(self._on_queue_expanded_changed)
        self.queue.job_started.connect(self._on_queue_job_started)
        self.queue.job_ended.connect(self._on_queue_job_ended)
        self.preview.file_opened.connect(self._on_preview_file_opened)
        context.files.file_opened.connect(self._on_files_file_opened)
        context.session.connected.connect(self._on_session_connected)
        context.session.disconnected.connect(self._on_session_disconnected)
        self._open_action = QAction("Open file in preview…", self)
        self._open_action.triggered.connect(self.preview._on_open_button_clicked)
        self._validate_action = QAction("Validate", self)
        self._validate_action.setShortcut("Ctrl+Shift+V")
        self._validate_action.triggered.connect(self.preview.validate)
        self.queue.check_unfinished()

    # ------------------------------------------------------------------ collaborators
    def _client(self) -> Any:
        conn = self.context.session.connection
        if conn is None:
            raise RuntimeError("not signed in: connect to an org first (Connection menu)")
        return conn.client

    def _org(self) -> str | None:
        """The signed-in org's profile name: recorded with each upload, so that the resume
        offer shows only this org's."""
        conn = self.context.session.connection
        return conn.profile.name if conn is not None else None

    def _identity(self) -> str | None:
        """Who is signed in (the OAuth client): recorded with each upload as its "by"."""
        conn = self.context.session.connection
        return conn.identity if conn is not None else None

    def _ledger_path(self) -> Path:
        from outbound_desk.config import ledger_path

        return ledger_path(self.context.settings.preferences.ledger_path)

    def _list_targets(self) -> list[TargetList]:
        """The org's contact lists as targets (runs on the task pool)."""
        from outbound_desk.contacts import ListSchema

        conn = self.context.session.connection
        if conn is None:
            return []
        out = []
        for cl in conn.client.contact_lists.iter(page_size=100):
            try:
                schema = ListSchema.from_genesys(cl.to_api())
            except ValueError as exc:  # a list this app cannot describe: skip, say why
                log.warning("list %s skipped as a target: %s", cl.name, exc)
                continue
            out.append(TargetList(cl.name, cl.id, schema))
        return sorted(out, key=lambda t: t.name.casefold())

    # ------------------------------------------------------------------ slots
    @Slot(object)
    def _on_preview_upload_requested(self, request: UploadRequest) -> None:
        from outbound_desk.config import data_dir

        prefs = self.context.settings.preferences
        connection = self.context.session.connection
        if connection is None:
            self.context.prompter.error(
                self, "Upload", "Not signed in: connect to an org first (File > Connection…)."
            )
            return
        try:
            options = options_for_request(request, prefs, data_dir() / "prepared")
        except Exception as exc:
            self.context.prompter.error(self, "Upload", f"Cannot queue this upload: {exc}")
            return
        if request.replace and request.target is not None and request.target.list_id:
            # The confirmation names the list's size now: asked of the platform off the GUI
            # thread, then confirmed.
            list_id = request.target.list_id
            self.context.tasks.run(
                lambda: connection.client.contact_lists.get(list_id, include_size=True).size,
                lambda size: self._confirm_and_queue(request, options, connection, size),
                lambda exc: self.context.prompter.error(
                    self, "Replace list contents", f"Cannot read the list's size: {exc}"
                ),
            )
            return
        self._confirm_and_queue(request, options, connection, None)

    def _confirm_and_queue(
        self, request: UploadRequest, options: Any, connection: Any, size: int | None
    ) -> None:
        if request.replace:
            title = "Replace list contents?"
        else:
            title = "Upload without stable ids?" if not request.id_column else "Upload"
        if not self.context.prompter.confirm(
            self,
            title,
            confirmation_text(request, options, connection, size),
            danger=request.replace or not request.id_column,
        ):
            return
        name = request.target.name if request.target else request.schema.name
        list_id = request.target.list_id if request.target else None
        prepared = request.profile if getattr(request.profile, "sha256", None) else None
        self.queue.enqueue(
            options,
            list_name=name,
            list_id=list_id,
            prepared=prepared,
            duplicate_plan=request.duplicate_plan if prepared is not None else None,
        )

    @Slot(bool)
    def _on_queue_expanded_changed(self, expanded: bool) -> None:
        """A folded queue keeps only its header line; opened, it takes a third."""
        total = sum(self.splitter.sizes()) or self.height()
        if expanded:
            # Never more than 40 % of the pane by itself: the preview stays usable.
            queue = max(self._queue_height, self.queue.minimumSizeHint().height())
            queue = min(queue, int(total * 0.4))
        else:
            if self.splitter.sizes()[1] > self.queue.sizeHint().height():
                self._queue_height = self.splitter.sizes()[1]
            queue = self.queue.sizeHint().height()
        self.splitter.setSizes([max(total - queue, 0), queue])

    @Slot(int)
    def _on_queue_job_started(self, _job_id: int) -> None:
        self.context.events.uploads_changed.emit()

    @Slot(int, str)
    def _on_queue_job_ended(self, job_id: int, _state: str) -> None:
        # The list's size and import state, the history and the preview's targets all moved.
        job = self.queue.store.get(job_id)
        list_id = "" if job is None else str(getattr(job.options, "list", "") or "")
        self.context.events.lists_changed.emit(list_id)
        self.context.events.uploads_changed.emit()

    @Slot(str)
    def _on_files_file_opened(self, path: str) -> None:
        if self.preview.current_path != path:
            self.preview.open_file(path)

    @Slot(str)
    def _on_preview_file_opened(self, path: str) -> None:
        if self.context.files.current != path:
            self.context.files.current = path

    @Slot(object)
    def _on_session_connected(self, _connection: Any) -> None:
        self.preview.refresh_targets()
        self.queue.check_unfinished()

    @Slot()
    def _on_session_disconnected(self) -> None:
        self.preview.schema_panel.set_targets([])
        self.queue.check_unfinished()  # signed out: no org's uploads are offered

    # ------------------------------------------------------------------ Pane
    def menu_actions(self) -> Sequence[QAction]:
        return (self._open_action, self._validate_action)

    def refresh(self) -> None:
        self.preview.refresh_targets()

    def apply_preferences(self) -> None:
        self.preview.apply_preferences()

    def busy_reason(self) -> str | None:
        return self.queue.busy_reason()

    def restore_state(self, state: UiState) -> None:
        saved = state.splitters.get("upload")
        if saved:
            self.splitter.restoreState(QByteArray.fromBase64(saved.encode("ascii")))
        saved = state.splitters.get("preview")
        if saved:
            self.preview.splitter.restoreState(QByteArray.fromBase64(saved.encode("ascii")))
        self.preview.profile_bar.set_expanded(state.splitters.get("detection") == "open")
        saved = state.splitters.get("schema")
        if saved:
            self.preview.schema_panel.splitter.restoreState(
                QByteArray.fromBase64(saved.encode("ascii"))
            )

    def save_state(self, state: UiState) -> None:
        state.splitters["upload"] = bytes(self.splitter.saveState().toBase64().data()).decode()
        state.splitters["preview"] = bytes(
            self.preview.splitter.saveState().toBase64().data()
        ).decode()
        state.splitters["detection"] = "open" if self.preview.profile_bar.expanded() else "closed"
        state.splitters["schema"] = bytes(
            self.preview.schema_panel.splitter.saveState().toBase64().data()
        ).decode()

    def shutdown(self) -> None:
        self.queue.shutdown()
        self.preview.shutdown()
