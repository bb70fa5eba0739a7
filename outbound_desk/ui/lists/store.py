"""The org's contact lists as fetched so far: a Qt-free store the list model adapts.

STYLE rule 3: the store knows nothing of Qt and the API never touches the model. The store is
used from the GUI thread only; the fetch itself (``fetch_page``) is a plain function that a
worker thread runs, and its answer comes back through :meth:`ListStore.finish_fetch`, which
drops answers to a filter the user has already replaced.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from outbound_desk.genesys import ContactList

PAGE_SIZE = 100  # the platform's maximum page size


@dataclass(frozen=True)
class ListRow:
    """One contact list as the table shows it, read from the API's camelCase dict."""

    id: str
    name: str
    size: int | None = None
    columns: tuple[str, ...] = ()
    phone_columns: tuple[tuple[str, str], ...] = ()  # (column, type)
    email_columns: tuple[tuple[str, str], ...] = ()
    import_state: str | None = None  # IN_PROGRESS, FAILED, or None when idle/done
    import_percent: int | None = None
    import_failure: str | None = None
    division: str | None = None
    date_modified: datetime | None = None
    version: int | None = None
    data_types: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> ListRow:
        """A row from the API's camelCase dict, read by the one contact list model
        (``genesys.ContactList``) like every other list the app gets."""
        return row_from_model(ContactList.from_api(d))

    @property
    def import_text(self) -> str:
        """What the import column says: idle, importing 40 %, failed."""
        if self.import_state == "IN_PROGRESS":
            pct = f" {self.import_percent} %" if self.import_percent is not None else ""
            return f"Importing{pct}"
        if self.import_state == "FAILED":
            return "Import failed"
        if self.import_state:
            return self.import_state.replace("_", " ").capitalize()
        return "Ready"

    def column_role(self, column: str) -> str:
        """``phone (cell)``, ``email (work)`` or ``data`` for one of the list's columns."""
        for name, kind in self.phone_columns:
            if name == column:
                return f"phone ({kind})" if kind else "phone"
        for name, kind in self.email_columns:
            if name == column:
                return f"email ({kind})" if kind else "email"
        return "data"


def row_from_model(model: ContactList) -> ListRow:
    """A :class:`ListRow` from the client's ``ContactList``."""
    status = model.import_status
    types = {
        str(spec.get("columnName")): str(spec.get("columnDataType"))
        for spec in model.extra.get("columnDataTypeSpecifications") or ()
        if isinstance(spec, dict) and spec.get("columnName") and spec.get("columnDataType")
    }
    percent = status.percent_complete if status is not None else None
    return ListRow(
        id=model.id,
        name=model.name,
        size=model.size,
        columns=tuple(model.column_names),
        phone_columns=tuple((p.column_name, p.type or "") for p in model.phone_columns),
        email_columns=tuple((e.column_name, e.type or "") for e in model.email_columns),
        import_state=(status.state or None) if status is not None else None,
        import_percent=None if percent is None else int(percent),
        import_failure=(status.failure_reason or None) if status is not None else None,
        division=model.division_name or model.division_id,
        date_modified=_parse_time(model.date_modified or model.date_created),
        version=model.version,
        data_types=types,
    )


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class ListPage:
    """One page of the server's answer."""

    rows: Sequence[ListRow]
    page_number: int
    total: int | None
    page_count: int | None


@dataclass(frozen=True)
class PageRequest:
    """What a worker should fetch; ``generation`` ties the answer to the filter it was for."""

    generation: int
    page_number: int
    name_filter: str


class StoreEvent(enum.Enum):
    RESET = "reset"  # everything changed (new filter, refresh)
    APPENDED = "appended"  # rows [first, last] added at the end
    CHANGED = "changed"  # row [first] replaced
    REMOVED = "removed"  # row [first] removed
    STATE = "state"  # loading/error/total changed; no rows moved


Listener = Callable[[StoreEvent, int, int], None]
FetchPage = Callable[[PageRequest], ListPage]


class ListStore:
    """The lists fetched so far for the current name filter, page by page.

    Observers: ``about_to(event, first, last)`` runs just before a structural change (RESET,
    APPENDED, REMOVED) so a Qt model can bracket it; ``listener(event, first, last)`` runs after
    every change. ``first``/``last`` are row indexes, -1 when they do not apply.
    """

    def __init__(self, fetch_page: FetchPage, *, page_size: int = PAGE_SIZE) -> None:
        self._fetch_page = fetch_page
        self.page_size = page_size
        self.rows: list[ListRow] = []
        self.total: int | None = None
        self.name_filter = ""
        self.loading = False
        self.error: str | None = None
        self._pages_loaded = 0
        self._page_count: int | None = None
        self._generation = 0
        self._listeners: list[Listener] = []
        self._about_to: list[Listener] = []

    # ------------------------------------------------------------------ observers
    def subscribe(self, listener: Listener, about_to: Listener | None = None) -> None:
        self._listeners.append(listener)
        if about_to is not None:
            self._about_to.append(about_to)

    def _before(self, event: StoreEvent, first: int, last: int) -> None:
        for listener in self._about_to:
            listener(event, first, last)

    def _after(self, event: StoreEvent, first: int = -1, last: int = -1) -> None:
        for listener in self._listeners:
            listener(event, first, last)

    # ------------------------------------------------------------------ queries
    @property
    def has_more(self) -> bool:
        """True when the server has pages not fetched yet for this filter."""
        if self.error is not None:
            return False
        if self._pages_loaded == 0:
            return True
        if self._page_count is not None:
            return self._pages_loaded < self._page_count
        return self.total is not None and len(self.rows) < self.total

    def index_of(self, list_id: str) -> int | None:
        for i, row in enumerate(self.rows):
            if row.id == list_id:
                return i
        return None

    # ------------------------------------------------------------------ fetching
    def reset(self, name_filter: str | None = None) -> None:
        """Forget every row (a refresh or a new filter); the next fetch starts at page 1."""
        self._before(StoreEvent.RESET, -1, -1)
        if name_filter is not None:
            self.name_filter = name_filter.strip()
        self._generation += 1
        self.rows = []
        self.total = None
        self._pages_loaded = 0
        self._page_count = None
        self.loading = False
        self.error = None
        self._after(StoreEvent.RESET)

    def start_fetch(self) -> PageRequest | None:
        """Mark the next page as loading and say what to fetch; None if nothing to do."""
        if self.loading or not self.has_more:
            return None
        self.loading = True
        self._after(StoreEvent.STATE)
        return PageRequest(self._generation, self._pages_loaded + 1, self.name_filter)

    def fetch(self, request: PageRequest) -> ListPage:
        """Run the fetch (on a worker thread); touches no state."""
        return self._fetch_page(request)

    def is_current(self, request: PageRequest) -> bool:
        return request.generation == self._generation

    def finish_fetch(self, request: PageRequest, page: ListPage) -> None:
        if not self.is_current(request):
            return
        self.loading = False
        self._pages_loaded = request.page_number
        self.total = page.total
        self._page_count = page.page_count
        known = {row.id for row in self.rows}
        # Lists created or deleted between two page reads shift the pages; never show one twice.
        new = [row for row in page.rows if row.id not in known]
        if not page.rows:
            self._page_count = self._pages_loaded
        if new:
            first = len(self.rows)
            last = first + len(new) - 1  # the last inserted row is first + n - 1
            self._before(StoreEvent.APPENDED, first, last)
            self.rows.extend(new)
            self._after(StoreEvent.APPENDED, first, last)
        self._after(StoreEvent.STATE)

    def fail_fetch(self, request: PageRequest, message: str) -> None:
        if not self.is_current(request):
            return
        self.loading = False
        self.error = message
        self._after(StoreEvent.STATE)

    # ------------------------------------------------------------------ local edits
    def replace(self, row: ListRow) -> None:
        """A list changed (details refetched, columns added): update it in place."""
        index = self.index_of(row.id)
        if index is None:
            return
        self.rows[index] = row
        self._after(StoreEvent.CHANGED, index, index)

    def remove(self, list_id: str) -> None:
        index = self.index_of(list_id)
        if index is None:
            return
        self._before(StoreEvent.REMOVED, index, index)
        del self.rows[index]
        if self.total is not None:
            self.total -= 1
        self._after(StoreEvent.REMOVED, index, index)
        self._after(StoreEvent.STATE)
