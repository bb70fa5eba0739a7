"""The upload queue: job cards with live progress, cancel/pause/resume, the resume offer."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from outbound_desk.ui.fold import FoldButton
from outbound_desk.ui.messages import describe, plural
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

# The engine is imported with the window, before start-up ends (ui.heap freezes what is
# alive then): imported at the first upload, its modules held the interpreter lock for
# 70-150 ms, a stall of the window.
from outbound_desk.upload.ledger import Ledger
from outbound_desk.upload.runner import run_upload

log = logging.getLogger(__name__)

ClientProvider = Callable[[], Any]  # () -> outbound_desk.genesys.GenesysClient (or raises)

#: Journal meta key: the person said "don't offer again" for this unfinished upload.
DISMISSED = "resume_dismissed"


def resumable_uploads(
    ledger_path: Path, client: Any, org: str | None, *, lock_dir: Path | None = None
) -> list[Any]:
    """The ledger's unfinished uploads this app may offer to resume now (blocking; no Qt).

    Only uploads of the org signed in now (recorded with its profile name, or without one)
    into a list this org has, with a journal to resume from, not dismissed for good, and not
    being run by another process (the per-list lock is free).
    """
    from outbound_desk.genesys import NotFound
    from outbound_desk.upload.journal import Journal
    from outbound_desk.upload.lock import ListBusyError, ListLock

    if not Path(ledger_path).exists():
        return []
    ledger = Ledger(ledger_path)
    try:
        records = list(ledger.unfinished_uploads())
    finally:
        ledger.close()
    out = []
    for record in records:
        if record.profile is not None and record.profile != org:
            continue  # another org's upload
        journal_path = Journal.path_for(ledger_path, record.id)
        if not journal_path.exists():
            continue
        with Journal(journal_path) as journal:
            if journal.get_meta(DISMISSED):
                continue
        lock = ListLock(record.list_id, lock_dir=lock_dir, timeout=0)
        try:
            lock.acquire()
        except ListBusyError:
            continue  # another process is running it (or another upload into that list)
        lock.release()
        try:
            client.contact_lists.get(record.list_id)
        except NotFound:
            continue  # not a list of this org (or deleted since): resuming would create one
        out.append(record)
    return out


class UploadQueuePane(QWidget):
    """Every upload of this session as a card; runs them through the upload engine.

    Jobs for the same list run one at a time (:class:`UploadQueueStore`); each runs on its own
    QThread through the app's :class:`JobRunner`. The engine's progress snapshots are stored on
    the job by the worker and painted by a 250 ms timer (STYLE rule 10), so a fast upload never
    floods the GUI thread.

    *client* returns the signed-in ``GenesysClient`` (called on the GUI thread when a job
    starts): every upload shares it, its token provider and its rate limiter; *ledger_path*
    is the upload ledger.

    Signals: ``expanded_changed(bool)`` when the strip folds or opens, ``job_started(int)``,
    ``job_ended(int, str)`` (job id, "done" | "failed" | "cancelled"),
    ``notification_posted(str, str)`` (title, text) when the window was not focused,
    ``resumable_found(object)`` (the unfinished ``UploadRecord`` list, when not empty),
    ``unfinished_checked(object)`` (that list, also when empty) after each check.
    """

    expanded_changed = Signal(bool)
    job_started = Signal(int)
    job_ended = Signal(int, str)
    notification_posted = Signal(str, str)
    resumable_found = Signal(object)
    unfinished_checked = Signal(object)

    REPAINT_MS = 250

    def __init__(
        self,
        *,
        client: ClientProvider,
        ledger_path: Callable[[], Path],
        org: Callable[[], str | None] = lambda: None,
        identity: Callable[[], str | None] = lambda: None,
        lock_dir: Path | None = None,
        jobs: JobRunner | None = None,
        tasks: TaskRunner | None = None,
        prompter: Prompter | None = None,
        max_running: int = 2,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("UploadQueuePane")
        self._client = client
        self._ledger_path = ledger_path
        self._org = org
        self._identity = identity
        self._lock_dir = lock_dir
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
        self.dismiss_button = QPushButton("Don't offer again")
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
        self.toggle = FoldButton("queueToggle", "Show or hide the upload queue")
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
        prepared: Any = None,
        duplicate_plan: Any = None,
    ) -> QueuedUpload:
        """Queue an upload (``upload.UploadOptions``); it starts when its list is free.

        Pass *list_id* whenever the list exists: jobs are serialised per list by id, else by
        *list_name*. *prepared* is the preview's scanned ``FileProfile`` (overrides applied):
        the engine uses it instead of reading the file again; *duplicate_plan* is the
        preview validation's ``report.duplicate_plan`` (the same, for the duplicate ids).
        """
        job = self.store.add(
            title=Path(options.file).name,
            list_key=self.store.key_of(list_id, list_name),
            list_name=list_name,
            transport=str(options.via),
            options=options,
            prepared=prepared,
            duplicate_plan=duplicate_plan,
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
        if len(active) == 1:
            return "1 upload is running: closing cancels it (it stays resumable)"
        return f"{len(active):,} uploads are running: closing cancels them (they stay resumable)"

    def _pump(self) -> None:
        for job in self.store.startable():
            self._start(job)

    def _start(self, job: QueuedUpload) -> None:
        try:
            client = self._client()
        except Exception as exc:  # not signed in, no profile: the card says so
            self.store.mark_ended(job, FAILED, error=str(exc) or type(exc).__name__)
            self._ended(job)
            return
        ledger_path, org, lock_dir = self._ledger_path(), self._org(), self._lock_dir
        user = self._identity()
        self.store.mark_started(job)

        def work(progress: Any, cancelled: Any) -> Any:
            # On a worker thread of this process, through the session's one client: its token
            # provider renews (or asks for a new sign-in and waits), its limiter paces every
            # request the app makes. See docs/ARCHITECTURE.md, "Where work runs".
            def on_progress(snapshot: Any) -> None:
                job.progress = snapshot  # read by the repaint timer on the GUI thread

            ledger = Ledger(ledger_path)
            try:
                return run_upload(
                    client,
                    job.options,
                    ledger,
                    progress=on_progress,
                    cancelled=lambda: bool(cancelled() or job.cancelled()),
                    paused=job.paused,
                    prepared=job.prepared,
                    duplicate_plan=job.duplicate_plan,
                    profile=org,  # the ledger says which org it went to (the resume offer)
                    user=user,  # and who sent it (History's By)
                    lock_dir=lock_dir,
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
        """Find (off the GUI thread) the uploads a crash left unfinished that may be resumed
        here: see :func:`resumable_uploads`."""
        try:
            client = self._client()
        except Exception:  # not signed in: nothing can be resumed yet (asked again on sign-in)
            self._on_unfinished_loaded([])
            return
        path, org, lock_dir = self._ledger_path(), self._org(), self._lock_dir
        running = {str(getattr(j.result, "upload_id", "")) for j in self.store.jobs}

        def work() -> list[Any]:
            found = resumable_uploads(path, client, org, lock_dir=lock_dir)
            return [r for r in found if r.id not in running]

        self._tasks.run(work, self._on_unfinished_loaded, self._on_unfinished_failed)

    def _on_unfinished_failed(self, exc: BaseException) -> None:
        """A ledger that cannot be read (damaged, unreadable) is said where the offer would
        be, with what to do, instead of only in the log."""
        log.warning("could not read the ledger: %s", exc)
        self._resumable = []
        self.resume_banner.setText(
            f"Unfinished uploads cannot be looked for: {describe(exc)} Nothing on the platform "
            "is lost; uploads started now are not recorded until the ledger is fixed."
        )
        self.resume_button.hide()
        self.banner.show()

    def _on_unfinished_loaded(self, records: list[Any]) -> None:
        self._resumable = list(records)
        self.unfinished_checked.emit(list(records))
        if not self._resumable:
            self.banner.hide()
            return
        self.resume_button.show()
        names = ", ".join(
            f"{Path(r.file_path).name} → {r.list_name or r.list_id}" for r in self._resumable[:3]
        )
        more = f" and {len(self._resumable) - 3} more" if len(self._resumable) > 3 else ""
        self.resume_banner.setText(
            f"{plural(len(self._resumable), 'upload')} to this org did not finish last time:"
            f" {names}"
            f"{more}. Resuming sends only what was not confirmed."
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

    def dismiss_unfinished(self) -> None:
        """Never offer the listed uploads again (each stays in the ledger and the history)."""
        from outbound_desk.upload.journal import Journal

        for record in self._resumable:
            journal_path = Journal.path_for(self._ledger_path(), record.id)
            try:
                with Journal(journal_path) as journal:
                    journal.set_meta(DISMISSED, "1")
            except Exception as exc:  # the offer goes anyway; it may come back next time
                log.warning("could not dismiss upload %s: %s", record.id, exc)
        self._resumable = []
        self.banner.hide()

    def _resume_options(self, record: Any) -> Any:
        """The options the upload was started with (saved in its journal), to resume it into
        the list it went to, from the absolute path the ledger recorded."""
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
        file = Path(record.file_path)
        if not file.is_absolute():
            raise ValueError(
                f"the ledger holds a relative path ({file}); open the file and upload it again"
            )
        # Queued behind other jobs of this app, it may also wait for another process's lock.
        return dataclasses.replace(
            options,
            file=file,
            # A list it created is found again by its name (resumable_uploads checked that this
            # org has it); any other by its id, never by a name another org may also have.
            list=options.list if options.create else record.list_id,
            resume_id=record.id,
            lock_timeout_s=None,
        )

    @Slot()
    def _on_resume_button_clicked(self) -> None:
        self.resume_unfinished()

    @Slot()
    def _on_dismiss_button_clicked(self) -> None:
        self.dismiss_unfinished()

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
