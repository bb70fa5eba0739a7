"""Text files that went wrong (issue 15): single-quote quoting, stray quotes in UTF-16."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from outbound_desk.files import scan, sniff
from tests.files.conftest import read_all


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("'id','name','city'\n'1','Ann','Boston'\n'2','O''Brien','Cork'\n'3','Zoë','Paris'\n", ","),
        ("id;name\n'1';'Ann'\n'2';'Bob'\n'3';'Cy'\n", ";"),
    ],
)
def test_single_quotes_are_detected_as_the_quote_character(
    tmp_path: Path, text: str, delimiter: str
) -> None:
    path = tmp_path / "q.csv"
    path.write_text(text, encoding="utf-8")
    profile = sniff(path)
    assert profile.quotechar == "'"
    assert profile.delimiter == delimiter
    rows, _ = read_all(profile)
    assert all(not v.startswith("'") for r in rows for v in r)
    assert rows[1][1] in ("O'Brien", "Bob")


def test_apostrophes_in_a_double_quoted_file_do_not_make_it_single_quoted(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        'id,name,note\n1,O\'Brien,"it\'s fine"\n2,D\'Arcy,ok\n3,Ann,"say ""hi"""\n'
        "4,Bo,'quoted' word\n5,Cy,don't\n",
        encoding="utf-8",
    )
    profile = sniff(path)
    assert profile.quotechar == '"'
    assert read_all(profile)[0][0] == ["1", "O'Brien", "it's fine"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-8"])
def test_a_stray_quote_names_its_record_in_every_encoding(tmp_path: Path, encoding: str) -> None:
    text = 'id,name,note\r\n1,Ann,ok\r\n2,Bob,"quoted\r\nline"\r\n3,Cy,5" tall\r\n4,Di,fine\r\n'
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    path = tmp_path / "s.csv"
    path.write_bytes(bom + text.encode(encoding))
    profile = scan(sniff(path))
    stray = [i for i in profile.issues if i.code == "stray_quote"]
    assert [(i.row, i.column) for i in stray] == [(4, "note")]
    assert "record 4" in stray[0].message
    assert all("None" not in i.message for i in profile.issues)
    rows, records = read_all(profile)
    assert rows[2] == ["3", "Cy", '5" tall']
    assert records == [2, 3, 4, 5]
