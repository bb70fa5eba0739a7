"""How long does the GUI thread stall while the app validates and uploads a big file?

The real main window (Lists, Upload, History) is built signed in to an embedded sandbox org.
A 10 ms QTimer heartbeat on the GUI thread records every tick; the longest gap between two
ticks, minus the interval, is the longest stall a user would feel. The run opens a
1,000,000-row file in the Upload tab (detection, streaming count, lazy table), validates it
against a new list made from its header, scrolls the table, and uploads the valid rows to the
sandbox; the stall is reported per phase. Target: under 50 ms.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui_stall.py --rows 1000000

(``--via api`` sends JSON batches instead of the CSV import; ``--rows`` for a quicker run.)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HEADER = "customerId,firstName,lastName,phoneNumber,email,city,zip,notes\n"


class _Confirming:
    """Says yes to the upload confirmation (nobody is there to click); the rest as the app."""

    def __init__(self) -> None:
        from outbound_desk.ui.prompter import DialogPrompter

        self._dialogs = DialogPrompter()

    def confirm(self, parent: Any, title: str, text: str, *, danger: bool = False) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dialogs, name)


def make_file(path: Path, rows: int, seed: int = 7) -> Path:
    """Contacts with ~1% invalid phones, some duplicate ids and mixed phone shapes."""
    rnd = random.Random(seed)
    cities = ["Boston", "Austin", "Denver", "Miami", "Zürich", "Málaga"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        buf = []
        for i in range(rows):
            n = f"{200 + (i // 10_000) % 800:03d}{i % 10_000:04d}"
            shape = i % 4
            phone = (f"+1212{n}", f"(212) {n[:3]}-{n[3:]}", f"212.{n[:3]}.{n[3:]}", f"1212{n}")[
                shape
            ]
            if rnd.random() < 0.01:
                phone = "555-12"
            cid = f"C{i:08d}" if rnd.random() > 0.001 else f"C{rnd.randrange(max(i, 1)):08d}"
            buf.append(
                f"{cid},First{i},Last{i},{phone},p{i}@example.com,{cities[i % 6]},"
                f"{10000 + i % 89999},note {i}\n"
            )
            if len(buf) == 50_000:
                fh.write("".join(buf))
                buf.clear()
        fh.write("".join(buf))
    return path


class Heartbeat:
    """Ticks on the GUI thread; measures the gaps between ticks, per named phase."""

    def __init__(self, interval_ms: int = 10, *, sched: bool = False) -> None:
        from PySide6.QtCore import QTimer

        self.interval = interval_ms / 1000
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.last = time.perf_counter()
        self.phase = "idle"
        self.gaps: dict[str, list[float]] = {}
        self.phase_t0 = self.last
        #: per phase: (longest gap, seconds into the phase when it ended)
        self.worst: dict[str, tuple[float, float]] = {}
        #: every gap over 40 ms: (phase, seconds into it when it ended, gap in s)
        self.long: list[tuple[str, float, float]] = []
        #: With ``--diagnose`` on Linux: the GUI thread's schedstat (seconds on a CPU, seconds
        #: waiting in the run queue) at each tick, to split each long gap into its own work,
        #: waiting for a core, and the rest (waiting for the interpreter lock, or idle).
        self._sched = f"/proc/self/task/{threading.get_native_id()}/schedstat" if sched else None
        self._sched_last = self._read_sched()
        #: (phase, seconds into it, gap ms, on a CPU ms, in the run queue ms)
        self.split: list[tuple[str, float, float, float, float]] = []

    def _read_sched(self) -> tuple[float, float]:
        if self._sched is None:
            return (0.0, 0.0)
        try:
            with open(self._sched) as f:
                run, wait = f.read().split()[:2]
        except OSError:
            self._sched = None
            return (0.0, 0.0)
        return int(run) / 1e9, int(wait) / 1e9

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = now - self.last
        self.gaps.setdefault(self.phase, []).append(gap)
        if gap > self.worst.get(self.phase, (0.0, 0.0))[0]:
            self.worst[self.phase] = (gap, now - self.phase_t0)
        if gap > 0.04 + self.interval:
            self.long.append((self.phase, now - self.phase_t0, gap))
        if self._sched is not None:
            run, wait = self._read_sched()
            if gap > 0.03 + self.interval:
                ran, queued = run - self._sched_last[0], wait - self._sched_last[1]
                self.split.append(
                    (self.phase, now - self.phase_t0, gap * 1000, ran * 1000, queued * 1000)
                )
            self._sched_last = (run, wait)
        self.last = now

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        self.phase_t0 = time.perf_counter()


class StallWatch:
    """With ``--diagnose``: where the GUI thread stalled, and why.

    A watchdog thread prints every thread's stack when the heartbeat is late; the collector's
    pauses are timed (a full collection holds the GIL, whichever thread runs it); and the app's
    callbacks on the GUI thread (every worker answer passes through them) are timed. Build it
    before the window, so that the wrapped callbacks are the ones the window connects.
    """

    def __init__(self, beat: Heartbeat, threshold_s: float = 0.04) -> None:
        import gc
        import threading

        self.beat = beat
        self.threshold = threshold_s
        self.gui = threading.get_ident()
        self.stop = threading.Event()
        #: stack -> (longest stall in ms, phase)
        self.seen: dict[str, tuple[int, str]] = {}
        self.gc_pauses: list[tuple[float, int, int, str]] = []
        self._gc_t0 = 0.0
        gc.callbacks.append(self._on_gc)
        self.slow_calls: dict[str, float] = {}
        self._wrap_callbacks()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        import threading
        import traceback

        last_reported = 0.0
        while not self.stop.wait(0.01):
            late = time.perf_counter() - self.beat.last
            if late > self.threshold and self.beat.last != last_reported:
                last_reported = self.beat.last
                frames = sys._current_frames()
                if self.gui not in frames:
                    continue
                # Where every thread is: a stalled GUI thread is often waiting for the GIL
                # that a worker holds in one long C call.
                stack = "\n".join(
                    f"[{'GUI' if tid == self.gui else tid}] {self.beat.phase}\n"
                    + "".join(traceback.format_stack(f)[-(12 if tid == self.gui else 4) :])
                    for tid, f in frames.items()
                    if tid != threading.get_ident()
                )
                started, phase = self.beat.last, self.beat.phase
                # Measured when the heartbeat ticks again.
                while self.beat.last == started and not self.stop.is_set():
                    time.sleep(0.002)
                ms = int((self.beat.last - started) * 1000)
                self.seen[stack] = max(self.seen.get(stack, (0, phase)), (ms, phase))

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_t0 = time.perf_counter()
        elif (ms := (time.perf_counter() - self._gc_t0) * 1000) > 5:
            self.gc_pauses.append((ms, info["generation"], info["collected"], self.beat.phase))

    def _wrap_callbacks(self) -> None:
        from outbound_desk.ui import tasks
        from outbound_desk.ui.preview.pane import PreviewPane

        for cls, names in (
            (tasks.TaskRunner, ("_on_task_done",)),
            (tasks.JobHandle, ("_on_job_progress_changed", "_on_job_succeeded")),
            (
                PreviewPane,
                (
                    "_on_sniffed",
                    "_on_scanned",
                    "_on_validated",
                    "_update_schema",
                    "open_file",
                    "_sniff",
                    "_save_settings",
                ),
            ),
        ):
            for name in names:
                setattr(cls, name, self._timed(cls, name, cls.__dict__[name]))

    def _timed(self, cls: type, name: str, fn: Any) -> Any:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                ms = (time.perf_counter() - t) * 1000
                if ms > 5:
                    key = f"{self.beat.phase}: {cls.__name__}.{name}"
                    key += f" {getattr(args[0], 'name', '')}" if name.startswith("_on_job") else ""
                    self.slow_calls[key] = max(self.slow_calls.get(key, 0.0), ms)

        return wrapper

    def report(self) -> None:
        self.stop.set()
        for name, ms in sorted(self.slow_calls.items(), key=lambda kv: -kv[1])[:12]:
            print(f"--- GUI thread ran {name} for {ms:.0f} ms")
        for phase, (gap, at) in self.beat.worst.items():
            print(f"--- longest gap in {phase}: {gap * 1000:.0f} ms, ending {at:.2f} s into it")
        for phase, at, gap, ran, queued in self.beat.split:
            print(
                f"--- gap {gap:.0f} ms in {phase} at {at:.2f} s: the GUI thread on a CPU "
                f"{ran:.0f} ms, waiting for one {queued:.0f} ms, for the lock or idle "
                f"{gap - ran - queued:.0f} ms"
            )
        for ms, gen, collected, phase in sorted(self.gc_pauses, reverse=True)[:6]:
            print(f"--- gc pause {ms:.0f} ms in {phase} (generation {gen}, {collected} collected)")
        # The worst stalls of every phase (a slow phase would hide the others' causes).
        for phase in self.beat.worst:
            mine = [(ms, stack) for stack, (ms, p) in self.seen.items() if p == phase]
            for ms, stack in sorted(mine, reverse=True)[:3]:
                print(f"--- stalled {ms} ms in {phase}; threads at the start of it:\n{stack}")


@contextlib.contextmanager
def sandbox_process() -> Iterator[SimpleNamespace]:
    """``outbound-desk emulator`` on a free port, stopped on exit."""
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "outbound_desk",
            "emulator",
            "--port",
            "0",
            "--json",
            "--rate-limit",
            "100000/60",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    try:
        assert proc.stdout is not None
        yield SimpleNamespace(**json.loads(proc.stdout.readline()))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


#: ``--poll``: wait as the benchmark did before the sixth session (see wait_until).
POLL = False


def wait_until(app, predicate, timeout_s: float) -> None:
    """Run the event loop until *predicate* holds, checking it every 10 ms.

    The wait is a real event loop, as in the app (``QApplication.exec``): the GUI thread holds
    the interpreter lock only for the events it handles. ``poll`` is the earlier wait
    (``processEvents`` then a 2 ms sleep, over and over), which took the lock 500 times a
    second for itself and so waited for it more often than the app does.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_s
    if POLL:
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("gave up waiting")
            app.processEvents()
            time.sleep(0.002)
        return
    if predicate():
        return
    loop = QEventLoop()
    timed_out: list[bool] = []

    def check() -> None:
        if predicate():
            loop.quit()
        elif time.monotonic() > deadline:
            timed_out.append(True)
            loop.quit()

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    if timed_out:
        raise TimeoutError("gave up waiting")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--via", choices=("auto", "api", "file"), default="auto")
    parser.add_argument("--keep", type=Path, help="reuse/keep the generated file here")
    parser.add_argument("--diagnose", action="store_true", help="print where the GUI stalled")
    parser.add_argument(
        "--poll",
        action="store_true",
        help="wait with processEvents and 2 ms sleeps (the benchmark before the sixth session)",
    )
    parser.add_argument(
        "--no-upload", action="store_true", help="stop after opening, validating and scrolling"
    )
    args = parser.parse_args()
    global POLL
    POLL = args.poll

    work = Path(tempfile.mkdtemp(prefix="bench-gui-"))
    for name in ("CONFIG", "DATA", "LOG", "CACHE"):
        os.environ[f"OUTBOUND_DESK_{name}_DIR"] = str(work / name.lower())

    path = args.keep or work / "contacts.csv"
    t0 = time.perf_counter()
    if not path.exists():
        make_file(path, args.rows)
    print(
        f"file: {path} ({path.stat().st_size / 1e6:.0f} MB, {args.rows:,} rows) "
        f"made in {time.perf_counter() - t0:.1f} s"
    )

    from PySide6.QtWidgets import QApplication

    from outbound_desk.config import OrgProfile
    from outbound_desk.ui.context import make_context
    from outbound_desk.ui.heap import settle_after_startup
    from outbound_desk.ui.mainwindow import MainWindow
    from outbound_desk.ui.panes import PANES, load_pane_factories
    from outbound_desk.ui.upload_queue.tab import UploadPane

    app = QApplication.instance() or QApplication(sys.argv[:1])
    results: dict[str, float] = {}
    # The sandbox runs in its own process, as the platform would: its CPU work must not be
    # counted as the app's.
    with sandbox_process() as sandbox:
        context = make_context(prompter=_Confirming())
        context.settings.preferences.default_transport = args.via
        beat = Heartbeat(sched=args.diagnose)
        # Built before the window: it wraps the app's callbacks to time them.
        watch = StallWatch(beat) if args.diagnose else None
        window = MainWindow(context, load_pane_factories(PANES))
        window.resize(1400, 900)
        window.show()
        profile = OrgProfile(
            name="bench",
            region="sandbox",
            client_id=sandbox.client_id,
            sandbox_url=sandbox.base_url,
        )
        context.session.sign_in(profile, sandbox.client_secret)
        wait_until(app, lambda: context.session.connection is not None, 30)
        pane = next(p for p in window.panes if isinstance(p, UploadPane))
        # As the app does once its window is built (outbound_desk.ui.app.main).
        frozen = settle_after_startup()
        if args.diagnose:
            print(f"froze {frozen:,} objects")
        window.tabs.setCurrentWidget(pane)
        preview = pane.preview
        beat.start()
        if watch is not None:
            watch.start()
        if args.diagnose:
            heavy = ("pandas", "pyarrow", "outbound_desk.files", "outbound_desk.contacts")
            print("already imported:", [m for m in heavy if m in sys.modules])

        # 1. Open: detection, first rows, streaming count; validation starts by itself.
        beat.set_phase("open")
        t = time.perf_counter()
        reports = []
        preview.validation_finished.connect(reports.append)
        context.files.open(str(path))
        wait_until(app, lambda: preview.profile is not None, 30)
        results["profile_shown_s"] = time.perf_counter() - t
        wait_until(
            app, lambda: preview.rows_model is not None and preview.rows_model.rowCount() > 0, 30
        )
        results["first_rows_s"] = time.perf_counter() - t
        wait_until(app, lambda: preview.profile.rows is not None, 300)
        results["row_count_s"] = time.perf_counter() - t
        beat.set_phase("validate")
        panel = preview.schema_panel
        wait_until(app, lambda: panel.mapping is not None, 30)
        panel.id_column.setCurrentIndex(panel.id_column.findData("customerId"))
        panel._on_id_column_activated()
        reports.clear()
        wait_until(app, lambda: bool(reports), 900)
        results["validated_s"] = time.perf_counter() - t
        report = reports[-1]
        print(
            f"validated: {report.rows:,} rows, {report.valid:,} valid, {report.invalid:,} "
            f"invalid, {report.duplicates:,} duplicates"
        )

        # 2. Scroll the lazy table to the bottom of what is loaded, page by page.
        beat.set_phase("scroll")
        wait_until(app, lambda: preview.rows_model.store.complete, 300)
        bar = preview.table.verticalScrollBar()
        for _ in range(200):
            bar.setValue(bar.maximum())
            app.processEvents()
        preview.jump_to_issue(report.issues[-1]) if report.issues else None
        app.processEvents()
        results["rows_in_table"] = preview.rows_model.rowCount()

        # 3. Upload the valid rows to the sandbox.
        if not args.no_upload:
            if args.diagnose:
                # What a full collection walks from here on (the frozen start-up objects
                # aside): its pauses are as long as this is big.
                import gc
                from collections import Counter

                alive = gc.get_objects()
                kinds = Counter(type(o).__name__ for o in alive).most_common(8)
                print(f"tracked objects at the upload's start: {len(alive):,}; {kinds}")
                del alive
            beat.set_phase("upload")
            t = time.perf_counter()
            ended = []
            pane.queue.job_ended.connect(lambda jid, state: ended.append(state))
            preview.upload_button.click()
            steps: list[tuple[float, str]] = []  # the upload's phases and messages, timed

            def upload_done() -> bool:
                jobs = pane.queue.store.jobs
                p = getattr(jobs[-1], "progress", None) if jobs else None
                if p is not None and args.diagnose:
                    step = f"{p.phase}: {p.message}"[:90]
                    if not steps or steps[-1][1] != step:
                        steps.append((time.perf_counter() - t, step))
                return bool(ended)

            wait_until(app, upload_done, 3600)
            results["upload_s"] = time.perf_counter() - t
            if args.diagnose:
                # Each long gap beside what the upload was doing when it ended.
                gaps = [(at, f"GAP {g * 1000:.0f} ms") for ph, at, g in beat.long if ph == "upload"]
                last = ""
                for at, what in sorted(steps + gaps):
                    if what.startswith("GAP"):
                        print(f"--- {at:8.2f} s  {what} (during {last})")
                    elif what.split(":")[0] != last.split(":")[0]:
                        print(f"--- {at:8.2f} s  {what}")
                    last = last if what.startswith("GAP") else what
            job = pane.queue.store.jobs[-1]
            r = job.result
            print(
                f"upload: {ended[0]} via {getattr(r, 'transport', '?')}: "
                f"created {getattr(r, 'created', 0):,}, rejected {getattr(r, 'rejected', 0):,}, "
                f"missing {getattr(r, 'missing', 0):,} {job.error or ''}"
            )
        beat.timer.stop()
        if watch is not None:
            watch.report()
        window.shutdown()
        window.deleteLater()
        app.processEvents()

    print()
    for key, value in results.items():
        print(f"{key:>16}: {value:,.2f}")
    print()
    print(f"{'phase':>10} {'ticks':>7} {'p50 ms':>8} {'p99 ms':>8} {'max stall ms':>13}")
    worst = 0.0
    for phase, gaps in beat.gaps.items():
        stalls = [max(0.0, g - beat.interval) * 1000 for g in gaps]
        q = statistics.quantiles(stalls, n=100) if len(stalls) > 1 else stalls * 99
        worst = max(worst, max(stalls))
        print(f"{phase:>10} {len(gaps):>7} {q[49]:>8.1f} {q[98]:>8.1f} {max(stalls):>13.1f}")
    print(f"\nlongest GUI stall: {worst:.1f} ms (target < 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
