"""Typed models of the Outbound API's JSON (camelCase on the wire, snake_case here).

Each model keeps the fields it does not know in ``extra`` and writes them back in
``to_api()``, so a read-modify-write never drops what a newer platform added.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = [
    "BulkJob",
    "Contact",
    "ContactList",
    "ContactListSpec",
    "EmailColumn",
    "ErrorInfo",
    "ExportInfo",
    "ExportRow",
    "ExportTable",
    "ImportStatus",
    "Page",
    "PhoneColumn",
    "PresignedUpload",
]

T = TypeVar("T")
Json = dict[str, Any]


def _rest(body: Mapping[str, Any], known: set[str]) -> Json:
    return {k: v for k, v in body.items() if k not in known}


def _opt_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _opt_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


_PHONE_KNOWN = {"columnName", "type", "callableTimeColumn", "callableTimeColumnName"}
_EMAIL_KNOWN = {"columnName", "type", "contactableTimeColumn", "contactableTimeColumnName"}


@dataclass(frozen=True)
class PhoneColumn:
    """A list column dialled as a phone number; ``type`` is free text (cell, home, work...).

    ``callable_time_column`` names the column of callable times; ``callable_time_column_name``
    is the SDK's other field for it (both exist in SDK 269). ``extra`` keeps any field of the
    column object the client does not know, so a read-modify-write sends it back unchanged.
    """

    column_name: str
    type: str = "cell"
    callable_time_column: str | None = None
    callable_time_column_name: str | None = None
    extra: Json = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> PhoneColumn:
        return cls(
            column_name=str(body.get("columnName", "")),
            type=str(body.get("type") or ""),
            callable_time_column=_opt_str(body.get("callableTimeColumn")),
            callable_time_column_name=_opt_str(body.get("callableTimeColumnName")),
            extra=_rest(body, _PHONE_KNOWN),
        )

    def to_api(self) -> Json:
        out: Json = dict(self.extra)
        out.update({"columnName": self.column_name, "type": self.type})
        if self.callable_time_column:
            out["callableTimeColumn"] = self.callable_time_column
        if self.callable_time_column_name:
            out["callableTimeColumnName"] = self.callable_time_column_name
        return out


@dataclass(frozen=True)
class EmailColumn:
    """A list column holding an email address (``extra``: fields the client does not know)."""

    column_name: str
    type: str = "work"
    contactable_time_column: str | None = None
    contactable_time_column_name: str | None = None
    extra: Json = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> EmailColumn:
        return cls(
            column_name=str(body.get("columnName", "")),
            type=str(body.get("type") or ""),
            contactable_time_column=_opt_str(body.get("contactableTimeColumn")),
            contactable_time_column_name=_opt_str(body.get("contactableTimeColumnName")),
            extra=_rest(body, _EMAIL_KNOWN),
        )

    def to_api(self) -> Json:
        out: Json = dict(self.extra)
        out.update({"columnName": self.column_name, "type": self.type})
        if self.contactable_time_column:
            out["contactableTimeColumn"] = self.contactable_time_column
        if self.contactable_time_column_name:
            out["contactableTimeColumnName"] = self.contactable_time_column_name
        return out


@dataclass(frozen=True)
class ContactListSpec:
    """What is needed to create a contact list (``extra`` carries any other API field)."""

    name: str
    column_names: Sequence[str]
    phone_columns: Sequence[PhoneColumn] = ()
    email_columns: Sequence[EmailColumn] = ()
    division_id: str | None = None
    extra: Json = field(default_factory=dict)

    def to_api(self) -> Json:
        out: Json = dict(self.extra)
        out["name"] = self.name
        out["columnNames"] = list(self.column_names)
        out["phoneColumns"] = [p.to_api() for p in self.phone_columns]
        if self.email_columns:
            out["emailColumns"] = [e.to_api() for e in self.email_columns]
        if self.division_id:
            out["division"] = {"id": self.division_id}
        return out


_LIST_KNOWN = {
    "id",
    "name",
    "version",
    "columnNames",
    "phoneColumns",
    "emailColumns",
    "size",
    "importStatus",
    "dateCreated",
    "dateModified",
    "division",
    "selfUri",
}


@dataclass(frozen=True)
class ImportStatus:
    """A list's import progress. ``state`` is ``IN_PROGRESS``, ``FAILED`` or None (idle/done)."""

    state: str | None = None
    total_records: int | None = None
    completed_records: int | None = None
    percent_complete: float | None = None
    failure_reason: str | None = None
    extra: Json = field(default_factory=dict)

    @property
    def in_progress(self) -> bool:
        return (self.state or "").upper() == "IN_PROGRESS"

    @property
    def failed(self) -> bool:
        return (self.state or "").upper() == "FAILED"

    @classmethod
    def from_api(cls, body: Mapping[str, Any] | None) -> ImportStatus:
        body = body or {}
        known = {"state", "totalRecords", "completedRecords", "percentComplete", "failureReason"}
        return cls(
            state=_opt_str(body.get("state")) or None,
            total_records=_opt_int(body.get("totalRecords")),
            completed_records=_opt_int(body.get("completedRecords")),
            percent_complete=_opt_float(body.get("percentComplete")),
            failure_reason=_opt_str(body.get("failureReason")),
            extra=_rest(body, known),
        )

    def to_api(self) -> Json:
        out: Json = dict(self.extra)
        pairs = {
            "state": self.state,
            "totalRecords": self.total_records,
            "completedRecords": self.completed_records,
            "percentComplete": self.percent_complete,
            "failureReason": self.failure_reason,
        }
        out.update({k: v for k, v in pairs.items() if v is not None})
        return out


@dataclass(frozen=True)
class ContactList:
    """A contact list as the platform has it (``size``/``import_status`` only when asked for)."""

    id: str
    name: str
    version: int | None
    column_names: tuple[str, ...]
    phone_columns: tuple[PhoneColumn, ...] = ()
    email_columns: tuple[EmailColumn, ...] = ()
    size: int | None = None
    import_status: ImportStatus | None = None
    date_created: str | None = None
    date_modified: str | None = None
    division_id: str | None = None
    extra: Json = field(default_factory=dict)
    #: The division's display name (read-only: a ``PUT`` sends the division by id).
    division_name: str | None = None

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> ContactList:
        division = body.get("division")
        status = body.get("importStatus")
        return cls(
            id=str(body.get("id", "")),
            name=str(body.get("name", "")),
            version=_opt_int(body.get("version")),
            column_names=tuple(str(c) for c in body.get("columnNames") or ()),
            phone_columns=tuple(PhoneColumn.from_api(p) for p in body.get("phoneColumns") or ()),
            email_columns=tuple(EmailColumn.from_api(e) for e in body.get("emailColumns") or ()),
            size=_opt_int(body.get("size")),
            import_status=ImportStatus.from_api(status) if isinstance(status, dict) else None,
            date_created=_opt_str(body.get("dateCreated")),
            date_modified=_opt_str(body.get("dateModified")),
            division_id=_opt_str(division.get("id")) if isinstance(division, dict) else None,
            extra=_rest(body, _LIST_KNOWN),
            division_name=_opt_str(division.get("name")) if isinstance(division, dict) else None,
        )

    def to_api(self) -> Json:
        """The body of a ``PUT``: every writable field, the version and what we did not know."""
        out: Json = dict(self.extra)
        out.update(
            {
                "id": self.id,
                "name": self.name,
                "columnNames": list(self.column_names),
                "phoneColumns": [p.to_api() for p in self.phone_columns],
            }
        )
        if self.email_columns:
            out["emailColumns"] = [e.to_api() for e in self.email_columns]
        if self.version is not None:
            out["version"] = self.version
        if self.division_id:
            out["division"] = {"id": self.division_id}
        return out

    def has_columns(self, expected: Sequence[str]) -> bool:
        """True when the list's columns are *expected*, ignoring case and order."""
        return {c.casefold() for c in self.column_names} == {c.casefold() for c in expected}


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a paged listing."""

    entities: list[T]
    page_number: int
    page_size: int
    total: int | None
    page_count: int | None
    next_uri: str | None = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.entities)

    def __len__(self) -> int:
        return len(self.entities)

    @property
    def has_next(self) -> bool:
        if self.page_count is not None:
            return self.page_number < self.page_count
        return bool(self.next_uri)


_CONTACT_KNOWN = {"id", "contactListId", "data", "callable", "phoneNumberStatus"}


@dataclass(frozen=True)
class Contact:
    """One contact of a list; ``data`` maps list columns to text values."""

    data: Mapping[str, str]
    id: str | None = None
    contact_list_id: str | None = None
    callable: bool | None = None
    phone_number_status: Json | None = None
    extra: Json = field(default_factory=dict)

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> Contact:
        data = body.get("data") or {}
        status = body.get("phoneNumberStatus")
        callable_value = body.get("callable")
        return cls(
            id=_opt_str(body.get("id")),
            contact_list_id=_opt_str(body.get("contactListId")),
            data={str(k): "" if v is None else str(v) for k, v in data.items()},
            callable=callable_value if isinstance(callable_value, bool) else None,
            phone_number_status=status if isinstance(status, dict) else None,
            extra=_rest(body, _CONTACT_KNOWN),
        )

    def to_api(self, contact_list_id: str | None = None) -> Json:
        out: Json = dict(self.extra)
        if self.id is not None:
            out["id"] = self.id
        out["contactListId"] = contact_list_id or self.contact_list_id
        out["data"] = dict(self.data)
        if self.callable is not None:
            out["callable"] = self.callable
        if self.phone_number_status is not None:
            out["phoneNumberStatus"] = self.phone_number_status
        return out


@dataclass(frozen=True)
class PresignedUpload:
    """Where to ``PUT`` a CSV for import: exactly these headers, and no bearer token."""

    url: str
    upload_key: str | None
    headers: Mapping[str, str]

    def __repr__(self) -> str:
        # The URL's query is a signature: a credential in its own right.
        bare = self.url.split("?", 1)[0]
        return f"PresignedUpload(url='{bare}?...', upload_key={self.upload_key!r})"

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> PresignedUpload:
        headers = body.get("headers") or {}
        return cls(
            url=str(body.get("url", "")),
            upload_key=_opt_str(body.get("uploadKey")),
            headers={str(k): str(v) for k, v in headers.items()}
            if isinstance(headers, dict)
            else {},
        )


@dataclass(frozen=True)
class ExportInfo:
    """A finished export: where to download it."""

    uri: str
    export_timestamp: str | None = None
    extra: Json = field(default_factory=dict)

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> ExportInfo:
        return cls(
            uri=str(body.get("uri", "")),
            export_timestamp=_opt_str(body.get("exportTimestamp")),
            extra=_rest(body, {"uri", "exportTimestamp"}),
        )


@dataclass(frozen=True)
class ExportRow:
    """One exported contact: its id (``inin-outbound-id``) and every other column's value."""

    contact_id: str
    values: Mapping[str, str]


@dataclass(frozen=True)
class ExportTable:
    """A parsed export: the header (without ``inin-outbound-id``) and the rows."""

    columns: tuple[str, ...]
    rows: list[ExportRow]

    def by_id(self) -> dict[str, Mapping[str, str]]:
        return {row.contact_id: row.values for row in self.rows}


def _error_info(value: Any) -> ErrorInfo | None:
    """``failureReason`` as the SDK has it (an ``ErrorInfo`` object); a bare string is
    tolerated (older sandbox state) and becomes the message."""
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, Mapping):
        return ErrorInfo(
            message=_opt_str(value.get("message")),
            code=_opt_str(value.get("code")),
            extra=_rest(value, {"message", "code"}),
        )
    return ErrorInfo(message=str(value))


@dataclass(frozen=True)
class ErrorInfo:
    """Why a bulk job failed: ``{message, code}`` (SDK ``ErrorInfo``)."""

    message: str | None = None
    code: str | None = None
    extra: Json = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        text = self.message or "no reason given"
        return f"{text} (code {self.code})" if self.code else text


@dataclass(frozen=True)
class BulkJob:
    """An asynchronous bulk contact job (remove or update), SDK ``ContactsBulkOperationJob``.

    ``type`` is ``BulkDelete`` or ``BulkEdit``; ``download_uri`` is the backup of the changed
    contacts the platform makes (when ``generateDownloadURI`` was not false).
    """

    id: str
    state: str | None
    total_records: int | None = None
    completed_records: int | None = None
    percent_complete: float | None = None
    failure_reason: ErrorInfo | None = None
    extra: Json = field(default_factory=dict)
    type: str | None = None
    download_uri: str | None = None

    @property
    def done(self) -> bool:
        return (self.state or "").lower() in ("complete", "failed")

    @property
    def failed(self) -> bool:
        return (self.state or "").lower() == "failed"

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> BulkJob:
        known = {
            "id",
            "state",
            "type",
            "totalRecords",
            "completedRecords",
            "percentComplete",
            "failureReason",
            "downloadURI",
        }
        return cls(
            id=str(body.get("id", "")),
            state=_opt_str(body.get("state")),
            total_records=_opt_int(body.get("totalRecords")),
            completed_records=_opt_int(body.get("completedRecords")),
            percent_complete=_opt_float(body.get("percentComplete")),
            failure_reason=_error_info(body.get("failureReason")),
            extra=_rest(body, known),
            type=_opt_str(body.get("type")),
            download_uri=_opt_str(body.get("downloadURI")) or None,
        )
