"""The CSV-import transport: one normalised file, uploaded, the import followed to its end.

The file holds only the rows still to send (header = the list's columns, UTF-8, comma), is
uploaded with the presigned flow (falling back to the legacy apps upload when that is refused)
with ``contact-id-name`` so that the import upserts by id, and the import is followed through
``importstatus`` and the list size. The import tells nothing per contact, so the rows are
confirmed by reading them back (:func:`~outbound_desk.upload.reconcile.reconcile`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from outbound_desk.config.paths import cache_dir
from outbound_desk.config.private import private_dir
from outbound_desk.contacts.output import CsvSink
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
#: How long a FAILED status left from an earlier import is taken for "ours has not started".
STALE_FAILURE_S = 15.0
#: The ledger's request id of a file batch: the whole file, one import, never a JSON request.
FILE_REQUEST_PREFIX = "file-sha256:"


class FileRefused(Exception):  # noqa: N818 - an outcome the runner turns into a fallback
    """Neither CSV upload path is available to this client or org; ``str(e)`` says what each
    path answered."""


def _write_csv(
    job: UploadJob, plan: Plan, journal: Journal, path: Path
) -> tuple[list[str], int, str]:
    """Write the rows still to send (UTF-8, comma, the list's columns as header).

    Returns their ids, how many are new to the list, and the file's SHA-256.
    """
    private_dir(path.parent)  # the rows themselves, until the import has them
    assert plan.schema is not None
    ids: list[str] = []
    new = 0
    # Arrow builds the lines (CsvSink): DataFrame.to_csv holds the interpreter lock for a
    # whole chunk, which stalled the app's GUI thread running this upload by 100-300 ms.
    with CsvSink(path, plan.schema.columns) as writer:
        for chunk, send in job.iter_to_send(plan, journal):
            if not send:
                continue
            part = [chunk.contact_ids[i] for i in send]
            existed = job.existed(part, always_look=job.state.resumed)
            journal.mark_sent(existed)
            new += sum(1 for v in existed.values() if not v)
            writer.write_frame(chunk.frame.iloc[send])
            ids.extend(part)
            job.tracker.add(sent=len(part))
        digest = writer.close()
    return ids, new, digest


def _upload(job: UploadJob, path: Path, id_column: str | None) -> str:
    client, list_id = job.client, job.state.list_id
    try:
        target = client.imports.upload_presigned(list_id, path, contact_id_name=id_column)
        return f"presigned:{target.upload_key}"
    except GenesysError as exc:
        if exc.status not in _REFUSED:
            raise
        presigned = _refusal(exc)
        job.state.warnings.append(
            f"the presigned CSV upload was refused ({presigned}); used the apps upload"
        )
    try:
        client.imports.upload_legacy(list_id, path, contact_id_name=id_column)
        return "legacy"
    except GenesysError as exc:
        if exc.status not in _REFUSED:
            raise
        raise FileRefused(
            f"the presigned CSV upload was refused ({presigned}) and so was the apps upload "
            f"({_refusal(exc)})"
        ) from None


def _refusal(exc: GenesysError) -> str:
    """``HTTP 403 missing.permissions``: enough to tell "not offered" from "not allowed"."""
    return " ".join(str(x) for x in (f"HTTP {exc.status}", exc.code) if x)


def import_file(job: UploadJob, plan: Plan, journal: Journal) -> None:
    st = job.state
    assert st.upload is not None
    path = cache_dir() / "uploads" / f"{st.upload.id}.csv"
    ids, new, digest = _write_csv(job, plan, journal, path)
    try:
        _import(job, plan, journal, path, ids, new, digest)
    finally:
        _let_go(ids)


def _let_go(items: list[str]) -> None:
    """Free a list of a million strings a slice at a time: freed at once (one C call), it held
    the interpreter lock, and so the app's window, for tens of ms."""
    while items:
        del items[-50_000:]


def _import(
    job: UploadJob, plan: Plan, journal: Journal, path: Path, ids: list[str], new: int, digest: str
) -> None:
    st, opts, tr = job.state, job.options, job.tracker
    assert st.upload is not None
    try:
        if not ids:
            return
        batch_no = job.next_batch_no(journal)
        job.ledger.plan_batch(st.upload.id, batch_no, ids, f"{FILE_REQUEST_PREFIX}{digest}")
        size_before = platform.list_size(job.client, st.list_id)
        status_before = job.client.imports.status(st.list_id)
        job.ledger.mark_sent(st.list_id, st.upload.id, batch_no)
        tr.phase(Phase.IMPORTING, f"uploading {len(ids)} contacts as a CSV file")
        try:
            # contact-id-name whenever the list has an id column: the import then upserts by
            # it (both upload paths), so a rerun updates instead of duplicating.
            how = _upload(job, path, plan.id_column)
        except FileRefused:
            # Nothing reached the platform; the rows are sent again, by another way or run.
            job.ledger.mark_batch_failed(st.upload.id, batch_no)
            raise
        tr.message(f"uploaded ({how}); waiting for the import")
        _follow(job, size_before + new, len(ids), status_before)
        job.ledger.mark_confirmed(st.list_id, [], upload_id=st.upload.id, batch_no=batch_no)
    finally:
        path.unlink(missing_ok=True)
    if plan.anonymous:
        # The platform made the ids, so there is nothing to read back by id: the finished
        # import (the list grew by the rows sent) is all the confirmation there is.
        job.ledger.mark_confirmed(st.list_id, ids)
        journal.confirm(ids)
        tr.add(confirmed=len(ids))
        return
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
        via=opts.reconcile_via,
        warnings=st.warnings,
    )


def _follow(job: UploadJob, expected_size: int, count: int, before: ImportStatus) -> ImportStatus:
    """Poll the import until it is finished; a failure or a stall is an error, not a hang.

    The status is per list, not per import: until our import starts, it still shows the
    previous one, so a ``FAILED`` identical to the one seen before our upload is stale.
    """
    opts, tr, list_id = job.options, job.tracker, job.state.list_id
    seen = False
    last_done = -1
    started = last_move = time.monotonic()
    while True:
        status = job.client.imports.status(list_id)
        # ... but not for ever: an import of ours that failed the same way looks the same.
        stale = (
            before.failed
            and not seen
            and status.to_api() == before.to_api()
            and time.monotonic() - started < min(opts.import_stall_timeout_s, STALE_FAILURE_S)
        )
        if status.failed and not stale:
            raise UploadPlatformError(
                f"the import into list {job.state.list_name} failed: "
                f"{status.failure_reason or 'no reason given'}; fix that and rerun the upload"
            )
        size = platform.list_size(job.client, list_id)
        seen = seen or status.in_progress
        if stale:
            finished = size >= expected_size
        else:
            finished = is_import_finished(status, size, expected_size, seen_progress=seen)
        if finished:
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
        if pct is not None and status.in_progress:
            tr.importing(float(pct), f"importing: {pct:.0f}% of {count} contacts")
        else:
            share = 100.0 * size / expected_size if expected_size > 0 else 0.0
            tr.importing(share, f"importing: list holds {size} of {expected_size}")
        job.sleep(opts.import_poll_s)
