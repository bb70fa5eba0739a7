"""Hostile input at the command line (issue 16 items 1, 7, 9, 10): a clear line and an exit
code from the contract, never a traceback, and nothing overwritten. Each failed before."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from outbound_desk.cli import main
from tests.contacts.conftest import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
ROWS = "customerId,firstName,phoneNumber,homePhone,emailAddress\nA1,Ann,2125550101,,\n"


def _run(*args: str | os.PathLike[str] | bytes) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(
        [sys.executable, "-m", "outbound_desk", *args],
        capture_output=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert b"Traceback" not in done.stderr, done.stderr.decode("utf-8", "replace")
    return done


@pytest.fixture
def schema_file(tmp_path: Path) -> Path:
    p = tmp_path / "schema.json"
    p.write_text(json.dumps(SCHEMA), encoding="utf-8")
    return p


def test_a_header_of_40000_equal_names_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(b",".join([b"phone"] * 40_000) + b"\n1,2\n")
    done = _run("inspect", path, "--json")
    assert done.returncode == 1
    assert done.stdout == b""
    err = done.stderr.decode()
    assert "more than 1,000 fields" in err
    assert err.count("\n") == 1


# ---------------------------------------------------------------- item 9: --out and --rejects
def _outputs(tmp_path: Path, src: Path, kind: str) -> tuple[str, str]:
    if kind == "out_is_input":
        return "--out", str(src)
    if kind == "out_is_input_via_dots":
        return "--out", str(tmp_path / "sub" / ".." / src.name)
    if kind == "rejects_is_a_symlink_to_input":
        link = tmp_path / "link.csv"
        link.symlink_to(src)
        return "--rejects", str(link)
    if kind == "out_is_a_hard_link_to_input":
        link = tmp_path / "hard.csv"
        os.link(src, link)
        return "--out", str(link)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "out_is_input",
        "out_is_input_via_dots",
        "rejects_is_a_symlink_to_input",
        "out_is_a_hard_link_to_input",
    ],
)
def test_an_output_that_is_the_input_is_refused_untouched(
    kind: str, tmp_path: Path, schema_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sub").mkdir()
    src = tmp_path / "in.csv"
    src.write_text(ROWS, encoding="utf-8")
    before = src.stat()
    flag, target = _outputs(tmp_path, src, kind)
    assert main(["validate", str(src), "--schema", str(schema_file), flag, target]) == 2
    err = capsys.readouterr().err
    assert "is the input file itself" in err
    assert src.read_text(encoding="utf-8") == ROWS
    assert src.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")) == []


def test_out_and_rejects_naming_one_file_are_refused(
    tmp_path: Path, schema_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.csv"
    src.write_text(ROWS, encoding="utf-8")
    out = tmp_path / "out.csv"
    args = ["validate", str(src), "--schema", str(schema_file), "--out", str(out)]
    assert main([*args, "--rejects", str(tmp_path / "." / "out.csv")]) == 2
    assert "name the same file" in capsys.readouterr().err
    assert not out.exists()
    assert main([*args, "--rejects", str(tmp_path / "rejects.csv")]) == 0  # two files: fine


# ---------------------------------------------------------------- item 7: the rejects header
def test_the_rejects_header_is_neutralised_too(tmp_path: Path, schema_file: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        'customerId,firstName,phoneNumber,homePhone,emailAddress,"=HYPERLINK(""http://x"")"\n'
        "A1,Ann,12,,,x\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    done = _run("validate", src, "--schema", schema_file, "--rejects", rejects, "--json")
    assert done.returncode == 1
    header = next(csv.reader(io.StringIO(rejects.read_text(encoding="utf-8"))))
    assert '\'=HYPERLINK("http://x")' in header
    assert not any(h.startswith(("=", "+", "-", "@")) for h in header)


# ---------------------------------------------------------------- item 10: more tracebacks
def test_a_file_name_that_is_not_utf8_prints_valid_utf8(tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/n\xffme.csv"
    with open(name, "wb") as f:
        f.write(ROWS.encode())
    done = _run("inspect", name, "--json")
    assert done.returncode == 0
    out = json.loads(done.stdout.decode("utf-8"))  # strict: valid UTF-8
    assert out["path"].endswith("n\ufffdme.csv")
    text = _run("inspect", name)
    assert text.returncode == 0
    assert b"n\\xffme.csv" in text.stdout


def test_a_schema_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(ROWS, encoding="utf-8")
    schema = tmp_path / "schema.json"
    schema.write_bytes(json.dumps({**SCHEMA, "name": "Café"}, ensure_ascii=False).encode("cp1252"))
    done = _run("validate", src, "--schema", schema)
    assert done.returncode == 2
    assert b"is not UTF-8" in done.stderr


def _sqlite_of_another_program(path: Path) -> None:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE lists (a)")
        conn.execute("INSERT INTO lists VALUES (1)")
    conn.close()


@pytest.mark.parametrize(
    ("kind", "code", "says"),
    [
        ("directory", 2, b"is a directory"),
        ("random_bytes", 1, b"not an SQLite database"),
        ("other_database", 1, b"cannot be loaded as the sandbox's state"),
        ("bad_header", 1, b"cannot be loaded as the sandbox's state"),
    ],
)
def test_a_state_file_that_is_no_state_is_one_clear_line(
    kind: str, code: int, says: bytes, tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    if kind == "directory":
        state.mkdir()
    elif kind == "random_bytes":
        state.write_bytes(os.urandom(4096))
    elif kind == "other_database":
        _sqlite_of_another_program(state)
    else:
        state.write_bytes(b"SQLite format 3\x00" + b"garbage" * 100)
    before = state.read_bytes() if state.is_file() else None
    done = _run("emulator", "--port", "0", "--state", state, "--no-seed")
    assert done.returncode == code
    assert says in done.stderr
    assert done.stderr.count(b"\n") == 1
    if kind == "other_database":
        import sqlite3

        with sqlite3.connect(state) as conn:  # its data is still there, not dropped
            assert conn.execute("SELECT a FROM lists").fetchall() == [(1,)]
        conn.close()
    elif before is not None:
        assert state.read_bytes() == before  # refused before it was opened
