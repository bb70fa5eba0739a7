"""The commands against answers the sandbox never gives (a hostile proxy in front of it on
loopback): a redirect or an empty success is a platform error (exit 3), never a success, and
nothing is recorded as sent from it; bad option values are usage errors (exit 2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from outbound_desk.cli import main
from outbound_desk.emulator import Sandbox
from tests.genesys.hostile import HostileProxy

from . import helpers

CONTACTS = r"/api/v2/outbound/contactlists/[^/]+/contacts"


@pytest.fixture
def hostile(sandbox: Sandbox) -> Iterator[HostileProxy]:
    with HostileProxy(sandbox.base_url).running() as proxy:
        yield proxy


def _upload_args(tmp_path: Path, base_url: str, *extra: str) -> list[str]:
    f = tmp_path / "contacts.csv"
    if not f.exists():
        helpers.write_csv(f, 50)
    schema = helpers.schema_file(tmp_path / "schema.json", "Hostile List")
    return ["upload", str(f), "--list", "Hostile List", "--create", "--schema", str(schema),
            "--sandbox", base_url, "--ledger", str(tmp_path / "ledger.sqlite3"),
            "--via", "api", "--json", *extra]  # fmt: skip


@pytest.mark.parametrize(
    ("status", "headers"), [(302, {"Location": "https://portal.example/"}), (204, {})]
)
def test_an_add_answered_with_a_redirect_or_no_body_is_exit_3_and_nothing_counts_as_sent(
    sandbox: Sandbox,
    hostile: HostileProxy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    status: int,
    headers: dict[str, str],
) -> None:
    rule = hostile.answer("POST", CONTACTS, status, headers=headers)
    code = main(_upload_args(tmp_path, hostile.base_url, "--no-reconcile"))
    out = capsys.readouterr()
    assert code == 3, out
    assert rule.hits >= 1
    assert f"HTTP {status}" in out.err
    # The rows are still to send: the same command against an honest platform sends them all
    # (none is "unchanged" on the strength of the hostile answer).
    hostile.rules.clear()
    assert main(_upload_args(tmp_path, sandbox.base_url, "--no-reconcile")) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["created"], result["unchanged"]) == (50, 0)
    assert len(sandbox.store.all_contacts(result["list_id"])) == 50


def test_lists_answered_with_a_redirect_is_exit_3_not_no_lists(
    hostile: HostileProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile.answer("GET", "/api/v2/outbound/contactlists", 302, headers={"Location": "/x"})
    assert main(["lists", "--sandbox", hostile.base_url]) == 3
    out = capsys.readouterr()
    assert "no contact lists" not in out.out
    assert "HTTP 302" in out.err


def test_a_307_from_the_token_endpoint_is_exit_3(
    hostile: HostileProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile.answer("POST", "/oauth/token", 307, headers={"Location": "https://else/oauth/token"})
    assert main(["lists", "--sandbox", hostile.base_url]) == 3
    assert "HTTP 307" in capsys.readouterr().err


@pytest.mark.parametrize("size", ["0", "-5", "1001", "ten"])
def test_batch_size_out_of_range_is_a_usage_error(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], size: str
) -> None:
    code = main(_upload_args(tmp_path, sandbox.base_url, "--batch-size", size))
    assert code == 2
    err = capsys.readouterr().err
    assert "batch size" in err or "--batch-size" in err
    assert sandbox.store.list_ids() == []  # nothing was touched
