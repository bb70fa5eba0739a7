"""Names from the server never reach the terminal raw: control characters are shown escaped,
and ``--json`` stays valid JSON holding the exact names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from outbound_desk.cli import main
from outbound_desk.cli._common import safe
from outbound_desk.emulator import Sandbox

from . import helpers

#: Retitles the terminal (OSC 0), clears it (CSI 2J), a C1 CSI, DEL and a right-to-left override.
EVIL = "Evil\x1b]0;pwned\x07\x1b[2J\x9b31m\x7f\u202eList"
RAW = ("\x1b", "\x07", "\x9b", "\x7f", "\u202e")


def _raw_in(text: str) -> list[str]:
    return [c for c in RAW if c in text]


def _evil_list(sandbox: Sandbox) -> str:
    cols = helpers.COLUMNS
    made = sandbox.store.create_list(
        {
            "name": EVIL,
            "columnNames": cols,
            "phoneColumns": [{"columnName": "phoneNumber", "type": "cell"}],
        }
    )
    return str(made["id"])


def test_safe_escapes_what_a_terminal_obeys() -> None:
    assert safe("a\x1b[2Jb\tc\nd\u202e") == "a\\x1b[2Jb\\x09c\\x0ad\\u202e"
    assert safe("two\nlines\ttab", lines=True) == "two\nlines\ttab"
    assert safe("Zoë, Åsa, 東京") == "Zoë, Åsa, 東京"


def test_lists_human_and_json(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    _evil_list(sandbox)
    assert main(["lists", "--sandbox", sandbox.base_url]) == 0
    shown = capsys.readouterr().out
    assert not _raw_in(shown)
    assert "Evil\\x1b]0;pwned" in shown
    assert main(["lists", "--sandbox", sandbox.base_url, "--json"]) == 0
    text = capsys.readouterr().out
    assert not _raw_in(text)
    assert [it["name"] for it in json.loads(text)] == [EVIL]


def test_upload_history_and_errors(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    list_id = _evil_list(sandbox)
    f = helpers.write_csv(tmp_path / "c.csv", 5)
    ledger = str(tmp_path / "ledger.sqlite3")
    base = ["--sandbox", sandbox.base_url, "--ledger", ledger]
    code = main(["upload", str(f), "--list", list_id, "--id-column", "customerId", *base])
    assert code == 0
    got = capsys.readouterr()
    assert not _raw_in(got.out + got.err)
    assert "Evil\\x1b" in got.out

    # An error message that quotes the list's name (it exists, and this app did not make it).
    schema = helpers.schema_file(tmp_path / "s.json", "x")
    code = main(["upload", str(f), "--list", EVIL, "--create", "--schema", str(schema), *base])
    assert code == 1
    got = capsys.readouterr()
    assert "already exists" in got.err
    assert not _raw_in(got.out + got.err)

    code = main(["upload", str(f), "--list", list_id, "--id-column", "customerId", *base, "--json"])
    assert code == 0
    text = capsys.readouterr().out
    assert not _raw_in(text)
    assert json.loads(text)["list_id"] == list_id

    assert main(["history", "--ledger", ledger]) == 0
    shown = capsys.readouterr().out
    assert not _raw_in(shown)
    assert "Evil\\x1b" in shown
    assert main(["history", "--ledger", ledger, "--json"]) == 0
    text = capsys.readouterr().out
    assert not _raw_in(text)
    assert {it["list_name"] for it in json.loads(text)} == {EVIL}


def test_validate_against_the_list(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _evil_list(sandbox)
    f = helpers.write_csv(tmp_path / "c.csv", 5, columns=[*helpers.COLUMNS, "extra\x1b[2J"])
    code = main(["validate", str(f), "--list", EVIL, "--sandbox", sandbox.base_url])
    got = capsys.readouterr()
    assert code == 1
    assert not _raw_in(got.out + got.err)


def test_export_and_lists_commands(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    list_id = _evil_list(sandbox)
    url = ["--sandbox", sandbox.base_url]
    assert main(["export", list_id, "--out", str(tmp_path / "x.csv"), *url]) == 0
    got = capsys.readouterr()
    assert not _raw_in(got.out + got.err)
    assert "Evil\\x1b" in got.out
    assert main(["lists", "clear", list_id, "--yes", *url]) == 0
    got = capsys.readouterr()
    assert not _raw_in(got.out + got.err)
    assert main(["export", EVIL + "x", "--out", str(tmp_path / "y.csv"), *url]) == 1
    got = capsys.readouterr()
    assert not _raw_in(got.out + got.err)
    assert "Evil\\x1b" in got.err


def test_inspect_shows_a_hostile_header_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "h.csv"
    f.write_text('id,"na\x1b]0;x\x07me",phone\n1,a,2125550100\n', encoding="utf-8")
    assert main(["inspect", str(f)]) in (0, 1)
    shown = capsys.readouterr().out
    assert not _raw_in(shown)
    assert "na\\x1b]0;x\\x07me" in shown
