"""``outbound-desk validate``: check a file against a list schema, optionally normalise it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from outbound_desk.cli._common import (
    ExitCode,
    add_duplicates_arg,
    add_region_arg,
    add_repair_args,
    add_sheet_args,
    duplicate_policy,
    fail,
    print_json,
    safe,
)
from outbound_desk.cli._connect import ConnectError, add_connection_args, connect

if TYPE_CHECKING:
    from outbound_desk.contacts import ListSchema


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "validate",
        help="validate a contact file against a list schema; write normalised and reject files",
        description=(
            "Validate FILE against a list schema: column diff and mapping, required fields, "
            "phones (E.164 with a default region), emails, contact ids, platform limits. "
            "Exit 0 when every row is valid, 1 when rows are rejected or the columns do not "
            "fit the list, 2 on usage errors."
        ),
    )
    p.add_argument("file", metavar="FILE")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--schema", metavar="SCHEMA.json", help="the list's schema file")
    src.add_argument("--list", metavar="NAME_OR_ID", help="an existing contact list")
    add_region_arg(p)
    p.add_argument("--out", metavar="NORMALISED.csv", help="write the valid rows, normalised")
    p.add_argument("--rejects", metavar="REJECTS.csv", help="write the rejected rows")
    p.add_argument("--id-column", metavar="COL", help="the contact id column (list column)")
    add_duplicates_arg(p)
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FILECOL=LISTCOL",
        help="feed list column LISTCOL from file column FILECOL (repeatable)",
    )
    p.add_argument(
        "--exclude", action="append", default=[], metavar="COL", help="leave out a file column"
    )
    p.add_argument(
        "--accept-renames", action="store_true", help="apply the likely renames the diff finds"
    )
    p.add_argument("--encoding", help="force the file's encoding")
    p.add_argument("--delimiter", help="force the delimiter (\\t for tab)")
    p.add_argument("--quotechar", help="force the quote character (e.g. ')")
    p.add_argument("--no-header", action="store_true", help="the file has no header row")
    add_sheet_args(p)
    add_repair_args(p)
    p.add_argument(
        "--repair-values",
        action="store_true",
        help="repair what is certain before checking (spaces trimmed; a spreadsheet's .0 and "
        "scientific notation on phones where no digit was lost; leading zeros where the "
        "column's width is certain), as the app's Save fixed copy; the counts are printed "
        "(and in --json as 'repairs')",
    )
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    add_connection_args(p)
    p.set_defaults(handler=run)


def _summary(report: Any) -> str:
    lines = [
        f"{report.rows} rows: {report.valid} valid, {report.invalid} rejected, "
        f"{report.duplicates} duplicate ids"
    ]
    for issue in report.issues[:20]:
        where = f"row {issue.row}" if issue.row is not None else "file"
        # Column names and quoted values come from the file or the list on the server.
        col = f", {safe(issue.column)}" if issue.column else ""
        lines.append(f"  {where}{col}: {issue.code}: {safe(issue.message)}")
    more = sum(report.issue_counts.values()) - min(len(report.issues), 20)
    if more > 0:
        lines.append(f"  ... and {more} more issues (use --json or --rejects)")
    if report.sha256_out:
        lines.append(f"normalised file {safe(report.out)} sha256 {report.sha256_out}")
    return "\n".join(lines)


def _schema_of_list(args: argparse.Namespace) -> ListSchema | int:
    """The schema of the list ``--list`` names, read from the org; or an exit code."""
    from outbound_desk.genesys import GenesysError
    from outbound_desk.upload.platform import find_list, schema_of

    try:
        client, label = connect(args)
    except ConnectError as exc:
        return fail(str(exc), exc.code)
    try:
        with client:
            found = find_list(client, args.list)
    except GenesysError as exc:
        return fail(f"{label}: {exc}", ExitCode.PLATFORM)
    if found is None:
        return fail(
            f"no contact list named (or with id) {args.list!r} in {label}; check the name or "
            "use --schema SCHEMA.json",
            ExitCode.USAGE,
        )
    return schema_of(found)


def _same_file(a: str, b: str) -> bool:
    """Whether paths *a* and *b* name one file: the same path once resolved (symlinks, ``..``),
    or, when both exist, the same inode (hard links, case-insensitive file systems)."""
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:
        pass  # one of them does not exist (yet)
    return Path(a).resolve() == Path(b).resolve()


def _clashing_outputs(args: argparse.Namespace) -> str | None:
    """Why --out and --rejects cannot be written as given (a message), or None."""
    named = [("--out", args.out), ("--rejects", args.rejects)]
    for flag, path in named:
        if path is not None and _same_file(path, args.file):
            return (
                f"{flag} {path} is the input file itself: writing it would destroy the input; "
                "choose another output file"
            )
    if args.out is not None and args.rejects is not None and _same_file(args.out, args.rejects):
        return (
            f"--out and --rejects name the same file ({args.out}): one would overwrite the "
            "other; choose two files"
        )
    return None


def run(args: argparse.Namespace) -> int:
    # Refused before anything is read, connected to or written.
    clash = _clashing_outputs(args)
    if clash is not None:
        return fail(clash, ExitCode.USAGE)
    list_schema: ListSchema | None = None
    if args.list is not None:
        got = _schema_of_list(args)
        if isinstance(got, int):
            return got
        list_schema = got

    import phonenumbers

    from outbound_desk.config import SettingsStore
    from outbound_desk.contacts import (
        DuplicatePolicy,
        MappingError,
        SchemaError,
        ValidationOptions,
        diff_columns,
        load_schema,
        samples_of,
        suggest_mapping,
        validate_file,
    )
    from outbound_desk.files import FileError, Overrides, sniff
    from outbound_desk.files.identity import FileIdentity

    # The same defaults as ``upload``: one set of preferences for both commands and the app.
    prefs = SettingsStore().load().preferences
    region = (args.region or prefs.phone_region).upper()
    policy = duplicate_policy(args.duplicates, prefs.duplicate_policy)
    if region not in phonenumbers.SUPPORTED_REGIONS:
        return fail(
            f"unknown region {args.region!r}; use a code such as US, CA, GB", ExitCode.USAGE
        )
    mapped: dict[str, str] = {}
    for item in args.map:
        fc, sep, lc = item.partition("=")
        if not sep or not fc or not lc:
            return fail(f"--map {item!r}: write it FILECOLUMN=LISTCOLUMN", ExitCode.USAGE)
        mapped[fc] = lc
    try:
        schema = list_schema if list_schema is not None else load_schema(args.schema)
        if args.id_column is not None:
            schema = schema.with_id_column(args.id_column)
    except SchemaError as exc:
        return fail(str(exc), ExitCode.USAGE)
    delimiter = args.delimiter
    if delimiter in ("\\t", "tab"):
        delimiter = "\t"
    overrides = Overrides(
        encoding=args.encoding,
        delimiter=delimiter,
        quotechar=args.quotechar,
        has_header=False if args.no_header else None,
        sheet=args.sheet,
        skip_rows=args.skip_rows,
        repair_encoding=args.repair_encoding,
        fix_mojibake=args.fix_mojibake,
    )
    # Taken before the first read: --out and --rejects are kept only if it still holds.
    try:
        identity: FileIdentity | None = FileIdentity.of(args.file)
    except OSError:
        identity = None  # sniff says what is wrong with it
    try:
        profile = sniff(args.file, overrides)
    except FileError as exc:
        return fail(str(exc), ExitCode.REJECTED)
    except (OSError, LookupError, ValueError) as exc:
        return fail(f"cannot read {args.file}: {exc}", ExitCode.REJECTED)
    diff = diff_columns(
        profile.columns, schema, has_header=profile.has_header, samples=samples_of(profile)
    )
    try:
        mapping = suggest_mapping(
            diff, schema, profile.columns, accept_renames=args.accept_renames
        ).with_changes(mapped, args.exclude)
    except MappingError as exc:
        return fail(str(exc), ExitCode.USAGE)
    options = ValidationOptions(region=region, duplicates=DuplicatePolicy(policy))
    try:
        plan = None
        if args.repair_values:
            from outbound_desk.contacts.repair import plan_repairs

            plan = plan_repairs(profile, schema, mapping)
        report = validate_file(
            profile,
            schema,
            mapping,
            options,
            out=args.out,
            rejects=args.rejects,
            identity=identity,
            repair=plan,
        )
    except FileError as exc:
        return fail(str(exc), ExitCode.REJECTED)
    except OSError as exc:
        return fail(f"cannot write output: {exc}", ExitCode.REJECTED)
    if args.json:
        out = report.as_dict()
        if args.repair_values:
            out["repairs"] = dict(sorted(report.repairs.items()))
        print_json(out)
    else:
        print(_summary(report))
        if args.repair_values:
            from outbound_desk.contacts.repair import describe

            print("repaired: " + (describe(report.repairs) or "nothing needed repairing"))
    if report.blocked and not args.json:
        print(
            "outbound-desk: the file's columns do not fit the list (see the issues above)",
            file=sys.stderr,
        )
    return ExitCode.OK if report.ok else ExitCode.REJECTED
