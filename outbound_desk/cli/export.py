"""``outbound-desk export LIST --out FILE [--json]``: a contact list's contacts to a CSV file.

LIST is the list's name or id. The file is the platform's export as it comes: UTF-8 with a
BOM, ``inin-outbound-id`` (the contact id) first, the list's columns, then the system columns
(``ContactCallable``, ``Callable-<phone>``, ...). It is written to ``FILE.partial`` and renamed
only once complete and checked, so a failure never leaves a half file (nor replaces an older
FILE). The same code as the app's Lists > Export. On a terminal the progress shows on stderr.

Exit codes: 0 saved; 1 no such list; 2 usage; 3 the platform or the network failed, or the
export was empty or unreadable (nothing saved).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from outbound_desk.cli._common import ExitCode, fail, print_json, safe
from outbound_desk.cli._connect import ConnectError, add_connection_args, connect


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "export",
        help="export a contact list's contacts to a CSV file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(p)
    p.set_defaults(handler=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``export``, also those of ``lists export`` (the same command)."""
    p.add_argument("list", metavar="LIST", help="the contact list's name or id")
    p.add_argument("--out", required=True, type=Path, metavar="FILE", help="the CSV file to write")
    p.add_argument(
        "--timeout",
        type=float,
        default=2400.0,
        metavar="SECONDS",
        help="how long to wait for the platform to make the file (default 2400: it can take "
        "over half an hour)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    add_connection_args(p)


class _ProgressLine:
    """One self-rewriting progress line on stderr, when it is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.width = 0

    def __call__(self, done: int, total: int, phase: str) -> None:
        if not self.enabled:
            return
        if phase == "downloading":
            size = f"{done / 1e6:,.1f} MB" + (f" of {total / 1e6:,.1f} MB" if total else "")
            line = f"downloading {size}"
        else:
            line = safe(phase)
        sys.stderr.write("\r" + line + " " * max(0, self.width - len(line)))
        sys.stderr.flush()
        self.width = len(line)

    def close(self) -> None:
        if self.enabled and self.width:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.width = 0


def run(args: argparse.Namespace) -> int:
    from outbound_desk.genesys import Cancelled, ExportError, GenesysError, export_list_to_file
    from outbound_desk.upload.platform import find_list

    def error(message: str, code: ExitCode) -> int:
        if args.json:
            print_json({"error": message, "exit_code": int(code)})
        return fail(message, code)

    out: Path = args.out
    if out.exists() and out.is_dir():
        return error(f"--out {out} is a directory; name the CSV file to write", ExitCode.USAGE)
    if not out.parent.exists():
        return error(f"--out {out}: the folder {out.parent} does not exist", ExitCode.USAGE)
    try:
        client, label = connect(args)
    except ConnectError as exc:
        return error(str(exc), exc.code)
    line = _ProgressLine(sys.stderr.isatty() and not args.quiet)
    try:
        with client:
            found = find_list(client, args.list)
            if found is None:
                return error(
                    f"no contact list named (or with id) {args.list!r} in {label}",
                    ExitCode.REJECTED,
                )
            saved = export_list_to_file(
                client, found.id, out, progress=line, timeout_s=args.timeout
            )
    except ExportError as exc:
        line.close()
        return error(
            f"the export of list {args.list!r} failed, nothing saved: {exc}", ExitCode.PLATFORM
        )
    except (GenesysError, Cancelled) as exc:
        line.close()
        return error(f"export of list {args.list!r}: {exc}", ExitCode.PLATFORM)
    except OSError as exc:
        line.close()
        return error(f"cannot write {out}: {exc.strerror or exc}", ExitCode.PLATFORM)
    line.close()
    if args.json:
        print_json(saved.as_json())
    else:
        print(
            safe(f"{saved.rows:,} contacts of list {found.name} ({found.id}) saved to {saved.path}")
        )
        print(f"sha256: {saved.sha256}")
    return int(ExitCode.OK)
