"""The list manager's long operations as plain functions (STYLE rule 2): no Qt, no threads.

Each takes the client and ``progress(done, total, phase)`` / ``cancelled()`` callables; the pane
runs them on a job thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

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
from outbound_desk.ui.lists.store import ListPage, ListRow, PageRequest, row_from_model
from outbound_desk.ui.tasks import Cancelled

Progress = Callable[[int, int, str], None]
CancelCheck = Callable[[], bool]

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
    progress: Progress,
    cancelled: CancelCheck,
    *,
    timeout_s: float = 60.0,
) -> ListRow:
    """Create the list and wait until the platform reads it back with its columns."""
    progress(0, 2, "creating the list")
    created: ContactList = client.contact_lists.create(spec_from_schema(schema))
    progress(1, 2, "waiting until the list is ready")
    client.contact_lists.wait_until_ready(
        created.id,
        expected_columns=schema.columns,
        timeout_s=timeout_s,
        cancelled=cancelled,
    )
    row = fetch_details(client, created.id)
    progress(2, 2, "ready")
    return row


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
    timeout_s: float = 300.0,
) -> ListRow:
    """Empty the list and wait until its size reads 0 (the platform clears asynchronously)."""
    start = fetch_details(client, list_id).size or 0
    progress(0, max(start, 1), "clearing")
    client.contacts.clear(list_id)
    deadline = time.monotonic() + timeout_s
    while True:
        row = fetch_details(client, list_id)
        size = row.size or 0
        progress(max(0, start - size), max(start, 1), "clearing")
        if size == 0:
            progress(max(start, 1), max(start, 1), "cleared")
            return row
        if cancelled():
            raise Cancelled
        if time.monotonic() > deadline:
            raise NotReady(f"the list still holds {size:,} contacts after {timeout_s:.0f} s")
        client.sleep(POLL_S)


def export_list(
    client: GenesysClient,
    list_id: str,
    target: Path,
    progress: Progress,
    cancelled: CancelCheck,
    *,
    timeout_s: float = 1800.0,
) -> ExportedFile:
    """Export the list and save the platform's CSV to *target* (checked, written whole to
    ``<target>.partial``, then renamed): the same code as ``outbound-desk export``."""
    return export_list_to_file(
        client, list_id, target, progress=progress, cancelled=cancelled, timeout_s=timeout_s
    )
