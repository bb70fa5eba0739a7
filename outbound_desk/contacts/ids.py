"""Which list column gives contacts their stable id, when nobody has said so yet.

A contact id taken from the CRM key is what makes a rerun update instead of duplicating, so
both front ends start from a sensible choice instead of "no id": the id column saved for the
list (the last upload's choice), else the schema's own id column, else a column whose name
looks like a CRM key and whose sample values are filled and distinct (``KEY_SHARE``). A phone
column is never chosen by this rule (contacts sharing a number would collapse into one); a
person may still choose one, and is warned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from outbound_desk.contacts.schema import ListSchema

#: Names (compared without case, spaces, dashes and underscores) that read as a CRM key, best
#: first; ``*id`` / ``*key`` / ``*number`` names follow them.
KEY_NAMES = (
    "customerid",
    "contactid",
    "crmid",
    "customerkey",
    "accountid",
    "clientid",
    "externalid",
    "id",
)
_KEY_SUFFIX = re.compile(r".*(id|key|ref|reference|number|no)$")

IdSource = Literal["saved", "schema", "key-name", "none"]


@dataclass(frozen=True)
class IdChoice:
    """The id column a rule chose (a list column, or None) and why."""

    column: str | None
    source: IdSource

    def describe(self) -> str:
        if self.column is None:
            return "no column looks like a unique CRM key"
        return {
            "saved": f"{self.column!r}: the id column used for this list before",
            "schema": f"{self.column!r}: the list's id column",
            "key-name": f"{self.column!r}: looks like a CRM key, distinct in the sample",
            "none": "",
        }[self.source]


def _compact(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name).casefold()


#: A key column is (almost) always filled and (almost) never repeats; "almost", since a file
#: whose few repeated ids the duplicate check should catch still has its CRM key.
KEY_SHARE = 0.9


def _unique(values: Sequence[str]) -> bool:
    filled = [v.strip() for v in values if v.strip()]
    allowed = max(1, int((1 - KEY_SHARE) * len(values)))  # one slip in a small sample
    return len(values) - len(filled) <= allowed and len(filled) - len(set(filled)) <= allowed


def choose_id_column(
    schema: ListSchema,
    *,
    sources: Mapping[str, str] | None = None,
    samples: Mapping[str, Sequence[str]] | None = None,
    saved: str | None = None,
    guess: bool = True,
) -> IdChoice:
    """The id column for *schema* (a list column name), by the rule above.

    *sources* maps list columns to the file columns feeding them (``ColumnMapping.sources``;
    None: every list column is fed under its own name); *samples* holds sample values per
    file column (a column without samples is not checked for uniqueness); *saved* is the id
    column remembered for this list. A saved or schema id column no file column feeds is
    passed over: its contacts would get no id. Without *guess* (the ``schema`` id-column
    rule of the preferences) no column is chosen by its name.
    """
    columns = list(schema.columns)
    fed = set(columns) if sources is None else set(sources)

    def usable(column: str | None) -> bool:
        return column is not None and column in columns and column in fed

    if usable(saved):
        return IdChoice(saved, "saved")
    if usable(schema.id_column):
        return IdChoice(schema.id_column, "schema")
    if not guess:
        return IdChoice(None, "none")
    phones = set(schema.phone_columns)
    ranked = _by_key_name(c for c in columns if c in fed and c not in phones)
    for column in ranked:
        feeder = (sources or {}).get(column, column)
        values = (samples or {}).get(feeder)
        if values is None or _unique(values):
            return IdChoice(column, "key-name")
    return IdChoice(None, "none")


def _by_key_name(columns: Iterable[str]) -> list[str]:
    """Columns whose name reads as a key, the best first (exact names, then suffixes)."""
    exact: list[tuple[int, str]] = []
    suffixed: list[str] = []
    for column in columns:
        compact = _compact(column)
        if compact in KEY_NAMES:
            exact.append((KEY_NAMES.index(compact), column))
        elif _KEY_SUFFIX.fullmatch(compact) and not compact.startswith(("phone", "tel")):
            suffixed.append(column)
    return [c for _, c in sorted(exact)] + suffixed
