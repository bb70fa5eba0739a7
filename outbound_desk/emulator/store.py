"""The sandbox org's state: contact lists and their contacts, in memory, optionally in SQLite.

Memory is the truth while the sandbox runs; with a state file every change is written through
to SQLite, and a new sandbox on the same file starts where the last one stopped. Every method
takes the store's lock, so tests may read the store from their own thread while the server
thread writes to it.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import datetime as dt
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from outbound_desk.emulator.behaviour import Behaviour
from outbound_desk.emulator.errors import ApiError, bad_request, invalid_value, not_found

JSON = dict[str, Any]

HOME_DIVISION = {
    "id": "8f1b7c2e-0d2c-4a4e-9c55-6e6f6d650001",
    "name": "Home",
    "selfUri": "/api/v2/authorization/divisions/8f1b7c2e-0d2c-4a4e-9c55-6e6f6d650001",
}
READ_ONLY_LIST_FIELDS = ("id", "dateCreated", "dateModified", "size", "importStatus", "selfUri")
COLUMN_DATA_TYPES = (
    "TEXT",
    "NUMERIC",
    "TIMESTAMP",
    "DATETIME",
)  # SDK 269 ColumnDataTypeSpecification


@dataclasses.dataclass(frozen=True)
class Limits:
    """The platform's limits; tests lower the big ones to reach them cheaply.

    Documented [C help pages]: 50 columns, 128-character column names, 512-character values,
    1,000,000 contacts per list, 1,000 lists per org. Chosen because the real figure is not
    documented [U] (see README.md): 1,000 contacts per request, 256-character list names,
    512-character ids (a contact id comes from a column value, which may be 512 long), 10 MiB
    JSON bodies, JSON nested at most 64 deep, 1 GiB per uploaded file.
    """

    max_columns: int = 50
    max_name_chars: int = 128
    max_value_chars: int = 512
    max_contacts_per_list: int = 1_000_000
    max_lists: int = 1_000
    max_contacts_per_request: int = 1_000
    max_list_name_chars: int = 256
    max_id_chars: int = 512
    max_json_bytes: int = 10 * 1024 * 1024
    max_json_depth: int = 64
    max_upload_bytes: int = 1024 * 1024 * 1024


def now_iso() -> str:
    """UTC now as the platform writes it: ``2024-05-01T12:00:00.000Z``."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def list_uri(list_id: str) -> str:
    return f"/api/v2/outbound/contactlists/{list_id}"


class _Contact(NamedTuple):
    # A tuple of a str-only dict, a bool and a str is untracked by the garbage collector, so
    # a million stored contacts do not make every full collection walk them.
    data: dict[str, str]
    callable: bool
    date_created: str
    #: ``phoneNumberStatus`` a client set, phone column -> callable; None (the usual case,
    #: which keeps the tuple untracked) reads every phone column callable.
    phone_status: dict[str, bool] | None = None


@dataclasses.dataclass
class _List:
    body: JSON
    contacts: dict[str, _Contact]
    created_at: float  # monotonic, for the "new list reads 404" fault
    import_status: JSON | None = None


class Store:
    """Thread-safe contact lists and contacts, with write-through persistence when asked."""

    def __init__(self, limits: Limits | None = None, state_path: Path | str | None = None) -> None:
        self.limits = limits or Limits()
        #: The choices for undocumented platform behaviour (set by the Sandbox).
        self.behaviour = Behaviour()
        self._lock = threading.RLock()
        self._lists: dict[str, _List] = {}
        self._db: _Sqlite | None = None
        self.requests = 0
        self.throttled = 0
        self.request_log: collections.deque[tuple[str, str, int]] = collections.deque(maxlen=2_000)
        if state_path is not None:
            self._db = _Sqlite(Path(state_path))
            for body, contacts in self._db.load():
                self._lists[body["id"]] = _List(body, contacts, created_at=-1e9)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # ------------------------------------------------------------------ accounting
    def record_request(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests += 1
            if status == 429:
                self.throttled += 1
            self.request_log.append((method, path, status))

    def recent_requests(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return list(self.request_log)

    # ------------------------------------------------------------------ lists: reads
    def list_ids(self) -> list[str]:
        with self._lock:
            return list(self._lists)

    def lists(self) -> list[JSON]:
        """Every list's body (a copy) with ``size`` filled in, in creation order."""
        with self._lock:
            return [self._render_list(rec) for rec in self._lists.values()]

    def get_list(self, list_id: str) -> JSON | None:
        with self._lock:
            rec = self._lists.get(list_id)
            return None if rec is None else self._render_list(rec)

    def find_list(self, name: str) -> JSON | None:
        """The list with this name (case-insensitive), for tests and the demo."""
        with self._lock:
            for rec in self._lists.values():
                if rec.body["name"].casefold() == name.casefold():
                    return self._render_list(rec)
            return None

    def created_at(self, list_id: str) -> float | None:
        with self._lock:
            rec = self._lists.get(list_id)
            return None if rec is None else rec.created_at

    def contact_count(self, list_id: str) -> int:
        with self._lock:
            return len(self._require(list_id).contacts)

    def contact_counts(self) -> dict[str, int]:
        with self._lock:
            return {list_id: len(rec.contacts) for list_id, rec in self._lists.items()}

    def _render_list(self, rec: _List) -> JSON:
        body = copy.deepcopy(rec.body)
        body["size"] = len(rec.contacts)
        return body

    def _require(self, list_id: str) -> _List:
        rec = self._lists.get(list_id)
        if rec is None:
            raise not_found(f"The contact list {list_id} was not found.")
        return rec

    # ------------------------------------------------------------------ lists: writes
    def create_list(self, body: Any) -> JSON:
        with self._lock:
            if len(self._lists) >= self.limits.max_lists:
                raise ApiError(
                    400,
                    "max.entity.count.reached",
                    f"The org already has {self.limits.max_lists} contact lists, the most "
                    "allowed. Delete one before creating another.",
                    params={"limit": str(self.limits.max_lists)},
                )
            clean = self._validate_list(body, current_id=None)
            list_id = str(uuid.uuid4())
            stamp = now_iso()
            clean.update(
                id=list_id,
                version=1,
                dateCreated=stamp,
                dateModified=stamp,
                selfUri=list_uri(list_id),
            )
            rec = _List(clean, {}, created_at=time.monotonic())
            self._lists[list_id] = rec
            if self._db is not None:
                self._db.save_list(clean)
            return self._render_list(rec)

    def update_list(self, list_id: str, body: Any) -> JSON:
        with self._lock:
            rec = self._require(list_id)
            if not isinstance(body, dict):
                raise bad_request("The request body must be a contact list object.")
            version = body.get("version")
            if not isinstance(version, int) or isinstance(version, bool):
                raise invalid_value(
                    "The contact list version is required: send the version you last read.",
                    field="version",
                )
            current = rec.body["version"]
            if version != current:
                message = (
                    f"The version supplied ({version}) does not match the current version "
                    f"({current}) of the contact list. Read the list again and retry."
                )
                if self.behaviour.stale_version == "400":
                    raise invalid_value(message, field="version")
                raise ApiError(409, "general.conflict", message, field="version")
            clean = self._validate_list(body, current_id=list_id)
            if (
                self.behaviour.column_changes == "refuse"
                and clean["columnNames"] != rec.body["columnNames"]
            ):
                raise invalid_value(
                    "The columns of a contact list cannot be changed; create a new list with "
                    "the columns you need.",
                    field="columnNames",
                )
            removed = {c.casefold() for c in rec.body["columnNames"]} - {
                c.casefold() for c in clean["columnNames"]
            }
            if removed:
                holding = sorted(
                    name
                    for name in rec.body["columnNames"]
                    if name.casefold() in removed
                    and any(c.data.get(name) for c in rec.contacts.values())
                )
                if holding:
                    raise invalid_value(
                        "Columns that hold contact data cannot be removed: "
                        + ", ".join(holding)
                        + ". Clear the list first or keep the columns.",
                        field="columnNames",
                    )
                emptied: list[tuple[str, _Contact]] = []
                for cid, contact in rec.contacts.items():
                    keys = [name for name in contact.data if name.casefold() in removed]
                    for name in keys:
                        del contact.data[name]
                    if keys:
                        emptied.append((cid, contact))
                if self._db is not None and emptied:
                    self._db.save_contacts(list_id, emptied)
            clean.update(
                id=list_id,
                version=current + 1,
                dateCreated=rec.body["dateCreated"],
                dateModified=now_iso(),
                selfUri=list_uri(list_id),
            )
            rec.body = clean
            if self._db is not None:
                self._db.save_list(clean)
            return self._render_list(rec)

    def delete_list(self, list_id: str) -> None:
        with self._lock:
            self._require(list_id)
            del self._lists[list_id]
            if self._db is not None:
                self._db.delete_list(list_id)

    def _validate_list(self, body: Any, *, current_id: str | None) -> JSON:
        """A clean copy of a list body, or an :class:`ApiError` that names the field."""
        lim = self.limits
        if not isinstance(body, dict):
            raise bad_request("The request body must be a contact list object.")
        clean: JSON = {
            k: copy.deepcopy(v)
            for k, v in body.items()
            if k not in READ_ONLY_LIST_FIELDS and v is not None
        }
        name = clean.get("name")
        if not isinstance(name, str) or not name.strip():
            raise invalid_value("The contact list needs a name.", field="name")
        if len(name) > lim.max_list_name_chars:
            raise invalid_value(
                f"The contact list name is {len(name)} characters long; at most "
                f"{lim.max_list_name_chars} are allowed.",
                field="name",
            )
        for list_id, rec in self._lists.items():
            if list_id != current_id and rec.body["name"].casefold() == name.casefold():
                raise ApiError(
                    400,
                    "name.not.unique",
                    f"A contact list named {rec.body['name']!r} already exists; list names "
                    "are unique in an org.",
                    field="name",
                )
        columns = clean.get("columnNames")
        if not isinstance(columns, list) or not columns:
            raise invalid_value("columnNames is required and must not be empty.", "columnNames")
        if len(columns) > lim.max_columns:
            raise invalid_value(
                f"A contact list has at most {lim.max_columns} columns; "
                f"this one has {len(columns)}.",
                field="columnNames",
            )
        seen: set[str] = set()
        for col in columns:
            if not isinstance(col, str) or not col.strip():
                raise invalid_value("Column names must be non-empty strings.", "columnNames")
            if len(col) > lim.max_name_chars:
                raise invalid_value(
                    f"The column name {col[:40]!r}... is {len(col)} characters long; "
                    f"at most {lim.max_name_chars} are allowed.",
                    field="columnNames",
                )
            if col.casefold() in seen:
                raise invalid_value(f"The column {col!r} appears twice.", field="columnNames")
            seen.add(col.casefold())
        known = set(columns)

        def need_column(value: Any, field: str) -> None:
            if value not in known:
                raise invalid_value(
                    f"{field} names {value!r}, which is not one of the list's columnNames.",
                    field=field,
                )

        contactable = 0
        for group, time_key in (
            ("phoneColumns", "callableTimeColumn"),
            ("emailColumns", "contactableTimeColumn"),
            ("whatsAppColumns", "contactableTimeColumn"),
        ):
            entries = clean.get(group, [])
            if not isinstance(entries, list):
                raise invalid_value(f"{group} must be an array.", field=group)
            for entry in entries:
                if not isinstance(entry, dict):
                    raise invalid_value(f"{group} entries must be objects.", field=group)
                need_column(entry.get("columnName"), f"{group}.columnName")
                if entry.get(time_key) is not None:
                    need_column(entry[time_key], f"{group}.{time_key}")
                contactable += 1
            clean[group] = entries
        if contactable == 0:
            raise invalid_value(
                "A contact list needs at least one phone, email or WhatsApp column.",
                field="phoneColumns",
            )
        for field in ("previewModeColumnName", "zipCodeColumnName"):
            if field in clean:
                need_column(clean[field], field)
        specs = clean.get("columnDataTypeSpecifications", [])
        if not isinstance(specs, list):
            raise invalid_value("columnDataTypeSpecifications must be an array.")
        for spec in specs:
            if not isinstance(spec, dict):
                raise invalid_value("columnDataTypeSpecifications entries must be objects.")
            need_column(spec.get("columnName"), "columnDataTypeSpecifications.columnName")
            if spec.get("columnDataType", "TEXT") not in COLUMN_DATA_TYPES:
                raise invalid_value(
                    f"columnDataType must be one of {', '.join(COLUMN_DATA_TYPES)}.",
                    field="columnDataTypeSpecifications.columnDataType",
                )
        clean.setdefault("phoneColumns", [])
        clean.setdefault("emailColumns", [])
        clean.setdefault("trimWhitespace", True)
        clean.setdefault("automaticTimeZoneMapping", False)
        division = clean.get("division")
        if not isinstance(division, dict) or division.get("id") in (None, HOME_DIVISION["id"]):
            clean["division"] = dict(HOME_DIVISION)
        else:
            raise invalid_value(
                f"The division {division.get('id')!r} does not exist; the sandbox org has "
                "only the Home division.",
                field="division",
            )
        clean.pop("version", None)
        return clean

    # ------------------------------------------------------------------ contacts
    def render_contact(
        self, list_id: str, contact_id: str, contact: _Contact, phones: Sequence[str] = ()
    ) -> JSON:
        """The contact as the platform shows it: ``phoneNumberStatus`` has one entry per phone
        column of the list (``DialerContact.phoneNumberStatus``, keyed by column)."""
        return {
            "id": contact_id,
            "contactListId": list_id,
            "data": dict(contact.data),
            "callable": contact.callable,
            "phoneNumberStatus": {
                phone: {"callable": (contact.phone_status or {}).get(phone, True)}
                for phone in phones
            },
            "contactableStatus": {},
            "dateCreated": contact.date_created,
            "selfUri": f"{list_uri(list_id)}/contacts/{contact_id}",
        }

    def check_contact_data(self, list_id: str, data: Any, where: str) -> dict[str, str]:
        """The data of one contact as strings, or a 400 naming the column that is wrong."""
        return self.check_contacts_data(list_id, [data], [where])[0]

    def check_contacts_data(
        self, list_id: str, datas: Sequence[Any], wheres: Sequence[str] | None = None
    ) -> list[dict[str, str]]:
        """:meth:`check_contact_data` for a batch, trimmed if the list trims whitespace."""
        with self._lock:
            body = self._require(list_id).body
            columns = frozenset(body["columnNames"])
            trim = bool(body.get("trimWhitespace", True))
        limit = self.limits.max_value_chars
        out: list[dict[str, str]] = []
        for n, data in enumerate(datas):
            # The common case (known columns, short strings) takes one pass in C.
            if (
                type(data) is dict
                and columns.issuperset(data)
                and all(type(v) is str and len(v) <= limit for v in data.values())
            ):
                clean: dict[str, str] = data
            else:
                where = wheres[n] if wheres is not None else f"contact {n}"
                clean = _clean_data(
                    data,
                    columns,
                    limit,
                    where,
                    ignore_unknown=self.behaviour.unknown_data_keys == "ignore",
                )
            out.append({k: v.strip() for k, v in clean.items()} if trim else dict(clean))
        return out

    def upsert_contacts(
        self,
        list_id: str,
        items: Sequence[tuple[str | None, dict[str, str], bool | None]],
        *,
        phone_status: Sequence[dict[str, bool] | None] | None = None,
    ) -> list[JSON]:
        """Add or update ``(id, data, callable)`` items whose data was already checked.

        An existing id is updated (its data replaced), a missing one is generated.
        *phone_status* (per item, checked by :meth:`check_phone_status`) replaces what a
        contact had; None keeps it.
        """
        with self._lock:
            rec = self._require(list_id)
            new_count = self.count_new(list_id, [cid for cid, _, _ in items])
            if len(rec.contacts) + new_count > self.limits.max_contacts_per_list:
                raise ApiError(
                    400,
                    "contact.list.size.limit.exceeded",
                    f"The list would hold {len(rec.contacts) + new_count} contacts; at most "
                    f"{self.limits.max_contacts_per_list} are allowed per list.",
                    params={"limit": str(self.limits.max_contacts_per_list)},
                )
            stamp = now_iso()
            phones = _phones(rec)
            out: list[JSON] = []
            changed: list[tuple[str, _Contact]] = []
            for cid, _, _ in items:
                if cid is not None and len(cid) > self.limits.max_id_chars:
                    raise invalid_value(
                        f"The contact id {cid[:40]!r}... is {len(cid)} characters long; at most "
                        f"{self.limits.max_id_chars} are allowed.",
                        field="id",
                    )
            for n, (cid, data, callable_) in enumerate(items):
                contact_id = cid if cid is not None else uuid.uuid4().hex
                old = rec.contacts.get(contact_id)
                status = phone_status[n] if phone_status is not None else None
                contact = _Contact(
                    data,
                    callable_ if callable_ is not None else (old.callable if old else True),
                    old.date_created if old else stamp,
                    status if status is not None else (old.phone_status if old else None),
                )
                rec.contacts[contact_id] = contact
                changed.append((contact_id, contact))
                out.append(self.render_contact(list_id, contact_id, contact, phones))
            if self._db is not None:
                self._db.save_contacts(list_id, changed)
            return out

    def check_phone_status(self, list_id: str, status: Any, where: str) -> dict[str, bool] | None:
        """A contact's ``phoneNumberStatus`` ``{column: {callable}}`` as column -> callable."""
        if status is None:
            return None
        with self._lock:
            phones = _phones(self._require(list_id))
        if not isinstance(status, dict):
            raise invalid_value(
                f"{where}: phoneNumberStatus must be an object of phone column: {{callable}}.",
                field="phoneNumberStatus",
            )
        out: dict[str, bool] = {}
        for column, entry in status.items():
            if column not in phones:
                raise invalid_value(
                    f"{where}: phoneNumberStatus names {column!r}, which is not a phone column "
                    "of the list.",
                    field=f"phoneNumberStatus.{column}",
                )
            value = entry.get("callable") if isinstance(entry, dict) else None
            if not isinstance(value, bool):
                raise invalid_value(
                    f"{where}: phoneNumberStatus.{column}.callable must be true or false.",
                    field=f"phoneNumberStatus.{column}",
                )
            out[column] = value
        return out

    def count_new(self, list_id: str, ids: Iterable[str | None]) -> int:
        """How many contacts adding *ids* would create (``None`` = a generated id)."""
        with self._lock:
            contacts = self._require(list_id).contacts
            seen: set[str] = set()
            new = 0
            for cid in ids:
                if cid is None:
                    new += 1
                elif cid not in contacts and cid not in seen:
                    new += 1
                    seen.add(cid)
            return new

    def get_contacts(self, list_id: str, ids: Iterable[str]) -> list[JSON]:
        with self._lock:
            rec = self._require(list_id)
            phones = _phones(rec)
            return [
                self.render_contact(list_id, cid, rec.contacts[cid], phones)
                for cid in ids
                if cid in rec.contacts
            ]

    def get_contact(self, list_id: str, contact_id: str) -> JSON:
        with self._lock:
            rec = self._require(list_id)
            contact = rec.contacts.get(contact_id)
            if contact is None:
                raise not_found(f"The contact {contact_id} is not in the list {list_id}.")
            return self.render_contact(list_id, contact_id, contact, _phones(rec))

    def all_contacts(self, list_id: str) -> list[JSON]:
        """Every contact of a list, in the order they were first added (for tests and export)."""
        with self._lock:
            rec = self._require(list_id)
            phones = _phones(rec)
            return [self.render_contact(list_id, cid, c, phones) for cid, c in rec.contacts.items()]

    def delete_contacts(self, list_id: str, ids: Iterable[str]) -> int:
        with self._lock:
            rec = self._require(list_id)
            gone = [cid for cid in dict.fromkeys(ids) if rec.contacts.pop(cid, None) is not None]
            if self._db is not None and gone:
                self._db.delete_contacts(list_id, gone)
            return len(gone)

    def clear_contacts(self, list_id: str) -> None:
        with self._lock:
            rec = self._lists.get(list_id)
            if rec is None:
                return  # deleted meanwhile: nothing left to clear
            rec.contacts.clear()
            if self._db is not None:
                self._db.clear_contacts(list_id)

    # ------------------------------------------------------------------ import status
    def import_status(self, list_id: str) -> JSON:
        """The list's import status; a list with no import reports nothing pending."""
        with self._lock:
            rec = self._require(list_id)
            if rec.import_status is None:
                return {"totalRecords": 0, "completedRecords": 0, "percentComplete": 100}
            return dict(rec.import_status)

    def set_import_status(self, list_id: str, status: JSON) -> None:
        with self._lock:
            rec = self._lists.get(list_id)
            if rec is not None:
                rec.import_status = {k: v for k, v in status.items() if v is not None}


def _phones(rec: _List) -> list[str]:
    return [p["columnName"] for p in rec.body.get("phoneColumns", [])]


def _clean_data(
    data: Any, columns: frozenset[str], max_chars: int, where: str, *, ignore_unknown: bool = False
) -> dict[str, str]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise invalid_value(f"{where}: data must be an object of column: value.", field="data")
    clean: dict[str, str] = {}
    for key, value in data.items():
        if key not in columns:
            if ignore_unknown:
                continue
            raise invalid_value(
                f"{where}: {key!r} is not a column of the contact list; its columns are "
                + ", ".join(sorted(columns))
                + ".",
                field=f"data.{key}",
            )
        if value is None:
            text = ""
        elif isinstance(value, str):
            text = value
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = str(value)
        else:
            raise invalid_value(f"{where}: the value of {key!r} must be text.", f"data.{key}")
        if len(text) > max_chars:
            raise invalid_value(
                f"{where}: the value of {key!r} is {len(text)} characters long; at most "
                f"{max_chars} are allowed.",
                field=f"data.{key}",
            )
        clean[key] = text
    return clean


class _Sqlite:
    """Write-through persistence: one row per list and per contact, bodies as JSON."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The store's lock serialises every use, from whichever thread holds it.
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS lists (
                id TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS contacts (
                list_id TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL,
                body TEXT NOT NULL, PRIMARY KEY (list_id, id));
            """
        )
        row = self._conn.execute(
            "SELECT MAX(s) FROM (SELECT MAX(seq) AS s FROM lists "
            "UNION ALL SELECT MAX(seq) FROM contacts)"
        ).fetchone()
        self._seq = int(row[0] or 0)

    def load(self) -> list[tuple[JSON, dict[str, _Contact]]]:
        out: list[tuple[JSON, dict[str, _Contact]]] = []
        for list_id, body in self._conn.execute("SELECT id, body FROM lists ORDER BY seq"):
            contacts: dict[str, _Contact] = {}
            for cid, cbody in self._conn.execute(
                "SELECT id, body FROM contacts WHERE list_id = ? ORDER BY seq", (list_id,)
            ):
                raw = json.loads(cbody)
                contacts[cid] = _Contact(
                    raw["data"], raw["callable"], raw["dateCreated"], raw.get("phoneNumberStatus")
                )
            out.append((json.loads(body), contacts))
        return out

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def save_list(self, body: JSON) -> None:
        self._conn.execute(
            "INSERT INTO lists (id, seq, body) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            (body["id"], self._next(), json.dumps(body)),
        )

    def delete_list(self, list_id: str) -> None:
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.execute("DELETE FROM contacts WHERE list_id = ?", (list_id,))
            self._conn.execute("DELETE FROM lists WHERE id = ?", (list_id,))

    def save_contacts(self, list_id: str, contacts: list[tuple[str, _Contact]]) -> None:
        rows = [
            (
                list_id,
                cid,
                self._next(),
                json.dumps(
                    {
                        "data": c.data,
                        "callable": c.callable,
                        "dateCreated": c.date_created,
                        "phoneNumberStatus": c.phone_status,
                    }
                ),
            )
            for cid, c in contacts
        ]
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT INTO contacts (list_id, id, seq, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (list_id, id) DO UPDATE SET body = excluded.body",
                rows,
            )

    def delete_contacts(self, list_id: str, ids: list[str]) -> None:
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "DELETE FROM contacts WHERE list_id = ? AND id = ?", [(list_id, i) for i in ids]
            )

    def clear_contacts(self, list_id: str) -> None:
        self._conn.execute("DELETE FROM contacts WHERE list_id = ?", (list_id,))

    def close(self) -> None:
        self._conn.close()
