"""The upload runner: one file into one contact list, exactly once, resumable.

The order of things, and why:

1. Plan the file (profile, checksum) and find the target list, creating it from a schema if
   asked (then wait until the platform really serves it).
2. Take the per-list lock, so no other upload of this app writes to the list meanwhile.
3. Find this upload in the ledger (a rerun of the same file, list and options resumes it) or
   begin a new one; open its row journal.
4. Check the schema (columns the list lacks stop the upload, or are added with
   ``add_columns``), wait while an import runs on the list, clear it for ``replace``.
5. Stream the validated, normalised rows: skip what is confirmed with the same payload,
   journal and ledger every batch *before* it goes out, send with a few workers that share the
   client's rate limiter, record what the platform answered.
6. Reconcile (read the sent ids back), write the outcome report, close the ledger record.

A failure or a cancel leaves the ledger and the journal saying exactly what was sent, so
rerunning continues where this run stopped.

"Created" against "updated": a contact id the list did not hold before this upload first sent
it is created, otherwise updated. When the list was empty as the upload began (just created,
or cleared for ``replace``) nothing existed, and no read is needed. Otherwise each batch's ids
are read with ``contacts/bulk`` just before it is sent (one extra request per batch), and the
answer is journalled before the send, so a resumed run keeps the first answer even though its
own earlier send has since put the contact there. It is exact unless someone else adds or
deletes the same ids between that read and our send.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from outbound_desk.config.private import private_dir
from outbound_desk.contacts import DuplicatePlan
from outbound_desk.files import FileProfile
from outbound_desk.genesys import GenesysClient, GenesysError
from outbound_desk.upload import platform
from outbound_desk.upload.batching import Batch, BatchResult, send_batch
from outbound_desk.upload.fileimport import FILE_REQUEST_PREFIX
from outbound_desk.upload.journal import SENT, Journal
from outbound_desk.upload.ledger import Ledger, LedgerError, UploadCounts, UploadRecord
from outbound_desk.upload.lists import clear_contacts
from outbound_desk.upload.lock import ListBusyError, ListLock, LockHolder, LockWaitCancelledError
from outbound_desk.upload.model import (
    ListBusy,
    Outcome,
    Phase,
    UploadCancelled,
    UploadDeclined,
    UploadError,
    UploadOptions,
    UploadPlatformError,
    UploadProgress,
    UploadRejected,
    UploadResult,
    UploadSummary,
)
from outbound_desk.upload.plan import Plan, PlannedChunk, open_plan
from outbound_desk.upload.progress import ProgressTracker
from outbound_desk.upload.reconcile import reconcile
from outbound_desk.upload.report import write_report

log = logging.getLogger(__name__)

_DONE_STATES = (str(Outcome.CREATED), str(Outcome.UPDATED))
_PAUSE_POLL_S = 0.1


@dataclass
class _State:
    """What one run learns as it goes (not shared with other threads)."""

    list_id: str = ""
    list_name: str = ""
    list_created: bool = False
    upload: UploadRecord | None = None
    resumed: bool = False
    transport: Literal["api", "file"] = "api"
    initial_size: int = 0
    #: The list holds fewer contacts than the ledger remembers confirmed there: before a row
    #: is skipped as already sent, the list is asked whether it holds it.
    verify_skips: bool = False
    warnings: list[str] = field(default_factory=list)
    #: A batch went to the platform (or was handed to a worker to go).
    sent_any: bool = False
    #: Added to the error an upload stops with (what became of a list it created).
    note: str = ""


class UploadJob:
    """One upload run; ``run()`` does everything and returns (or raises) once.

    ``progress`` gets :class:`UploadProgress` snapshots (throttled), ``cancelled()`` is checked
    between batches, ``paused()`` (optional) holds the upload between batches while true.
    Nothing here starts threads except the short-lived batch workers of one run.
    """

    def __init__(
        self,
        client: GenesysClient,
        options: UploadOptions,
        ledger: Ledger,
        *,
        progress: Callable[[UploadProgress], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        paused: Callable[[], bool] | None = None,
        lock_dir: Path | None = None,
        profile: str | None = None,
        confirm: Callable[[UploadSummary], bool] | None = None,
        prepared: FileProfile | None = None,
        user: str | None = None,
        duplicate_plan: DuplicatePlan | None = None,
    ) -> None:
        self.client = client
        #: The preview validation's duplicate pre-pass (``ValidationReport.duplicate_plan``):
        #: used when it is for this very file and these settings, so the file is not read
        #: for it again; else the plan reads it.
        self._duplicate_plan = duplicate_plan
        #: Who uploads (the signed-in identity) for the ledger's "by"; None: the OS user.
        self._user = user
        self._confirm = confirm
        self._prepared = prepared
        self.options = options
        self.ledger = ledger
        self.cancelled: Callable[[], bool] = cancelled or (lambda: False)
        self._paused = paused or (lambda: False)
        self._lock_dir = lock_dir
        self._profile = profile
        self.tracker = ProgressTracker(progress, counters=self._counters)
        self.state = _State()

    # ------------------------------------------------------------------ plumbing
    def _counters(self) -> tuple[int, int, int]:
        s = self.client.rate_stats()
        return s.requests, s.retries, s.rate_limited

    def _check_cancel(self) -> None:
        if self.cancelled():
            raise UploadCancelled("the upload was cancelled; rerun it to continue where it stopped")

    def _hold_while_paused(self) -> None:
        while self._paused():
            self.tracker.set_paused(True)
            self._check_cancel()
            time.sleep(_PAUSE_POLL_S)
        self.tracker.set_paused(False)

    def sleep(self, seconds: float) -> None:
        """Sleep in small steps so that a cancel is seen within a tenth of a second."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._check_cancel()
            time.sleep(min(left, _PAUSE_POLL_S))

    # ------------------------------------------------------------------ run
    def run(self) -> UploadResult:
        try:
            try:
                return self._run()
            except GenesysError as exc:
                # Before the upload was recorded (finding or creating the list): nothing to
                # resume, but still one line that says what failed.
                raise UploadPlatformError(
                    f"{exc} Nothing was sent; run the upload again."
                ) from None
            except LedgerError as exc:
                # Named file, what is wrong with it and what to do (LedgerUnusableError).
                raise UploadRejected(str(exc)) from None
            except sqlite3.Error as exc:
                raise UploadRejected(self._records_failed(exc)) from None
        except UploadError as exc:
            if self.state.note:
                exc.args = (f"{exc} {self.state.note}",)
            raise

    def _summary(self, plan: Plan) -> UploadSummary:
        opts = self.options
        return UploadSummary(
            org=self._profile or self.client.region.api_base,
            list=opts.list,
            create=opts.create,
            transport=plan.choose_transport(opts),
            rows=plan.rows,
            file=opts.file,
            replace=opts.replace,
            id_column=opts.id_column,
            allow_no_id=opts.allow_no_id,
        )

    def _records_failed(self, exc: sqlite3.Error) -> str:
        where = f"the ledger {self.ledger.path}"
        if self.state.upload is not None:
            where += f" or the journal {Journal.path_for(self.ledger.path, self.state.upload.id)}"
        return (
            f"recording the upload failed ({exc}) in {where}: free space or fix the file's "
            "permissions and rerun the same command to resume it, or move a damaged file "
            "aside (rerunning then sends the rows again, which updates the same contacts)"
        )

    def _check_records(self) -> None:
        """Stop before the platform is touched unless the ledger and the journal folder take
        writes: an upload that cannot be recorded cannot be resumed or kept exactly-once."""
        self.ledger.check_writable()
        journals = Journal.path_for(self.ledger.path, "check").parent
        try:
            private_dir(journals)
        except OSError as exc:
            raise UploadRejected(
                f"cannot make the journal folder {journals}: {exc.strerror or exc}; nothing "
                "was sent"
            ) from None
        if not os.access(journals, os.W_OK | os.X_OK):
            raise UploadRejected(
                f"the journal folder {journals} cannot be written; make it writable for this "
                "user (nothing was sent)"
            )

    def _sent_nothing(self) -> bool:
        return not self.state.sent_any and self.tracker.state.sent == 0

    def _discard_new_list(self, target: platform.Target) -> None:
        """Delete a list this run created when the run stops before sending it anything, and
        forget it in the ledger: a rerun creates it again, and no empty list is left behind."""
        try:
            self.client.contact_lists.delete(target.id)
        except GenesysError as exc:
            self.state.note = (
                f"List {target.name} ({target.id}) was created for this upload and could not "
                f"be deleted again ({exc}); nothing was sent to it: a rerun reuses it, or "
                "delete it in Genesys Cloud."
            )
            return
        self.state.note = (
            f"List {target.name}, created for this upload, was deleted again: nothing had been "
            "sent to it."
        )
        upload = self.state.upload
        for upload_id in self.ledger.forget_list(target.id):
            Journal.remove(self.ledger.path, upload_id)
        if upload is not None and self.options.report_path is None:
            (self.ledger.path.parent / "reports" / f"{upload.id}.csv").unlink(missing_ok=True)

    def _run(self) -> UploadResult:
        opts = self.options
        started = time.monotonic()
        self.tracker.phase(Phase.VALIDATING, f"reading {opts.file.name}")
        plan = open_plan(
            opts, progress=self._file_progress, cancelled=self.cancelled, prepared=self._prepared
        )
        plan.duplicate_plan = self._duplicate_plan
        self._check_records()
        if self._confirm is not None and not self._confirm(self._summary(plan)):
            raise UploadDeclined("the upload was not confirmed: nothing was sent")
        target = platform.resolve_list(
            self.client,
            opts,
            plan,
            tracker=self.tracker,
            ledger=self.ledger,
            cancelled=self.cancelled,
        )
        st = self.state
        st.list_id, st.list_name, st.list_created = target.id, target.name, target.created
        try:
            return self._run_on(plan, target, started)
        except Exception:
            if target.made_now and self._sent_nothing():
                self._discard_new_list(target)
            raise

    def _run_on(self, plan: Plan, target: platform.Target, started: float) -> UploadResult:
        st, opts = self.state, self.options
        lock = ListLock(
            st.list_id,
            lock_dir=self._lock_dir,
            timeout=opts.lock_timeout_s,
            poll=1.0,
            on_wait=self._on_lock_wait,
            cancelled=self.cancelled,
            list_name=st.list_name,
        )
        try:
            lock.acquire()
        except LockWaitCancelledError as exc:
            raise UploadCancelled(str(exc)) from None
        except ListBusyError as exc:
            raise ListBusy(str(exc)) from None
        try:
            return self._run_locked(plan, target, started)
        finally:
            lock.release()

    def _on_lock_wait(self, holder: LockHolder | None) -> None:
        who = f" ({holder.describe()})" if holder else ""
        self.tracker.phase(
            Phase.WAITING_LOCK,
            f"waiting: another Outbound Desk upload{who} is writing to list {self.state.list_name}",
        )

    def _file_progress(self, done: int, total: int, phase: str) -> None:
        self.tracker.message(f"{phase}: {done * 100 // max(total, 1)}%", force=False)

    def _run_locked(self, plan: Plan, target: platform.Target, started: float) -> UploadResult:
        opts, st = self.options, self.state
        # The file must fit the list (or the list be made to fit it) before the upload is
        # recorded: a refused schema leaves no half-begun upload behind.
        platform.check_columns(
            self.client, opts, plan, target, tracker=self.tracker, cancelled=self.cancelled
        )
        if plan.id_note:
            st.warnings.append(plan.id_note)
        identity = {**opts.identity(), "list": st.list_id}
        record = None
        if opts.resume_id:
            record = self.ledger.get_upload(opts.resume_id)
            if record.file_sha256 != plan.sha256:
                raise UploadRejected(
                    f"{opts.file} changed since upload {record.id} started (its SHA-256 "
                    "differs); run it as a new upload instead of resuming"
                )
            if record.list_id != st.list_id:
                went, asked = (
                    _list_label(record.list_name, record.list_id),
                    _list_label(st.list_name, st.list_id),
                )
                raise UploadRejected(
                    f"upload {record.id} went into list {went}, not {asked}; "
                    "resume it with its own list"
                )
            if record.status == "done":
                raise UploadRejected(
                    f"upload {record.id} already finished; run the upload again without --resume "
                    "to send what changed"
                )
        else:
            record = self.ledger.find_resumable(plan.sha256, st.list_id, identity)
        want = plan.choose_transport(opts)
        if record is not None:
            st.resumed = True
            self.ledger.set_status(record.id, "running")
            self.tracker.message(
                f"resuming upload {record.id} started {record.started_at:%Y-%m-%d %H:%M}"
            )
        else:
            record = self.ledger.begin_upload(
                file_path=opts.file.resolve(),
                file_sha256=plan.sha256,
                list_id=st.list_id,
                list_name=st.list_name,
                options=identity,
                transport=want,
                profile=self._profile,
                rows=plan.rows,
                user=self._user,
            )
        st.upload = record
        journal = Journal.for_upload(self.ledger.path, record.id)
        try:
            journal.set_meta("options", _json(opts.as_json()))
            if st.list_created and journal.get_meta("list_created") is None:
                journal.set_meta("list_created", st.list_id)
            status: Literal["done", "cancelled", "failed"] = "done"
            error: str | None = None
            try:
                self._prepare_list(journal)
                self._send(plan, journal, want)
                if opts.reconcile and not plan.anonymous and st.transport == "api":
                    self.tracker.phase(Phase.RECONCILING, "reading the sent contacts back")
                    try:
                        reconcile(
                            self.client,
                            st.list_id,
                            plan,
                            journal,
                            self.ledger,
                            tracker=self.tracker,
                            cancelled=self.cancelled,
                            concurrency=opts.concurrency,
                            via=opts.reconcile_via,
                            warnings=st.warnings,
                        )
                    except UploadCancelled:
                        # Everything was sent and confirmed by the platform's answers; only
                        # the read-back check was cut short.
                        st.warnings.append("reconciliation was cancelled: contacts not read back")
                # The upload is of the file as scanned: one changed before the upload ended
                # is not done (the reconcile works from the ledger and reads it no more).
                plan.check_unchanged()
            except UploadCancelled as exc:
                # A cancel is an answer, not a failure: the caller gets the counts so far.
                return self._finish(record, journal, "cancelled", started, str(exc))
            except (UploadError, GenesysError) as exc:
                status, error = "failed", str(exc)
                self._finish(record, journal, status, started, error)
                if isinstance(exc, GenesysError):
                    raise UploadPlatformError(
                        f"{exc} The upload is kept: rerun the same command (or --resume "
                        f"{record.id}) to continue.",
                        upload_id=record.id,
                    ) from None
                exc.upload_id = record.id
                raise
            return self._finish(record, journal, status, started, error)
        finally:
            journal.close()

    # ------------------------------------------------------------------ list preparation
    def _prepare_list(self, journal: Journal) -> None:
        opts, st = self.options, self.state
        platform.wait_not_busy(self.client, st.list_id, opts.busy_poll_s, self.tracker, self.sleep)
        if opts.replace and journal.get_meta("cleared") is None:
            self.tracker.phase(Phase.CLEARING, f"clearing list {st.list_name}")
            clear_contacts(self.client, st.list_id, ledger_path=None, sleep=self.sleep)
            # The list is empty: nothing the ledger remembers of it is there any more.
            self.ledger.forget_contacts(st.list_id)
            journal.set_meta("cleared", "1")
            journal.set_meta("initial_size", "0")
        live = platform.list_size(self.client, st.list_id)
        size = journal.get_meta("initial_size")
        if size is None:
            size = str(live)
            journal.set_meta("initial_size", size)
        st.initial_size = int(size)
        self._check_ledger_against(live)

    def _check_ledger_against(self, live: int) -> None:
        """The live list beats the ledger: compare the list's size now with what the ledger
        remembers confirmed in it. An empty list holds none of it (the ledger forgets the
        list, and everything is sent again); a smaller one may lack some of it (each row is
        looked up with ``contacts/bulk`` before it is skipped as already sent)."""
        st = self.state
        known = self.ledger.contact_states(st.list_id).get("confirmed", 0)
        if not known or live >= known:
            return
        if live == 0:
            self.ledger.forget_contacts(st.list_id)
            st.warnings.append(
                f"list {st.list_name} was empty although {known:,} contacts had been sent to "
                "it (cleared meanwhile?): sent them again"
            )
            return
        st.verify_skips = True
        self.tracker.message(
            f"the list holds {live:,} contacts, fewer than the {known:,} sent to it: "
            "checking which are still there"
        )

    # ------------------------------------------------------------------ sending
    def _send(self, plan: Plan, journal: Journal, want: Literal["api", "file"]) -> None:
        st = self.state
        st.transport = want
        if want == "file":
            from outbound_desk.upload.fileimport import FileRefused, import_file

            try:
                import_file(self, plan, journal)
                return
            except FileRefused as exc:
                if self.options.via == "file":
                    # The platform (or this OAuth client's role) does not take files: not the
                    # data's fault, so exit 3 and say both ways out.
                    raise UploadPlatformError(
                        f"the CSV import was refused: {exc}. Give the OAuth client's role the "
                        "outbound:contactList:upload permission, or upload with --via api "
                        "(JSON batches); rerunning resumes this upload"
                    ) from None
                st.warnings.append(f"CSV import refused ({exc}); sent as JSON batches instead")
                st.transport = "api"
                # The JSON pass walks the file again and counts every row afresh.
                self.tracker.reset_counts()
        self._send_json(plan, journal)

    def iter_to_send(
        self, plan: Plan, journal: Journal
    ) -> Iterator[tuple[PlannedChunk, list[int]]]:
        """Each planned chunk with the positions of its rows that still have to be sent.

        Journals every row, counts rejects and "unchanged" rows, and settles rows a crashed
        run left half-done (confirmed in the ledger but not yet in the journal).
        """
        st, opts, tr = self.state, self.options, self.tracker
        assert st.upload is not None
        self.tracker.phase(Phase.UPLOADING if st.transport == "api" else Phase.IMPORTING, "")
        for chunk in plan.chunks(cancelled=self.cancelled):
            journal.add_rows(chunk.journal_rows())
            tr.add(
                planned=len(chunk.contact_ids),
                rejected=len(chunk.rejected),
                dropped=len(chunk.dropped),
            )
            ids = chunk.contact_ids
            if not ids:
                continue
            confirmed = self.ledger.confirmed_hashes(st.list_id, ids)
            jstates = journal.states(ids)
            send: list[int] = []
            unchanged: list[int] = []  # confirmed in this list by an earlier upload, same data
            settle: list[str] = []
            skipped: list[int] = []  # done earlier in this upload, and the ledger agrees
            already = 0
            for i, cid in enumerate(ids):
                h = chunk.hashes[i]
                jstate = jstates.get(cid, "pending")
                same = confirmed.get(cid) == h
                if jstate == str(Outcome.REJECTED):
                    already += 1
                elif jstate in _DONE_STATES and same:
                    skipped.append(i)
                elif jstate == SENT and same:
                    settle.append(cid)
                elif jstate == str(Outcome.UNCHANGED) or (
                    same and jstate == str(Outcome.PENDING) and not opts.replace
                ):
                    unchanged.append(i)
                else:
                    send.append(i)
            if st.verify_skips and (skipped or unchanged):
                # Rows about to be skipped as already sent that the list no longer holds are
                # sent again, in this run.
                there = platform.existing_ids(
                    self.client, st.list_id, [ids[i] for i in skipped + unchanged]
                )
                lost = [i for i in skipped + unchanged if ids[i] not in there]
                if lost:
                    skipped = [i for i in skipped if ids[i] in there]
                    unchanged = [i for i in unchanged if ids[i] in there]
                    send = sorted(send + lost)
            already += len(skipped)
            if unchanged:
                why = "same data already confirmed in this list"
                journal.set_outcome((ids[i], Outcome.UNCHANGED, why) for i in unchanged)
            if settle:
                journal.confirm(settle)
            tr.add(unchanged=len(unchanged), confirmed=already + len(settle))
            if send:
                self.ledger.mark_pending(
                    st.list_id, st.upload.id, ((ids[i], chunk.hashes[i]) for i in send)
                )
            yield chunk, send

    def existed(self, ids: list[str], *, always_look: bool = False) -> dict[str, bool]:
        """Whether each id is in the list now, before this upload sends it (decides
        created/updated). A list that was empty when this upload began needs no look."""
        if (
            not ids
            or self.options.allow_no_id
            or (self.state.initial_size == 0 and not always_look)
        ):
            return dict.fromkeys(ids, False)
        found = platform.existing_ids(self.client, self.state.list_id, ids)
        return {cid: cid in found for cid in ids}

    def next_batch_no(self, journal: Journal) -> int:
        n = int(journal.get_meta("next_batch") or "0")
        journal.set_meta("next_batch", str(n + 1))
        return n

    def _send_json(self, plan: Plan, journal: Journal) -> None:
        opts, st, tr = self.options, self.state, self.tracker
        assert st.upload is not None
        upload_id = st.upload.id
        size = opts.batch_size
        pool = ThreadPoolExecutor(max_workers=opts.concurrency, thread_name_prefix="upload-batch")
        inflight: dict[Future[BatchResult], Batch] = {}
        failure: BaseException | None = None
        # Batches queued beyond those being sent keep the workers busy while this thread
        # validates the next chunk; queued ones are not sent yet, so a crash cannot send them
        # twice, and a cancel or an error withdraws them.
        backlog = opts.concurrency * 3
        withdrawn = 0

        def collect(block: bool) -> None:
            nonlocal failure, withdrawn
            if not inflight:
                return
            # Short waits, so that a cancel also withdraws the batches still queued.
            done, _ = wait(list(inflight), timeout=0.1 if block else 0, return_when=FIRST_COMPLETED)
            for fut in done:
                batch = inflight.pop(fut)
                if fut.cancelled():  # queued, never sent: back to pending
                    withdrawn += 1
                    self.ledger.mark_batch_failed(upload_id, batch.batch_no)
                    journal.set_outcome((cid, Outcome.PENDING, "") for cid in batch.contact_ids)
                    tr.add(sent=-len(batch.contact_ids))
                    continue
                try:
                    res = fut.result()
                except BaseException as exc:  # recorded; raised once the pool is drained
                    self.ledger.mark_batch_failed(upload_id, batch.batch_no)
                    failure = failure or exc
                    continue
                tr.add(confirmed=len(res.confirmed), rejected=len(res.rejected))

        def withdraw_if_stopping() -> None:
            if failure is not None or self.cancelled():
                for fut in inflight:
                    fut.cancel()

        def submit(batch: Batch) -> None:
            ex = self.existed(batch.contact_ids)
            journal.mark_sent(ex)
            self.ledger.plan_batch(upload_id, batch.batch_no, batch.contact_ids, uuid.uuid4().hex)
            self.ledger.mark_sent(st.list_id, upload_id, batch.batch_no)
            tr.add(sent=len(batch.contact_ids))
            st.sent_any = True
            inflight[pool.submit(self._send_and_record, batch, journal)] = batch

        def ready_to_submit() -> bool:
            """Make room (collecting answers) and honour cancel and pause; False on failure."""
            collect(block=False)
            while len(inflight) >= backlog and failure is None:
                self._check_cancel()
                collect(block=True)
            if failure is not None:
                return False
            self._check_cancel()
            self._hold_while_paused()
            return True

        # A resumed upload sends the batches it had planned but not confirmed again as the
        # same batches (same number, contact ids and request id), so the ledger counts their
        # attempts; their contacts are collected from the stream as they come.
        # A file batch (the CSV import's) is no JSON request: its rows join new batches.
        unconfirmed = {
            b.batch_no: b
            for b in self.ledger.unconfirmed_batches(upload_id)
            if not b.request_id.startswith(FILE_REQUEST_PREFIX)
        }
        owner = {cid: no for no, b in unconfirmed.items() for cid in b.contact_ids}
        replays: dict[int, Batch] = {}

        def add(batch: Batch, chunk: PlannedChunk, i: int) -> None:
            batch.contact_ids.append(chunk.contact_ids[i])
            batch.hashes.append(chunk.hashes[i])
            batch.payloads.append(chunk.payloads[i])

        try:
            pending = Batch(-1, [], [], [], anonymous=plan.anonymous)
            for chunk, send in self.iter_to_send(plan, journal):
                for i in send:
                    no = owner.get(chunk.contact_ids[i])
                    if no is not None:
                        replay = replays.setdefault(
                            no, Batch(no, [], [], [], anonymous=plan.anonymous)
                        )
                        add(replay, chunk, i)
                        if len(replay.contact_ids) < len(unconfirmed[no].contact_ids):
                            continue
                        del replays[no]
                        if not ready_to_submit():
                            break
                        submit(replay)
                        continue
                    add(pending, chunk, i)
                    if len(pending.contact_ids) < size:
                        continue
                    if not ready_to_submit():
                        break
                    submit(replace(pending, batch_no=self.next_batch_no(journal)))
                    pending = Batch(-1, [], [], [], anonymous=plan.anonymous)
                if failure is not None:
                    break
            # What is left: the last part-batch, and replays some of whose contacts needed no
            # second send after all.
            for batch in [*replays.values(), pending]:
                if failure is not None or not batch.contact_ids:
                    continue
                if not ready_to_submit():
                    break
                if batch.batch_no < 0:
                    batch = replace(batch, batch_no=self.next_batch_no(journal))
                submit(batch)
            while inflight:
                withdraw_if_stopping()
                collect(block=True)
        finally:
            # A cancel or an error: withdraw the queued batches, let those being sent finish
            # and record them, so the ledger says exactly what the platform has.
            for fut in inflight:
                fut.cancel()
            while inflight:
                collect(block=True)
            pool.shutdown(wait=True)
        if failure is not None:
            raise failure
        if withdrawn:
            raise UploadCancelled("the upload was cancelled; rerun it to continue where it stopped")

    def _send_and_record(self, batch: Batch, journal: Journal) -> BatchResult:
        """On a worker: send one batch and record the answer at once (ledger, then journal).

        Recording here rather than when the runner thread gets round to it keeps the gap
        between "the platform stored it" and "the ledger says so" to the answer's own way
        back, so a crash costs at most the batches being sent at that moment.
        """
        res = send_batch(self.client, self.state.list_id, batch)
        self._record(res, journal)
        return res

    def _record(self, res: BatchResult, journal: Journal) -> None:
        st = self.state
        assert st.upload is not None
        if res.confirmed:
            self.ledger.mark_confirmed(
                st.list_id, res.confirmed, upload_id=st.upload.id, batch_no=res.batch.batch_no
            )
            journal.confirm(res.confirmed)
        if res.rejected:
            self.ledger.mark_rejected(st.list_id, res.rejected)
            journal.set_outcome((cid, Outcome.REJECTED, why) for cid, why in res.rejected)
            if not res.confirmed:
                self.ledger.mark_confirmed(
                    st.list_id, [], upload_id=st.upload.id, batch_no=res.batch.batch_no
                )

    # ------------------------------------------------------------------ the end
    def _finish(
        self,
        record: UploadRecord,
        journal: Journal,
        status: Literal["done", "cancelled", "failed"],
        started: float,
        error: str | None,
    ) -> UploadResult:
        opts, st = self.options, self.state
        self.tracker.phase(Phase.REPORTING, "writing the outcome report")
        report_path = (
            opts.report_path
            or private_dir(self.ledger.path.parent / "reports") / f"{record.id}.csv"
        )
        counts = write_report(journal, report_path, anonymous=opts.allow_no_id)
        rows = sum(counts.values())
        if status == "done" and (counts[str(Outcome.PENDING)] or counts[str(Outcome.MISSING)]):
            # Every row must be accounted for before an upload counts as done; a rerun settles
            # what is still pending or missing.
            status = "failed"
            error = error or (
                f"{counts[str(Outcome.PENDING)]} rows pending and {counts[str(Outcome.MISSING)]} "
                "missing after the upload; rerun it to send them again"
            )
        self.ledger.finish_upload(
            record.id,
            status,
            UploadCounts(
                rows=rows,
                created=counts[str(Outcome.CREATED)],
                updated=counts[str(Outcome.UPDATED)],
                unchanged=counts[str(Outcome.UNCHANGED)],
                rejected=counts[str(Outcome.REJECTED)],
                dropped=counts[str(Outcome.DROPPED)],
            ),
            report_path,
        )
        warnings = list(st.warnings)
        if opts.allow_no_id:
            warnings.append(
                "the file has no contact id column: the platform made the ids, so uploading "
                "these contacts again (an edited file, another export) adds them a second time"
            )
        phase = {"done": Phase.DONE, "cancelled": Phase.CANCELLED, "failed": Phase.FAILED}[status]
        self.tracker.phase(phase, error or "")
        return UploadResult(
            upload_id=record.id,
            list_id=st.list_id,
            list_name=st.list_name,
            status=status,
            transport=st.transport,
            rows=rows,
            created=counts[str(Outcome.CREATED)],
            updated=counts[str(Outcome.UPDATED)],
            unchanged=counts[str(Outcome.UNCHANGED)],
            rejected=counts[str(Outcome.REJECTED)],
            missing=counts[str(Outcome.MISSING)],
            pending=counts[str(Outcome.PENDING)],
            duration_s=time.monotonic() - started,
            report=report_path,
            file_sha256=self._sha(record),
            list_created=st.list_created or journal.get_meta("list_created") is not None,
            resumed=st.resumed,
            requests=self.tracker.state.requests,
            retries=self.tracker.state.retries,
            rate_limited=self.tracker.state.rate_limited,
            warnings=tuple(warnings),
            error=error,
            dropped_duplicates=counts[str(Outcome.DROPPED)],
        )

    @staticmethod
    def _sha(record: UploadRecord) -> str:
        return record.file_sha256


def _json(obj: object) -> str:
    import json

    return json.dumps(obj, sort_keys=True, default=str)


def run_upload(
    client: GenesysClient,
    options: UploadOptions,
    ledger: Ledger,
    *,
    progress: Callable[[UploadProgress], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    paused: Callable[[], bool] | None = None,
    lock_dir: Path | None = None,
    profile: str | None = None,
    confirm: Callable[[UploadSummary], bool] | None = None,
    prepared: FileProfile | None = None,
    user: str | None = None,
    duplicate_plan: DuplicatePlan | None = None,
) -> UploadResult:
    """Upload ``options.file`` into ``options.list``; see :class:`UploadJob`.

    *prepared*: the file's scanned ``FileProfile`` from a preview (see ``open_plan``);
    *duplicate_plan*: that preview validation's ``report.duplicate_plan`` (see UploadJob).
    *profile* and *user*: the org (profile name) and the signed-in identity the ledger keeps
    with the upload (History's Org and By).

    Returns the result when the upload finished (``status`` "done", or "failed" when rows are
    left pending/missing). *confirm*, when given, is asked once the file is read and before
    the platform is touched, with what is about to happen; False stops with
    :class:`UploadDeclined`. Raises :class:`UploadError` subclasses when it could not go on
    (rejected input 1, usage 2, platform/busy/cancelled 3), leaving it resumable.
    """
    return UploadJob(
        client,
        options,
        ledger,
        progress=progress,
        cancelled=cancelled,
        paused=paused,
        lock_dir=lock_dir,
        profile=profile,
        confirm=confirm,
        prepared=prepared,
        user=user,
        duplicate_plan=duplicate_plan,
    ).run()


def _list_label(name: str | None, list_id: str) -> str:
    """A list as a person tells it apart: its name and, since two lists may share a name
    (one deleted and made again), its id."""
    return f"“{name}” (id {list_id})" if name else f"id {list_id}"
