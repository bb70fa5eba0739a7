"""A corpus of messy contact files, generated so that every test knows what is inside.

Each case is the bytes of a file plus what a correct reader must find in it. ``write_corpus``
puts them in a directory; tests and the benchmark use the same cases.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HEADER = ["customerId", "firstName", "lastName", "phoneNumber", "email", "city", "zip"]
PEOPLE = [
    ["1001", "José", "Müller", "+14155552671", "jose@example.com", "Zürich", "02134"],
    ["1002", "Françoise", "Dupré", "+33612345678", "f.dupre@example.fr", "Orléans", "45000"],
    ["1003", "Ann", "O'Neil", "+353861234567", "ann@example.ie", "Cork, IE", "10001"],
    ["1004", "Björn", "Ærø", "+4520123456", "bjorn@example.dk", 'The "Old" Town', "20001"],
    ["1005", "Zoë", "Smith", "+442071234567", "zoe@example.co.uk", "London", "30002"],
    ["1006", "Renée", "Noël", "+33198765432", "renee@example.fr", "Line one\nLine two", "40003"],
]


@dataclass
class Case:
    """One corpus file and what is true about it."""

    name: str
    data: bytes
    encoding: str | None = None  # codecs.lookup name, when the test checks it
    bom: bool = False
    delimiter: str | None = None
    has_header: bool | None = None
    rows: list[list[str]] | None = None  # every data record, exactly
    codes: set[str] = field(default_factory=set)  # issue codes that must be reported
    error: str | None = None  # FileError code, when the file cannot be read

    def write(self, directory: Path) -> Path:
        path = directory / self.name
        path.write_bytes(self.data)
        return path


def to_csv(
    rows: Sequence[Sequence[str]],
    *,
    delimiter: str = ",",
    lineterminator: str = "\r\n",
    quoting: int = csv.QUOTE_MINIMAL,
) -> str:
    buffer = io.StringIO()
    csv.writer(
        buffer, delimiter=delimiter, lineterminator=lineterminator, quoting=quoting
    ).writerows(rows)
    return buffer.getvalue()


def _people_text(delimiter: str = ",", header: bool = True, lineterminator: str = "\r\n") -> str:
    return to_csv(
        ([HEADER] if header else []) + PEOPLE, delimiter=delimiter, lineterminator=lineterminator
    )


def cases() -> list[Case]:
    out: list[Case] = []
    text = _people_text()
    for enc, bom, name in [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16-le"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16-be"),
        ("utf-32-le", codecs.BOM_UTF32_LE, "utf-32-le"),
    ]:
        out.append(
            Case(
                f"enc_{enc}{'_bom' if bom else ''}.csv",
                bom + text.encode(enc),
                encoding=name,
                bom=bool(bom),
                delimiter=",",
                has_header=True,
                rows=PEOPLE,
            )
        )
    # Excel's "Unicode text": UTF-16 LE with a BOM, tab-separated.
    out.append(
        Case(
            "excel_unicode_text.txt",
            codecs.BOM_UTF16_LE + _people_text("\t").encode("utf-16-le"),
            encoding="utf-16-le",
            bom=True,
            delimiter="\t",
            has_header=True,
            rows=PEOPLE,
        )
    )
    # Excel's CSV on a Western Windows: Windows-1252, semicolons, a euro sign.
    euro = [
        *PEOPLE[:2],
        ["1007", "Léa", "Prix 5 €", "+33100000000", "lea@example.fr", "Nice", "06000"],
    ]
    out.append(
        Case(
            "excel_cp1252_semicolon.csv",
            to_csv([HEADER, *euro], delimiter=";").encode("cp1252"),
            encoding="cp1252",
            delimiter=";",
            has_header=True,
            rows=euro,
        )
    )
    out.append(
        Case(
            "latin1.csv",
            text.replace("Ærø", "Aero").encode("latin-1"),
            delimiter=",",
            has_header=True,
            rows=[[v.replace("Ærø", "Aero") for v in r] for r in PEOPLE],
        )
    )
    # One Windows-1252 character 50,000 rows down decides the encoding.
    filler = [
        [str(100000 + i), "Ann", "Lee", f"+1415555{i % 10000:04d}", "", "Boston", "02134"]
        for i in range(50_000)
    ]
    late = [*filler, ["200000", "Chloé", "Lee", "+14155550000", "", "Boston", "02134"]]
    out.append(
        Case(
            "late_cp1252.csv",
            to_csv([HEADER, *late]).encode("cp1252"),
            encoding="cp1252",
            delimiter=",",
            has_header=True,
            rows=late,
        )
    )
    for delimiter, tag in [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")]:
        out.append(
            Case(
                f"delim_{tag}.csv",
                _people_text(delimiter).encode(),
                encoding="utf-8",
                delimiter=delimiter,
                has_header=True,
                rows=PEOPLE,
            )
        )
    out.append(
        Case(
            "all_quoted_lf.csv",
            to_csv([HEADER, *PEOPLE], lineterminator="\n", quoting=csv.QUOTE_ALL).encode(),
            delimiter=",",
            has_header=True,
            rows=PEOPLE,
        )
    )
    out.append(
        Case(
            "headerless_tab.tsv",
            _people_text("\t", header=False, lineterminator="\n").encode(),
            delimiter="\t",
            has_header=False,
            rows=PEOPLE,
        )
    )
    ragged = (
        "customerId,firstName,phone\n1,Ann,+14155552671\n2,Bob\n3,Cy,+1415,extra\n"
        "4,Dee,+14155550004\n"
    )
    out.append(
        Case(
            "ragged.csv",
            ragged.encode(),
            delimiter=",",
            has_header=True,
            rows=[["1", "Ann", "+14155552671"], ["4", "Dee", "+14155550004"]],
            codes={"ragged_row"},
        )
    )
    blanks = "id,name,phone\n1,Ann,+1415\n\n2,Bob,+1416\n,,\n3,Cy,+1417\n\n\n"
    out.append(
        Case(
            "blank_rows.csv",
            blanks.encode(),
            has_header=True,
            rows=[["1", "Ann", "+1415"], ["2", "Bob", "+1416"], ["3", "Cy", "+1417"]],
            codes={"blank_row", "trailing_blank_lines"},
        )
    )
    out.append(
        Case(
            "nul_bytes.csv",
            b"id,name,phone\n1,An\x00n,+1415\n2,Bob,+1416\n",
            rows=[["1", "Ann", "+1415"], ["2", "Bob", "+1416"]],
            codes={"nul_byte"},
        )
    )
    out.append(
        Case(
            "unterminated.csv",
            b'id,name,phone\n1,Ann,+1415\n2,"Bob,+1416\n3,Cy,+1417\n',
            rows=[["1", "Ann", "+1415"]],
            codes={"unterminated_quote"},
        )
    )
    damaged = (
        "customerId;firstName;phoneNumber;zip\n"
        + "".join(f"{1000 + i};N{i};+1415555{i:04d};0{2100 + i}\n" for i in range(20))
        + "2000;Amy;4.15555E+10;2134\n2001;Ben;14155552671.0;02135\n"
    )
    out.append(
        Case(
            "excel_damage.csv",
            damaged.encode(),
            delimiter=";",
            has_header=True,
            codes={"scientific_notation", "float_phone", "lost_leading_zeros"},
        )
    )
    bad_header = "id,,name,Name,phone\n1,x,Ann,Ann,+1415\n"
    out.append(
        Case(
            "bad_header.csv",
            bad_header.encode(),
            has_header=True,
            codes={"empty_header", "duplicate_header"},
        )
    )
    wide = [[f"col{i}" for i in range(60)], [str(i) for i in range(60)]]
    out.append(Case("wide.csv", to_csv(wide).encode(), has_header=True, codes={"too_many_columns"}))
    long_values = [["id", "x" * 200, "phone"], ["1", "y" * 600, "+1415"]]
    out.append(
        Case(
            "huge_fields.csv",
            to_csv(long_values).encode(),
            has_header=True,
            rows=[["1", "y" * 600, "+1415"]],
            codes={"header_too_long", "value_too_long"},
        )
    )
    out.append(Case("empty.csv", b"", error="empty"))
    out.append(Case("only_bom.csv", codecs.BOM_UTF8, error="empty"))
    out.append(Case("blank_only.csv", b"\r\n\r\n\n", error="empty"))
    # A damaged workbook (issue 15: workbooks are read; this one says it is unreadable).
    out.append(
        Case("workbook.xlsx", b"PK\x03\x04" + bytes(range(256)) * 20, error="workbook_corrupt")
    )
    out.append(Case("random.bin", bytes((i * 7919) % 256 for i in range(8192)), error="binary"))
    out.append(
        Case(
            "truncated_utf16.csv",
            codecs.BOM_UTF16_LE + text.encode("utf-16-le")[:-1],
            error="truncated",
        )
    )
    out.append(
        Case(
            "truncated_utf8.csv",
            "id,name\n1,Zo\u00eb\n2,Jos\u00e9".encode()[:-1],
            error="truncated",
        )
    )
    return out


def write_corpus(directory: Path) -> dict[str, Path]:
    return {case.name: case.write(directory) for case in cases()}
