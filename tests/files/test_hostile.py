"""Hostile input in the file layer (issue 16): wide and repeated headers, huge fields, many
invalid bytes, surrogates and replacement characters. Each test failed before its fix."""

from __future__ import annotations

import csv
import random
import tracemalloc
from pathlib import Path

import pytest

from outbound_desk.files import FileError, iter_chunks, scan, sniff
from outbound_desk.files.dialect import count_fields, unique_columns
from outbound_desk.files.model import KEPT_RECORD_BYTES, LONG_RECORD_BYTES, Dialect
from tests.files.conftest import read_all


def _peak(fn):  # type: ignore[no-untyped-def]
    """(result, peak bytes that Python allocated while *fn* ran)."""
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_unique_columns_keeps_its_names_for_any_repeats() -> None:
    assert unique_columns(["a", "a", "a_2", "a", " ", ""]) == [
        "a",
        "a_2",
        "a_2_2",
        "a_3",
        "column_5",
        "column_6",
    ]
    names = unique_columns(["x"] * 5000)
    assert names[:3] == ["x", "x_2", "x_3"]
    assert names[-1] == "x_5000"
    assert len(set(names)) == 5000


def test_count_fields_stops_early_and_respects_quotes() -> None:
    d = Dialect()
    assert count_fields('a,"b,c",d\n1,2', d, 50) == 3
    assert count_fields("abc," * 1_000_000, d, 1000) == 1001
    assert count_fields('a,"x\ny,z",b\n', d, 50) == 3
    assert count_fields("a\\,b,c\n", Dialect(",", '"', False, "\\"), 50) == 2


@pytest.mark.parametrize(
    "header",
    [b",".join([b"phone"] * 40_000), b"abc," * 2_000_000],
    ids=["40000_equal_names", "8MB_line_of_delimiters"],
)
def test_a_header_far_wider_than_a_list_is_refused_before_it_is_parsed(
    header: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(header + b"\n1,2\n")

    def refused() -> FileError:
        with pytest.raises(FileError, match="more than 1,000 fields") as info:
            sniff(path)
        return info.value

    error, peak = _peak(refused)
    assert error.code == "too_many_columns"
    assert peak < 3 * len(header) + (16 << 20)  # the file's text, not a list of its fields


def test_a_header_longer_than_the_sniff_window_is_said_plainly(tmp_path: Path) -> None:
    """Files over 32 MiB are sniffed from a 1 MiB head: a longer header was cut silently."""
    names = [f"{i:04d}" + "n" * 1400 for i in range(800)]  # 800 names, 1.1 MB
    path = tmp_path / "big.csv"
    with path.open("wb") as f:
        f.write(",".join(names).encode() + b"\n")
        row = (",".join(["1"] * 800) + "\n").encode()
        f.write(row * (33 * 1024 * 1024 // len(row)))
    with pytest.raises(FileError, match="first record is longer than") as info:
        sniff(path)
    assert info.value.code == "record_too_long"


def _fallback_file(path: Path, value: bytes, quoted: bool = True) -> bytes:
    """One long value, then a ragged record in the same block (the stdlib parser's path)."""
    cell = b'"' + value + b'"' if quoted else value
    data = b"id,note,x\n1," + cell + b",z\n2,ragged\n3,ok,ok\n"
    path.write_bytes(data)
    return data


def test_a_field_over_the_stdlib_limit_is_a_clear_issue_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    _fallback_file(path, b"y" * 300_000)
    assert csv.field_size_limit() > 300_000
    profile = scan(sniff(path))
    assert profile.rows == 3
    too_long = [i for i in profile.issues if i.code == "value_too_long"]
    assert [(i.row, i.column) for i in too_long] == [(2, "note")]
    assert "300000 characters" in too_long[0].message
    assert "512" in too_long[0].message
    rows, records = read_all(profile)
    assert records == [2, 4]
    assert rows[1] == ["3", "ok", "ok"]


@pytest.mark.parametrize("shape", ["one_line", "many_lines", "unquoted"])
def test_a_record_longer_than_the_limit_is_cut_rejected_and_memory_stays_bounded(
    shape: str, tmp_path: Path
) -> None:
    # (Fewer lines for the many-lines shape: tracemalloc slows each line's string down.)
    size = (3 if shape == "many_lines" else 12) * LONG_RECORD_BYTES
    value = {"one_line": b"y" * size, "many_lines": b"y\n" * (size // 2), "unquoted": b"y" * size}
    path = tmp_path / "f.csv"
    _fallback_file(path, value[shape], quoted=shape != "unquoted")
    profile, peak = _peak(lambda: scan(sniff(path)))
    codes = {i.code for i in profile.issues}
    assert profile.rows == 3
    assert "ragged_row" in codes
    assert codes & {"record_too_long", "value_too_long"}
    chunks = list(iter_chunks(profile))
    assert 4 in [int(r) for c in chunks for r in c.records]
    raw = {r: v for c in chunks for r, v in c.raw.items()}
    # The long record is rejected: broken (in raw), or with an error on its row.
    errors = {i.row for c in chunks for i in c.issues if i.severity == "error"}
    assert 2 in raw or 2 in errors
    if 2 in raw:  # cut: only its first bytes are kept
        assert sum(len(v) for v in raw[2]) <= KEPT_RECORD_BYTES
    # Was: the whole field several times over, or a traceback.
    assert peak < 4 * size + (48 << 20)


def test_an_unterminated_quote_is_reported_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.csv"
    rows = b"".join(b"%d,n%d,x\n" % (i, i) for i in range(400_000))
    path.write_bytes(b'id,note,x\n1,"never closed\n' + rows)
    profile = scan(sniff(path))
    assert "unterminated_quote" in profile.issue_counts
    assert profile.rows == 1


def _utf8_file(path: Path, rows: int, junk: bytes = b"") -> bytes:
    good = "".join(f"{i},Zoë {i},Café\n" for i in range(rows)).encode()
    data = b"id,name,city\n" + good[: len(good) // 2] + junk + good[len(good) // 2 :]
    path.write_bytes(data)
    return data


def test_invalid_bytes_are_one_issue_per_value_and_counted_past_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    good = "".join(f"{i},Zoë,Café\n" for i in range(8000)).encode()
    bad = b"".join(b"%d,n\xff\xfe,x\n" % i for i in range(1500))
    path.write_bytes(b"id,name,city\n" + good + bad)
    profile = scan(sniff(path))
    assert profile.encoding == "utf-8"
    kept = [i for i in profile.issues if i.code == "invalid_bytes"]
    assert profile.issue_counts["invalid_bytes"] == 1500  # one a value, all counted
    assert len(kept) == 1000
    first = kept[0]
    assert first.row == 8002
    assert first.column == "name"
    assert first.offset == (b"id,name,city\n" + good + bad).index(b"\xff")
    assert "ff fe" in first.message


def test_peak_memory_does_not_grow_with_how_broken_the_file_is(tmp_path: Path) -> None:
    clean = tmp_path / "clean.csv"
    broken = tmp_path / "broken.csv"
    junk = random.Random(1).randbytes(300_000)
    _utf8_file(clean, 120_000, b"x" * len(junk))
    _utf8_file(broken, 120_000, junk)
    _, clean_peak = _peak(lambda: scan(sniff(clean)))
    profile, broken_peak = _peak(lambda: scan(sniff(broken)))
    assert profile.issue_counts.get("invalid_bytes", 0) > 1000
    assert len(profile.issues) <= 1000 * len(profile.issue_counts)
    assert broken_peak < 2 * clean_peak + (8 << 20)


def test_a_replacement_character_in_a_stray_quote_file_is_not_damage(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes('id,item,note\n1,5" screen,\ufffd ok\n2,a,b\n'.encode())
    profile = scan(sniff(path))
    assert profile.stray_quotes
    assert "invalid_bytes" not in profile.issue_counts
    rows, records = read_all(profile)
    assert rows[0] == ["1", '5" screen', "\ufffd ok"]
    assert records == [2, 3]


def test_a_replacement_character_beside_real_damage_keeps_the_offsets_right(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.csv"
    data = "id,a,b\n1,\ufffd,Zoë\n2,Café,Zoë\n".encode() + b"3,bad\xe9,z\n"
    path.write_bytes(data)
    profile = scan(sniff(path))
    bad = [i for i in profile.issues if i.code == "invalid_bytes"]
    assert [(i.row, i.column, i.offset) for i in bad] == [(4, "a", data.index(b"\xe9"))]


def test_invalid_bytes_in_a_stray_quote_file_are_still_found(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    good = "".join(f"{i},Zoë,Café\n" for i in range(20)).encode()
    path.write_bytes(b'id,item,note\n1,5" screen,ok\n' + good + b"99,b\xff,c\n")
    profile = scan(sniff(path))
    assert profile.stray_quotes
    assert profile.encoding == "utf-8"
    bad = [i for i in profile.issues if i.code == "invalid_bytes"]
    assert [(i.row, i.column) for i in bad] == [(23, "item")]
    rows, _ = read_all(profile)
    assert rows[-1] == ["99", "b\ufffd", "c"]


def test_a_cesu_surrogate_is_an_issue_on_its_record_and_the_file_stays_utf8(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.csv"
    # U+1F600 as two UTF-16 surrogates each written as UTF-8 (CESU-8).
    path.write_bytes("id,name\n1,Zoë\n".encode() + b"2,\xed\xa0\xbd\xed\xb8\x80 smile\n3,Bob\n")
    profile = scan(sniff(path))
    assert profile.encoding == "utf-8"
    bad = [i for i in profile.issues if i.code == "invalid_bytes"]
    assert [(i.row, i.column) for i in bad] == [(3, "name")]
    assert "CESU-8" in bad[0].message
    rows, records = read_all(profile)
    assert rows[0] == ["1", "Zoë"]
    assert records[-1] == 4


def test_millions_of_blank_lines_are_one_issue(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"id,name\n1,a\n" + b"\n" * 2_000_000 + b"2,b\n")
    profile, peak = _peak(lambda: scan(sniff(path)))
    blank = [i for i in profile.issues if i.code == "blank_row"]
    assert len(blank) == 1
    assert "2,000,000" in blank[0].message
    assert profile.rows == 2
    assert peak < 64 << 20
