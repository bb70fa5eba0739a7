"""``outbound-desk lists create|clear|delete|export``: the Lists pane's operations for scripts."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from outbound_desk.cli import main
from outbound_desk.emulator import Sandbox
from outbound_desk.upload.ledger import Ledger

from . import helpers


def _json(capsys: pytest.CaptureFixture[str]) -> object:
    return json.loads(capsys.readouterr().out)


def test_create_upload_export_clear_and_delete_a_list(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sandbox.base_url
    schema = helpers.schema_file(tmp_path / "schema.json", "Scripted")
    ledger = tmp_path / "ledger.sqlite3"
    assert main(["lists", "create", "--schema", str(schema), "--name", "By Script",
                 "--json", "--sandbox", url]) == 0  # fmt: skip
    made = _json(capsys)
    assert isinstance(made, dict)
    assert (made["name"], made["phone_columns"]) == ("By Script", ["phoneNumber"])

    f = helpers.write_csv(tmp_path / "c.csv", 25)
    assert main(["upload", str(f), "--list", made["id"], "--id-column", "customerId",
                 "--ledger", str(ledger), "--json", "--sandbox", url]) == 0  # fmt: skip
    assert _json(capsys)["created"] == 25  # type: ignore[index]

    out = tmp_path / "export.csv"
    assert main(["lists", "export", "By Script", "--out", str(out), "--json",
                 "--sandbox", url]) == 0  # fmt: skip
    assert _json(capsys)["rows"] == 25  # type: ignore[index]
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")

    # No terminal and no --yes: nothing happens (scripts must say so).
    assert main(["lists", "clear", "By Script", "--sandbox", url,
                 "--ledger", str(ledger)]) == 2  # fmt: skip
    assert "--yes" in capsys.readouterr().err
    assert sandbox.store.contact_count(made["id"]) == 25

    assert main(["lists", "clear", "By Script", "--yes", "--json", "--sandbox", url,
                 "--ledger", str(ledger)]) == 0  # fmt: skip
    assert _json(capsys) == {"id": made["id"], "name": "By Script", "cleared": True}
    assert sandbox.store.contact_count(made["id"]) == 0
    with Ledger(ledger) as led:
        assert led.contact_states(made["id"]) == {}  # the next upload sends everything

    assert main(["lists", "delete", made["id"], "--yes", "--sandbox", url,
                 "--ledger", str(ledger)]) == 0  # fmt: skip
    assert "deleted" in capsys.readouterr().out
    assert sandbox.store.get_list(made["id"]) is None
    assert main(["lists", "delete", "By Script", "--yes", "--sandbox", url]) == 1


def test_the_plain_lists_command_still_lists(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lists", "--json", "--sandbox", sandbox.base_url, "--name", "Zzz"]) == 0
    assert _json(capsys) == []


class _Terminal(io.StringIO):
    """stdin as a person at a terminal, answering *text*."""

    def isatty(self) -> bool:
        return True


def test_an_upload_from_a_terminal_is_confirmed_first(
    sandbox: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = sandbox.base_url
    schema = helpers.schema_file(tmp_path / "schema.json", "Asked")
    f = helpers.write_csv(tmp_path / "c.csv", 12)
    cmd = ["upload", str(f), "--list", "Asked", "--create", "--schema", str(schema),
           "--ledger", str(tmp_path / "l.sqlite3"), "--via", "api", "--sandbox", url]  # fmt: skip

    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    assert main(cmd) == 2
    asked = capsys.readouterr()
    question = asked.out
    assert "12 rows of c.csv" in question
    assert "list 'Asked' (created if missing)" in question
    assert f"org {url}" in question
    assert "JSON contact batches" in question
    assert "not confirmed" in asked.err
    assert sandbox.store.find_list("Asked") is None  # nothing was touched

    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    assert main([*cmd, "--json"]) == 0
    assert '"created": 12' in capsys.readouterr().out

    # --yes asks nothing (a terminal that would answer no).
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    assert main([*cmd, "--yes", "--json"]) == 0
    assert "[y/N]" not in capsys.readouterr().out


def test_an_upload_error_in_json_names_its_type_and_exit_code(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from outbound_desk.base.errors import ErrorEnvelope

    f = helpers.write_csv(tmp_path / "c.csv", 3)
    code = main(["upload", str(f), "--list", "No Such List", "--id-column", "customerId",
                 "--ledger", str(tmp_path / "l.sqlite3"), "--json",
                 "--sandbox", sandbox.base_url])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["exit_code"] == code != 0
    again = ErrorEnvelope.from_dict(
        {"type": out["error_type"], "message": out["error"], "exit_code": out["exit_code"]}
    ).rebuild()
    assert type(again).__module__ == "outbound_desk.upload.model"
    assert getattr(again, "exit_code", None) == code
