"""``outbound-desk`` without a command: the desktop app.

``--demo`` starts an embedded sandbox org seeded with sample lists, opens a sample file and
signs in to it, so a new user sees a working app without an org of their own.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from outbound_desk.ui.context import AppContext
    from outbound_desk.ui.mainwindow import MainWindow

log = logging.getLogger(__name__)

DEMO_PROFILE = "Sandbox (demo)"
#: The repository's sample files (the demo opens one).
SAMPLES_DIR = Path(__file__).resolve().parents[2] / "resources" / "samples"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="outbound-desk", add_help=False)
    parser.add_argument("--demo", action="store_true", help="run on an embedded sandbox org")
    parser.add_argument("--theme", choices=("system", "light", "dark"))
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--only-pane", help="show one pane only (the panes' own previews use it)")
    return parser


@contextlib.contextmanager
def demo_sandbox(enabled: bool) -> Iterator[object | None]:
    """An embedded, seeded sandbox org for ``--demo`` (stopped and joined on exit)."""
    if not enabled:
        yield None
        return
    from outbound_desk.emulator import Sandbox

    with Sandbox.start(seed=True) as sandbox:
        log.info("demo sandbox org at %s", sandbox.base_url)
        yield sandbox


def demo_file() -> Path | None:
    # The messy Excel export first: the demo shows what the app finds in a real-world file.
    for name in ("crm_export_excel.csv", "contacts_clean.csv"):
        candidate = SAMPLES_DIR / name
        if candidate.is_file():
            return candidate
    return None


def main(argv: Sequence[str]) -> int:
    args, unknown = build_parser().parse_known_args(list(argv))
    if unknown:
        print(f"outbound-desk: unknown option(s) {' '.join(unknown)}", file=sys.stderr)
        return 2

    from outbound_desk.config import redact, setup_logging
    from outbound_desk.ui.interpreter import prepare_for_files

    prepare_for_files()

    log_path = setup_logging(args.log_level.upper())
    log.info("Outbound Desk starting (demo=%s)", args.demo)

    from PySide6.QtWidgets import QApplication

    from outbound_desk.ui import palette
    from outbound_desk.ui.errors import ExceptionHook
    from outbound_desk.ui.heap import settle_after_startup

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Outbound Desk")
    app.setOrganizationName("OutboundDesk")

    with demo_sandbox(args.demo) as sandbox:
        window = build_window(args, log_path, sandbox)
        hook = ExceptionHook(log_path, redact, lambda: window)
        hook.install()
        theme = args.theme or window.context.settings.preferences.theme
        palette.apply_theme(app, theme)
        settle_after_startup()
        window.show()
        try:
            code = app.exec()
        finally:
            window.shutdown()
            hook.uninstall()
    log.info("Outbound Desk closed (exit code %s)", code)
    return int(code)


def build_window(args: argparse.Namespace, log_path: Path | None, sandbox: Any) -> MainWindow:
    """The main window with its panes, signed in to the demo sandbox when there is one."""
    from outbound_desk.config import OrgProfile
    from outbound_desk.ui.context import make_context
    from outbound_desk.ui.mainwindow import MainWindow
    from outbound_desk.ui.panes import PANES, load_pane_factories

    context = make_context(log_path=log_path)
    names = PANES
    if args.only_pane:
        names = tuple(n for n in PANES if f".{args.only_pane}." in n) or PANES
    window = MainWindow(context, load_pane_factories(names))
    if sandbox is not None:
        profile = OrgProfile(
            name=DEMO_PROFILE,
            region="sandbox",
            client_id=sandbox.client_id,
            sandbox_url=sandbox.base_url,
        )
        # The sandbox's well-known secret is kept for this session only, never in the keyring.
        context.session_secrets.set_secret(profile.name, sandbox.client_secret)
        context.session.sign_in(profile, sandbox.client_secret)
        sample = demo_file()
        if sample is not None:
            context.files.open(str(sample))
    else:
        auto_sign_in(context, window)
    return window


def auto_sign_in(context: AppContext, window: MainWindow) -> None:
    """Sign in with the last profile when its secret is at hand; else offer the dialog."""
    from outbound_desk.config import NoKeyringError

    name = context.settings.preferences.last_profile
    profile = context.settings.profile(name) if name else None
    if profile is not None and profile.auth_method == "client_credentials":
        try:
            secret = context.secrets.get_secret(profile.name)
        except NoKeyringError:
            secret = None
        if secret:
            context.session.sign_in(profile, secret)
            return
    window.show_connection_dialog()
