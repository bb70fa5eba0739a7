"""Reading sent contacts back and comparing them with what was sent.

After JSON batches this is a check: a contact that is not in the list, or holds other data,
becomes ``missing`` in the report and is left unconfirmed in the ledger, so the next run sends
it again. After a CSV import it is the confirmation itself: the import reports progress per
list, not per contact, so only reading the contacts back says which rows landed.

Reads go through ``contacts/bulk`` in calls of 1,000 ids, rate-limited like everything else
(one read per 1,000 contacts: half the cost of the upload). An export would be cheaper for very
big lists; it is not used yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from outbound_desk.genesys import GenesysClient
from outbound_desk.upload.journal import Journal
from outbound_desk.upload.ledger import Ledger
from outbound_desk.upload.model import Outcome
from outbound_desk.upload.progress import ProgressTracker

if TYPE_CHECKING:
    from outbound_desk.upload.plan import Plan

READ_BATCH = 1_000
_DONE = (str(Outcome.CREATED), str(Outcome.UPDATED))


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
) -> tuple[int, int]:
    """Compare the rows in *states* with the list; returns ``(matching, missing)``.

    With *confirm* (after an import), matching rows become confirmed (created or updated).
    """
    matching = missing = 0
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="upload-read") as pool:
        for chunk in plan.chunks(cancelled=cancelled):
            ids = chunk.contact_ids
            if not ids:
                continue
            jstates = journal.states(ids)
            wanted = [i for i, cid in enumerate(ids) if jstates.get(cid, ("", None))[0] in states]
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
