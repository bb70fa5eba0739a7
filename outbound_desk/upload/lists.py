"""The contact-list operations both front ends offer: create, clear, delete, export.

The Lists pane (``ui/lists``) and ``outbound-desk lists create|clear|delete|export`` run these
same functions. Each takes the client and ``progress(done, total, phase)`` / ``cancelled()``
callables and knows nothing of threads.

Clearing or deleting a list also forgets its contacts in the upload ledger: the ledger is only
a cache of what the list holds, and once the list is emptied a rerun must send everything
again instead of skipping it as "already sent".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from outbound_desk.base.cancel import CancelCheck, Cancelled, Progress
from outbound_desk.contacts import ListSchema
from outbound_desk.genesys import (
    ContactList,
    ContactListSpec,
    EmailColumn,
    ExportedFile,
    GenesysClient,
    NotReady,
    PhoneColumn,
    export_list_to_file,
)
from outbound_desk.upload.ledger import Ledger

__all__ = [
    "CLEAR_TIMEOUT_S",
    "clear_contacts",
    "create_list",
    "delete_list",
    "export_list",
    "forget_in_ledger",
    "spec_from_schema",
]


CLEAR_TIMEOUT_S = 600.0
#: Poll interval while waiting for the platform's asynchronous work (clear, export).
POLL_S = 0.5


def _no_progress(done: int, total: int, phase: str) -> None:
    return None


def _never() -> bool:
    return False


def spec_from_schema(schema: ListSchema) -> ContactListSpec:
    body = schema.to_genesys()
    return ContactListSpec(
        name=schema.name,
        column_names=list(body["columnNames"]),
        phone_columns=[PhoneColumn(p["columnName"], p["type"]) for p in body["phoneColumns"]],
        email_columns=[EmailColumn(e["columnName"], e["type"]) for e in body["emailColumns"]],
    )


def create_list(
    client: GenesysClient,
    schema: ListSchema,
    progress: Progress = _no_progress,
    cancelled: CancelCheck = _never,
    *,
    timeout_s: float = 60.0,
) -> ContactList:
    """Create the list and wait until the platform reads it back with its columns."""
    progress(0, 2, "creating the list")
    created: ContactList = client.contact_lists.create(spec_from_schema(schema))
    progress(1, 2, "waiting until the list is ready")
    client.contact_lists.wait_until_ready(
        created.id, expected_columns=schema.columns, timeout_s=timeout_s, cancelled=cancelled
    )
    progress(2, 2, "ready")
    return client.contact_lists.get(created.id, include_size=True, include_import_status=True)


def forget_in_ledger(ledger_path: Path | None, list_id: str) -> None:
    """Forget what the ledger at *ledger_path* knows of *list_id*'s contacts (None: nothing to
    forget, e.g. a caller with no ledger)."""
    if ledger_path is None:
        return
    with Ledger(ledger_path) as ledger:
        ledger.forget_contacts(list_id)


def clear_contacts(
    client: GenesysClient,
    list_id: str,
    progress: Progress = _no_progress,
    cancelled: CancelCheck = _never,
    *,
    ledger_path: Path | None,
    timeout_s: float = CLEAR_TIMEOUT_S,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Empty the list, wait until its size reads 0 (the platform clears asynchronously), and
    forget its contacts in the ledger.

    The ledger is reset as soon as the clear is asked for, before the wait: from then on the
    list may hold none of what the ledger remembers.
    """
    pause = sleep or client.sleep
    start = client.contact_lists.get(list_id, include_size=True).size or 0
    total = max(start, 1)
    progress(0, total, "clearing")
    client.contacts.clear(list_id)
    forget_in_ledger(ledger_path, list_id)
    deadline = time.monotonic() + timeout_s
    wait = 0.2
    while True:
        size = client.contact_lists.get(list_id, include_size=True).size or 0
        progress(max(0, start - size), total, "clearing")
        if size == 0:
            progress(total, total, "cleared")
            return
        if cancelled():
            raise Cancelled("stopped waiting for the list to clear; the platform goes on")
        if time.monotonic() > deadline:
            raise NotReady(
                f"list {list_id} was asked to clear but still holds {size:,} contacts after "
                f"{timeout_s:.0f} s; look again later"
            )
        pause(wait)
        wait = min(wait * 2, 5.0)


def delete_list(client: GenesysClient, list_id: str, *, ledger_path: Path | None) -> str:
    """Delete the list and forget its contacts in the ledger; returns *list_id*."""
    client.contact_lists.delete(list_id)
    forget_in_ledger(ledger_path, list_id)
    return list_id


def export_list(
    client: GenesysClient,
    list_id: str,
    target: Path,
    progress: Progress = _no_progress,
    cancelled: CancelCheck = _never,
    *,
    timeout_s: float = 1800.0,
) -> ExportedFile:
    """Export the list and save the platform's CSV to *target* (checked, written whole to
    ``<target>.partial``, then renamed): ``genesys.export_list_to_file``, the code of
    ``outbound-desk export`` too."""
    return export_list_to_file(
        client, list_id, target, progress=progress, cancelled=cancelled, timeout_s=timeout_s
    )
