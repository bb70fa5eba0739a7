"""A headerless file's columns mapped by what their values look like (issue 15).

Mapping by position gave 0 valid rows out of 30 for a headerless file whose phone column came
first. Each file column's sample values are classified (phone, email, id, name, ZIP or postal
code, date); each list column expects a kind (from its format, the list's id column, or its
name); the best pairs are taken first, each column once, with the share of values that fit
as the confidence. Columns nothing tells apart keep their position among those left.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-/]+(?:\s*(?:x|ext\.?|#)\s*\d+)?$", re.IGNORECASE)
_ZIP = re.compile(
    r"^(?:\d{5}(?:-\d{4})?"  # US ZIP (ZIP+4)
    r"|[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d"  # Canada
    r"|[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2})$"  # UK
)
_ID = re.compile(
    r"^(?:[A-Za-z]{0,4}[-_]?\d{3,}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)
_NAME = re.compile(r"^[^\W\d_]+(?:[ '\-.]+[^\W\d_]+){0,3}\.?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}|^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}$")

#: Below this share of fitting values a column is not of a kind.
MIN_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Guess:
    file_column: str
    list_column: str
    confidence: float
    kind: str  # what the values look like ("phone", ...), or "position"


def value_kinds(values: Sequence[str]) -> dict[str, float]:
    """The share of the non-empty *values* that look like each kind."""
    import phonenumbers

    filled = [v.strip() for v in values if v and v.strip()]
    if not filled:
        return {}
    n = len(filled)
    shares: dict[str, float] = {}

    def share(pred: Callable[[str], object]) -> float:
        return sum(1 for v in filled if pred(v)) / n

    shares["email"] = share(_EMAIL.match)
    shares["zip"] = share(_ZIP.match)
    shares["date"] = share(_DATE.match)
    shares["name"] = share(_NAME.match)

    def phone(v: str) -> bool:
        if not _PHONE_CHARS.match(v):
            return False
        digits = sum(c.isdigit() for c in v)
        if not 7 <= digits <= 15:
            return False
        try:
            number = phonenumbers.parse(v, "US")
        except phonenumbers.NumberParseException:
            return False
        return bool(phonenumbers.is_possible_number(number))

    shares["phone"] = share(phone)
    distinct = len(set(filled)) / n
    shares["id"] = share(_ID.match) * (1.0 if distinct > 0.9 else 0.3)
    if shares["id"] and shares["phone"] >= shares["id"]:
        # Ten digits that dial are a phone, not a customer number.
        shares["id"] *= 0.5
    if shares["zip"] >= MIN_CONFIDENCE:
        shares["id"] *= 0.5
    return shares


_WORDS = {
    "zip": re.compile(r"zip|postal|post_?code|plz", re.IGNORECASE),
    "name": re.compile(r"name|first|last|surname|given|city|town|state|country", re.IGNORECASE),
    "date": re.compile(r"date|birth|dob|since|created|updated", re.IGNORECASE),
    "email": re.compile(r"e-?mail", re.IGNORECASE),
    "phone": re.compile(r"phone|mobile|cell|tel|fax", re.IGNORECASE),
}


def expected_kind(schema: object, column: str) -> str | None:
    """What a list column's values should look like: from its format, the id column, its name."""
    fmt = None
    for field in getattr(schema, "fields", ()):
        if field.name == column:
            fmt = (field.format or "").casefold() or None
    if fmt == "e.164" or column in getattr(schema, "phone_columns", ()):
        return "phone"
    if fmt == "email":
        return "email"
    if column == getattr(schema, "id_column", None):
        return "id"
    for kind, words in _WORDS.items():
        if words.search(column):
            return kind
    return None


def guess_headerless(
    file_columns: Sequence[str],
    samples: Mapping[str, Sequence[str]],
    schema: object,
) -> list[Guess]:
    """The list column each file column most likely feeds, with a confidence."""
    list_columns: list[str] = list(getattr(schema, "columns", ()))
    kinds = {fc: value_kinds(samples.get(fc, ())) for fc in file_columns}
    wants = {lc: expected_kind(schema, lc) for lc in list_columns}
    pairs = []
    for i, fc in enumerate(file_columns):
        for j, lc in enumerate(list_columns):
            kind = wants[lc]
            score = kinds[fc].get(kind, 0.0) if kind else 0.0
            if score >= MIN_CONFIDENCE:
                pairs.append((score, -abs(i - j), i, j, kind))
    pairs.sort(reverse=True)
    used_f: set[int] = set()
    used_l: set[int] = set()
    out: dict[int, Guess] = {}
    for score, _, i, j, kind in pairs:
        if i in used_f or j in used_l:
            continue
        used_f.add(i)
        used_l.add(j)
        out[i] = Guess(file_columns[i], list_columns[j], round(score, 3), str(kind))
    # What the values did not tell: the rest in order, onto the list columns left that do
    # not expect a kind some other file column clearly had.
    left_l = [j for j in range(len(list_columns)) if j not in used_l]
    for i, fc in enumerate(file_columns):
        if i in out or not left_l:
            continue
        j = left_l.pop(0)
        out[i] = Guess(fc, list_columns[j], 0.3, "position")
    return [out[i] for i in sorted(out)]


def samples_of(profile: object) -> dict[str, list[str]]:
    """A profile's preview values per column (what :func:`guess_headerless` looks at)."""
    columns = list(getattr(profile, "columns", ()))
    preview = list(getattr(profile, "preview", ()))
    return {c: [r[i] for r in preview if i < len(r)] for i, c in enumerate(columns)}
