"""The streaming reader: record numbers, broken records, chunks, progress and cancel."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outbound_desk.files import Cancelled, Overrides, iter_chunks, scan, sniff
from tests.files.conftest import read_all


def test_quoted_newlines_do_not_start_records(write) -> None:  # type: ignore[no-untyped-def]
    path = write('id,note,phone\r\n1,"two\r\nlines",+1\r\n2,"a,b",+2\r\n3,x,+3\r\n4,y\r\n')
    profile = sniff(path)
    rows, records = read_all(profile)
    assert rows == [["1", "two\r\nlines", "+1"], ["2", "a,b", "+2"], ["3", "x", "+3"]]
    assert records == [2, 3, 4]
    chunk = next(iter(iter_chunks(profile)))
    assert chunk.raw == {5: ["4", "y"]}
    assert [(i.row, i.code) for i in chunk.issues] == [(5, "ragged_row")]


def test_record_numbers_without_header(write) -> None:  # type: ignore[no-untyped-def]
    path = write("+14155550001,Ann\n\n+14155550002,Bob\n")
    profile = sniff(path)
    assert not profile.has_header
    assert profile.columns == ["column_1", "column_2"]
    rows, records = read_all(profile)
    assert records == [1, 3]
    assert rows[1] == ["+14155550002", "Bob"]


def test_chunks_are_bounded_ordered_and_strings(write) -> None:  # type: ignore[no-untyped-def]
    lines = ["id,name,zip"] + [f"{i},n{i}," for i in range(1, 1001)]
    lines[500] = "500,broken"  # record 501
    path = write("\n".join(lines) + "\n")
    profile = sniff(path)
    chunks = list(iter_chunks(profile, chunk_rows=100))
    assert all(len(c.frame) <= 100 for c in chunks)
    records = np.concatenate([c.records for c in chunks])
    assert records.tolist() == [r for r in range(2, 1002) if r != 501]
    raw = {k: v for c in chunks for k, v in c.raw.items()}
    assert raw == {501: ["500", "broken"]}
    holder = next(c for c in chunks if 501 in c.raw)
    assert any(i.row == 501 and i.code == "ragged_row" for i in holder.issues)
    frame = chunks[0].frame
    assert list(frame.columns) == ["id", "name", "zip"]
    assert all(type(v) is str for v in frame["zip"])
    assert not frame.isna().any().any()
    assert frame["zip"].iat[0] == ""


def test_column_subset(write) -> None:  # type: ignore[no-untyped-def]
    profile = sniff(write("a,b,c\n1,2,3\n4,5,6\n"))
    chunk = next(iter(iter_chunks(profile, columns=["c", "a"])))
    assert chunk.frame.values.tolist() == [["3", "1"], ["6", "4"]]
    with pytest.raises(ValueError, match="no such columns"):
        next(iter(iter_chunks(profile, columns=["zz"])))


def test_invalid_bytes_are_located(write) -> None:  # type: ignore[no-untyped-def]
    good = "".join(f"{i},Zoë,Café\n" for i in range(20))
    data = ("id,name,city\n" + good).encode() + b"99,Bad\xe9,x\n"
    path = write(data)
    profile = scan(sniff(path))
    assert profile.encoding == "utf-8"
    bad = [i for i in profile.issues if i.code == "invalid_bytes"]
    assert len(bad) == 1
    assert bad[0].row == 22
    assert bad[0].column == "name"
    assert bad[0].offset == data.index(b"\xe9")
    rows, _ = read_all(profile)
    assert rows[-1] == ["99", "Bad\ufffd", "x"]


def test_scan_counts_hashes_and_caps(write) -> None:  # type: ignore[no-untyped-def]
    body = "id,name,phone\n" + "".join(f"{i},n\n" for i in range(1500))
    path = write(body)
    profile = scan(sniff(path))
    assert profile.rows == 1500
    assert profile.sha256 == hashlib.sha256(body.encode()).hexdigest()
    assert profile.issue_counts["ragged_row"] == 1500
    assert sum(i.code == "ragged_row" for i in profile.issues) == 1000


def test_progress_and_cancel(write) -> None:  # type: ignore[no-untyped-def]
    path = write("id,name\n" + "".join(f"{i},n{i}\n" for i in range(100_000)))
    profile = sniff(path)
    seen: list[tuple[int, int, str]] = []
    scan(profile, progress=lambda d, t, p: seen.append((d, t, p)))
    assert seen[-1] == (profile.size_bytes, profile.size_bytes, "reading")
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    with pytest.raises(Cancelled):
        list(iter_chunks(profile, cancelled=lambda: True))


def test_stray_quotes_take_the_exact_path(write) -> None:  # type: ignore[no-untyped-def]
    path = write('id,item,phone\n1,5" screen,+1\n2,"multi\nline",+2\n3,ok,+3\n')
    profile = sniff(path)
    assert profile.stray_quotes
    rows, records = read_all(profile)
    assert rows == [["1", '5" screen', "+1"], ["2", "multi\nline", "+2"], ["3", "ok", "+3"]]
    assert records == [2, 3, 4]


def test_overrides_win(write) -> None:  # type: ignore[no-untyped-def]
    path = write("a;b\n1;2\n".encode("cp1252"))
    profile = sniff(path, Overrides(encoding="latin-1", delimiter=",", has_header=False))
    assert profile.encoding == "iso8859-1"
    assert profile.delimiter == ","
    assert read_all(profile) == ([["a;b"], ["1;2"]], [1, 2])


def test_line_endings(write) -> None:  # type: ignore[no-untyped-def]
    assert sniff(write("a,b\r\n1,2\r\n")).line_ending == "CRLF"
    assert sniff(write("a,b\n1,2\n")).line_ending == "LF"
    assert sniff(write("a,b\r1,2\r")).line_ending == "CR"
    assert sniff(write("a,b\r\n1,2\n3,4\n")).line_ending == "mixed"
    # A newline inside a quoted value (Excel's Alt+Enter) is not a line ending.
    assert sniff(write('a,b\r\n1,"x\ny"\r\n')).line_ending == "CRLF"
    assert read_all(sniff(write("a,b\r1,2\r3,4\r")))[0] == [["1", "2"], ["3", "4"]]


def test_backslash_escaped_quotes(write) -> None:  # type: ignore[no-untyped-def]
    profile = sniff(write('id,note\n1,"say \\"hi\\""\n2,"a \\"b\\" c"\n'))
    assert profile.dialect.escapechar == "\\"
    assert read_all(profile)[0] == [["1", 'say "hi"'], ["2", 'a "b" c']]


def test_preview_is_bounded(write) -> None:  # type: ignore[no-untyped-def]
    profile = sniff(write("id,name\n" + "".join(f"{i},n\n" for i in range(1000))))
    assert len(profile.preview) == 200
    assert profile.preview[0] == ["0", "n"]
    assert profile.rows is None
    assert profile.sha256 is None


def test_scan_finds_excel_damage_in_any_block(write) -> None:  # type: ignore[no-untyped-def]
    # Far more than one read block (1 MB): blocks without "E+" or ".0" skip those checks,
    # and the damage sits only in the middle and at the very end.
    lines = ["customerId,phone,zip,note"]
    for i in range(60_000):
        phone = f"+1415555{i % 10_000:04d}"
        if i == 30_000:
            phone = "4.15555E+10"
        lines.append(f"{i:07d},{phone},02134,Zoë {i}")
    lines.append("0060000,14155552671.0,2134,last")
    profile = scan(sniff(write("\n".join(lines) + "\n")))
    found = {(i.row, i.code, i.column) for i in profile.issues if i.code != "value_too_long"}
    assert found == {
        (30_002, "scientific_notation", "phone"),
        (60_002, "float_phone", "phone"),
        (60_002, "lost_leading_zeros", "zip"),
    }
    assert profile.rows == 60_001


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("٣.٥E+١٢", "scientific_notation"),  # Arabic-Indic digits are digits to the rule too
        ("4,1e+10", "scientific_notation"),
        ("+14155552671.00", "float_phone"),
        ("x4.1E+10", None),
        ("4.1E+10 ", None),
        ("14155552671.05", None),
        ("12345.0", None),  # too short to be a phone
    ],
)
def test_excel_number_rules(write, value: str, code: str | None) -> None:  # type: ignore[no-untyped-def]
    path = write(f'id,phone,note\n1,"{value}",ok\n2,+14155552671,"a ""E+"" note"\n')
    profile = scan(sniff(path))
    found = [(i.row, i.column, i.code) for i in profile.issues]
    assert found == ([(2, "phone", code)] if code else [])


def test_lean_allocator_is_jemalloc_where_the_build_has_it() -> None:
    import pyarrow as pa

    from outbound_desk.files import use_lean_allocator

    before = pa.default_memory_pool()
    try:
        use_lean_allocator()
        expected = "jemalloc" if "jemalloc" in pa.supported_memory_backends() else None
        assert pa.default_memory_pool().backend_name == (expected or before.backend_name)
    finally:
        pa.set_memory_pool(before)


_ARENA_PROBE = """
import ctypes, ctypes.util, sys, threading
import numpy as np
if sys.argv[1] == "lean":
    from outbound_desk.files import use_lean_allocator
    use_lean_allocator()
barrier = threading.Barrier(6)
def work():
    barrier.wait()
    for _ in range(200):
        a = np.ones(5000) * 2  # 40 KB: under the mmap threshold, so from a malloc arena
        del a
threads = [threading.Thread(target=work) for _ in range(6)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL(ctypes.util.find_library("c")).malloc_stats()  # one "Arena N:" per arena
"""


def _glibc() -> bool:
    try:
        return sys.platform == "linux" and bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (ValueError, OSError):
        return False


@pytest.mark.skipif(not _glibc(), reason="malloc arenas are glibc's")
@pytest.mark.parametrize(("mode", "most"), [("lean", 2), ("plain", None)])
def test_lean_allocator_keeps_threads_to_two_malloc_arenas(mode: str, most: int | None) -> None:
    """Six threads making numpy temporaries at once use two glibc arenas after
    use_lean_allocator, and more without it (so the probe can tell)."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _ARENA_PROBE, mode],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    arenas = sum(line.startswith("Arena ") for line in done.stderr.splitlines())
    if most is not None:
        assert 1 <= arenas <= most
    else:
        assert arenas > 2


def test_a_replacement_character_written_in_the_file_is_utf8_not_damage(tmp_path) -> None:
    """U+FFFD is a valid character: a file holding it as its only non-ASCII text is UTF-8
    (it was read as Windows-1252, and the value came out as 'ï¿½')."""
    p = tmp_path / "fffd.csv"
    p.write_bytes('"id","note"\n"k0","\ufffd"\n'.encode())
    profile = sniff(p)
    assert profile.encoding == "utf-8"
    chunk = next(iter_chunks(profile))
    assert chunk.frame["note"].tolist() == ["\ufffd"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=6),
            st.text(max_size=4).map(lambda t: t.encode("utf-8", "surrogatepass")),
            st.sampled_from([b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xe2\x82"]),
        ),
        max_size=8,
    )
)
def test_utf8_check_agrees_with_pythons_codec(parts: list[bytes]) -> None:
    """The reader's UTF-8 check (Arrow's) decides like Python's strict codec: surrogates,
    overlong forms, cut sequences and code points past U+10FFFF are all invalid."""
    from outbound_desk.files.reader import is_utf8

    data = b"".join(parts)
    try:
        data.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    assert is_utf8(data) == valid


def test_a_scan_pass_gives_the_chunks_and_the_scan_in_one_read(tmp_path: Path) -> None:
    """Issue 13: the preview's table and scan are one read (files.ScanPass)."""
    from outbound_desk.files import ScanPass

    body = "id,name,phone\n" + "".join(f"C{i},n{i},212555{i:04d}\n" for i in range(300))
    path = tmp_path / "in.csv"
    path.write_text(body + "x\n\n", "utf-8")
    profile = sniff(path)
    reading = ScanPass(profile, chunk_rows=64)
    got = [c.records.tolist() for c in reading.chunks()]
    want = [c.records.tolist() for c in iter_chunks(profile, chunk_rows=64)]
    assert got == want
    scanned, expected = reading.scanned, scan(profile)
    assert scanned is not None
    assert (scanned.rows, scanned.sha256) == (expected.rows, expected.sha256)
    assert scanned.issue_counts == expected.issue_counts
    assert [(i.row, i.code) for i in scanned.issues] == [(i.row, i.code) for i in expected.issues]
    assert scanned.identity is not None
    assert scanned.identity.same_as(expected.identity)
