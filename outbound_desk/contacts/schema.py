"""The shape of a contact list: its columns, which are phones or emails, and the id column.

A :class:`ListSchema` comes from a schema JSON file (DESIGN.md), from a Genesys contact list
(``columnNames``/``phoneColumns``/``emailColumns``) or from a file's own header; validation only
ever sees the object, so where it came from does not matter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from outbound_desk.base.limits import MAX_COLUMNS as MAX_COLUMNS
from outbound_desk.base.limits import MAX_NAME_LENGTH
from outbound_desk.base.limits import MAX_VALUE_LENGTH as MAX_VALUE_LENGTH

PHONE_FORMAT = "E.164"
EMAIL_FORMAT = "email"
PHONE_TYPES = ("cell", "home", "work")

# The platform's limits, defined once in base.limits.
MAX_COLUMN_NAME = MAX_NAME_LENGTH

_PHONE_NAME = re.compile(r"phone|mobile|cell|tel(?:e|$|[^a-z])|^tel|fax|msisdn|dial", re.IGNORECASE)
_EMAIL_NAME = re.compile(r"e-?mail", re.IGNORECASE)
_ID_NAMES = ("customerid", "contactid", "id", "crmid", "customerkey", "accountid", "clientid")


class SchemaError(ValueError):
    """A schema file or a Genesys list description that cannot be used, and why."""


@dataclass(frozen=True)
class Field:
    """One column of a contact list, with what the platform must know about it."""

    name: str
    type: str = "string"
    required: bool = False
    format: str | None = None
    phone_type: str | None = None

    @property
    def is_phone(self) -> bool:
        return self.format == PHONE_FORMAT

    @property
    def is_email(self) -> bool:
        return self.format == EMAIL_FORMAT

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "format": self.format,
            "phone_type": self.phone_type,
        }


@dataclass(frozen=True)
class ListSchema:
    """The columns of a contact list in the list's order, and which one is the contact id."""

    name: str
    fields: tuple[Field, ...]
    id_column: str | None = None

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if not names:
            raise SchemaError("the schema has no fields")
        seen: set[str] = set()
        for n in names:
            if not n.strip():
                raise SchemaError("a field has an empty name")
            if n.casefold() in seen:
                # The platform matches header names case-insensitively: two such names clash.
                raise SchemaError(f"field {n!r} appears twice (names are case-insensitive)")
            seen.add(n.casefold())
        if self.id_column is not None and self.id_column not in names:
            raise SchemaError(
                f"id_column {self.id_column!r} is not one of the fields ({', '.join(names)})"
            )

    # ------------------------------------------------------------------ views
    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def phone_columns(self) -> list[str]:
        return [f.name for f in self.fields if f.is_phone]

    @property
    def email_columns(self) -> list[str]:
        return [f.name for f in self.fields if f.is_email]

    @property
    def required_columns(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def with_id_column(self, id_column: str | None) -> ListSchema:
        """This schema with another id column (``--id-column``)."""
        return ListSchema(self.name, self.fields, id_column)

    def limit_problems(self) -> list[str]:
        """What breaks the platform limits (50 columns, 128-character names)."""
        out: list[str] = []
        if len(self.fields) > MAX_COLUMNS:
            out.append(
                f"the list has {len(self.fields)} columns; the platform allows {MAX_COLUMNS}"
            )
        for f in self.fields:
            if len(f.name) > MAX_COLUMN_NAME:
                out.append(
                    f"column name {f.name[:40]!r}... is {len(f.name)} characters; "
                    f"the platform allows {MAX_COLUMN_NAME}"
                )
        return out

    # ------------------------------------------------------------------ schema JSON
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ListSchema:
        """Read the schema JSON of DESIGN.md; every mistake is a :class:`SchemaError`."""
        if not isinstance(data, Mapping):
            raise SchemaError("a schema is a JSON object with 'name' and 'fields'")
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SchemaError("the schema needs a non-empty string 'name'")
        raw_fields = data.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            raise SchemaError("the schema needs a non-empty list 'fields'")
        fields: list[Field] = []
        for i, raw in enumerate(raw_fields, start=1):
            fields.append(_field_from_dict(raw, i))
        id_column = data.get("id_column")
        if id_column is not None and not isinstance(id_column, str):
            raise SchemaError("'id_column' must be a column name or null")
        return cls(name=name, fields=tuple(fields), id_column=id_column or None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fields": [f.as_dict() for f in self.fields],
            "id_column": self.id_column,
        }

    # ------------------------------------------------------------------ Genesys
    @classmethod
    def from_genesys(cls, contact_list: Mapping[str, Any]) -> ListSchema:
        """A schema from a Genesys contact list body (camelCase, GENESYS_API.md).

        The platform has no notion of a required column or of an id column, so every field is
        optional and ``id_column`` is None: set it with :meth:`with_id_column`.
        """
        names = contact_list.get("columnNames")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise SchemaError("a contact list needs 'columnNames', a list of strings")
        phones = {
            str(p.get("columnName")): p.get("type")
            for p in contact_list.get("phoneColumns") or []
            if isinstance(p, Mapping)
        }
        emails = {
            str(e.get("columnName")): e.get("type")
            for e in contact_list.get("emailColumns") or []
            if isinstance(e, Mapping)
        }
        for col in [*phones, *emails]:
            if col not in names:
                raise SchemaError(f"phone/email column {col!r} is not in columnNames")
        fields = []
        for n in names:
            if n in phones:
                fields.append(Field(n, format=PHONE_FORMAT, phone_type=_opt_str(phones[n])))
            elif n in emails:
                fields.append(Field(n, format=EMAIL_FORMAT, phone_type=_opt_str(emails[n])))
            else:
                fields.append(Field(n))
        name = contact_list.get("name")
        return cls(name=str(name) if name else "contact list", fields=tuple(fields))

    def to_genesys(self) -> dict[str, Any]:
        """The body fields of ``POST /api/v2/outbound/contactlists`` for this schema."""
        return {
            "name": self.name,
            "columnNames": self.columns,
            "phoneColumns": [
                {"columnName": f.name, "type": f.phone_type or "cell"}
                for f in self.fields
                if f.is_phone
            ],
            "emailColumns": [
                {"columnName": f.name, "type": f.phone_type or "work"}
                for f in self.fields
                if f.is_email
            ],
        }

    # ------------------------------------------------------------------ from a file
    @classmethod
    def from_header(
        cls,
        columns: Sequence[str],
        *,
        name: str = "contact list",
        samples: Mapping[str, Iterable[str]] | None = None,
        region: str = "US",
    ) -> ListSchema:
        """A schema for creating a list from a file: every column a string, phones guessed.

        A column is a phone when its name says so (``Phone``, ``mobile``, ``tel``...) or when
        most of its sample values are valid phone numbers for *region*; an email when its name
        says so or most sample values look like addresses. The id column is guessed from common
        CRM key names.
        """
        from outbound_desk.contacts.phones import PhoneNormaliser
        from outbound_desk.contacts.rules import looks_like_email

        normaliser = PhoneNormaliser(region) if samples else None
        fields = []
        for col in columns:
            values = [v.strip() for v in (samples or {}).get(col, ()) if v and v.strip()]
            fmt: str | None = None
            if _EMAIL_NAME.search(col) or (
                values and sum(looks_like_email(v) for v in values) >= 0.8 * len(values)
            ):
                fmt = EMAIL_FORMAT
            elif (_PHONE_NAME.search(col) and not _ID_NAMES_RE.fullmatch(_compact(col))) or (
                values and normaliser is not None and _mostly_phones(normaliser, values)
            ):
                fmt = PHONE_FORMAT
            phone_type = _guess_phone_type(col) if fmt == PHONE_FORMAT else None
            fields.append(Field(col, format=fmt, phone_type=phone_type))
        id_column = next((c for c in columns if _compact(c) in _ID_NAMES), None)
        return cls(name=name, fields=tuple(fields), id_column=id_column)


_ID_NAMES_RE = re.compile("|".join(_ID_NAMES))


def _compact(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def _guess_phone_type(name: str) -> str:
    low = name.casefold()
    if "home" in low:
        return "home"
    if "work" in low or "office" in low or "business" in low:
        return "work"
    return "cell"


def _mostly_phones(normaliser: Any, values: list[str]) -> bool:
    import pandas as pd

    e164, _reason = normaliser.normalise(pd.Series(values, dtype=object))
    return bool((e164 != "").sum() >= 0.8 * len(values))


def _opt_str(value: Any) -> str | None:
    return str(value) if value else None


def _field_from_dict(raw: Any, index: int) -> Field:
    if not isinstance(raw, Mapping):
        raise SchemaError(f"field {index} is not an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SchemaError(f"field {index} needs a non-empty string 'name'")
    ftype = raw.get("type", "string")
    if ftype != "string":
        raise SchemaError(f"field {name!r}: type {ftype!r} is not supported (only 'string')")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise SchemaError(f"field {name!r}: 'required' must be true or false")
    fmt = raw.get("format")
    if fmt not in (None, PHONE_FORMAT, EMAIL_FORMAT):
        raise SchemaError(
            f"field {name!r}: format {fmt!r} is not one of {PHONE_FORMAT!r}, {EMAIL_FORMAT!r}, null"
        )
    phone_type = raw.get("phone_type")
    if phone_type is not None and phone_type not in PHONE_TYPES:
        raise SchemaError(
            f"field {name!r}: phone_type {phone_type!r} is not one of {', '.join(PHONE_TYPES)}"
        )
    if phone_type is not None and fmt is None:
        raise SchemaError(f"field {name!r}: phone_type needs format {PHONE_FORMAT!r}")
    return Field(name=name, required=required, format=fmt, phone_type=phone_type)


def load_schema(path: str | Path) -> ListSchema:
    """Read a schema JSON file; a missing or malformed file is a :class:`SchemaError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SchemaError(f"cannot read schema {p}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SchemaError(
            f"schema {p} is not UTF-8 (byte {exc.object[exc.start]:#04x} at byte offset "
            f"{exc.start}): JSON files are UTF-8; save it as UTF-8"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(
            f"schema {p} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    try:
        return ListSchema.from_dict(data)
    except SchemaError as exc:
        raise SchemaError(f"schema {p}: {exc}") from None
