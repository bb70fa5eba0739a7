"""The headless command line: the same engine as the app, for scripts and schedulers.

Each sub-command lives in its own module here and exposes ``register(subparsers)``, which adds
its parser and sets ``handler`` to a function ``(args) -> int``. Heavy imports (pandas, httpx)
happen inside the handlers, so ``--help`` stays fast.

The ``--json`` outputs and the exit codes are a public contract (DESIGN.md): keys may be added,
never renamed or removed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from outbound_desk import __version__
from outbound_desk.cli._common import ExitCode, fail

#: Sub-command modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "inspect",
    "validate",
    "upload",
    "history",
    "login",
    "lists",
    "export",
    "emulator",
    "self-test",
)


#: Commands that read whole files, with Arrow's memory (see ``files.use_lean_allocator``) and
#: the cache of built tables (``contacts.use_cache_dir``).
_READS_FILES = frozenset({"inspect", "validate", "upload", "self-test"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="outbound-desk",
        description=(
            "Outbound Desk: inspect, validate and upload contact lists to Genesys Cloud CX "
            "Outbound. Without a command it opens the desktop app; 'outbound-desk --demo' "
            "opens it on an embedded sandbox org with sample lists."
        ),
    )
    parser.add_argument("--version", action="version", version=f"outbound-desk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"outbound_desk.cli.{name.replace('-', '')}")
        module.register(sub)
    return parser


def wants_cli(args: Sequence[str]) -> bool:
    """True when *args* name a sub-command or ask for help or the version."""
    if not args:
        return False
    first = args[0]
    return first in COMMANDS or first in {"-h", "--help", "--version", "--self-test"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["--self-test"]:  # the packaging contract spells it as a flag
        words[0] = "self-test"
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return ExitCode.USAGE
    if args.command in _READS_FILES:
        from outbound_desk.config import cache_dir
        from outbound_desk.contacts import use_cache_dir
        from outbound_desk.files import use_lean_allocator

        use_lean_allocator()
        use_cache_dir(cache_dir())  # the tables validation builds once per machine
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        return fail("interrupted", ExitCode.PLATFORM)
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, and keep Python from complaining
        # again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return int(ExitCode.OK)
