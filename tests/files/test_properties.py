"""Property: a CSV written in any supported dialect and encoding is detected and read intact."""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outbound_desk.files import scan, sniff
from tests.files.conftest import read_all

ENCODINGS = [
    ("utf-8", b""),
    ("utf-8", codecs.BOM_UTF8),
    ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE),
    ("cp1252", b""),
]
# Text people's names and notes are made of, all of it encodable in Windows-1252.
ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 éèêëàâäçñöüßøåæÉÜÖÄ'-.,;|\t\"\n"
)
words = st.text(alphabet=ALPHABET, min_size=0, max_size=12)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    width = draw(st.integers(min_value=2, max_value=6))
    header = ["customerId"] + [f"field{i}" for i in range(1, width)]
    n = draw(st.integers(min_value=3, max_value=25))
    rows = []
    for i in range(n):
        text = [draw(words) for _ in range(width - 1)]
        if not any(text):
            text[0] = "x"
        rows.append([str(1000 + i), *text])
    return header, rows


@settings(
    max_examples=int(os.environ.get("OUTBOUND_DESK_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    table=tables(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    terminator=st.sampled_from(["\r\n", "\n"]),
    encoding=st.sampled_from(ENCODINGS),
)
def test_written_csv_is_detected_and_survives(
    table: tuple[list[str], list[list[str]]],
    delimiter: str,
    quoting: int,
    terminator: str,
    encoding: tuple[str, bytes],
) -> None:
    header, rows = table
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator=terminator).writerows(
        [header, *rows]
    )
    name, bom = encoding
    data = bom + buffer.getvalue().encode(name)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prop.csv"
        path.write_bytes(data)
        profile = scan(sniff(path))
        assert profile.delimiter == delimiter
        assert profile.has_header
        assert profile.columns == header
        assert profile.bom == bool(bom)
        assert profile.rows == len(rows)
        got, records = read_all(profile)
        assert got == rows
        assert records == list(range(2, len(rows) + 2))
        assert not [i for i in profile.issues if i.severity == "error"]
