"""Reading sent contacts back and comparing them with what was sent.

After JSON batches this is a check of every row that should be in the list (sent, or skipped
as unchanged): a contact that is not in the list, or holds other data, becomes ``missing`` in
the report and is left unconfirmed in the ledger, so the next run sends
it again. After a CSV import it is the confirmation itself: the import reports progress per
list, not per contact, so only reading the contacts back says which rows landed.

Reads go through ``contacts/bulk`` in calls of 1,000 ids, rate-limited like everything else
(one read per 1,000 contacts: half the cost of the upload). From :data:`EXPORT_MIN` contacts on
(or when asked), the list is exported once instead (a few requests whatever its size) and only
the contacts the export does not show as sent are read with ``contacts/bulk``: an export that
lags behind the list can cost reads, never a false "missing".
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Literal

import pyarrow as pa
import pyarrow.csv as pacsv

from outbound_desk.contacts.output import arrow_json_objects, utf8_values
from outbound_desk.genesys import GenesysClient, GenesysError
from outbound_desk.genesys.exports import export_text
from outbound_desk.upload.journal import Journal
from outbound_desk.upload.ledger import Ledger, payload_hash, payload_hashes
from outbound_desk.upload.model import Outcome, UploadCancelled
from outbound_desk.upload.progress import ProgressTracker

if TYPE_CHECKING:
    from outbound_desk.upload.plan import Plan

log = logging.getLogger(__name__)

READ_BATCH = 1_000
#: From this many contacts to check, an export is cheaper than ``contacts/bulk`` reads.
EXPORT_MIN = 50_000
EXPORT_TIMEOUT_S = 600.0
#: Rows checked after JSON batches: those sent, and those skipped as unchanged (the ledger's
#: memory of the list could be stale, e.g. after a clear outside this app).
_DONE = (str(Outcome.CREATED), str(Outcome.UPDATED), str(Outcome.UNCHANGED))


def _value(stored: Mapping[str, str], folded: Mapping[str, str], column: str) -> str:
    return stored.get(column, folded.get(column.casefold(), ""))


def difference(
    sent: str | None, stored: Mapping[str, str] | None, columns: Sequence[str]
) -> str | None:
    """Why the list's contact *stored* is not what was sent (None when it is).

    *sent* is the payload hash the ledger recorded for it (None: the ledger no longer knows),
    compared with the hash of *stored* over the *columns* the upload sends.
    """
    if stored is None:
        return "not in the list after the upload"
    if sent is None:
        return "the upload ledger no longer says what was sent to it; rerun to send it again"
    folded = {k.casefold(): v for k, v in stored.items()}
    if payload_hash({c: _value(stored, folded, c) for c in columns}) == sent:
        return None
    return "its data in the list differs from what this upload sent"


def reconcile(
    client: GenesysClient,
    list_id: str,
    plan: Plan,
    journal: Journal,
    ledger: Ledger,
    *,
    tracker: ProgressTracker,
    cancelled: Callable[[], bool],
    states: Sequence[str] = _DONE,
    confirm: bool = False,
    concurrency: int = 4,
    via: Literal["auto", "bulk", "export"] = "auto",
    warnings: list[str] | None = None,
) -> tuple[int, int]:
    """Compare the rows in *states* with the list; returns ``(matching, missing)``.

    What was sent is what the journal (the rows and their contact ids) and the ledger (each
    contact's payload hash) recorded: the file is not read again. With *confirm* (after an
    import), matching rows become confirmed (created or updated). When the export fails (or
    gives an empty or unreadable file) every contact is read with ``contacts/bulk`` instead,
    and that is said: logged, shown as the progress message and added to *warnings* (the
    upload result's).
    """
    assert plan.schema is not None
    columns = plan.schema.columns
    to_check = sum(n for state, n in journal.counts().items() if state in states)
    exported: Shards | None = None
    if to_check and (via == "export" or (via == "auto" and to_check >= EXPORT_MIN)):
        tracker.message(f"exporting the list to check {to_check:,} contacts")
        try:
            exported = _exported_hashes(client, list_id, columns, cancelled)
        except GenesysError as exc:
            fallback = (
                f"the export of list {list_id} failed ({exc.message}); reading all "
                f"{to_check:,} contacts through contacts/bulk instead"
            )
            log.warning("reconciliation: %s", fallback)
            tracker.message(fallback)
            if warnings is not None:
                warnings.append(f"reconciliation: {fallback}")

    matching = missing = 0

    def read(wanted_ids: list[str]) -> dict[str, Mapping[str, str]]:
        found = client.contacts.get_many(list_id, wanted_ids)
        return {c.id: c.data for c in found if c.id}

    try:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="upload-read") as pool:
            for ids in journal.pages_in_state(states):
                if cancelled():
                    raise UploadCancelled(
                        "the upload was cancelled; rerun it to continue where it stopped"
                    )
                sent = ledger.sent_hashes(list_id, ids)
                wanted = ids
                if exported is not None:
                    seen = [cid for cid in ids if cid in sent and exported.get(cid) == sent[cid]]
                    if confirm and seen:
                        ledger.mark_confirmed(list_id, seen)
                        journal.confirm(seen)
                        tracker.add(confirmed=len(seen))
                    matching += len(seen)
                    seen_set = set(seen)
                    wanted = [cid for cid in ids if cid not in seen_set]
                groups = [wanted[s : s + READ_BATCH] for s in range(0, len(wanted), READ_BATCH)]
                for group, stored in zip(groups, pool.map(read, groups), strict=True):
                    good: list[str] = []
                    bad: list[tuple[str, str]] = []
                    for cid in group:
                        why = difference(sent.get(cid), stored.get(cid), columns)
                        if why is None:
                            good.append(cid)
                        else:
                            bad.append((cid, why))
                    if confirm and good:
                        ledger.mark_confirmed(list_id, good)
                        journal.confirm(good)
                        tracker.add(confirmed=len(good))
                    if bad:
                        ledger.mark_rejected(list_id, bad)
                        journal.set_outcome((cid, Outcome.MISSING, why) for cid, why in bad)
                    matching += len(good)
                    missing += len(bad)
                    tracker.message(
                        f"checked {matching + missing} contacts, {missing} missing", force=False
                    )
    finally:
        if exported is not None:
            exported.let_go()
    return matching, missing


def _exported_hashes(
    client: GenesysClient, list_id: str, columns: Sequence[str], cancelled: Callable[[], bool]
) -> Shards:
    """``contact id -> payload hash`` of the list's contacts, over the *columns* we send."""
    # An export that fails, or whose file is empty or unreadable, raises a GenesysError
    # (ExportError): the caller says so and reads every contact with contacts/bulk.
    client.exports.start(list_id)
    info = client.exports.wait_ready(list_id, timeout_s=EXPORT_TIMEOUT_S, cancelled=cancelled)
    data = client.exports.download(info.uri)  # checked: a header with inin-outbound-id
    return export_hashes(data, columns)


#: Export rows hashed per step (bounded memory; the lock is let go between steps).
_EXPORT_STEP = 50_000


class Shards:
    """``contact id -> payload hash`` for a whole list, held in many small dicts.

    One dict of a million contacts grows (rehashing every entry) and is freed (a million
    strings let go) in single calls that hold the interpreter lock for 50-100 ms each, a
    stall of the app's window; a shard of a few thousand takes well under a millisecond,
    and :meth:`let_go` frees them one at a time.
    """

    def __init__(self, shards: int = 256) -> None:
        self._parts: list[dict[str, str]] = [{} for _ in range(shards)]

    def __setitem__(self, key: str, value: str) -> None:
        self._parts[hash(key) % len(self._parts)][key] = value

    def get(self, key: str) -> str | None:
        return self._parts[hash(key) % len(self._parts)].get(key) if self._parts else None

    def as_dict(self) -> dict[str, str]:
        return {k: v for part in self._parts for k, v in part.items()}

    def let_go(self) -> None:
        while self._parts:
            self._parts.pop()


def export_hashes(data: bytes, columns: Sequence[str]) -> Shards:
    """``contact id -> payload hash`` over *columns* of an export file's contacts.

    Arrow's CSV reader parses the file (outside the interpreter lock) into string columns,
    and the canonical JSON of each contact is built from them (``arrow_json_objects``), a
    step of rows at a time: no list per record and no dict per contact. An export Arrow
    cannot take as a table (ragged records) is read record by record, as before.
    """
    from outbound_desk.genesys import ID_COLUMN

    header = next(csv.reader(export_text(data)), [])
    folded = [h.strip().casefold() for h in header]
    at = folded.index(ID_COLUMN)
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            # One thread: the parse is short, and Arrow's pool on every core left none for
            # the app's window (a 68 ms stall on two cores).
            read_options=pacsv.ReadOptions(
                column_names=[f"c{i}" for i in range(len(header))], skip_rows=1, use_threads=False
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={f"c{i}": pa.large_string() for i in range(len(header))},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return _hashes_by_record(data, columns, folded, at)
    picks = [folded.index(c.casefold()) if c.casefold() in folded else -1 for c in columns]
    out = Shards()
    for start in range(0, table.num_rows, _EXPORT_STEP):
        part = table.slice(start, _EXPORT_STEP)
        objects = arrow_json_objects(
            columns, [part.column(i) if i >= 0 else None for i in picks], part.num_rows
        )
        ids = (raw.decode() for raw in utf8_values(part.column(at)))
        for cid, digest in zip(ids, payload_hashes(objects), strict=True):
            out[cid] = digest
    return out


def _hashes_by_record(data: bytes, columns: Sequence[str], header: list[str], at: int) -> Shards:
    """:func:`export_hashes` with the csv module, for an export with ragged records (a short
    record's missing values are ""; one without the id is skipped)."""
    reader = csv.reader(export_text(data))  # decoded as read: no long hold of the GIL
    next(reader, None)
    picks = [(c, header.index(c.casefold()) if c.casefold() in header else -1) for c in columns]
    out = Shards()
    for record in reader:
        if len(record) <= at:
            continue
        out[record[at]] = payload_hash(
            {c: record[i] if 0 <= i < len(record) else "" for c, i in picks}
        )
    return out
