"""Take the README screenshots from a real main window (run under Xvfb, not by pytest).

    xvfb-run -a -s "-screen 0 1400x900x24" python tests/ui2/screenshots.py docs/screenshots

Writes ``preview.png`` (a messy Excel export checked against the sandbox's "Spring Renewals"
list, with its issues) and ``upload.png`` (that file uploading, the job card mid-way).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


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


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "docs" / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="shots-"))
    for name in ("CONFIG", "DATA", "LOG", "CACHE"):
        os.environ[f"OUTBOUND_DESK_{name}_DIR"] = str(work / name.lower())
    from PySide6.QtWidgets import QApplication

    from outbound_desk.config import OrgProfile
    from outbound_desk.emulator import Sandbox
    from outbound_desk.ui import palette
    from outbound_desk.ui.context import make_context
    from outbound_desk.ui.mainwindow import MainWindow
    from outbound_desk.ui.panes import PANES, load_pane_factories
    from outbound_desk.ui.upload_queue.tab import UploadPane

    app = QApplication.instance() or QApplication(sys.argv[:1])
    palette.apply_theme(app, "light")

    def wait(pred, timeout=60.0):
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

    with Sandbox.start(seed=True, rate_limit=(600, 60.0)) as sandbox:
        context = make_context()
        context.settings.preferences.default_transport = "api"
        context.settings.preferences.batch_size = 100
        context.settings.preferences.concurrency = 1
        window = MainWindow(context, load_pane_factories(PANES))
        window.resize(1400, 900)
        window.show()
        profile = OrgProfile(
            name="Sandbox (demo)",
            region="sandbox",
            client_id=sandbox.client_id,
            sandbox_url=sandbox.base_url,
        )
        context.session.sign_in(profile, sandbox.client_secret)
        wait(lambda: context.session.connection is not None)
        pane = next(p for p in window.panes if isinstance(p, UploadPane))
        window.tabs.setCurrentWidget(pane)
        preview = pane.preview
        panel = preview.schema_panel
        wait(lambda: panel.target.findText("Spring Renewals") >= 0)
        panel.target.setCurrentIndex(panel.target.findText("Spring Renewals"))
        panel._on_target_activated()
        pane.splitter.setSizes([820, 0])
        path = messy_export(work / "crm_export_excel.csv")
        reports = []
        preview.validation_finished.connect(reports.append)
        context.files.open(str(path))
        wait(lambda: bool(reports))
        for fc, lc in (
            ("First Name", "firstName"),
            ("lastname", "lastName"),
            ("Phone", "phoneNumber"),
            ("E-mail", "email"),
            ("notes", None),
        ):
            if fc in panel.mapping.unresolved or panel.mapping.targets.get(fc) != lc:
                panel.set_file_column_target(fc, lc)
        panel.id_column.setCurrentIndex(panel.id_column.findData("customerId"))
        panel._on_id_column_activated()
        reports.clear()
        wait(lambda: bool(reports))
        preview.tabs.setCurrentIndex(1)  # the issues
        preview.splitter.setSizes([430, 330])
        columns = preview.rows_model.store.columns
        first_bad = next(i for i in reports[-1].issues if i.row is not None and i.column in columns)
        preview.jump_to_issue(first_bad)
        settle(1.0)
        window.grab().save(str(out / "preview.png"))

        sandbox.set_faults(latency_ms=120, error_rate=0.05)
        preview.tabs.setCurrentIndex(0)
        pane.splitter.setSizes([520, 330])
        preview.upload_button.click()
        job = pane.queue.store.jobs[-1]
        wait(
            lambda: (
                job.progress is not None
                and job.progress.planned > 0
                and job.progress.done > 0.4 * job.progress.planned
            ),
            timeout=300,
        )
        settle(0.6)
        window.grab().save(str(out / "upload.png"))
        window.shutdown()
    for name in ("preview.png", "upload.png"):
        print(name, (out / name).stat().st_size // 1024, "KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
