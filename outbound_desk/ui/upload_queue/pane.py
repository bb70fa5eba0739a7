"""The upload queue: job cards with live progress, cancel/pause/resume, the resume offer."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSystemTrayIcon,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from outbound_desk.ui.prompter import DialogPrompter, Prompter
from outbound_desk.ui.tasks import JobRunner, TaskRunner
from outbound_desk.ui.upload_queue.card import JobCard, summary_text
from outbound_desk.ui.upload_queue.store import (
    CANCELLED,
    DONE,
    FAILED,
    QueuedUpload,
    UploadQueueStore,
)

log = logging.getLogger(__name__)

ClientProvider = Callable[[], Any]  # () -> outbound_desk.genesys.GenesysClient (or raises)


class UploadQueuePane(QWidget):
    """Every upload of this session as a card; runs them through the upload engine.

    Jobs for the same list run one at a time (:class:`UploadQueueStore`); each runs on its own
    QThread through the app's :class:`JobRunner`. The engine's progress snapshots are stored on
    the job by the worker and painted by a 250 ms timer (STYLE rule 10), so a fast upload never
    floods the GUI thread.

    *client* returns the signed-in ``GenesysClient`` (called on the GUI thread when a job
    starts); *ledger_path* is the upload ledger. With *isolate* (the default) each upload runs
    in a child process (:mod:`.process`), so the engine's CPU work cannot stall the GUI.

    Signals: ``expanded_changed(bool)`` when the strip folds or opens, ``job_started(int)``,
    ``job_ended(int, str)`` (job id, "done" | "failed" | "cancelled"),
    ``notification_posted(str, str)`` (title, text) when the window was not focused,
    ``resumable_found(object)`` (the unfinished ``UploadRecord`` list).
    """

    expanded_changed = Signal(bool)
    job_started = Signal(int)
    job_ended = Signal(int, str)
    notification_posted = Signal(str, str)
    resumable_found = Signal(object)

    REPAINT_MS = 250

    def __init__(
        self,
        *,
        client: ClientProvider,
        ledger_path: Callable[[], Path],
        jobs: JobRunner | None = None,
        tasks: TaskRunner | None = None,
        prompter: Prompter | None = None,
        max_running: int = 2,
        isolate: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("UploadQueuePane")
        self._isolate = isolate
        self._client = client
        self._ledger_path = ledger_path
        self._own_runners = jobs is None
        self._jobs = jobs or JobRunner(self)
        self._tasks = tasks or TaskRunner(self)
        self._prompter: Prompter = prompter or DialogPrompter()
        self.store = UploadQueueStore(max_running=max_running)
        self._cards: dict[int, JobCard] = {}
        self._handles: dict[int, Any] = {}
        self._resumable: list[Any] = []
        self._tray: QSystemTrayIcon | None = None

        self.resume_banner = QLabel()
        self.resume_banner.setWordWrap(True)
        self.resume_button = QPushButton("Resume them")
        self.resume_button.clicked.connect(self._on_resume_button_clicked)
        self.dismiss_button = QPushButton("Not now")
        self.dismiss_button.clicked.connect(self._on_dismiss_button_clicked)
        banner = QHBoxLayout()
        banner.addWidget(self.resume_banner, 1)
        banner.addWidget(self.resume_button)
        banner.addWidget(self.dismiss_button)
        self.banner = QWidget()
        self.banner.setObjectName("resume-banner")
        self.banner.setLayout(banner)
        self.banner.setStyleSheet(
            "#resume-banner { background: rgba(230,160,0,50); border: 1px solid rgba(230,160,0,"
            "160); }"
        )
        self.banner.hide()

        self.empty_label = QLabel("No uploads yet. Validate a file and press “Upload valid rows”.")
        self._cards_box = QVBoxLayout()
        self._cards_box.addWidget(self.empty_label)
        self._cards_box.addStretch(1)
        inner = QWidget()
        inner.setLayout(self._cards_box)
        self.cards_scroll = QScrollArea()
        self.cards_scroll.setWidgetResizable(True)
        self.cards_scroll.setWidget(inner)
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.clicked.connect(self._on_clear_button_clicked)
        # A strip that folds: an empty queue is one line, and the preview above gets the room;
        # a new job opens it.
        self.toggle = QToolButton()
        self.toggle.setObjectName("queueToggle")
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.toggled.connect(self._on_toggle_toggled)
        head = QHBoxLayout()
        head.addWidget(self.toggle)
        head.addStretch(1)
        head.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.banner)
        layout.addLayout(head)
        layout.addWidget(self.cards_scroll, 1)
        self.set_expanded(False)

        self._timer = QTimer(self)
        self._timer.setInterval(self.REPAINT_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    # ------------------------------------------------------------------ queueing
    def enqueue(
        self,
        options: Any,
        *,
        list_name: str,
        list_id: str | None = None,
        prepare: Any = None,
    ) -> QueuedUpload:
        """Queue an upload (``upload.UploadOptions``); it starts when its list is free.

        Pass *list_id* whenever the list exists: jobs are serialised per list by id, else by
        *list_name*.
        """
        job = self.store.add(
            title=Path(options.file).name,
            list_key=self.store.key_of(list_id, list_name),
            list_name=list_name,
            transport=str(options.via),
            options=options,
            prepare=prepare,
        )
        card = JobCard(job)
        card.cancel_clicked.connect(self._on_card_cancel_clicked)
        card.pause_clicked.connect(self._on_card_pause_clicked)
        card.resume_clicked.connect(self._on_card_resume_clicked)
        card.open_report_clicked.connect(self._on_card_open_report_clicked)
        card.save_report_clicked.connect(self._on_card_save_report_clicked)
        self._cards[job.job_id] = card
        self.empty_label.hide()
        # Newest on top (under the hidden "no uploads" line), where the eye lands.
        self._cards_box.insertWidget(1, card)
        self.set_expanded(True)
        self._pump()
        card.refresh()
        return job

    # ------------------------------------------------------------------ folding
    def expanded(self) -> bool:
        return self.toggle.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        self.toggle.setChecked(expanded)
        self._on_toggle_toggled(expanded)

    @Slot(bool)
    def _on_toggle_toggled(self, expanded: bool) -> None:
        self.cards_scroll.setVisible(expanded)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self._update_toggle_text()
        self.expanded_changed.emit(expanded)

    def _update_toggle_text(self) -> None:
        jobs = list(self._cards)
        running = len(self.store.active()) if jobs else 0
        what = (
            "no uploads yet" if not jobs else f"{len(jobs)} job" + ("s" if len(jobs) != 1 else "")
        )
        if running:
            what += f", {running} active"
        self.toggle.setText(f"Upload queue ({what})")

    def card(self, job_id: int) -> JobCard:
        return self._cards[job_id]

    def busy_reason(self) -> str | None:
        active = self.store.active()
        if not active:
            return None
        return f"{len(active)} upload(s) running: closing cancels them (they stay resumable)"

    def _pump(self) -> None:
        for job in self.store.startable():
            self._start(job)

    def _start(self, job: QueuedUpload) -> None:
        from outbound_desk.ui.upload_queue.process import run_upload_in_child
        from outbound_desk.upload.ledger import Ledger
        from outbound_desk.upload.runner import run_upload

        try:
            client = self._client()
        except Exception as exc:  # not signed in, no profile: the card says so
            self.store.mark_ended(job, FAILED, error=str(exc) or type(exc).__name__)
            self._ended(job)
            return
        ledger_path = self._ledger_path()
        self.store.mark_started(job)

        isolate = self._isolate

        def work(progress: Any, cancelled: Any) -> Any:
            def on_progress(snapshot: Any) -> None:
                job.progress = snapshot  # read by the repaint timer on the GUI thread

            def stop() -> bool:
                return bool(cancelled() or job.cancelled())

            if isolate:
                return run_upload_in_child(
                    client,
                    job.options,
                    ledger_path,
                    progress=on_progress,
                    cancelled=stop,
                    paused=job.paused,
                    prepare=job.prepare,
                    on_options=lambda options: setattr(job, "options", options),
                )
            if job.prepare is not None:
                job.options = job.prepare(job.options, progress, stop)
            ledger = Ledger(ledger_path)
            try:
                return run_upload(
                    client,
                    job.options,
                    ledger,
                    progress=on_progress,
                    cancelled=stop,
                    paused=job.paused,
                )
            finally:
                ledger.close()

        jid = job.job_id
        handle = self._jobs.start(
            work,
            name=f"upload-{jid}",
            on_success=lambda result: self._on_job_succeeded(jid, result),
            on_failure=lambda exc: self._on_job_failed(jid, exc),
            on_cancelled=lambda: self._on_job_cancelled(jid),
        )
        if handle is None:  # the app is closing
            self.store.mark_ended(job, CANCELLED)
            self._ended(job)
            return
        self._handles[jid] = handle
        self._timer.start()
        self.job_started.emit(jid)

    # ------------------------------------------------------------------ job ends (GUI thread)
    def _on_job_succeeded(self, job_id: int, result: Any) -> None:
        job = self.store.get(job_id)
        if job is None:
            return
        state = {"done": DONE, "cancelled": CANCELLED}.get(result.status, FAILED)
        job.transport = str(result.transport)  # what "auto" chose
        self.store.mark_ended(job, state, result=result, error=result.error)
        self._ended(job)

    def _on_job_failed(self, job_id: int, exc: BaseException) -> None:
        job = self.store.get(job_id)
        if job is None:
            return
        kind = getattr(exc, "kind", type(exc).__name__)
        cancelled = kind == "UploadCancelled" or job.cancelled()
        self.store.mark_ended(
            job, CANCELLED if cancelled else FAILED, error=str(exc) or type(exc).__name__
        )
        if not cancelled:
            log.warning("upload %s failed: %s", job.title, exc)
        self._ended(job)

    def _on_job_cancelled(self, job_id: int) -> None:
        job = self.store.get(job_id)
        if job is not None:
            self.store.mark_ended(job, CANCELLED)
            self._ended(job)

    def _ended(self, job: QueuedUpload) -> None:
        self._handles.pop(job.job_id, None)
        card = self._cards.get(job.job_id)
        if card is not None:
            card.refresh()
        self._notify(job)
        self.job_ended.emit(job.job_id, job.state)
        self._pump()
        self._update_toggle_text()
        if not self.store.active():
            self._timer.stop()

    def _notify(self, job: QueuedUpload) -> None:
        window = self.window()
        if window is not None and window.isActiveWindow():
            return
        title = f"Upload {job.state}: {job.title} → {job.list_name}"
        text = summary_text(job).splitlines()[0]
        self.notification_posted.emit(title, text)
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                self._tray = QSystemTrayIcon(self.windowIcon(), self)
            self._tray.show()
            self._tray.showMessage(title, text)
        elif window is not None:
            QApplication.alert(window)

    # ------------------------------------------------------------------ resume offer
    def check_unfinished(self) -> None:
        """Ask the ledger (off the GUI thread) for uploads a crash left unfinished."""
        from outbound_desk.upload.ledger import Ledger

        path = self._ledger_path()

        def work() -> list[Any]:
            if not Path(path).exists():
                return []
            ledger = Ledger(path)
            try:
                return list(ledger.unfinished_uploads())
            finally:
                ledger.close()

        self._tasks.run(
            work,
            self._on_unfinished_loaded,
            lambda exc: log.warning("could not read the ledger: %s", exc),
        )

    def _on_unfinished_loaded(self, records: list[Any]) -> None:
        running = {str(getattr(j.result, "upload_id", "")) for j in self.store.jobs}
        self._resumable = [r for r in records if r.id not in running]
        if not self._resumable:
            self.banner.hide()
            return
        names = ", ".join(
            f"{Path(r.file_path).name} → {r.list_name or r.list_id}" for r in self._resumable[:3]
        )
        more = f" and {len(self._resumable) - 3} more" if len(self._resumable) > 3 else ""
        self.resume_banner.setText(
            f"{len(self._resumable)} upload(s) did not finish last time: {names}{more}. "
            "Resuming sends only what was not confirmed."
        )
        self.banner.show()
        self.resumable_found.emit(list(self._resumable))

    def resume_unfinished(self) -> list[QueuedUpload]:
        """Queue every upload the resume offer listed; each continues where it stopped."""
        queued = []
        for record in self._resumable:
            try:
                options = self._resume_options(record)
            except Exception as exc:  # an old or damaged record: say so, resume the others
                log.warning("cannot resume upload %s: %s", record.id, exc)
                self._prompter.error(self, "Resume", f"Upload {record.id} cannot be resumed: {exc}")
                continue
            queued.append(
                self.enqueue(
                    options, list_name=record.list_name or record.list_id, list_id=record.list_id
                )
            )
        self._resumable = []
        self.banner.hide()
        return queued

    def _resume_options(self, record: Any) -> Any:
        """The options the upload was started with (saved in its journal), to resume it."""
        import dataclasses

        from outbound_desk.upload.journal import Journal
        from outbound_desk.upload.model import UploadOptions

        journal_path = Journal.path_for(self._ledger_path(), record.id)
        if not journal_path.exists():
            raise ValueError(f"it left no journal at {journal_path}; start it again instead")
        with Journal(journal_path) as journal:
            saved = journal.get_meta("options")
        if saved is None:
            raise ValueError("its options were not saved; start it again instead")
        options = UploadOptions.from_json(saved)
        # Queued behind other jobs of this app, it may also wait for another process's lock.
        return dataclasses.replace(options, resume_id=record.id, lock_timeout_s=None)

    @Slot()
    def _on_resume_button_clicked(self) -> None:
        self.resume_unfinished()

    @Slot()
    def _on_dismiss_button_clicked(self) -> None:
        self.banner.hide()

    # ------------------------------------------------------------------ card controls
    @Slot(int)
    def _on_card_cancel_clicked(self, job_id: int) -> None:
        job = self.store.get(job_id)
        if job is None:
            return
        was_queued = job.state == "queued"
        self.store.cancel(job)
        handle = self._handles.get(job_id)
        if handle is not None:
            handle.cancel()
        if was_queued:
            self._ended(job)
        self._cards[job_id].refresh()

    @Slot(int)
    def _on_card_pause_clicked(self, job_id: int) -> None:
        job = self.store.get(job_id)
        if job is not None:
            self.store.pause(job)
            self._cards[job_id].refresh()

    @Slot(int)
    def _on_card_resume_clicked(self, job_id: int) -> None:
        job = self.store.get(job_id)
        if job is not None:
            self.store.resume(job)
            self._cards[job_id].refresh()

    @Slot(int)
    def _on_card_open_report_clicked(self, job_id: int) -> None:
        job = self.store.get(job_id)
        report = getattr(getattr(job, "result", None), "report", None)
        if report:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(report)))

    @Slot(int)
    def _on_card_save_report_clicked(self, job_id: int) -> None:
        job = self.store.get(job_id)
        report = getattr(getattr(job, "result", None), "report", None)
        if not report:
            return
        target = self._prompter.save_path(
            self, "Save the outcome report", Path(report).name, "CSV (*.csv)"
        )
        if target:
            try:
                shutil.copyfile(report, target)
            except OSError as exc:
                self._prompter.error(self, "Save report", f"Could not save the report: {exc}")

    @Slot()
    def _on_clear_button_clicked(self) -> None:
        for job in [j for j in self.store.jobs if j.state in (DONE, FAILED, CANCELLED)]:
            card = self._cards.pop(job.job_id, None)
            if card is not None:
                card.setParent(None)
                card.deleteLater()
            self.store.jobs.remove(job)
        if not self.store.jobs:
            self.empty_label.show()
        self._update_toggle_text()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._update_toggle_text()
        for job in self.store.active():
            card = self._cards.get(job.job_id)
            if card is not None:
                card.refresh()

    def shutdown(self) -> None:
        """Cancel every job (they stay resumable) and wait for their threads."""
        self._timer.stop()
        for job in self.store.jobs:
            if job.state not in (DONE, FAILED, CANCELLED):
                self.store.cancel(job)
        if self._own_runners:
            self._jobs.shutdown()
            self._tasks.shutdown()
