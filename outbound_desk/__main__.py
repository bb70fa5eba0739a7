"""The `outbound-desk` entry point.

A sub-command (``outbound-desk inspect ...``) runs headless through :mod:`outbound_desk.cli`;
no sub-command opens the desktop app. This module is the one place allowed to know about both,
so that neither ``cli`` nor ``ui`` imports the other (DESIGN.md: nothing imports ui or cli).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from outbound_desk import cli

    if cli.wants_cli(args):
        code = cli.main(args)
        if code == 0 and args[:1] == ["--self-test"] and "--json" not in args:
            # The flag form checks the whole install, the desktop half included; the
            # `self-test` command alone checks the engine (it must not need Qt's libraries).
            selfcheck = importlib.import_module("outbound_desk.ui.selfcheck")
            code = int(selfcheck.run())
        return code
    try:
        app = importlib.import_module("outbound_desk.ui.app")
    except ImportError as exc:  # the app's own modules are missing: say so, do not trace back
        print(f"outbound-desk: the desktop app is not available ({exc}).", file=sys.stderr)
        print("Run 'outbound-desk --help' for the command line.", file=sys.stderr)
        return 3
    return int(app.main(args))


if __name__ == "__main__":
    sys.exit(main())
