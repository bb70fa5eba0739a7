"""The outcome report: one CSV line per input row, so that every row is accounted for."""

from __future__ import annotations

import csv
import os
import re
from collections import Counter
from pathlib import Path

from outbound_desk.config.private import FILE_MODE, private_dir, tighten
from outbound_desk.upload.journal import SENT, Journal
from outbound_desk.upload.model import Outcome

REPORT_COLUMNS = ("row", "contact_id", "outcome", "reason")

_NUMBER = re.compile(r"[+-][\d .()-]*")


def _safe(cell: str) -> str:
    """Keep a spreadsheet from running a cell as a formula.

    Phone-like ids (``+14155550100``) stay as they are: a sign followed by digits is a number to
    a spreadsheet, not a formula, and rewriting ids would make the report lie.
    """
    if cell[:1] in ("=", "@", "\t", "\r") or (
        cell[:1] in ("+", "-") and not _NUMBER.fullmatch(cell)
    ):
        return "'" + cell
    return cell


ANONYMOUS_NOTE = (
    "no contact id column: the platform made the id, so uploading this contact again "
    "from an edited or another file adds it a second time"
)


def write_report(journal: Journal, path: Path, *, anonymous: bool = False) -> Counter[str]:
    """Write the report atomically and return how many rows got each outcome.

    A row still marked as being sent when the upload stopped is reported ``pending``: it may or
    may not have reached the list, and a rerun will settle it. In an *anonymous* upload (no id
    column) the ledger's row keys are not contact ids: the id cell stays empty and every created
    row carries the warning that a rerun duplicates it.
    """
    if path.parent.exists():
        tighten(path)  # a report an older version wrote with the umask's mode
    else:
        private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # left by a crash, perhaps with a wider mode
    counts: Counter[str] = Counter()
    # Contact ids and rejection reasons (which quote values): for this user's eyes only.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with open(fd, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(REPORT_COLUMNS)
        for record, contact_id, state, reason in journal.iter_rows():
            outcome = state
            if state == SENT:
                outcome = str(Outcome.PENDING)
                reason = reason or "sent but not confirmed before the upload stopped; rerun it"
            elif state == str(Outcome.PENDING) and not reason:
                reason = "not sent: the upload stopped first; rerun it to continue"
            counts[outcome] += 1
            if anonymous:
                contact_id = ""
                if outcome == str(Outcome.CREATED):
                    reason = ANONYMOUS_NOTE
            w.writerow((record, _safe(contact_id or ""), outcome, _safe(reason)))
    os.replace(tmp, path)
    return counts
