"""Fuzz (issue 16): random bytes, repeated headers, huge fields and truncations thrown at the
reader, ``inspect`` and ``validate``. Whatever comes in, the answer is a clear message and an
exit code from the contract (0, 1, 2), never a traceback, with bounded memory.

The examples are small (a few hundred KB, a huge field just over the 1 MiB record limit) so
that the three tests take well under a minute; ``OUTBOUND_DESK_EXAMPLES`` raises the count.
"""

from __future__ import annotations

import io
import json
import os
import random
import tempfile
import tracemalloc
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outbound_desk.cli import main
from outbound_desk.files import FileError, iter_chunks, scan, sniff
from outbound_desk.files.model import LONG_RECORD_BYTES
from tests.contacts.conftest import SCHEMA

IN_CI = bool(os.environ.get("CI"))
EXAMPLES = int(os.environ.get("OUTBOUND_DESK_EXAMPLES", "15"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=IN_CI,
    database=None if IN_CI else settings.default.database,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: Memory a run may take beyond a few times its input: a line of up to LONG_RECORD_BYTES
#: (1 MiB) of delimiters is half a million strings in the stdlib reader, plus the
#: interpreter's share of pandas, numpy and Arrow work. Unbounded paths took far more on these
#: inputs (a 1 MB file of one-byte broken records: 246 MB; a 200 MB field: 1.5 GB).
SLACK = 96 << 20

HEADER = b"customerId,firstName,phoneNumber,homePhone,emailAddress"


def _row(r: random.Random, i: int) -> bytes:
    phone = r.choice([b"2125550101", b"(212) 555-0123", b"+44 20 7946 0958", b"12", b""])
    name = r.choice([b"Ann", "Zoë".encode(), b'"Lee, Jo"', b"=cmd", b""])
    return b"C%d,%s,%s,,a%d@example.com" % (i, name, phone, i)


DAMAGE = ["random_bytes", "header_repeats", "huge_field", "truncate", "stray_quotes",
          "all_random", "nul", "blank_lines", "crlf_mix"]  # fmt: skip


@st.composite
def recipes(draw: st.DrawFn) -> tuple[int, int, tuple[str, ...]]:
    """How to make a hostile file (small to show when a test fails): a seed, the number of
    rows, the kinds of damage."""
    seed = draw(st.integers(0, 2**32 - 1))
    rows = draw(st.integers(0, 300))
    damage = draw(st.lists(st.sampled_from(DAMAGE), min_size=1, max_size=3, unique=True))
    return seed, rows, tuple(sorted(damage))


def hostile_file(recipe: tuple[int, int, tuple[str, ...]]) -> bytes:
    """A contact file, then the recipe's damage."""
    seed, count, damage = recipe
    r = random.Random(seed)
    rows = [_row(r, i) for i in range(count)]
    header = HEADER
    if "header_repeats" in damage:
        header = b",".join([r.choice(header.split(b","))] * r.randrange(2, 3000))
    if "huge_field" in damage and rows:
        size = r.choice([200_000, LONG_RECORD_BYTES + 4096])
        filler = r.choice([b"x", b"x\n", b'""', b"a,"])
        value = filler * (size // len(filler))
        at = r.randrange(len(rows))
        rows[at] = b'C0,"' + value + b'",1,,' if r.random() < 0.7 else b"C0," + value + b",1,,"
        rows.insert(at + 1, b"ragged")
    if "stray_quotes" in damage:
        rows = [row.replace(b",", b',5" x', 1) if r.random() < 0.3 else row for row in rows]
    if "blank_lines" in damage:
        rows = [row + b"\n" * r.randrange(3) for row in rows]
    eol = b"\r\n" if "crlf_mix" not in damage else b"\n"
    data = bytearray(header + eol + eol.join(rows) + (eol if rows else b""))
    if "crlf_mix" in damage:
        data = bytearray(bytes(data).replace(b"\n", b"\r", r.randrange(1, 50)))
    if "random_bytes" in damage and data:
        for _ in range(r.randrange(1, 200)):
            at = r.randrange(len(data))
            data[at : at + 1] = r.randbytes(r.randrange(1, 8))
    if "nul" in damage and data:
        for _ in range(r.randrange(1, 20)):
            data.insert(r.randrange(len(data)), 0)
    if "all_random" in damage:
        data = bytearray(r.randbytes(r.randrange(0, 20_000)))
    if "truncate" in damage and data:
        data = data[: r.randrange(len(data) + 1)]
    return bytes(data)


def _measured(fn: Callable[[], Any]) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        return fn(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def _one_clear_line(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("outbound-desk: error: "), err
    assert len(lines[0]) > len("outbound-desk: error: ") + 10, err


@FUZZ
@given(recipe=recipes())
def test_the_reader_reads_or_refuses_any_file(recipe: tuple[int, int, tuple[str, ...]]) -> None:
    data = hostile_file(recipe)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_bytes(data)

        def read() -> int | None:
            try:
                profile = scan(sniff(path))
            except FileError as exc:
                refused = exc
            else:
                refused = None
            if refused is not None:
                assert str(refused)
                assert refused.code
                return None
            records = 0
            for chunk in iter_chunks(profile):
                records += chunk.table.num_rows + len(chunk.raw)
                assert chunk.table.num_columns == len(profile.columns)
            assert records == profile.rows
            assert sum(profile.issue_counts.values()) >= len(profile.issues)
            return records

        _, peak = _measured(read)
        assert peak < 6 * len(data) + SLACK


@FUZZ
@given(recipe=recipes())
def test_inspect_answers_any_file_with_json_or_one_line(
    recipe: tuple[int, int, tuple[str, ...]],
) -> None:
    data = hostile_file(recipe)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_bytes(data)
        (code, out, err), peak = _measured(lambda: _cli(["inspect", str(path), "--json"]))
        assert code in (0, 1), err
        if code == 0:
            profile = json.loads(out.encode("utf-8"))
            assert profile["rows"] is not None
            assert all(i["message"] for i in profile["issues"])
        else:
            assert out == ""
            _one_clear_line(err)
        assert peak < 6 * len(data) + SLACK


@FUZZ
@given(recipe=recipes())
def test_validate_answers_any_file_and_writes_whole_files_or_none(
    recipe: tuple[int, int, tuple[str, ...]],
) -> None:
    data = hostile_file(recipe)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "f.csv"
        path.write_bytes(data)
        schema = root / "schema.json"
        schema.write_text(json.dumps(SCHEMA), encoding="utf-8")
        out_file, rejects = root / "out.csv", root / "rejects.csv"
        args = ["validate", str(path), "--schema", str(schema), "--json"]
        args += ["--out", str(out_file), "--rejects", str(rejects)]
        (code, out, err), peak = _measured(lambda: _cli(args))
        assert code in (0, 1, 2), err
        if out:
            report = json.loads(out)
            assert report["rows"] == report["valid"] + report["invalid"]
            assert code in (0, 1)
            if code == 0:
                assert report["invalid"] == 0
            if rejects.exists():
                rejects.read_bytes().decode("utf-8")  # whole, and UTF-8
        else:
            _one_clear_line(err)
            assert not out_file.exists()
        assert not list(root.glob("*.partial"))
        assert path.read_bytes() == data  # the input is never touched
        assert peak < 6 * len(data) + SLACK
