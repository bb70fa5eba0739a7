"""Writes the sample files next to this script: python resources/samples/make_samples.py

Small realistic contact files, deterministic (a fixed seed), each showing one kind of file an
admin brings: a clean UTF-8 export, an Excel export damaged the usual ways, a headerless tab
file and Excel's "Unicode text" (UTF-16).
"""

from __future__ import annotations

import codecs
import csv
import io
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = ["customerId", "firstName", "lastName", "phoneNumber", "mobile", "email", "city", "zip"]
FIRST = ["José", "Chloé", "Björn", "Zoë", "Ann", "Renée", "Jürgen", "Søren", "Grace", "Mia"]
LAST = ["Müller", "Dupré", "O'Neil", "Smith", "Noël", "García", "Ærø", "Lee", "Brown", "Novak"]
CITIES = [
    ("Boston", "02134"),
    ("Cambridge", "02139"),
    ("Newark", "07102"),
    ("Austin", "78701"),
    ("Portland", "04101"),
    ("Zürich, CH", "08001"),
]


def people(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, zip_code = rng.choice(CITIES)
        rows.append(
            [
                f"C{100000 + i}",
                first,
                last,
                f"+1617555{rng.randrange(10_000):04d}",
                f"+1857{rng.randrange(10**7):07d}",
                f"{first.lower()}.{i}@example.com",
                city,
                zip_code,
            ]
        )
    return rows


def text(rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def excel_damaged(rows: list[list[str]]) -> list[list[str]]:
    """What Excel does to such a file when it is opened and saved again as CSV."""
    out = []
    for i, row in enumerate(rows):
        row = list(row)
        if i % 9 == 3:  # a long phone number shown in scientific notation, digits lost
            row[3] = f"{int(row[3][1:]):.5E}".replace("E+", "E+")
        if i % 11 == 5:  # a phone number stored as a float
            row[4] = row[4][1:] + ".0"
        if row[7].startswith("0"):  # zip codes read as numbers: leading zeros lost
            row[7] = row[7].lstrip("0")
        out.append(row)
    return out


def main() -> None:
    (HERE / "contacts_clean.csv").write_bytes(text([HEADER, *people(120, 1)]).encode("utf-8"))
    damaged = excel_damaged(people(120, 2))
    (HERE / "crm_export_excel.csv").write_bytes(
        text([HEADER, *damaged], delimiter=";").encode("cp1252")
    )
    (HERE / "headerless.tsv").write_bytes(text(people(80, 3), delimiter="\t").encode("utf-8"))
    (HERE / "excel_unicode_text.txt").write_bytes(
        codecs.BOM_UTF16_LE + text([HEADER, *people(80, 4)], delimiter="\t").encode("utf-16-le")
    )


if __name__ == "__main__":
    main()
