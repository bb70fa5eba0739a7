"""What the runner asks of the platform: find or create the list, its columns, busy, clear.

Small functions over :class:`~outbound_desk.genesys.GenesysClient`, each saying in its errors
what happened and what the user can do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from outbound_desk.contacts import ListSchema
from outbound_desk.files import MAX_COLUMNS
from outbound_desk.genesys import (
    ContactList,
    ContactListSpec,
    EmailColumn,
    GenesysClient,
    NotFound,
    NotReady,
    PhoneColumn,
)
from outbound_desk.upload.ledger import Ledger
from outbound_desk.upload.model import Phase, UploadOptions, UploadPlatformError, UploadRejected
from outbound_desk.upload.progress import ProgressTracker

if TYPE_CHECKING:
    from outbound_desk.upload.plan import Plan

_LIST_ID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
#: How long a new list may stay unreadable (the platform's eventual consistency) before we say so.
LIST_READY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Target:
    """The contact list an upload writes to."""

    id: str
    name: str
    created: bool
    contact_list: ContactList
    schema: ListSchema
    #: Made by this very run (not a list an earlier, crashed run made): if the run fails
    #: before it sends anything, the runner deletes it again.
    made_now: bool = False


def schema_of(contact_list: ContactList) -> ListSchema:
    return ListSchema.from_genesys(contact_list.to_api())


def find_list(client: GenesysClient, name_or_id: str) -> ContactList | None:
    """The list with this id (when it looks like one) or else this exact name, with its size."""
    if _LIST_ID.match(name_or_id):
        try:
            return client.contact_lists.get(name_or_id, include_size=True)
        except NotFound:
            pass
    return client.contact_lists.find_by_name(name_or_id, include_size=True)


def _spec(name: str, schema: ListSchema) -> ContactListSpec:
    body = schema.to_genesys()
    return ContactListSpec(
        name=name,
        column_names=list(body["columnNames"]),
        phone_columns=[PhoneColumn.from_api(p) for p in body.get("phoneColumns") or ()],
        email_columns=[EmailColumn.from_api(e) for e in body.get("emailColumns") or ()],
    )


def _created_by_us(ledger: Ledger, list_id: str) -> bool:
    return any(rec.options.get("create") for rec in ledger.history(20, list_id=list_id))


def resolve_list(
    client: GenesysClient,
    opts: UploadOptions,
    plan: Plan,
    *,
    tracker: ProgressTracker,
    ledger: Ledger,
    cancelled: Callable[[], bool],
) -> Target:
    """Find the target list by id or name, or create it from the schema (``--create``)."""
    if opts.create:
        assert plan.create_schema is not None
        schema = plan.create_schema
        existing = client.contact_lists.find_by_name(opts.list, include_size=True)
        if existing is not None:
            # A rerun of an upload that created this list (or crashed right after creating it:
            # then the list is still empty and has exactly the schema's columns) goes on with it.
            empty_same = (existing.size or 0) == 0 and existing.has_columns(schema.columns)
            if empty_same or _created_by_us(ledger, existing.id):
                # The list as it is now (columns may have been added since), with the rules
                # (required, formats, id column) of the schema file.
                merged = _merge_schema(schema, schema_of(existing))
                return Target(existing.id, existing.name, empty_same, existing, merged)
            raise UploadRejected(
                f"a contact list named {opts.list!r} already exists (id {existing.id}, "
                f"{existing.size or 0} contacts) and this app did not create it; upload into it "
                "without --create, or choose another name"
            )
        # Everything that can be checked here is checked before the list exists: a refusal
        # after creating it would leave an empty list behind.
        preflight_create(opts, plan, schema)
        tracker.phase(Phase.CREATING_LIST, f"creating list {opts.list}")
        made = client.contact_lists.create(_spec(opts.list, schema))
        tracker.phase(Phase.WAITING_FOR_LIST, f"waiting until list {opts.list} is ready")
        try:
            ready = client.contact_lists.wait_until_ready(
                made.id,
                expected_columns=schema.columns,
                timeout_s=LIST_READY_TIMEOUT_S,
                cancelled=cancelled,
            )
        except NotReady:
            raise UploadPlatformError(
                f"list {opts.list} ({made.id}) was created but is still not readable after "
                f"{LIST_READY_TIMEOUT_S:.0f} s; rerun the upload later: it will reuse this list"
            ) from None
        return Target(ready.id, ready.name, True, ready, schema, made_now=True)

    found = find_list(client, opts.list)
    if found is None:
        raise UploadRejected(
            f"no contact list named (or with id) {opts.list!r} in this org; check the name, or "
            "create it with --create --schema SCHEMA.json"
        )
    return Target(found.id, found.name, False, found, schema_of(found))


def check_columns(
    client: GenesysClient,
    opts: UploadOptions,
    plan: Plan,
    target: Target,
    *,
    tracker: ProgressTracker,
    cancelled: Callable[[], bool],
) -> None:
    """Bind the plan to the list's columns; columns the list lacks stop the upload, or, with
    ``add_columns``, are added (a versioned update) and checked again. Nothing is dropped."""
    lacking = plan.bind(target.schema)
    if not lacking:
        return
    if not opts.add_columns:
        raise _lacking(target.name, lacking, plan)
    tracker.message(f"adding column(s) {', '.join(lacking)} to list {target.name}")
    phones = [PhoneColumn(column_name=c, type="cell") for c in lacking if plan.looks_like_phone(c)]
    client.contact_lists.add_columns(target.id, lacking, phone_columns=phones)
    expected = [*target.contact_list.column_names, *lacking]
    try:
        ready = client.contact_lists.wait_until_ready(
            target.id,
            expected_columns=expected,
            timeout_s=LIST_READY_TIMEOUT_S,
            cancelled=cancelled,
        )
    except NotReady:
        raise UploadPlatformError(
            f"column(s) {', '.join(lacking)} were added to list {target.name} but it does not show "
            "them yet; rerun the upload in a minute"
        ) from None
    still = plan.bind(_merge_schema(target.schema, schema_of(ready)))
    if still:
        raise UploadRejected(
            f"list {target.name} still lacks column(s) {', '.join(still)} after adding them; "
            "check the list in Genesys Cloud"
        )


def _lacking(list_name: str, lacking: Sequence[str], plan: Plan) -> UploadRejected:
    shown = ", ".join(lacking[:20]) + (
        f" and {len(lacking) - 20} more" if len(lacking) > 20 else ""
    )
    return UploadRejected(
        f"list {list_name} has no column for file column(s) {shown}; "
        "map them (--map FILE=LIST), exclude them, or add them to the list with "
        f"--add-columns. Schema diff: {plan.diff_text()}"
    )


def preflight_create(opts: UploadOptions, plan: Plan, schema: ListSchema) -> None:
    """Refuse, before the list is created, what would be refused right after creating it:
    the schema's platform limits, the file's columns against the schema (unknown, required,
    id column), and columns to add beyond the platform's limit."""
    problems = schema.limit_problems()
    if problems:
        raise UploadRejected(
            f"schema {opts.schema_path} breaks the platform's limits: {'; '.join(problems)}; "
            "nothing was created"
        )
    lacking = plan.bind(schema)
    if not lacking:
        return
    if not opts.add_columns:
        raise _lacking(opts.list, lacking, plan)
    total = len(schema.columns) + len(lacking)
    if total > MAX_COLUMNS:
        raise UploadRejected(
            f"adding the file's {len(lacking)} column(s) the schema lacks would give list "
            f"{opts.list} {total} columns; the platform allows {MAX_COLUMNS}. Map or exclude "
            "file columns (--map, --exclude); nothing was created"
        )


def _merge_schema(before: ListSchema, after: ListSchema) -> ListSchema:
    """The refreshed list's columns, keeping the rules (required, formats) we knew before."""
    known = {f.name.casefold(): f for f in before.fields}
    fields = tuple(known.get(f.name.casefold(), f) for f in after.fields)
    return ListSchema(name=after.name, fields=fields, id_column=before.id_column)


def wait_not_busy(
    client: GenesysClient,
    list_id: str,
    poll_s: float,
    tracker: ProgressTracker,
    sleep: Callable[[float], None],
    *,
    what: str = "",
) -> None:
    """While an import runs on the list, wait and look again every *poll_s*, and say so."""
    while True:
        status = client.imports.status(list_id)
        if not status.in_progress:
            return
        pct = (
            f" ({status.percent_complete:.0f}% done)" if status.percent_complete is not None else ""
        )
        tracker.phase(
            Phase.WAITING_BUSY,
            f"an import is running on this list{pct}; waiting for it to finish, next look in "
            f"{poll_s:g} s{what}",
        )
        sleep(poll_s)


def list_size(client: GenesysClient, list_id: str) -> int:
    return client.contact_lists.get(list_id, include_size=True).size or 0


def existing_ids(client: GenesysClient, list_id: str, ids: Sequence[str]) -> set[str]:
    """Which of *ids* the list holds now (``contacts/bulk`` reads, 1,000 ids per call)."""
    return {c.id for c in client.contacts.get_many(list_id, ids) if c.id}
