"""Take the README and docs screenshots from a real main window (run under Xvfb, not pytest).

    xvfb-run -a -s "-screen 0 1920x1080x24" python tests/ui2/screenshots.py docs/screenshots

For each size (1024x700 and 1920x1080) and theme (light, dark) it writes
``lists-SIZE-THEME.png``, ``preview-SIZE-THEME.png`` (a messy Excel export checked against the
sandbox's "Spring Renewals" list), ``upload-SIZE-THEME.png`` (that file uploading, its job card
mid-way) and ``history-SIZE-THEME.png``; the README shows the 1920x1080 light ones as
``lists.png``, ``preview.png`` and ``upload.png``. ``--only SIZE-THEME`` takes one set.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

SIZES = ((1024, 700), (1920, 1080))
THEMES = ("light", "dark")


class _Confirming:
    """Says yes to the upload confirmation (nobody is there to click); the rest as the app."""

    def __init__(self) -> None:
        from outbound_desk.ui.prompter import DialogPrompter

        self._dialogs = DialogPrompter()

    def confirm(self, parent: Any, title: str, text: str, *, danger: bool = False) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dialogs, name)


def messy_export(path: Path, rows: int = 4000) -> Path:
    """A CRM export saved by Excel: cp1252, semicolons, renamed columns, damaged phones."""
    rnd = random.Random(3)
    first = ["José", "Søren", "Anaïs", "Mary", "Lukas", "Zoë", "Ahmed", "Chloé"]
    last = ["Muñoz", "Öztürk", "Nguyen", "Smith", "Dvorák", "García", "O'Neil", "Brown"]
    cities = ["Málaga", "Boston", "Zürich", "Austin", "Québec"]
    lines = ["customerId;First Name;lastname;Phone;mobile;E-mail;city;zip;notes"]
    for i in range(rows):
        phone = f"(212) {200 + i % 700:03d}-{i % 10_000:04d}"
        r = rnd.random()
        if r < 0.03:
            phone = "4.15555E+10"
        elif r < 0.05:
            phone = "555-12"
        mobile = f"+1 917 {300 + i % 600:03d} {i % 10_000:04d}" if i % 3 else ""
        cid = f"{i:07d}" if rnd.random() > 0.01 else f"{i // 2:07d}"
        if rnd.random() < 0.01:
            cid = cid.lstrip("0")
        email = f"{first[i % 8].lower()}.{i}@example.com" if rnd.random() > 0.02 else "n/a"
        zip_ = f"{2100 + i % 90:05d}"
        lines.append(
            f"{cid};{first[i % 8]};{last[(i * 7) % 8]};{phone};{mobile};{email};"
            f"{cities[i % 5]};{zip_};{'VIP' if i % 11 == 0 else ''}"
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def shoot(out: Path, size: tuple[int, int], theme: str) -> list[Path]:
    """One set of screenshots: every pane at *size* in *theme*, from a fresh app and org."""
    work = Path(tempfile.mkdtemp(prefix="shots-"))
    for name in ("CONFIG", "DATA", "LOG", "CACHE"):
        os.environ[f"OUTBOUND_DESK_{name}_DIR"] = str(work / name.lower())
    from PySide6.QtWidgets import QApplication

    from outbound_desk.config import OrgProfile
    from outbound_desk.emulator import Sandbox
    from outbound_desk.ui import palette
    from outbound_desk.ui.context import make_context
    from outbound_desk.ui.history import HistoryPane
    from outbound_desk.ui.mainwindow import MainWindow
    from outbound_desk.ui.panes import PANES, load_pane_factories
    from outbound_desk.ui.upload_queue.tab import UploadPane

    app = QApplication.instance() or QApplication(sys.argv[:1])
    palette.apply_theme(app, theme)  # type: ignore[arg-type]

    def wait(pred, timeout=120.0):
        end = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > end:
                raise TimeoutError
            app.processEvents()
            time.sleep(0.01)

    def settle(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    tag = f"{size[0]}x{size[1]}-{theme}"
    written: list[Path] = []

    def grab(window, name: str) -> None:
        settle(0.8)
        path = out / f"{name}-{tag}.png"
        window.grab().save(str(path))
        written.append(path)

    with Sandbox.start(seed=True, rate_limit=(600, 60.0)) as sandbox:
        context = make_context(prompter=_Confirming())
        context.settings.preferences.default_transport = "api"
        context.settings.preferences.batch_size = 100
        context.settings.preferences.concurrency = 1
        context.prompter.confirm = lambda *a, **k: True  # type: ignore[method-assign]
        window = MainWindow(context, load_pane_factories(PANES))
        window.resize(*size)
        window.show()
        profile = OrgProfile(
            name="Sandbox (demo)",
            region="sandbox",
            client_id=sandbox.client_id,
            sandbox_url=sandbox.base_url,
        )
        context.session.sign_in(profile, sandbox.client_secret)
        wait(lambda: context.session.connection is not None)
        lists = window.panes[0]
        wait(lambda: lists.selected() is not None)
        grab(window, "lists")

        pane = next(p for p in window.panes if isinstance(p, UploadPane))
        window.tabs.setCurrentWidget(pane)
        preview = pane.preview
        panel = preview.schema_panel
        wait(lambda: panel.target.findText("Spring Renewals") >= 0)
        panel.target.setCurrentIndex(panel.target.findText("Spring Renewals"))
        panel._on_target_activated()
        reports: list[object] = []
        preview.validation_finished.connect(reports.append)
        context.files.open(str(messy_export(work / "crm_export_excel.csv")))
        wait(lambda: bool(reports))
        reports.clear()
        panel.apply_suggestions()
        panel.exclude_unmatched()
        wait(lambda: bool(reports))
        wait(lambda: preview.overview.stats("Phone") is not None)
        preview.tabs.setCurrentIndex(1)  # the issues
        report = reports[-1]
        columns = preview.rows_model.store.columns
        first_bad = next(
            i
            for i in report.issues  # type: ignore[attr-defined]
            if i.row is not None and i.column in columns
        )
        preview.jump_to_issue(first_bad)
        grab(window, "preview")

        sandbox.set_faults(latency_ms=120, error_rate=0.05)
        preview.tabs.setCurrentIndex(0)
        preview.upload_button.click()
        wait(lambda: bool(pane.queue.store.jobs))
        job = pane.queue.store.jobs[-1]
        wait(
            lambda: (
                job.progress is not None
                and job.progress.planned > 0
                and job.progress.done > 0.4 * job.progress.planned
            ),
            timeout=300,
        )
        grab(window, "upload")
        wait(lambda: job.state in ("done", "failed", "cancelled"), timeout=300)

        history = next(p for p in window.panes if isinstance(p, HistoryPane))
        window.tabs.setCurrentWidget(history)
        wait(lambda: history.view.model.rowCount() >= 1)
        grab(window, "history")
        window.shutdown()
    shutil.rmtree(work, ignore_errors=True)
    return written


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", nargs="?", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--only", help="one set, e.g. 1024x700-dark")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        for theme in THEMES:
            if args.only and args.only != f"{size[0]}x{size[1]}-{theme}":
                continue
            for path in shoot(out, size, theme):
                print(path.name, path.stat().st_size // 1024, "KB")
    for name in ("lists", "preview", "upload"):
        source = out / f"{name}-1920x1080-light.png"
        if source.exists():
            shutil.copyfile(source, out / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
