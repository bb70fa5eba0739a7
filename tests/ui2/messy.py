"""Small messy contact files for the UI tests (the file engine's tests own the full corpus)."""

from __future__ import annotations

from pathlib import Path

from outbound_desk.contacts import Field, ListSchema

HEADER = ["customerId", "firstName", "lastName", "phoneNumber", "email", "city"]


def good_rows(n: int, start: int = 0) -> list[list[str]]:
    return [
        [
            f"C{i:06d}",
            f"First{i}",
            f"Last{i}",
            f"+1415555{i % 10000:04d}",
            f"p{i}@example.com",
            "Zürich" if i % 7 == 0 else "Boston",
        ]
        for i in range(start, start + n)
    ]


def write(
    path: Path,
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    newline: str = "\n",
    bom: bool = False,
) -> Path:
    text = newline.join(delimiter.join(r) for r in rows) + newline
    data = text.encode(encoding)
    if bom:
        data = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe"}[encoding] + data
    path.write_bytes(data)
    return path


def schema() -> ListSchema:
    return ListSchema(
        name="Spring Renewals",
        fields=(
            Field("customerId", required=True),
            Field("firstName"),
            Field("lastName"),
            Field("phoneNumber", required=True, format="E.164", phone_type="cell"),
            Field("email", format="email"),
            Field("city"),
        ),
        id_column="customerId",
    )


def corpus(tmp: Path) -> dict[str, Path]:
    """One file per kind of mess the preview must open."""
    rows = good_rows(40)
    files = {
        "clean": write(tmp / "clean.csv", [HEADER, *rows]),
        "utf8_bom_crlf": write(tmp / "bom.csv", [HEADER, *rows], bom=True, newline="\r\n"),
        "cp1252_semicolon": write(
            tmp / "excel.csv",
            [
                HEADER,
                *[
                    [r[0], "José" if i % 2 else "Søren", "Muñoz", "4.15555E+10", r[4], "Málaga"]
                    for i, r in enumerate(rows)
                ],
            ],
            delimiter=";",
            encoding="cp1252",
            newline="\r\n",
        ),
        "utf16_tab": write(
            tmp / "unicode.txt",
            [HEADER, *rows],
            delimiter="\t",
            encoding="utf-16-le",
            bom=True,
            newline="\r\n",
        ),
        "headerless_pipe": write(tmp / "noheader.csv", rows, delimiter="|"),
        "ragged": write(
            tmp / "ragged.csv",
            [HEADER, *rows[:5], ["C9", "only", "three"], *rows[5:10], [*rows[10], "surplus"]],
        ),
        "bad_phones_dupes": write(
            tmp / "bad.csv",
            [
                HEADER,
                *rows[:5],
                ["C000001", "Dup", "Row", "+14155550001", "d@example.com", "X"],
                ["C777", "Bad", "Phone", "12", "not-an-email", "Y"],
            ],
        ),
    }
    quoted = tmp / "quoted.csv"
    quoted.write_text(
        ",".join(HEADER)
        + "\n"
        + 'C1,"Ann, Jr.",Lee,+14155550100,a@example.com,"New\nYork"\n'
        + "C2,Bob,Ray,+14155550101,b@example.com,Austin\n",
        encoding="utf-8",
    )
    files["quoted_newline"] = quoted
    return files
