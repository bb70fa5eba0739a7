"""Sending batches of contacts: one worker call, splitting a refused batch to find the culprits."""

from __future__ import annotations

from dataclasses import dataclass, field

from outbound_desk.genesys import BadRequest, GenesysClient


@dataclass
class Batch:
    """Contacts that go out in one ``POST .../contacts`` (at most 1,000)."""

    batch_no: int
    contact_ids: list[str]
    hashes: list[str]
    #: each contact's data as canonical JSON text (``PlannedChunk.payloads``)
    payloads: list[str]
    #: Send contacts without ``id`` (the user allowed a file without an id column): the
    #: platform makes the ids, so ``contact_ids`` are only the ledger's row keys.
    anonymous: bool = False


@dataclass
class BatchResult:
    """What the platform did with one batch: stored ids, and refused ids with the reason."""

    batch: Batch
    confirmed: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    requests: int = 0


#: Refused requests one batch may spend finding its bad contacts (each costs about log2 of the
#: batch size); beyond that the refusal is about the list or the request, not a few rows.
MAX_REFUSALS = 100


def _list_wide(exc: BadRequest) -> bool:
    """A refusal no contact can be blamed for (e.g. the list's size limit)."""
    code = (exc.code or "").casefold()
    return "limit" in code or "size" in code


def send_batch(client: GenesysClient, list_id: str, batch: Batch) -> BatchResult:
    """Upsert one batch (runs on a worker thread; touches no ledger).

    Retries after 429/5xx/dropped connections are the client's job: upserts carry ids, so they
    are safe to repeat. A 400 refuses the whole request, so the batch is split in halves until
    the contacts the platform refuses are alone, each rejected with the platform's message and
    the rest stored (about 2 x log2(batch) extra requests per bad contact). A refusal about the
    list itself, or more than :data:`MAX_REFUSALS` of them, is raised instead: the upload stops
    with the platform's message and stays resumable.
    """
    result = BatchResult(batch)
    refusals = 0

    def go(idx: list[int]) -> None:
        nonlocal refusals
        try:
            result.requests += 1
            client.contacts.add_json(
                list_id,
                [batch.payloads[i] for i in idx],
                None if batch.anonymous else [batch.contact_ids[i] for i in idx],
            )
        except BadRequest as exc:
            refusals += 1
            if _list_wide(exc) or refusals > MAX_REFUSALS:
                raise
            if len(idx) == 1:
                result.rejected.append(
                    (batch.contact_ids[idx[0]], f"refused by the platform: {exc.message}")
                )
                return
            half = len(idx) // 2
            go(idx[:half])
            go(idx[half:])
            return
        result.confirmed.extend(batch.contact_ids[i] for i in idx)

    go(list(range(len(batch.contact_ids))))
    return result
