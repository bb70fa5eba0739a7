"""Every messy file of the corpus is detected right and read back value for value."""

from __future__ import annotations

from pathlib import Path

import pytest

from outbound_desk.files import FileError, scan, sniff
from tests.files.conftest import read_all
from tests.files.corpus import Case, cases

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_file(case: Case, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    if case.error:
        with pytest.raises(FileError) as info:
            scan(sniff(path))
        assert info.value.code == case.error
        assert "\n" not in str(info.value)
        return
    profile = scan(sniff(path))
    if case.encoding:
        assert profile.encoding == case.encoding
    assert profile.bom == case.bom
    if case.delimiter:
        assert profile.delimiter == case.delimiter
    if case.has_header is not None:
        assert profile.has_header == case.has_header
    codes = {i.code for i in profile.issues}
    assert case.codes <= codes, codes
    if case.rows is not None:
        rows, _ = read_all(profile)
        assert rows == case.rows
    # A clean file reports nothing at all.
    if not case.codes:
        assert not profile.issues, profile.issues


def test_latin1_and_cp1252_text_is_right(tmp_path: Path) -> None:
    text = "id,name,city\n1,Jürgen Ærø,Zürich\n2,Søren Ñandú,Besançon\n"
    for encoding in ("latin-1", "cp1252"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        profile = sniff(path)
        assert profile.encoding in ("cp1252", "iso8859-1")
        assert read_all(profile)[0] == [
            ["1", "Jürgen Ærø", "Zürich"],
            ["2", "Søren Ñandú", "Besançon"],
        ]


def test_cp1252_punctuation_decides_between_code_pages(tmp_path: Path) -> None:
    path = tmp_path / "quotes.csv"
    path.write_bytes("id,note\n1,“smart” quotes – 5 €\n".encode("cp1252"))
    profile = sniff(path)
    assert profile.encoding == "cp1252"
    assert read_all(profile)[0] == [["1", "“smart” quotes – 5 €"]]
