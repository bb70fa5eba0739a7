"""Row rules over a chunk of rows already mapped onto the list's columns.

Every rule is vectorised over a pandas DataFrame; only the rows that break a rule are turned
into messages, so a clean million-row file costs no Python loop per row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from outbound_desk.contacts._arrow import large_strings, mask, string_buffers
from outbound_desk.contacts.phones import PhoneNormaliser, reason_message
from outbound_desk.contacts.regions import country_column, row_regions
from outbound_desk.contacts.schema import MAX_VALUE_LENGTH, ListSchema

# Every character str.isspace() accepts, spelled out so that Python's re and Arrow's RE2 (whose
# \s differ) read the same class; tests/contacts/test_rules.py checks the list is complete.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Deliberately loose: one @, something before it, a dotted domain after it, no spaces. The
# platform's own check is unknown; this catches what is clearly not an address.
EMAIL_PATTERN = f"[^@{WHITESPACE}]+@[^@.{WHITESPACE}]+(?:\\.[^@.{WHITESPACE}]+)+"
_EMAIL = re.compile(EMAIL_PATTERN)

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


def looks_like_email(value: str) -> bool:
    return _EMAIL.fullmatch(value) is not None


@dataclass
class Problem:
    """Rows of one chunk (positions) that break one rule in one column."""

    positions: np.ndarray[Any, np.dtype[np.intp]]
    column: str | None
    code: str
    messages: list[str]


@dataclass
class RowProblems:
    """All rule breaks of one chunk; a row with any of them is rejected."""

    n: int
    problems: list[Problem] = field(default_factory=list)

    def add(self, mask: BoolArray, column: str | None, code: str, messages: list[str]) -> None:
        positions = np.flatnonzero(mask)
        if len(positions):
            self.problems.append(Problem(positions, column, code, messages))

    def bad(self) -> BoolArray:
        mask = np.zeros(self.n, dtype=bool)
        for p in self.problems:
            mask[p.positions] = True
        return mask

    def by_row(self) -> dict[int, list[tuple[str | None, str, str]]]:
        """Position -> [(column, code, message)], in rule order."""
        out: dict[int, list[tuple[str | None, str, str]]] = {}
        for p in self.problems:
            for pos, msg in zip(p.positions.tolist(), p.messages, strict=True):
                out.setdefault(pos, []).append((p.column, p.code, msg))
        return out

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)


def trim(columns: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """Every value without surrounding white space (Python's ``str.strip``)."""
    # Arrow's utf8_trim_whitespace strips exactly what str.strip does (tests/contacts prove it
    # for every white-space character), at C speed.
    return {name: pc.utf8_trim_whitespace(large_strings(v)) for name, v in columns.items()}


#: pandas' default string dtype ("str"), backed by Arrow like the frames the reader makes.
_STR = pd.StringDtype("pyarrow", na_value=np.nan)

_SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]+)?[eE]\+?[0-9]+")


def _excel_hint(value: str) -> str:
    if _SCIENTIFIC.fullmatch(value):
        return (
            "; it looks like a number Excel wrote in scientific notation, which lost its last "
            "digits: export the column as text from the source system"
        )
    return ""


def _short(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")


def check_rows(
    frame: pd.DataFrame,
    schema: ListSchema,
    normaliser: PhoneNormaliser,
    *,
    labels: dict[str, str] | None = None,
    fed: set[str] | None = None,
) -> tuple[pd.DataFrame, RowProblems]:
    """:func:`check_columns` on a DataFrame of the list's columns (trimmed); the normalised
    columns come back as a DataFrame on *frame*'s index."""
    columns = {name: large_strings(frame[name]) for name in schema.columns}
    out, problems = check_columns(
        columns,
        len(frame),
        schema,
        normaliser,
        labels=labels,
        fed=set(frame.columns) if fed is None else fed,
    )
    return as_frame(out, frame.index), problems


def as_frame(columns: dict[str, pa.Array], index: pd.Index | None = None) -> pd.DataFrame:
    """Arrow string columns as a DataFrame of pandas' Arrow-backed ``str`` dtype (no copy of
    the strings, no Python object per cell)."""
    return pd.DataFrame(
        {name: pd.Series(values, index=index, dtype=_STR) for name, values in columns.items()},
        index=index,
        copy=False,
    )


#: A phone's extension at its end: "x123", "ext. 4", "extension 12", "#5".
_EXTENSION = r"(?i)[0-9)\s.\-](?:x|ext\.?|extn\.?|extension|#)\s*[0-9]{1,7}$"


def _by_region(
    answers: dict[str, tuple[pa.Array, pa.Array]],
    given: dict[str, pa.Array],
    phone_fields: list[str],
    regions: npt.NDArray[np.object_],
    default: str,
) -> dict[str, tuple[pa.Array, pa.Array]]:
    """The phones of the rows of another region normalised again with that region, each
    region's rows in one batch."""
    e164 = {name: np.asarray(answers[name][0].to_pylist(), dtype=object) for name in phone_fields}
    why = {name: np.asarray(answers[name][1].to_pylist(), dtype=object) for name in phone_fields}
    for region in sorted(set(regions.tolist()) - {default}):
        rows = np.flatnonzero(regions == region)
        with PhoneNormaliser(region, workers=1) as other:
            for name in phone_fields:
                got, reason = other.normalise_arrow(given[name].take(pa.array(rows)))
                e164[name][rows] = got.to_pylist()
                why[name][rows] = reason.to_pylist()
    return {
        name: (
            pa.array(e164[name].tolist(), type=pa.large_string()),
            pa.array(why[name].tolist(), type=pa.large_string()),
        )
        for name in phone_fields
    }


def check_columns(
    columns: dict[str, pa.Array],
    n: int,
    schema: ListSchema,
    normaliser: PhoneNormaliser,
    *,
    labels: dict[str, str] | None = None,
    fed: set[str] | None = None,
) -> tuple[dict[str, pa.Array], RowProblems]:
    """Apply the row rules to *columns* (each of the list's columns, trimmed, *n* rows) and
    normalise their phones.

    Arrow columns in and out, not a DataFrame: pandas' column access and construction hold the
    interpreter lock, which the checking threads share, for longer than the kernels run.
    *labels* names each list column as the user knows it (the file column feeding it) in
    messages; *fed* are the list columns some file column feeds: an unfed required column is
    reported once for the file, not on every row. Returns the normalised columns, in the
    list's order (E.164 phones, other values as given), and the problems.
    """
    labels = labels or {}
    fed = set(columns) if fed is None else fed
    problems = RowProblems(n)
    out: dict[str, pa.Array] = {}
    given_all = {f.name: pc.fill_null(large_strings(columns[f.name]), "") for f in schema.fields}
    # Every phone column in one call: the normaliser's fixed cost per call is paid once.
    phone_fields = [f.name for f in schema.fields if f.is_phone]
    answers: dict[str, tuple[pa.Array, pa.Array]] = {}
    if phone_fields:
        together = pa.concat_arrays([given_all[name] for name in phone_fields])
        e164_all, reason_all = normaliser.normalise_arrow(together)
        for k, name in enumerate(phone_fields):
            answers[name] = (e164_all.slice(k * n, n), reason_all.slice(k * n, n))
        country = country_column(schema)
        if country is not None and country in fed:
            # Mixed-country file: a row's country sets its phones' region (issue 15).
            regions = row_regions(given_all[country], normaliser.region)
            if regions is not None:
                answers = _by_region(answers, given_all, phone_fields, regions, normaliser.region)
    for f in schema.fields:
        label = labels.get(f.name, f.name)
        given = given_all[f.name]
        # Lengths from the string offsets: bytes decide empty, and no value of at most 512
        # bytes can have more than 512 characters, so characters are counted only past that.
        offsets, _ = string_buffers(given)
        size = np.diff(offsets)
        empty = size == 0
        if f.required and f.name in fed and f.name != schema.id_column:
            problems.add(
                empty,
                label,
                "missing_required",
                [f"{label} is required and empty"] * int(empty.sum()),
            )
        long_at = np.flatnonzero(size > MAX_VALUE_LENGTH)
        if len(long_at):
            chars = np.asarray(pc.utf8_length(given.take(pa.array(long_at))), dtype=np.int64)
            too_long = np.zeros(len(size), dtype=bool)
            too_long[long_at[chars > MAX_VALUE_LENGTH]] = True
            problems.add(
                too_long,
                label,
                "value_too_long",
                [
                    f"{label} is {n} characters long; the platform allows {MAX_VALUE_LENGTH}"
                    for n in chars[chars > MAX_VALUE_LENGTH].tolist()
                ],
            )
        if f.is_phone:
            e164, reason = answers[f.name]
            bad = mask(pc.not_equal(reason, ""))
            # An extension cannot be part of an E.164 number: reported, never dropped.
            ext = ~bad & mask(pc.match_substring_regex(given, _EXTENSION))
            if ext.any():
                problems.add(
                    ext,
                    label,
                    "phone_extension",
                    [
                        f"{label} {_short(v)} has an extension, which an E.164 number cannot "
                        "hold; move it to a column of its own or remove it"
                        for v in given.filter(pa.array(ext)).to_pylist()
                    ],
                )
            if bad.any():
                codes = pc.unique(reason.filter(pa.array(bad))).to_pylist()
                for code in sorted(codes):
                    has_code = mask(pc.equal(reason, code))
                    # One message per distinct value: the same few bad values fill a file.
                    bad_values = given.filter(pa.array(has_code)).to_pylist()
                    text = {
                        v: f"{label} {_short(v)} {reason_message(code)} "
                        f"(default region {normaliser.region}){_excel_hint(v)}"
                        for v in set(bad_values)
                    }
                    problems.add(has_code, label, code, [text[v] for v in bad_values])
                # Rejected rows keep their value; they are not written to the normalised file.
                e164 = pc.if_else(pa.array(bad), given, e164)
            out[f.name] = e164
            continue
        if f.is_email:
            ok = mask(pc.match_substring_regex(given, f"^(?:{EMAIL_PATTERN})$"))
            bad = ~ok & ~empty
            if bad.any():
                problems.add(
                    bad,
                    label,
                    "invalid_email",
                    [
                        f"{label} {_short(v)} is not an email address"
                        for v in given.filter(pa.array(bad)).to_pylist()
                    ],
                )
        out[f.name] = given
    return out, problems
