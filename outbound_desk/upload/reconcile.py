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

from outbound_desk.genesys import GenesysClient, GenesysError
from outbound_desk.genesys.exports import export_text
from outbound_desk.upload.journal import Journal
from outbound_desk.upload.ledger import Ledger, payload_hash
from outbound_desk.upload.model import Outcome
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


def _short(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def difference(sent: Mapping[str, str], stored: Mapping[str, str] | None) -> str | None:
    """Why *stored* is not what was *sent* (None when it is)."""
    if stored is None:
        return "not in the list after the upload"
    folded = {k.casefold(): v for k, v in stored.items()}
    for key, value in sent.items():
        have = stored.get(key, folded.get(key.casefold(), ""))
        if have != value:
            return f"column {key} holds {_short(have)!r} but {_short(value)!r} was sent"
    return None


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

    With *confirm* (after an import), matching rows become confirmed (created or updated).
    When the export fails (or gives an empty or unreadable file) every contact is read with
    ``contacts/bulk`` instead, and that is said: logged, shown as the progress message and
    added to *warnings* (the upload result's).
    """
    matching = missing = 0
    to_check = sum(n for state, n in journal.counts().items() if state in states)
    exported: dict[str, str] | None = None
    if to_check and (via == "export" or (via == "auto" and to_check >= EXPORT_MIN)):
        tracker.message(f"exporting the list to check {to_check:,} contacts")
        try:
            exported = _exported_hashes(client, list_id, plan, cancelled)
        except GenesysError as exc:
            fallback = (
                f"the export of list {list_id} failed ({exc.message}); reading all "
                f"{to_check:,} contacts through contacts/bulk instead"
            )
            log.warning("reconciliation: %s", fallback)
            tracker.message(fallback)
            if warnings is not None:
                warnings.append(f"reconciliation: {fallback}")
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="upload-read") as pool:
        for chunk in plan.chunks(cancelled=cancelled):
            ids = chunk.contact_ids
            if not ids:
                continue
            jstates = journal.states(ids)
            wanted = [i for i, cid in enumerate(ids) if jstates.get(cid, ("", None))[0] in states]
            if exported is not None:
                seen = [i for i in wanted if exported.get(ids[i]) == chunk.hashes[i]]
                if confirm and seen:
                    ledger.mark_confirmed(list_id, [ids[i] for i in seen])
                    journal.confirm([ids[i] for i in seen])
                    tracker.add(confirmed=len(seen))
                matching += len(seen)
                seen_set = set(seen)
                wanted = [i for i in wanted if i not in seen_set]
            groups = [wanted[s : s + READ_BATCH] for s in range(0, len(wanted), READ_BATCH)]

            def read(wanted_ids: list[str]) -> dict[str, Mapping[str, str]]:
                found = client.contacts.get_many(list_id, wanted_ids)
                return {c.id: c.data for c in found if c.id}

            asked = [[ids[i] for i in g] for g in groups]
            for group, stored in zip(groups, pool.map(read, asked), strict=True):
                good: list[str] = []
                bad: list[tuple[str, str]] = []
                for i in group:
                    why = difference(chunk.payload(i), stored.get(ids[i]))
                    if why is None:
                        good.append(ids[i])
                    else:
                        bad.append((ids[i], why))
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
    return matching, missing


def _exported_hashes(
    client: GenesysClient, list_id: str, plan: Plan, cancelled: Callable[[], bool]
) -> dict[str, str]:
    """``contact id -> payload hash`` of the list's contacts, over the columns we send.

    The export is read as a stream of records into hashes only (not a table of rows), so a
    big list costs its file's bytes and one hash per contact.
    """
    from outbound_desk.genesys import ID_COLUMN

    assert plan.schema is not None
    columns = plan.schema.columns
    # An export that fails, or whose file is empty or unreadable, raises a GenesysError
    # (ExportError): the caller says so and reads every contact with contacts/bulk.
    client.exports.start(list_id)
    info = client.exports.wait_ready(list_id, timeout_s=EXPORT_TIMEOUT_S, cancelled=cancelled)
    data = client.exports.download(info.uri)  # checked: a header with inin-outbound-id
    reader = csv.reader(export_text(data))  # decoded as read: no long hold of the GIL
    header = [h.strip().casefold() for h in next(reader, [])]
    at = header.index(ID_COLUMN)
    picks = [(c, header.index(c.casefold()) if c.casefold() in header else -1) for c in columns]
    out: dict[str, str] = {}
    for record in reader:
        if len(record) <= at:
            continue
        out[record[at]] = payload_hash(
            {c: record[i] if 0 <= i < len(record) else "" for c, i in picks}
        )
    return out
