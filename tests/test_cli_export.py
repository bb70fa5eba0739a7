"""``outbound-desk export LIST --out FILE [--json]`` against the sandbox (issue 12)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from outbound_desk.cli import main
from outbound_desk.emulator import Sandbox
from outbound_desk.genesys import (
    ClientCredentials,
    Contact,
    ContactListSpec,
    GenesysClient,
    PhoneColumn,
    sandbox_region,
)


def _make_list(sb: Sandbox, name: str, n: int) -> str:
    region = sandbox_region(sb.base_url)
    with GenesysClient(region, ClientCredentials(sb.client_id, sb.client_secret)) as client:
        made = client.contact_lists.create(
            ContactListSpec(name, ["customerId", "phone"], [PhoneColumn("phone", "cell")])
        )
        client.contacts.add(
            made.id,
            [
                Contact(id=f"C{i}", data={"customerId": f"C{i}", "phone": "+15125550100"})
                for i in range(n)
            ],
        )
        return made.id


def test_export_by_name_writes_every_contact_and_prints_json(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    list_id = _make_list(sandbox, "Spring Renewals", 40)
    out = tmp_path / "spring.csv"
    code = main(
        ["export", "Spring Renewals", "--out", str(out), "--sandbox", sandbox.base_url, "--json"]
    )
    assert code == 0, capsys.readouterr().err
    printed = json.loads(capsys.readouterr().out)
    data = out.read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert printed == {
        "list_id": list_id,
        "rows": 40,
        "columns": rows[0],
        "path": str(out),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    assert rows[0][:3] == ["inin-outbound-id", "customerId", "phone"]
    assert sorted(r[0] for r in rows[1:]) == sorted(f"C{i}" for i in range(40))
    assert list(tmp_path.iterdir()) == [out]


def test_export_by_id_in_plain_text(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    list_id = _make_list(sandbox, "By Id", 3)
    out = tmp_path / "x.csv"
    assert main(["export", list_id, "--out", str(out), "--sandbox", sandbox.base_url]) == 0
    assert "3 contacts of list By Id" in capsys.readouterr().out


def test_an_empty_export_exits_3_and_saves_nothing(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _make_list(sandbox, "Broken", 3)
    sandbox.set_download_fault("empty")
    out = tmp_path / "broken.csv"
    code = main(["export", "Broken", "--out", str(out), "--sandbox", sandbox.base_url, "--json"])
    captured = capsys.readouterr()
    assert code == 3
    assert "empty" in json.loads(captured.out)["error"]
    assert "nothing saved" in captured.err
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_list_exits_1(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["export", "Nope", "--out", str(tmp_path / "n.csv"), "--sandbox", sandbox.base_url])
    assert code == 1
    assert "no contact list named" in capsys.readouterr().err


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "X"]) == 2  # --out is required
    assert main(["export", "X", "--out", str(tmp_path), "--sandbox", "http://127.0.0.1:1"]) == 2
    assert main(["export", "X", "--out", str(tmp_path / "no" / "such" / "f.csv")]) == 2
