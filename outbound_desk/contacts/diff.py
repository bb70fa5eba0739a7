"""How a file's columns line up with a list's: the schema diff and the column mapping.

The diff says what matches, what is missing, what is extra, what differs only by case or
spaces, and which extra columns are likely renames of missing ones (with a score). The
:class:`ColumnMapping` is the decision taken from it (file column -> list column, or excluded)
that validation, normalising and upload all apply. A file column that the mapping neither
maps nor excludes blocks: unknown columns are never dropped silently.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from outbound_desk.contacts._arrow import large_strings
from outbound_desk.contacts.schema import ListSchema

#: Renames scoring below this are not suggested.
RENAME_THRESHOLD = 0.6

# Words that mean the same thing in column names; "number" and "address" carry no meaning
# on their own ("phoneNumber" is a phone, "emailAddress" an email).
_SYNONYMS = {
    "tel": "phone",
    "telephone": "phone",
    "phone": "phone",
    "ph": "phone",
    "mobile": "mobile",
    "mob": "mobile",
    "cell": "mobile",
    "cellphone": "mobile",
    "mail": "email",
    "email": "email",
    "first": "first",
    "given": "first",
    "fname": "first",
    "last": "last",
    "surname": "last",
    "family": "last",
    "lname": "last",
    "zip": "postcode",
    "postal": "postcode",
    "postcode": "postcode",
    "customer": "customer",
    "client": "customer",
    "cust": "customer",
}
_NOISE = {"number", "no", "nr", "num", "address", "addr", "code", "the", "of"}


@dataclass(frozen=True)
class Rename:
    """A suggested pairing of a file column with a list column, and why."""

    file_column: str
    list_column: str
    score: float
    kind: str  # "case", "whitespace" (exact but for those) or "similar"

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.file_column,
            "to": self.list_column,
            "score": round(self.score, 3),
            "kind": self.kind,
        }


@dataclass(frozen=True)
class SchemaDiff:
    """The file's columns against a list's, before any decision is taken."""

    matched: tuple[str, ...]
    missing_required: tuple[str, ...]
    missing_optional: tuple[str, ...]
    extra: tuple[str, ...]
    renamed: tuple[Rename, ...]
    has_header: bool = True

    @property
    def missing(self) -> tuple[str, ...]:
        return self.missing_required + self.missing_optional

    @property
    def case_only(self) -> tuple[Rename, ...]:
        return tuple(r for r in self.renamed if r.kind != "similar")

    def as_dict(self) -> dict[str, Any]:
        return {
            "matched": list(self.matched),
            "missing": list(self.missing),
            "extra": list(self.extra),
            "renamed": [r.as_dict() for r in self.renamed],
            "missing_required": list(self.missing_required),
            "missing_optional": list(self.missing_optional),
            "has_header": self.has_header,
        }


def _tokens(name: str) -> frozenset[str]:
    text = re.sub(r"e[\s_-]?mail", "email", name, flags=re.IGNORECASE)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    words = re.findall(r"[a-z]+|[0-9]+", text.casefold())
    return frozenset(_SYNONYMS.get(w, w) for w in words if w not in _NOISE)


def _compact(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def rename_score(file_column: str, list_column: str) -> float:
    """How likely *file_column* is *list_column* under another name, from 0 to 1."""
    a, b = _compact(file_column), _compact(list_column)
    if not a or not b:
        return 0.0
    if a == b:
        return 0.95
    ta, tb = _tokens(file_column), _tokens(list_column)
    jaccard = len(ta & tb) / len(ta | tb) if ta and tb else 0.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    return max(0.9 * jaccard, ratio)


def diff_columns(
    file_columns: Sequence[str],
    schema: ListSchema,
    *,
    has_header: bool = True,
    samples: Mapping[str, Sequence[str]] | None = None,
) -> SchemaDiff:
    """Compare a file's header with a list's columns.

    Without a header, and with *samples* (file column -> some of its values), each file
    column is mapped by what its values look like (``contacts.guess``): the guesses are
    ``renamed`` entries of kind ``values`` (or ``position`` where the values told nothing),
    with their confidence as the score. Without samples the file's columns are positions,
    matched in order onto the list's columns; positions beyond the list's columns are extra.
    """
    list_cols = schema.columns
    required = set(schema.required_columns)
    if not has_header and samples:
        from outbound_desk.contacts.guess import guess_headerless

        guesses = guess_headerless(file_columns, samples, schema)
        fed = {g.list_column for g in guesses}
        missing = [c for c in list_cols if c not in fed]
        guessed = {g.file_column for g in guesses}
        return SchemaDiff(
            matched=(),
            missing_required=tuple(c for c in missing if c in required),
            missing_optional=tuple(c for c in missing if c not in required),
            extra=tuple(c for c in file_columns if c not in guessed),
            renamed=tuple(
                Rename(
                    g.file_column,
                    g.list_column,
                    g.confidence,
                    "position" if g.kind == "position" else f"values:{g.kind}",
                )
                for g in guesses
            ),
            has_header=False,
        )
    if not has_header:
        n = min(len(file_columns), len(list_cols))
        matched = tuple(file_columns[:n])
        missing = list_cols[n:]
        return SchemaDiff(
            matched=matched,
            missing_required=tuple(c for c in missing if c in required),
            missing_optional=tuple(c for c in missing if c not in required),
            extra=tuple(file_columns[n:]),
            renamed=(),
            has_header=False,
        )
    exact = [c for c in file_columns if c in list_cols]
    left_file = [c for c in file_columns if c not in list_cols]
    left_list = [c for c in list_cols if c not in exact]
    renamed: list[Rename] = []
    # Case- or whitespace-only differences first: the platform itself matches case-insensitively.
    for fc in list(left_file):
        for lc in left_list:
            if fc.strip() == lc or fc.strip().casefold() == lc.casefold():
                kind = "whitespace" if fc.strip() == lc else "case"
                renamed.append(Rename(fc, lc, 1.0, kind))
                left_file.remove(fc)
                left_list.remove(lc)
                break
    # Then likely renames, best pairs first, each column used once.
    pairs = sorted(
        (
            (rename_score(fc, lc), i, j)
            for i, fc in enumerate(left_file)
            for j, lc in enumerate(left_list)
        ),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    used_f: set[int] = set()
    used_l: set[int] = set()
    for score, i, j in pairs:
        if score < RENAME_THRESHOLD:
            break
        if i in used_f or j in used_l:
            continue
        used_f.add(i)
        used_l.add(j)
        renamed.append(Rename(left_file[i], left_list[j], score, "similar"))
    renamed_lists = {r.list_column for r in renamed}
    missing = [c for c in left_list if c not in renamed_lists]
    renamed_files = {r.file_column for r in renamed}
    return SchemaDiff(
        matched=tuple(exact),
        missing_required=tuple(c for c in missing if c in required),
        missing_optional=tuple(c for c in missing if c not in required),
        extra=tuple(c for c in left_file if c not in renamed_files),
        renamed=tuple(renamed),
        has_header=True,
    )


class MappingError(ValueError):
    """A column mapping that names columns that do not exist or maps two onto one."""


@dataclass(frozen=True)
class ColumnMapping:
    """Which list column each file column feeds, or that it is excluded on purpose.

    ``targets`` maps file column -> list column, or -> None for an explicit exclusion. A file
    column absent from ``targets`` is unresolved: it blocks validation until it is mapped or
    excluded, so nothing is ever dropped silently.
    """

    file_columns: tuple[str, ...]
    list_columns: tuple[str, ...]
    targets: Mapping[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for fc, lc in self.targets.items():
            if fc not in self.file_columns:
                raise MappingError(
                    f"file column {fc!r} does not exist (the file has: "
                    f"{', '.join(self.file_columns)})"
                )
            if lc is None:
                continue
            if lc not in self.list_columns:
                raise MappingError(
                    f"list column {lc!r} does not exist (the list has: "
                    f"{', '.join(self.list_columns)})"
                )
            if lc in seen:
                raise MappingError(
                    f"file columns {seen[lc]!r} and {fc!r} are both mapped to {lc!r}"
                )
            seen[lc] = fc

    @property
    def excluded(self) -> list[str]:
        return [fc for fc in self.file_columns if fc in self.targets and self.targets[fc] is None]

    @property
    def unresolved(self) -> list[str]:
        """File columns neither mapped nor excluded: they block."""
        return [fc for fc in self.file_columns if fc not in self.targets]

    @property
    def sources(self) -> dict[str, str]:
        """List column -> the file column that feeds it."""
        return {lc: fc for fc, lc in self.targets.items() if lc is not None}

    def unfed(self) -> list[str]:
        """List columns no file column feeds (written empty)."""
        fed = self.sources
        return [lc for lc in self.list_columns if lc not in fed]

    def with_changes(
        self, mapped: Mapping[str, str] | None = None, excluded: Iterable[str] = ()
    ) -> ColumnMapping:
        """This mapping with user decisions applied (``--map`` and ``--exclude``)."""
        targets: dict[str, str | None] = dict(self.targets)
        for fc, lc in (mapped or {}).items():
            # A list column taken by a new decision is released by its old feeder.
            for other, old in list(targets.items()):
                if old == lc and other != fc:
                    del targets[other]
            targets[fc] = lc
        for fc in excluded:
            targets[fc] = None
        return ColumnMapping(self.file_columns, self.list_columns, targets)

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The list's columns in the list's order, fed from *frame*; unfed ones are empty."""
        sources = self.sources
        data = {}
        for lc in self.list_columns:
            fc = sources.get(lc)
            data[lc] = (
                frame[fc] if fc is not None else pd.Series("", index=frame.index, dtype=object)
            )
        return pd.DataFrame(data, index=frame.index)

    def arrow_columns(self, table: pa.Table) -> dict[str, pa.Array]:
        """:meth:`apply` on an Arrow table (a chunk's): ``large_string`` columns by list
        column, in the list's order; unfed ones are empty."""
        sources = self.sources
        empty = pa.scalar("", pa.large_string())
        return {
            lc: large_strings(table.column(sources[lc]))
            if lc in sources
            else pa.repeat(empty, table.num_rows)
            for lc in self.list_columns
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "mapped": {fc: lc for fc, lc in self.targets.items() if lc is not None},
            "excluded": self.excluded,
            "unresolved": self.unresolved,
        }


def suggest_mapping(
    diff: SchemaDiff,
    schema: ListSchema,
    file_columns: Sequence[str],
    *,
    accept_renames: bool = False,
) -> ColumnMapping:
    """The mapping the diff suggests: exact matches, case/space-only differences, and (with
    *accept_renames*) the likely renames. Extra columns stay unresolved."""
    targets: dict[str, str | None] = {c: c for c in diff.matched} if diff.has_header else {}
    if not diff.has_header:
        targets = dict(zip(diff.matched, schema.columns, strict=False))
        if diff.renamed:  # guessed from the values: the person confirms or changes them
            targets = {r.file_column: r.list_column for r in diff.renamed}
    for r in diff.renamed:
        if r.kind != "similar" or accept_renames:
            targets[r.file_column] = r.list_column
    return ColumnMapping(tuple(file_columns), tuple(schema.columns), targets)
