"""The CSV-import transport: one normalised file, uploaded, the import followed to its end.

The file holds only the rows still to send (header = the list's columns, UTF-8, comma), is
uploaded with the presigned flow (falling back to the legacy apps upload when that is refused)
with ``contact-id-name`` so that the import upserts by id, and the import is followed through
``importstatus`` and the list size. The import tells nothing per contact, so the rows are
confirmed by reading them back (:func:`~outbound_desk.upload.reconcile.reconcile`).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import TYPE_CHECKING

from outbound_desk.config.paths import cache_dir
from outbound_desk.genesys import GenesysError, ImportStatus, is_import_finished
from outbound_desk.upload import platform
from outbound_desk.upload.journal import SENT, Journal
from outbound_desk.upload.model import Phase, UploadPlatformError
from outbound_desk.upload.reconcile import reconcile

if TYPE_CHECKING:
    from outbound_desk.upload.plan import Plan
    from outbound_desk.upload.runner import UploadJob

#: Statuses that mean "this upload path is not offered here" (rather than "it failed").
_REFUSED = {403, 404, 405, 501}


class FileRefused(Exception):  # noqa: N818 - an outcome the runner turns into a fallback
    """Neither CSV upload path is available to this client or org."""


def _write_csv(job: UploadJob, plan: Plan, journal: Journal, path: Path) -> tuple[list[str], int]:
    """Write the rows still to send; returns their ids and how many are new to the list."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ids: list[str] = []
    new = 0
    first = True
    with path.open("w", encoding="utf-8", newline="") as fh:
        for chunk, send in job.iter_to_send(plan, journal):
            if not send:
                continue
            part = [chunk.contact_ids[i] for i in send]
            existed = job.existed(part, always_look=job.state.resumed)
            journal.mark_sent(existed)
            new += sum(1 for v in existed.values() if not v)
            frame = chunk.frame.iloc[send]
            frame.to_csv(fh, index=False, header=first, lineterminator="\n")
            first = False
            ids.extend(part)
            job.tracker.add(sent=len(part))
    return ids, new


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _upload(job: UploadJob, path: Path, id_column: str | None) -> str:
    client, list_id = job.client, job.state.list_id
    try:
        target = client.imports.upload_presigned(list_id, path, contact_id_name=id_column)
        return f"presigned:{target.upload_key}"
    except GenesysError as exc:
        if exc.status not in _REFUSED:
            raise
        job.state.warnings.append(
            f"the presigned CSV upload was refused (HTTP {exc.status}); used the apps upload"
        )
    try:
        client.imports.upload_legacy(list_id, path, contact_id_name=id_column)
        return "legacy"
    except GenesysError as exc:
        if exc.status not in _REFUSED:
            raise
        raise FileRefused(f"both CSV upload paths were refused (last: HTTP {exc.status})") from None


def import_file(job: UploadJob, plan: Plan, journal: Journal) -> None:
    st, opts, tr = job.state, job.options, job.tracker
    assert st.upload is not None
    path = cache_dir() / "uploads" / f"{st.upload.id}.csv"
    ids, new = _write_csv(job, plan, journal, path)
    try:
        if not ids:
            return
        digest = _sha256(path)
        batch_no = job.next_batch_no(journal)
        job.ledger.plan_batch(st.upload.id, batch_no, ids, f"file-sha256:{digest}")
        size_before = platform.list_size(job.client, st.list_id)
        job.ledger.mark_sent(st.list_id, st.upload.id, batch_no)
        tr.phase(Phase.IMPORTING, f"uploading {len(ids)} contacts as a CSV file")
        how = _upload(job, path, None if plan.anonymous else plan.id_column)
        tr.message(f"uploaded ({how}); waiting for the import")
        _follow(job, size_before + new, len(ids))
        job.ledger.mark_confirmed(st.list_id, [], upload_id=st.upload.id, batch_no=batch_no)
    finally:
        path.unlink(missing_ok=True)
    tr.phase(Phase.RECONCILING, "reading the imported contacts back")
    reconcile(
        job.client,
        st.list_id,
        plan,
        journal,
        job.ledger,
        tracker=tr,
        cancelled=job.cancelled,
        states=(SENT,),
        confirm=True,
        concurrency=opts.concurrency,
    )


def _follow(job: UploadJob, expected_size: int, count: int) -> ImportStatus:
    """Poll the import until it is finished; a failure or a stall is an error, not a hang."""
    opts, tr, list_id = job.options, job.tracker, job.state.list_id
    seen = False
    last_done = -1
    last_move = time.monotonic()
    while True:
        status = job.client.imports.status(list_id)
        if status.failed:
            raise UploadPlatformError(
                f"the import into list {job.state.list_name} failed: "
                f"{status.failure_reason or 'no reason given'}; fix that and rerun the upload"
            )
        size = platform.list_size(job.client, list_id)
        seen = seen or status.in_progress
        if is_import_finished(status, size, expected_size, seen_progress=seen):
            return status
        done = status.completed_records if status.in_progress else None
        progress = done if done is not None else size
        if progress != last_done:
            last_done, last_move = progress, time.monotonic()
        elif time.monotonic() - last_move > opts.import_stall_timeout_s:
            raise UploadPlatformError(
                f"the import into list {job.state.list_name} has made no progress for "
                f"{opts.import_stall_timeout_s:g} s ({status.percent_complete or 0:.0f}% done); "
                "the upload is kept: rerun it later to check and continue"
            )
        pct = status.percent_complete
        tr.message(
            f"importing: {pct:.0f}% of {count} contacts"
            if pct is not None and status.in_progress
            else f"importing: list holds {size} of {expected_size}",
            force=False,
        )
        job.sleep(opts.import_poll_s)
