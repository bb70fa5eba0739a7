"""One upload as a card: what goes where, its phase, a progress bar, live counters, controls."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from outbound_desk.ui.upload_queue.chart import RateChart
from outbound_desk.ui.upload_queue.store import (
    CANCELLED,
    DONE,
    FAILED,
    PAUSED,
    QUEUED,
    RUNNING,
    QueuedUpload,
)

PHASE_LABELS = {
    "validating": "Validating",
    "creating_list": "Creating the list",
    "waiting_for_list": "Waiting for the list",
    "waiting_lock": "Waiting for another upload to this list",
    "waiting_busy": "Waiting: an import runs on the list",
    "clearing": "Clearing the list",
    "uploading": "Uploading",
    "importing": "Importing",
    "reconciling": "Reconciling",
    "reporting": "Writing the report",
    "paused": "Paused",
    "done": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class JobCard(QFrame):
    """Shows one :class:`QueuedUpload` and its controls.

    Signals (the queue pane acts on them): ``cancel_clicked(int)``, ``pause_clicked(int)``,
    ``resume_clicked(int)``, ``open_report_clicked(int)``, ``save_report_clicked(int)``, each
    with the job id.
    """

    cancel_clicked = Signal(int)
    pause_clicked = Signal(int)
    resume_clicked = Signal(int)
    open_report_clicked = Signal(int)
    save_report_clicked = Signal(int)

    def __init__(self, job: QueuedUpload, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.setObjectName(f"job-card-{job.job_id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.phase = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)  # permille: counts past 2**31 cannot overflow the bar
        self.bar.setFormat("%p%")
        self.counts = QLabel()
        self.speed = QLabel()
        for label in (self.counts, self.speed):
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.chart = RateChart()
        self._import_mark: tuple[float, float] | None = None  # (elapsed s, rows imported)
        self._import_speed = 0.0
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.hide()
        self.pause_button = QPushButton("Pause")
        self.cancel_button = QPushButton("Cancel")
        self.open_report_button = QPushButton("Open report")
        self.save_report_button = QPushButton("Save report as…")
        for b in (self.open_report_button, self.save_report_button):
            b.hide()
        self.pause_button.clicked.connect(self._on_pause_button_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.open_report_button.clicked.connect(self._on_open_report_button_clicked)
        self.save_report_button.clicked.connect(self._on_save_report_button_clicked)

        grid = QGridLayout()
        grid.addWidget(self.phase, 0, 0)
        grid.addWidget(self.bar, 0, 1)
        grid.addWidget(self.counts, 1, 0, 1, 2)
        grid.addWidget(self.speed, 2, 0, 1, 2)
        grid.addWidget(self.chart, 3, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        # The buttons share the title's line: a card is a few lines high, so the queue strip
        # leaves the preview its room at 1024x700.
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        for b in (
            self.open_report_button,
            self.save_report_button,
            self.pause_button,
            self.cancel_button,
        ):
            head.addWidget(b)
        box = QVBoxLayout(self)
        box.setContentsMargins(8, 4, 8, 4)
        box.setSpacing(2)
        box.addLayout(head)
        box.addLayout(grid)
        box.addWidget(self.summary)
        self.refresh()

    def refresh(self) -> None:
        """Repaint from the job's latest snapshot (called by the queue's repaint timer)."""
        job = self.job
        self.title.setText(
            f"<b>{_esc(job.title)}</b> → {_esc(job.list_name)} <i>({_esc(job.transport)})</i>"
        )
        p = job.progress
        phase = str(getattr(p, "phase", "") or "")
        if job.state == QUEUED:
            self.phase.setText("Queued")
        elif job.state == PAUSED:
            self.phase.setText("Paused")
        elif job.state in (DONE, FAILED, CANCELLED):
            self.phase.setText(PHASE_LABELS[job.state])
        else:
            self.phase.setText(PHASE_LABELS.get(phase, phase or "Starting"))
        importing = p is not None and phase == "importing" and p.import_percent is not None
        if importing:
            # The rows are confirmed only when the platform's import ends: until then its own
            # percent is what moves.
            self.bar.setValue(min(1000, int(p.import_percent * 10)))
            self.bar.setFormat("%p% imported")
        elif p is not None and p.rows:
            # Every row read is in the total (rejected and dropped ones too): done never
            # runs past it. While the file is still being read, the rows read so far are not
            # the whole: the preview counted the file (82% showed with 125,000 of 300,000 rows
            # planned).
            total = max(p.rows, getattr(job.prepared, "rows", None) or 0)
            self.bar.setValue(min(1000, int(p.done * 1000 // max(total, 1))))
            self.bar.setFormat("%p%")
        elif job.state == DONE:
            self.bar.setValue(1000)
        if p is not None and job.state == RUNNING:
            rate = self._import_rate(p) if importing else p.rate_per_s
            self.chart.add_sample(p.elapsed_s, rate, p.rate_limited)
        if p is not None:
            self.counts.setText(
                f"planned {p.planned:,} · sent {p.sent:,} · confirmed {p.confirmed:,} · "
                f"unchanged {p.unchanged:,} · rejected {p.rejected:,}"
                + (f" · dropped as duplicates {p.dropped:,}" if p.dropped else "")
            )
            eta = fmt_duration(p.eta_s) if job.state == RUNNING else "—"
            rate = self._import_rate(p) if importing else p.rate_per_s
            if importing and rate > 0 and p.import_percent is not None:
                eta = fmt_duration(p.planned * (100 - p.import_percent) / 100 / rate)
            self.speed.setText(
                f"{rate:,.0f} rows/s · ETA {eta} · 429s {p.rate_limited:,} · "
                f"retries {p.retries:,} · elapsed {fmt_duration(job.elapsed_s())}"
                + (f" · {p.message}" if p.message else "")
            )
        else:
            self.counts.setText("")
            self.speed.setText(f"elapsed {fmt_duration(job.elapsed_s())}")
        running = job.state in (RUNNING, PAUSED)
        self.pause_button.setVisible(running)
        self.pause_button.setText("Resume" if job.state == PAUSED else "Pause")
        self.cancel_button.setVisible(job.state in (QUEUED, RUNNING, PAUSED))
        ended = job.state in (DONE, FAILED, CANCELLED)
        has_report = ended and getattr(job.result, "report", None) is not None
        self.open_report_button.setVisible(has_report)
        self.save_report_button.setVisible(has_report)
        if ended:
            self.summary.setText(summary_text(job))
            self.summary.show()

    def _import_rate(self, p: Any) -> float:
        """Rows/s of the platform's import, from how far its percent moved since the last
        change (the engine's own rate counts confirmations, which come only at the end)."""
        rows = p.planned * (p.import_percent or 0.0) / 100
        mark = self._import_mark
        if mark is None or rows < mark[1]:
            self._import_mark = (p.elapsed_s, rows)
            self._import_speed = 0.0
            return 0.0
        if rows > mark[1] and p.elapsed_s > mark[0]:
            self._import_speed = (rows - mark[1]) / (p.elapsed_s - mark[0])
            self._import_mark = (p.elapsed_s, rows)
        return self._import_speed

    @Slot()
    def _on_pause_button_clicked(self) -> None:
        if self.job.state == PAUSED:
            self.resume_clicked.emit(self.job.job_id)
        else:
            self.pause_clicked.emit(self.job.job_id)

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        self.cancel_clicked.emit(self.job.job_id)

    @Slot()
    def _on_open_report_button_clicked(self) -> None:
        self.open_report_clicked.emit(self.job.job_id)

    @Slot()
    def _on_save_report_button_clicked(self) -> None:
        self.save_report_clicked.emit(self.job.job_id)


def summary_text(job: QueuedUpload) -> str:
    r: Any = job.result
    if r is None:
        if job.state == CANCELLED:
            return "Cancelled. What was confirmed stays; run it again to resume."
        return f"Failed: {job.error or 'unknown error'}"
    parts = [
        f"created {r.created:,}",
        f"updated {r.updated:,}",
        f"unchanged {r.unchanged:,}",
        f"rejected {r.rejected:,}",
        f"missing after reconcile {r.missing:,}",
    ]
    if getattr(r, "dropped_duplicates", 0):
        parts.insert(4, f"dropped as duplicates {r.dropped_duplicates:,}")
    head = {"done": "Finished", "failed": "Finished with problems", "cancelled": "Cancelled"}.get(
        r.status, r.status
    )
    text = f"{head} in {fmt_duration(r.duration_s)}: " + ", ".join(parts)
    if r.pending:
        text += f"; {r.pending:,} not sent yet (run it again to resume)"
    if r.error:
        text += f"\n{r.error}"
    for w in r.warnings:
        text += f"\nwarning: {w}"
    return text


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
