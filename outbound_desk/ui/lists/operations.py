"""The list manager's long operations as plain functions (STYLE rule 2): no Qt, no threads.

Each takes the client and ``progress(done, total, phase)`` / ``cancelled()`` callables; the pane
runs them on a job thread. Create, clear, delete and export are ``upload.lists``' functions,
the ones ``outbound-desk lists create|clear|delete|export`` runs; here they only turn the
platform's answer into the pane's row.
"""

from __future__ import annotations

from pathlib import Path

from outbound_desk.base.cancel import CancelCheck, Progress
from outbound_desk.contacts import ListSchema
from outbound_desk.genesys import EmailColumn, GenesysClient, PhoneColumn
from outbound_desk.ui.lists.store import ListPage, ListRow, PageRequest, row_from_model
from outbound_desk.upload import lists
from outbound_desk.upload.lists import spec_from_schema

__all__ = [
    "add_columns",
    "clear_list",
    "create_list",
    "delete_list",
    "export_list",
    "fetch_details",
    "fetch_page",
    "spec_from_schema",
]


#: Poll interval while waiting for the platform's asynchronous work (clear, export).
POLL_S = 0.5


def fetch_page(client: GenesysClient, request: PageRequest, page_size: int) -> ListPage:
    page = client.contact_lists.list(
        page_size=page_size,
        page_number=request.page_number,
        name=request.name_filter or None,
        # Admins remember a word of a list's name ("Renewals"), not how it starts.
        filter_type="Contains",
        include_size=True,
        include_import_status=True,
        sort_by="name",
        sort_order="ascending",
    )
    return ListPage(
        [row_from_model(m) for m in page.entities], page.page_number, page.total, page.page_count
    )


def fetch_details(client: GenesysClient, list_id: str) -> ListRow:
    return row_from_model(
        client.contact_lists.get(list_id, include_size=True, include_import_status=True)
    )


def create_list(
    client: GenesysClient,
    schema: ListSchema,
    progress: Progress,
    cancelled: CancelCheck,
    *,
    timeout_s: float = 60.0,
) -> ListRow:
    """Create the list and wait until the platform reads it back with its columns."""
    return row_from_model(
        lists.create_list(client, schema, progress, cancelled, timeout_s=timeout_s)
    )


def add_columns(
    client: GenesysClient,
    list_id: str,
    columns: list[str],
    phone_columns: list[tuple[str, str]],
    progress: Progress,
    cancelled: CancelCheck,
    *,
    email_columns: list[tuple[str, str]] | None = None,
) -> ListRow:
    """Add columns with a versioned update (the client refetches and retries on a conflict)."""
    progress(0, 1, "adding columns")
    client.contact_lists.add_columns(
        list_id,
        columns,
        phone_columns=[PhoneColumn(name, kind or "cell") for name, kind in phone_columns],
        email_columns=[EmailColumn(name, kind or "work") for name, kind in email_columns or ()],
    )
    row = fetch_details(client, list_id)
    progress(1, 1, "done")
    return row


def clear_list(
    client: GenesysClient,
    list_id: str,
    progress: Progress,
    cancelled: CancelCheck,
    *,
    ledger_path: Path | None = None,
    timeout_s: float = 300.0,
) -> ListRow:
    """Empty the list, wait until its size reads 0, and forget it in the ledger at
    *ledger_path* (``outbound-desk lists clear`` runs the same code)."""
    lists.clear_contacts(
        client,
        list_id,
        progress,
        cancelled,
        ledger_path=ledger_path,
        timeout_s=timeout_s,
        sleep=lambda s: client.sleep(min(s, POLL_S)),
    )
    return fetch_details(client, list_id)


def delete_list(client: GenesysClient, list_id: str, *, ledger_path: Path | None = None) -> str:
    """Delete the list and forget it in the ledger (``outbound-desk lists delete``)."""
    return lists.delete_list(client, list_id, ledger_path=ledger_path)


#: The same function as ``outbound-desk lists export``.
export_list = lists.export_list
