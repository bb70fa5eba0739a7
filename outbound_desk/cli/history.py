"""``outbound-desk history [--json] [--limit N]``: past uploads from the ledger, newest first."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from outbound_desk.cli._common import ExitCode, fail, out, print_json, safe


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "history", help="list past uploads (who, when, file checksum, list, counts)"
    )
    p.add_argument("--limit", type=int, default=50, metavar="N", help="at most N uploads (50)")
    p.add_argument("--list", dest="list_id", metavar="LIST_ID", help="only uploads into this list")
    p.add_argument("--ledger", type=Path, default=None, metavar="PATH", help="ledger file")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import sqlite3

    from outbound_desk.config import SettingsStore, ledger_path
    from outbound_desk.upload.ledger import Ledger, LedgerError, unusable

    if args.limit < 1:
        return fail("--limit must be at least 1", ExitCode.USAGE)
    path = ledger_path(args.ledger or SettingsStore().load().preferences.ledger_path)
    if not path.exists():
        records = []
    else:
        try:
            with Ledger(path) as ledger:
                records = ledger.history(args.limit, list_id=args.list_id)
        except LedgerError as exc:
            return fail(str(exc), ExitCode.REJECTED)
        except (sqlite3.Error, ValueError) as exc:  # damaged past its first pages
            return fail(str(unusable(path, exc)), ExitCode.REJECTED)
    items = [
        {
            "upload_id": r.id,
            "started_at": r.started_at.isoformat(),
            "ended_at": r.ended_at.isoformat() if r.ended_at else None,
            "status": r.status,
            "file": r.file_path,
            "sha256": r.file_sha256,
            "list_id": r.list_id,
            "list_name": r.list_name,
            "transport": r.transport,
            "rows": r.counts.rows,
            "created": r.counts.created,
            "updated": r.counts.updated,
            "unchanged": r.counts.unchanged,
            "rejected": r.counts.rejected,
            "report": r.report_path,
            "profile": r.profile,
            "user": r.user,
        }
        for r in records
    ]
    if args.json:
        print_json(items)
        return int(ExitCode.OK)
    if not items:
        out(f"no uploads in the ledger {path}")
        return int(ExitCode.OK)
    print(
        f"{'started (UTC)':<17} {'status':<9} {'list':<24} {'rows':>8} {'new':>8} {'upd':>8} "
        f"{'same':>8} {'rej':>6}  file / upload id"
    )
    for it in items:
        # List names come from the server, file names and users from elsewhere: escaped
        # before they are cut to width.
        listed = safe(it["list_name"] or it["list_id"])
        print(
            f"{str(it['started_at'])[:16].replace('T', ' '):<17} {safe(it['status']):<9} "
            f"{listed[:24]:<24} {it['rows']:>8,} "
            f"{it['created']:>8,} "
            f"{it['updated']:>8,} {it['unchanged']:>8,} {it['rejected']:>6,}  {safe(it['file'])}"
        )
        out(f"{'':<17} {it['upload_id']}  sha256 {str(it['sha256'])[:16]}…  by {it['user'] or '?'}")
    return int(ExitCode.OK)
