"""``outbound-desk inspect FILE``: encoding, dialect, header, row count and issues of a file."""

from __future__ import annotations

import argparse
from typing import Any

from outbound_desk.cli._common import (
    ExitCode,
    add_repair_args,
    add_sheet_args,
    fail,
    print_json,
    safe,
)

_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def _delimiter(value: str) -> str:
    value = _DELIMITER_NAMES.get(value.lower(), value)
    if len(value) != 1:
        raise argparse.ArgumentTypeError("a delimiter is one character (or tab, comma, ...)")
    return value


def _char(value: str) -> str:
    if len(value) != 1:
        raise argparse.ArgumentTypeError("a quote character is one character")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="profile a CSV file or workbook: encoding, delimiter, header, rows, issues",
        description=(
            "Detect a file's encoding, delimiter, quoting, header and line endings, count its "
            "rows and list its structural issues (ragged rows, blank rows, invalid bytes, "
            "Excel damage). Exit 1 if the file cannot be read at all."
        ),
    )
    parser.add_argument("file", help="the CSV (or .xlsx, .xlsm, .xls, .ods) file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--encoding", help="read with this encoding (e.g. cp1252, utf-16)")
    parser.add_argument(
        "--delimiter", type=_delimiter, help="field delimiter: a character, tab, comma, ..."
    )
    parser.add_argument("--quotechar", type=_char, help="quote character")
    parser.add_argument(
        "--header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the first record is (or, with --no-header, is not) a header",
    )
    add_sheet_args(parser)
    add_repair_args(parser)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="samples only: no full pass, so rows and sha256 are null",
    )
    parser.add_argument(
        "--max-issues", type=int, default=50, help="issues shown without --json (default 50)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from outbound_desk.files import FileError, Overrides, scan, sniff

    overrides = Overrides(
        encoding=args.encoding,
        delimiter=args.delimiter,
        quotechar=args.quotechar,
        has_header=args.header,
        sheet=args.sheet,
        skip_rows=args.skip_rows,
        repair_encoding=args.repair_encoding,
        fix_mojibake=args.fix_mojibake,
    )
    try:
        profile = sniff(args.file, overrides)
        if not args.quick:
            profile = scan(profile)
    except FileError as exc:
        code = ExitCode.USAGE if exc.code == "unknown_encoding" else ExitCode.REJECTED
        return fail(str(exc), code)
    if args.json:
        print_json(profile.as_dict())
    else:
        _print_summary(profile, args.max_issues)
    return ExitCode.OK


def _print_summary(profile: Any, max_issues: int) -> None:
    d = profile.dialect
    names = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe", " ": "space"}
    runner = f", runner-up {profile.encoding_runner_up}" if profile.encoding_runner_up else ""
    book = profile.workbook
    if book is not None:
        lines = [
            f"File:        {profile.path} ({profile.size_bytes:,} bytes, {book.format} workbook)",
            f"Sheet:       {book.sheet}   (sheets: "
            + ", ".join(s.name + (" [hidden]" if s.hidden else "") for s in book.sheets)
            + ")",
            f"Table:       header on sheet row {book.first_row}"
            if profile.has_header
            else f"Table:       from sheet row {book.first_row} (no header)",
            f"Skipped:     {book.skipped} row(s) above it",
        ]
    else:
        lines = [
            f"File:        {profile.path} ({profile.size_bytes:,} bytes)",
            f"Encoding:    {profile.encoding}{' with BOM' if profile.bom else ''} "
            f"(confidence {profile.encoding_confidence:.0%}{runner})",
            f"Delimiter:   {names.get(d.delimiter, repr(d.delimiter))}   quote: {d.quotechar}"
            f"   {'doubled quotes' if d.doublequote else f'escape {d.escapechar}'}"
            f"   line endings: {profile.line_ending}",
        ]
    lines += [
        f"Header:      {'yes' if profile.has_header else 'no (columns are numbered)'}",
        f"Columns:     {len(profile.columns)}: {', '.join(profile.columns)}",
        f"Rows:        {'not counted (--quick)' if profile.rows is None else f'{profile.rows:,}'}",
    ]
    if profile.sha256:
        lines.append(f"SHA-256:     {profile.sha256}")
    total = sum(profile.issue_counts.values())
    if not total:
        lines.append("Issues:      none")
    else:
        counts = ", ".join(f"{code} {n:,}" for code, n in sorted(profile.issue_counts.items()))
        lines.append(f"Issues:      {total:,} ({counts})")
        for issue in profile.issues[:max_issues]:
            unit = "sheet row" if profile.workbook is not None else "record"
            where = f"{unit} {issue.row}" if issue.row is not None else "file"
            column = f" [{issue.column}]" if issue.column else ""
            lines.append(f"  {issue.severity.value:7} {where}{column}: {issue.message}")
        if total > max_issues:
            lines.append(f"  ... {total - min(max_issues, len(profile.issues)):,} more")
    # Names, values and the path come from the file: escaped line by line.
    print("\n".join(safe(line) for line in lines))
