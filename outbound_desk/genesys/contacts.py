"""``/contactlists/{id}/contacts``: add (upsert by id), read, search, delete, clear."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from outbound_desk.base.limits import MAX_BATCH_SIZE
from outbound_desk.genesys.errors import UnexpectedAnswer
from outbound_desk.genesys.models import Contact, Page

if TYPE_CHECKING:
    from outbound_desk.genesys._client import GenesysClient

__all__ = ["MAX_CONTACTS_PER_CALL", "Contacts"]

#: The platform's cap on contacts per add request (base.limits).
MAX_CONTACTS_PER_CALL = MAX_BATCH_SIZE
#: Ids per ``DELETE ?contactIds=`` call, keeping the URL short.
_DELETE_CHUNK = 100

ContactInput = Contact | Mapping[str, Any]


def _check_confirmed(list_id: str, sent: int, unconfirmed: int) -> None:
    """Refuse an add whose answer does not confirm every contact sent (*unconfirmed* of
    *sent*): none of the batch is then taken as stored."""
    if unconfirmed:
        raise UnexpectedAnswer(
            f"the platform's answer confirms {sent - unconfirmed} of the {sent} "
            "contacts sent; none is taken as stored",
            status=200,
            method="POST",
            path=_path(list_id),
        )


def _path(list_id: str, tail: str = "") -> str:
    return f"/api/v2/outbound/contactlists/{list_id}/contacts{tail}"


def _id_of(pairs: list[tuple[str, Any]]) -> tuple[str]:
    """An object of an answer as a 1-tuple of its id ("" when it has none): a tuple of a str,
    which the collector stops tracking, and no JSON value is ever a tuple."""
    for key, value in pairs:
        if key == "id" and isinstance(value, str):
            return (value,)
    return ("",)


def _stored_ids(body: bytes) -> Any:
    """An add answer with each object read as :func:`_id_of` does: the stored contacts'
    ids, without a dict per contact. Raises ``ValueError`` for what is not JSON."""
    return json.loads(body, object_pairs_hook=_id_of)


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Contacts:
    """The contacts of a list (``client.contacts``)."""

    def __init__(self, client: GenesysClient) -> None:
        self._client = client

    def add(
        self,
        list_id: str,
        contacts: Sequence[ContactInput],
        *,
        priority: bool = False,
        clear_system_data: bool = False,
        do_not_queue: bool = False,
    ) -> list[Contact]:
        """Add or update (by id) at most 1,000 contacts; returns what the platform stored.

        When every contact carries an ``id`` the call is an upsert and is retried after a lost
        answer; without ids a retry would duplicate contacts, so it is not.

        The answer is the confirmation, so it must be the stored contacts: an answer without
        them (a 204, a redirect, another shape) or one that leaves out some of the ids sent
        (or, without ids, holds fewer contacts than were sent) raises
        :class:`UnexpectedAnswer` and nothing counts as stored.
        """
        if len(contacts) > MAX_CONTACTS_PER_CALL:
            raise ValueError(
                f"{len(contacts)} contacts in one call; the platform takes at most "
                f"{MAX_CONTACTS_PER_CALL}: split them into batches"
            )
        if not contacts:
            return []
        body = [
            c.to_api(list_id) if isinstance(c, Contact) else {**c, "contactListId": list_id}
            for c in contacts
        ]
        with_ids = all(item.get("id") for item in body)
        answer = self._client.request_json(
            "POST",
            _path(list_id),
            params={
                "priority": priority,
                "clearSystemData": clear_system_data,
                "doNotQueue": do_not_queue,
            },
            json=body,
            idempotent=with_ids,
            # The stored contacts are the confirmation: no body (a 204), a redirect or another
            # shape confirms nothing and raises.
            expect=list,
        )
        stored = [Contact.from_api(item) for item in answer if isinstance(item, dict)]
        sent_ids = {str(item["id"]) for item in body if item.get("id")}
        if with_ids:
            unconfirmed = len(sent_ids - {c.id for c in stored if c.id is not None})
        else:
            unconfirmed = max(0, len(body) - len(stored))
        _check_confirmed(list_id, len(body), unconfirmed)
        return stored

    def add_json(self, list_id: str, data: Sequence[str], ids: Sequence[str] | None) -> list[str]:
        """:meth:`add` for contacts whose ``data`` objects are JSON text already; returns the
        ids the platform says it stored.

        *data* holds one JSON object per contact and *ids* their ids (None: the platform makes
        them, and a lost answer is not retried). The body is written as text and the answer
        read for its contacts' ids only, so a batch makes no dict per contact either way (a
        worker's short-lived containers set off the cyclic collector, which stops every
        thread, the app's window included). The same checks as :meth:`add`: the answer must be
        the stored contacts, with every id sent.
        """
        if len(data) > MAX_CONTACTS_PER_CALL:
            raise ValueError(
                f"{len(data)} contacts in one call; the platform takes at most "
                f"{MAX_CONTACTS_PER_CALL}: split them into batches"
            )
        if not data:
            return []
        lid = json.dumps(list_id)
        if ids is None:
            items = [f'{{"contactListId":{lid},"data":{d}}}' for d in data]
        else:
            items = [
                f'{{"contactListId":{lid},"data":{d},"id":{json.dumps(cid)}}}'
                for d, cid in zip(data, ids, strict=True)
            ]
        answer = self._client.request_json(
            "POST",
            _path(list_id),
            params={"priority": False, "clearSystemData": False, "doNotQueue": False},
            json_text=("[" + ",".join(items) + "]").encode(),
            idempotent=ids is not None and all(ids),
            expect=list,
            decode=_stored_ids,
        )
        stored = [x[0] for x in answer if isinstance(x, tuple)]
        if ids is not None:
            unconfirmed = len(set(ids) - set(stored))
        else:
            unconfirmed = max(0, len(data) - len(stored))
        _check_confirmed(list_id, len(data), unconfirmed)
        return stored

    def get_many(self, list_id: str, ids: Sequence[str]) -> list[Contact]:
        """Read contacts by id through ``contacts/bulk`` (a read; ids not found are absent)."""
        found: list[Contact] = []
        for chunk in _chunks(list(ids), MAX_CONTACTS_PER_CALL):
            answer = self._client.request_json(
                "POST", _path(list_id, "/bulk"), json=list(chunk), idempotent=True, expect=list
            )
            found.extend(Contact.from_api(item) for item in answer if isinstance(item, dict))
        return found

    def get(self, list_id: str, contact_id: str) -> Contact:
        return Contact.from_api(
            self._client.request_json("GET", _path(list_id, f"/{contact_id}"), expect=dict)
        )

    def delete(self, list_id: str, ids: Sequence[str]) -> None:
        """Delete contacts by id (in calls of 100 ids)."""
        for chunk in _chunks(list(ids), _DELETE_CHUNK):
            self._client.request("DELETE", _path(list_id), params={"contactIds": list(chunk)})

    def clear(self, list_id: str) -> None:
        """Empty the list. The platform does it asynchronously: wait for ``size`` 0 after."""
        # Clearing twice leaves the same empty list, so a lost answer may be retried.
        self._client.request(
            "POST", f"/api/v2/outbound/contactlists/{list_id}/clear", idempotent=True
        )

    def search(
        self,
        list_id: str,
        *,
        page_number: int = 1,
        page_size: int = 100,
        criteria: Any = None,
        sorts: Sequence[Mapping[str, Any]] | None = None,
    ) -> Page[Contact]:
        """One page of a contact search (``pageSize`` at most 100)."""
        if not 1 <= page_size <= 100:
            raise ValueError("page_size must be between 1 and 100")
        body: dict[str, Any] = {"pageNumber": page_number, "pageSize": page_size}
        if criteria is not None:
            body["criteria"] = criteria
        if sorts is not None:
            body["contactSorts"] = list(sorts)
        answer = self._client.request_json(
            "POST", _path(list_id, "/search"), json=body, idempotent=True, expect=dict
        )
        return Page(
            entities=[Contact.from_api(e) for e in answer.get("entities") or ()],
            page_number=int(answer.get("pageNumber") or page_number),
            page_size=int(answer.get("pageSize") or page_size),
            total=answer.get("total"),
            page_count=answer.get("pageCount"),
            next_uri=answer.get("nextUri"),
        )
