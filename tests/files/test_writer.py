from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pandas as pd
import pytest

from outbound_desk.files import NormalisedWriter, neutralise, sniff, write_csv
from tests.files.conftest import read_all


def test_round_trip_bytes_and_checksum(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    frame = pd.DataFrame(
        {"id": ["1", "2"], "note": ['a "q", b', "two\nlines"], "phone": ["+1415", ""]}
    )
    with NormalisedWriter(path) as writer:
        writer.write_header(["id", "note", "phone"])
        writer.write_frame(frame)
        writer.write_rows([["3", "Zoë", "=1+1"]])
        digest = writer.close()
    data = path.read_bytes()
    assert digest == hashlib.sha256(data).hexdigest()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.startswith(b"id,note,phone\r\n")
    expected = [["1", 'a "q", b', "+1415"], ["2", "two\nlines", ""], ["3", "Zoë", "=1+1"]]
    assert list(csv.reader(io.StringIO(data.decode(), newline="")))[1:] == expected
    profile = sniff(path)
    assert (profile.encoding, profile.delimiter, profile.has_header) == ("utf-8", ",", True)
    assert read_all(profile)[0] == expected


def test_neutralised_formulas_for_reject_files(tmp_path: Path) -> None:
    path = tmp_path / "rejects.csv"
    frame = pd.DataFrame({"a": ["=HYPERLINK(1)", "+1415", "-2", "@x", "ok"]})
    digest = write_csv(path, ["a"], [frame, [["=cmd"]]], neutralise_formulas=True)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    assert [r[0] for r in rows] == ["a", "'=HYPERLINK(1)", "'+1415", "'-2", "'@x", "ok", "'=cmd"]
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert neutralise("plain") == "plain"


def test_writer_refuses_mismatched_columns(tmp_path: Path) -> None:
    with NormalisedWriter(tmp_path / "x.csv") as writer:
        with pytest.raises(ValueError, match="write_header first"):
            writer.write_rows([["1"]])
        writer.write_header(["a", "b"])
        with pytest.raises(ValueError, match="columns"):
            writer.write_frame(pd.DataFrame({"b": ["1"], "a": ["2"]}))
        with pytest.raises(ValueError, match="1 values for 2 columns"):
            writer.write_rows([["1"]])
