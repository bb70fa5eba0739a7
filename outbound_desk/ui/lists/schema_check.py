"""Checks a new list or new columns against the platform's limits before anything is sent.

Qt-free: the dialogs call these on every edit and show the answer in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from outbound_desk.base.limits import MAX_COLUMNS, MAX_NAME_LENGTH
from outbound_desk.contacts import EMAIL_FORMAT, PHONE_FORMAT, Field, ListSchema, SchemaError

MAX_NAME = MAX_NAME_LENGTH  # the platform's limits, defined once in base.limits
ROLES = ("data", "phone", "email")
PHONE_TYPES = ("cell", "home", "work", "other")
EMAIL_TYPES = ("work", "personal", "other")


def build_schema(
    name: str,
    rows: Sequence[tuple[str, str, str, bool]],
    id_column: str | None,
) -> ListSchema:
    """A schema from editor rows ``(column, role, type, required)``; SchemaError if unusable."""
    fields = []
    for column, role, kind, required in rows:
        fmt = PHONE_FORMAT if role == "phone" else EMAIL_FORMAT if role == "email" else None
        fields.append(Field(column.strip(), required=required, format=fmt, phone_type=kind or None))
    return ListSchema(name=name.strip() or "?", fields=tuple(fields), id_column=id_column or None)


def schema_problems(
    name: str,
    rows: Sequence[tuple[str, str, str, bool]],
    id_column: str | None,
    existing_names: Iterable[str] = (),
) -> list[str]:
    """Everything that stops this list from being created, in the user's words."""
    problems: list[str] = []
    clean = name.strip()
    if not clean:
        problems.append("Give the list a name.")
    elif clean.casefold() in {n.casefold() for n in existing_names}:
        problems.append(f"A list called {clean!r} exists already; list names are unique.")
    elif len(clean) > MAX_NAME:
        problems.append(f"The list name is {len(clean)} characters; keep it to {MAX_NAME}.")
    if not rows:
        problems.append("Add at least one column.")
        return problems
    try:
        schema = build_schema(name, rows, id_column)
    except SchemaError as exc:
        text = str(exc)
        problems.append(text[:1].upper() + text[1:] + ".")
        return problems
    problems.extend(p[:1].upper() + p[1:] + "." for p in schema.limit_problems())
    if not schema.phone_columns and not schema.email_columns:
        problems.append("Mark at least one column as a phone or email column.")
    return problems


def new_column_problems(existing: Sequence[str], new: Sequence[str]) -> list[str]:
    """What is wrong with adding *new* columns to a list that has *existing* ones."""
    problems: list[str] = []
    have = {c.casefold() for c in existing}
    seen: set[str] = set()
    for column in new:
        c = column.strip()
        if not c:
            problems.append("A new column has no name.")
        elif c.casefold() in have:
            problems.append(f"The list already has a column {c!r}.")
        elif c.casefold() in seen:
            problems.append(f"{c!r} is listed twice.")
        elif len(c) > MAX_NAME:
            problems.append(f"Column name {c[:40]!r}… is {len(c)} characters; the limit is 128.")
        seen.add(c.casefold())
    if len(existing) + len(new) > MAX_COLUMNS:
        problems.append(
            f"The list would have {len(existing) + len(new)} columns; the platform allows "
            f"{MAX_COLUMNS}."
        )
    if not new:
        problems.append("Add at least one column.")
    return problems
