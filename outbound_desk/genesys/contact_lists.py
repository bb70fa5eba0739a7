"""``/api/v2/outbound/contactlists``: list, page, find, create, update, delete, wait until ready."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from outbound_desk.genesys._poll import CancelCheck, Progress, poll_until
from outbound_desk.genesys.errors import (
    BadRequest,
    Conflict,
    NetworkError,
    NotFound,
    ServerError,
    VersionConflict,
)
from outbound_desk.genesys.models import (
    ContactList,
    ContactListSpec,
    EmailColumn,
    Page,
    PhoneColumn,
)

if TYPE_CHECKING:
    from outbound_desk.genesys._client import GenesysClient

__all__ = ["ContactLists"]

log = logging.getLogger(__name__)
BASE = "/api/v2/outbound/contactlists"


class ContactLists:
    """The org's contact lists (``client.contact_lists``)."""

    def __init__(self, client: GenesysClient) -> None:
        self._client = client

    def list(
        self,
        *,
        page_size: int = 100,
        page_number: int = 1,
        name: str | None = None,
        filter_type: str = "Prefix",
        include_size: bool = False,
        include_import_status: bool = False,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> Page[ContactList]:
        """One page of lists (``pageSize`` at most 100)."""
        if not 1 <= page_size <= 100:
            raise ValueError("page_size must be between 1 and 100")
        params: dict[str, Any] = {
            "pageSize": page_size,
            "pageNumber": page_number,
            "includeSize": include_size,
            "includeImportStatus": include_import_status,
            "sortBy": sort_by,
            "sortOrder": sort_order,
        }
        if name is not None:
            params["name"] = name
            params["filterType"] = filter_type
            # Nothing matching is an empty page, not an error (Terraform always asks so).
            params["allowEmptyResult"] = True
        body = self._client.request_json("GET", BASE, params=params, expect=dict)
        return Page(
            entities=[ContactList.from_api(e) for e in body.get("entities") or ()],
            page_number=int(body.get("pageNumber") or page_number),
            page_size=int(body.get("pageSize") or page_size),
            total=body.get("total"),
            page_count=body.get("pageCount"),
            next_uri=body.get("nextUri"),
        )

    def iter(
        self,
        *,
        page_size: int = 100,
        name: str | None = None,
        filter_type: str = "Prefix",
        include_size: bool = False,
        include_import_status: bool = False,
    ) -> Iterator[ContactList]:
        """Every list, page after page."""
        page_number = 1
        while True:
            page = self.list(
                page_size=page_size,
                page_number=page_number,
                name=name,
                filter_type=filter_type,
                include_size=include_size,
                include_import_status=include_import_status,
            )
            yield from page.entities
            if not page.entities or not page.has_next:
                return
            page_number += 1

    def get(
        self, list_id: str, *, include_size: bool = False, include_import_status: bool = False
    ) -> ContactList:
        body = self._client.request_json(
            "GET",
            f"{BASE}/{list_id}",
            params={"includeSize": include_size, "includeImportStatus": include_import_status},
            expect=dict,
        )
        return ContactList.from_api(body)

    def find_by_name(self, name: str, *, include_size: bool = False) -> ContactList | None:
        """The list called exactly *name* (names are unique in an org), or None."""
        for candidate in self.iter(name=name, include_size=include_size):
            if candidate.name == name:
                return candidate
        return None

    def create(self, spec: ContactListSpec, *, attempts: int | None = None) -> ContactList:
        """Create a list.

        A create is not repeated blindly: when the answer is lost (dropped connection, 5xx) the
        list may exist already, so look it up by its (unique) name before sending it again; a
        refusal because the name is taken after such a loss also means it is ours. It is sent
        at most *attempts* times, by default as often as the client tries any request (its
        ``max_retries`` + 1): a create should not give up on a bad network sooner than a read.
        """
        if attempts is None:
            attempts = self._client.max_retries + 1
        lost_answer = False
        for attempt in range(1, attempts + 1):
            try:
                body = self._client.request_json(
                    "POST", BASE, json=spec.to_api(), idempotent=False, expect=dict
                )
                return ContactList.from_api(body)
            except (NetworkError, ServerError) as exc:
                if attempt == attempts:
                    raise
                lost_answer = True
                log.warning("create list %r: %s; looking it up before retrying", spec.name, exc)
            except (BadRequest, Conflict):
                if not lost_answer:
                    raise
                # Our earlier create went through but its answer was lost; the name is taken
                # by our own list, which may still be invisible to reads for a moment.
                found = poll_until(
                    lambda: self.find_by_name(spec.name),
                    what=f"list {spec.name!r}",
                    timeout_s=30,
                    sleep=self._client.sleep,
                )
                return self._ours(found, spec)
            self._client.sleep(self._client.backoff(attempt))
            existing = self.find_by_name(spec.name)
            if existing is not None:
                return self._ours(existing, spec)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _ours(found: ContactList, spec: ContactListSpec) -> ContactList:
        """*found* has our name; it is the list our lost create made only if the columns agree."""
        if not found.has_columns(spec.column_names):
            raise Conflict(
                f"a contact list named {spec.name!r} already exists with other columns "
                f"({', '.join(found.column_names)})",
                status=409,
            )
        return found

    def update(
        self,
        contact_list: ContactList,
        *,
        change: Callable[[ContactList], ContactList] | None = None,
        name: str | None = None,
        column_names: Sequence[str] | None = None,
        phone_columns: Sequence[PhoneColumn] | None = None,
        attempts: int = 5,
        email_columns: Sequence[EmailColumn] | None = None,
    ) -> ContactList:
        """Apply a change with ``PUT`` and the list's version.

        On a version conflict (409, or 400 saying the version does not match) the list is read
        again, the change re-applied to the fresh copy and sent again.
        """

        def apply(current: ContactList) -> ContactList:
            updated = change(current) if change is not None else current
            fields: dict[str, Any] = {}
            if name is not None:
                fields["name"] = name
            if column_names is not None:
                fields["column_names"] = tuple(column_names)
            if phone_columns is not None:
                fields["phone_columns"] = tuple(phone_columns)
            if email_columns is not None:
                fields["email_columns"] = tuple(email_columns)
            return replace(updated, **fields)

        current = contact_list
        for attempt in range(1, attempts + 1):
            try:
                body = self._client.request_json(
                    "PUT",
                    f"{BASE}/{current.id}",
                    json=apply(current).to_api(),
                    version_checked=True,
                    expect=dict,
                )
                return ContactList.from_api(body)
            except VersionConflict:
                if attempt == attempts:
                    raise
                log.info("list %s changed meanwhile; reloading and retrying", current.id)
                current = self.get(current.id)
        raise AssertionError("unreachable")  # pragma: no cover

    def add_columns(
        self,
        list_id: str,
        columns: Sequence[str],
        *,
        phone_columns: Sequence[PhoneColumn] = (),
        email_columns: Sequence[EmailColumn] = (),
    ) -> ContactList:
        """Add the *columns* the list lacks (and *phone_columns*, *email_columns*), keeping
        everything else. A phone or email column that is not among *columns* is added too.

        The change is applied to the list as it is when the ``PUT`` goes out, so on a version
        conflict the columns someone else added meanwhile are kept.
        """
        wanted = [*columns]
        role_columns = [p.column_name for p in phone_columns]
        role_columns += [e.column_name for e in email_columns]
        for name in role_columns:
            if name.casefold() not in {c.casefold() for c in wanted}:
                wanted.append(name)

        def change(current: ContactList) -> ContactList:
            have = {c.casefold() for c in current.column_names}
            new = [c for c in wanted if c.casefold() not in have]
            phones = {p.column_name.casefold() for p in current.phone_columns}
            added = [p for p in phone_columns if p.column_name.casefold() not in phones]
            emails = {e.column_name.casefold() for e in current.email_columns}
            mailed = [e for e in email_columns if e.column_name.casefold() not in emails]
            return replace(
                current,
                column_names=current.column_names + tuple(new),
                phone_columns=current.phone_columns + tuple(added),
                email_columns=current.email_columns + tuple(mailed),
            )

        return self.update(self.get(list_id), change=change)

    def delete(self, list_id: str) -> None:
        self._client.request("DELETE", f"{BASE}/{list_id}")

    def delete_many(self, list_ids: Sequence[str]) -> None:
        """Delete several lists in one call (``DELETE ?id=a,b``)."""
        if list_ids:
            self._client.request("DELETE", BASE, params={"id": list(list_ids)})

    def wait_until_ready(
        self,
        list_id: str,
        *,
        expected_columns: Sequence[str] | None = None,
        timeout_s: float = 60.0,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> ContactList:
        """Poll a new list until it reads back (with *expected_columns*, ignoring case/order).

        Right after creation the platform may answer 404 or 409 for a while: those are expected
        here and only mean "not yet".
        """
        polls = 0

        def check() -> ContactList | None:
            nonlocal polls
            polls += 1
            if progress is not None:
                progress(0, 1, "waiting for the list")
            try:
                found = self.get(list_id)
            except (NotFound, Conflict) as exc:
                log.debug("list %s not readable yet (%s)", list_id, exc.status)
                return None
            if expected_columns is not None and not found.has_columns(expected_columns):
                return None
            return found

        result = poll_until(
            check,
            what=f"contact list {list_id}",
            timeout_s=timeout_s,
            sleep=self._client.sleep,
            cancelled=cancelled,
        )
        if progress is not None:
            progress(1, 1, "waiting for the list")
        return result
