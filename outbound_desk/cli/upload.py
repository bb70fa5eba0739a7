"""``outbound-desk upload FILE --list NAME_OR_ID ...``: put every valid row into a list, once.

Rerunning the same command after a crash, a kill or a lost network resumes the upload; so does
``--resume ID``. On a terminal a progress line shows the phase, counts, rate and ETA on stderr;
``--json`` prints the result object (DESIGN.md contract) on stdout. Ctrl-C stops between
batches and leaves the upload resumable; a second Ctrl-C stops at once.

Exit codes: 0 every row is in the list; 1 the input was rejected (or some rows were); 2 usage;
3 the platform or the network failed, the list is busy, or the upload was cancelled (rerun it).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from outbound_desk.cli._common import (
    ExitCode,
    add_duplicates_arg,
    add_region_arg,
    add_repair_args,
    add_sheet_args,
    duplicate_policy,
    fail,
    out,
    print_json,
    safe,
)
from outbound_desk.cli._connect import (
    ConnectError,
    add_connection_args,
    connect,
    signed_in_as,
)
from outbound_desk.cli.inspect import _char, _delimiter

if TYPE_CHECKING:
    from collections.abc import Callable

    from outbound_desk.config.settings import DuplicatePolicy
    from outbound_desk.upload.model import UploadOptions, UploadProgress, UploadSummary


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "upload",
        help="upload a CSV file or workbook into a contact list (idempotent, resumable)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", nargs="?", type=Path, help="the CSV file (optional with --resume)")
    p.add_argument("--list", dest="target", metavar="NAME_OR_ID", help="target contact list")
    p.add_argument("--create", action="store_true", help="create the list from --schema")
    p.add_argument("--schema", type=Path, metavar="SCHEMA.json", help="schema for --create")
    p.add_argument("--id-column", metavar="COL", help="the column holding the contact id (CRM key)")
    p.add_argument(
        "--allow-no-id",
        action="store_true",
        help="upload a file without an id column (the platform makes ids; a rerun duplicates)",
    )
    p.add_argument("--via", choices=("api", "file", "auto"), default=None, help="transport")
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="N",
        help="contacts per request: 1 to 1000 (the platform's cap)",
    )
    p.add_argument("--concurrency", type=int, default=None, metavar="N", help="requests in flight")
    p.add_argument("--replace", action="store_true", help="clear the list first")
    p.add_argument(
        "--yes",
        action="store_true",
        help="do not ask before uploading (asked only when stdin is a terminal; --replace "
        "without a terminal needs --yes)",
    )
    p.add_argument(
        "--add-columns", action="store_true", help="add file columns the list lacks to the list"
    )
    p.add_argument("--map", action="append", default=[], metavar="FILECOL=LISTCOL")
    p.add_argument("--exclude", action="append", default=[], metavar="FILECOL")
    add_duplicates_arg(p)
    add_region_arg(p)
    p.add_argument("--ledger", type=Path, default=None, metavar="PATH", help="ledger file")
    p.add_argument("--report", type=Path, default=None, metavar="PATH", help="outcome report CSV")
    p.add_argument("--resume", metavar="ID", default=None, help="resume upload ID from the ledger")
    p.add_argument(
        "--wait-for-lock",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another upload into the same list (default: stop at once; "
        "-1: wait as long as it takes)",
    )
    p.add_argument(
        "--import-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="report a CSV import that makes no progress for this long",
    )
    # How to read the file: the same overrides as inspect and validate.
    p.add_argument("--encoding", help="force the file's encoding (e.g. cp1252, utf-16)")
    p.add_argument("--delimiter", type=_delimiter, help="force the delimiter (a character, tab)")
    p.add_argument("--quotechar", type=_char, help="force the quote character")
    p.add_argument(
        "--header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the first record is (or, with --no-header, is not) a header",
    )
    add_sheet_args(p)
    add_repair_args(p)
    p.add_argument("--no-reconcile", action="store_true", help="skip reading sent contacts back")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    add_connection_args(p)
    p.set_defaults(handler=run)


class _ProgressLine:
    """One self-rewriting line on a terminal (stderr)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.width = 0

    def __call__(self, p: UploadProgress) -> None:
        if not self.enabled:
            return
        # Every row read counts towards the total, so that the bar ends at n/n whatever was
        # rejected or dropped as a duplicate on the way.
        total = max(p.rows, 1)
        done = p.done
        bar_w = 24
        filled = min(bar_w, done * bar_w // total)
        eta = "" if p.eta_s is None else f" ETA {int(p.eta_s) // 60}:{int(p.eta_s) % 60:02d}"
        limited = f" 429s {p.rate_limited}" if p.rate_limited else ""
        line = (
            f"{p.phase.value:<14} [{'#' * filled}{'.' * (bar_w - filled)}] "
            f"{done:,}/{p.rows:,} {p.rate_per_s:,.0f}/s{eta}{limited}"
            f"{' PAUSED' if p.paused else ''}  {safe(p.message)[:60]}"
        )
        pad = max(0, self.width - len(line))
        sys.stderr.write("\r" + line + " " * pad)
        sys.stderr.flush()
        self.width = len(line)

    def close(self) -> None:
        if self.enabled and self.width:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _parse_map(items: list[str], excluded: list[str]) -> dict[str, str | None]:
    mapping: dict[str, str | None] = {}
    for item in items:
        src, sep, dst = item.partition("=")
        if not sep or not src or not dst:
            raise ValueError(f"--map {item!r}: write it as FILECOLUMN=LISTCOLUMN")
        mapping[src] = dst
    for col in excluded:
        mapping[col] = None
    return mapping


def _options(args: argparse.Namespace) -> UploadOptions:
    from outbound_desk.config import SettingsStore
    from outbound_desk.upload.model import UploadOptions

    prefs = SettingsStore().load().preferences
    # Absolute paths: the ledger keeps these options for a resume, which the app (or a
    # scheduler) may run from another working directory.
    return UploadOptions(
        file=args.file.resolve(),
        list=args.target,
        create=args.create,
        schema_path=args.schema.resolve() if args.schema is not None else None,
        id_column=args.id_column,
        allow_no_id=args.allow_no_id,
        via=args.via or prefs.default_transport,
        batch_size=prefs.batch_size if args.batch_size is None else args.batch_size,
        concurrency=args.concurrency or prefs.concurrency,
        replace=args.replace,
        add_columns=args.add_columns,
        region=(args.region or prefs.phone_region).upper(),
        mapping=_parse_map(args.map, args.exclude),
        duplicates=cast(
            "DuplicatePolicy", duplicate_policy(args.duplicates, prefs.duplicate_policy)
        ),
        file_threshold=prefs.csv_import_threshold,
        id_column_rule=prefs.id_column_rule,
        reconcile=not args.no_reconcile,
        report_path=args.report,
        lock_timeout_s=None if args.wait_for_lock < 0 else args.wait_for_lock,
        **({"import_stall_timeout_s": args.import_timeout} if args.import_timeout else {}),
        read=_read_overrides(args),
    )


def _read_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The reading overrides given (``files.Overrides``' fields), the others left out."""
    given = {
        "encoding": args.encoding,
        "delimiter": args.delimiter,
        "quotechar": args.quotechar,
        "has_header": args.header,
        "sheet": args.sheet,
        "skip_rows": args.skip_rows,
        "repair_encoding": args.repair_encoding or None,
        "fix_mojibake": args.fix_mojibake or None,
    }
    return {k: v for k, v in given.items() if v is not None}


def _resume_options(args: argparse.Namespace, ledger_path: Path) -> UploadOptions:
    """The options of upload ``--resume ID`` as it was started, with this run's tuning."""
    import dataclasses

    from outbound_desk.upload.journal import Journal
    from outbound_desk.upload.ledger import Ledger
    from outbound_desk.upload.model import UploadOptions

    with Ledger(ledger_path) as ledger:
        record = ledger.get_upload(args.resume)
    journal_path = Journal.path_for(ledger_path, record.id)
    if not journal_path.exists():
        raise ValueError(
            f"upload {record.id} left no journal at {journal_path}; run it again instead"
        )
    with Journal(journal_path) as journal:
        saved = journal.get_meta("options")
    if saved is None:
        raise ValueError(f"upload {record.id} has no saved options; run it again instead")
    opts = UploadOptions.from_json(saved)
    tuning: dict[str, Any] = {"resume_id": record.id}
    if args.file is not None:
        tuning["file"] = args.file
    if args.concurrency:
        tuning["concurrency"] = args.concurrency
    if args.batch_size is not None:
        tuning["batch_size"] = args.batch_size
    if args.via:
        tuning["via"] = args.via
    if args.report:
        tuning["report_path"] = args.report
    tuning["lock_timeout_s"] = None if args.wait_for_lock < 0 else args.wait_for_lock
    return dataclasses.replace(opts, **tuning)


def _check_replace(opts: UploadOptions, args: argparse.Namespace) -> None:
    """--replace from a script (no terminal to ask) must say --yes."""
    if opts.replace and not args.yes and not sys.stdin.isatty():
        raise ValueError("--replace deletes every contact of the list first: add --yes to confirm")


def _asker(
    args: argparse.Namespace, *, before: Callable[[], None]
) -> Callable[[UploadSummary], bool] | None:
    """The confirmation before the upload: on a terminal, unless --yes (scripts and tests have
    no terminal and are never asked)."""
    if args.yes or not sys.stdin.isatty():
        return None

    def ask(summary: UploadSummary) -> bool:
        before()  # end the progress line first
        answer = input(safe(summary.describe()) + " [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    return ask


def run(args: argparse.Namespace) -> int:
    from outbound_desk.base.errors import ErrorEnvelope
    from outbound_desk.config import SettingsStore, ledger_path
    from outbound_desk.upload.ledger import Ledger, LedgerError, LedgerUnusableError
    from outbound_desk.upload.model import UploadError
    from outbound_desk.upload.runner import run_upload

    def error(
        message: str,
        code: ExitCode,
        upload_id: str | None = None,
        exc: BaseException | None = None,
    ) -> int:
        if args.json:
            body: dict[str, Any] = {
                "error": message,
                "exit_code": int(code),
                "upload_id": upload_id,
            }
            if exc is not None:
                # The error envelope (base.errors): its type, so a caller of the command (the
                # app, a scheduler) can raise or tell it apart again; "exit_code" stays ours.
                body["error_type"] = ErrorEnvelope.of(exc).type_name
            print_json(body)
        return fail(message, code)

    prefs = SettingsStore().load().preferences
    path = ledger_path(args.ledger or prefs.ledger_path)
    try:
        if args.resume:
            opts = _resume_options(args, path)
        else:
            if args.file is None or not args.target:
                return error(
                    "upload needs FILE and --list NAME_OR_ID (or --resume ID)", ExitCode.USAGE
                )
            opts = _options(args)
        _check_replace(opts, args)
    except LedgerUnusableError as exc:
        return error(str(exc), ExitCode.REJECTED)
    except (ValueError, LedgerError, UploadError) as exc:
        return error(str(exc), ExitCode.USAGE)
    try:
        client, label = connect(args)
    except ConnectError as exc:
        return error(str(exc), exc.code)

    stop = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        sys.stderr.write("\nstopping after the batches in flight (Ctrl-C again to stop now)\n")

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        signal.signal(signal.SIGINT, on_sigint)
    line = _ProgressLine(sys.stderr.isatty() and not args.quiet)
    try:
        with client, Ledger(path) as ledger:
            result = run_upload(
                client,
                opts,
                ledger,
                progress=line,
                cancelled=stop.is_set,
                profile=None if args.sandbox else label,
                user=signed_in_as(args),
                confirm=_asker(args, before=line.close),
            )
    except UploadError as exc:
        line.close()
        return error(str(exc), ExitCode(exc.exit_code), exc.upload_id, exc)
    except LedgerError as exc:  # the ledger could not be opened: nothing was sent
        line.close()
        return error(str(exc), ExitCode.REJECTED)
    except Exception as exc:  # a platform error the engine did not wrap: one line, no trace
        from outbound_desk.genesys import GenesysError

        line.close()
        if isinstance(exc, GenesysError):
            return error(str(exc), ExitCode.PLATFORM)
        raise
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
    line.close()
    if args.json:
        print_json(result.as_json())
    else:
        out(
            f"{result.status}: {result.rows:,} rows into list {result.list_name} "
            f"({result.list_id}): "
            f"{result.created:,} created, {result.updated:,} updated, {result.unchanged:,} "
            f"unchanged, {result.rejected:,} rejected, "
            f"{result.dropped_duplicates:,} dropped as duplicates, {result.missing:,} missing, "
            f"{result.pending:,} pending in {result.duration_s:.1f} s via {result.transport}"
        )
        out(f"report: {result.report}")
        for w in result.warnings:
            print(f"warning: {safe(w)}", file=sys.stderr)
    if result.status == "cancelled":
        return fail(f"cancelled; resume with --resume {result.upload_id}", ExitCode.PLATFORM)
    if result.status != "done":
        return fail(result.error or "the upload did not finish", ExitCode.PLATFORM)
    return int(ExitCode.REJECTED if result.rejected else ExitCode.OK)
