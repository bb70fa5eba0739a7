"""``outbound-desk validate``: check a file against a list schema, optionally normalise it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from outbound_desk.cli._common import ExitCode, fail, print_json


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
    p.add_argument("--region", default="US", help="default phone region (default: US)")
    p.add_argument("--out", metavar="NORMALISED.csv", help="write the valid rows, normalised")
    p.add_argument("--rejects", metavar="REJECTS.csv", help="write the rejected rows")
    p.add_argument("--id-column", metavar="COL", help="the contact id column (list column)")
    p.add_argument(
        "--duplicates",
        choices=["first", "last", "reject"],
        default="first",
        help="which row of a duplicated id is kept (default: first)",
    )
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
    p.add_argument("--no-header", action="store_true", help="the file has no header row")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(handler=run)


def _summary(report: Any) -> str:
    lines = [
        f"{report.rows} rows: {report.valid} valid, {report.invalid} rejected, "
        f"{report.duplicates} duplicate ids"
    ]
    for issue in report.issues[:20]:
        where = f"row {issue.row}" if issue.row is not None else "file"
        col = f", {issue.column}" if issue.column else ""
        lines.append(f"  {where}{col}: {issue.code}: {issue.message}")
    more = sum(report.issue_counts.values()) - min(len(report.issues), 20)
    if more > 0:
        lines.append(f"  ... and {more} more issues (use --json or --rejects)")
    if report.sha256_out:
        lines.append(f"normalised file {report.out} sha256 {report.sha256_out}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.list is not None:
        import importlib.util

        # The seam for the Genesys client: once outbound_desk.genesys exists, --list reads the
        # list and ListSchema.from_genesys() turns it into the schema validation takes.
        if importlib.util.find_spec("outbound_desk.genesys") is None:
            return fail(
                "--list needs a connection; coming with the Genesys client. Use --schema.",
                ExitCode.USAGE,
            )
        return fail("--list is not wired to the Genesys client yet; use --schema", ExitCode.USAGE)

    import phonenumbers

    from outbound_desk.contacts import (
        DuplicatePolicy,
        MappingError,
        SchemaError,
        ValidationOptions,
        diff_columns,
        load_schema,
        suggest_mapping,
        validate_file,
    )
    from outbound_desk.files import FileError, Overrides, sniff

    region = args.region.upper()
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
        schema = load_schema(args.schema)
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
        has_header=False if args.no_header else None,
    )
    try:
        profile = sniff(args.file, overrides)
    except FileError as exc:
        return fail(str(exc), ExitCode.REJECTED)
    except (OSError, LookupError, ValueError) as exc:
        return fail(f"cannot read {args.file}: {exc}", ExitCode.REJECTED)
    diff = diff_columns(profile.columns, schema, has_header=profile.has_header)
    try:
        mapping = suggest_mapping(
            diff, schema, profile.columns, accept_renames=args.accept_renames
        ).with_changes(mapped, args.exclude)
    except MappingError as exc:
        return fail(str(exc), ExitCode.USAGE)
    options = ValidationOptions(region=region, duplicates=DuplicatePolicy(args.duplicates))
    try:
        report = validate_file(
            profile, schema, mapping, options, out=args.out, rejects=args.rejects
        )
    except FileError as exc:
        return fail(str(exc), ExitCode.REJECTED)
    except OSError as exc:
        return fail(f"cannot write output: {exc}", ExitCode.REJECTED)
    if args.json:
        print_json(report.as_dict())
    else:
        print(_summary(report))
    if report.blocked and not args.json:
        print(
            "outbound-desk: the file's columns do not fit the list (see the issues above)",
            file=sys.stderr,
        )
    return ExitCode.OK if report.ok else ExitCode.REJECTED
