"""The upload, history, login and lists commands: JSON contracts, exit codes, errors."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
import webbrowser
from pathlib import Path

import httpx
import keyring
import keyring.backends.fail
import pytest

from outbound_desk.cli import main
from outbound_desk.config import SettingsStore
from outbound_desk.emulator import Sandbox

from . import helpers

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = {
    "list_id",
    "rows",
    "created",
    "updated",
    "unchanged",
    "rejected",
    "duration_s",
    "report",
}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "outbound_desk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    f = helpers.write_csv(tmp_path / "contacts.csv", 300, bad_rows=frozenset({4}))
    schema = helpers.schema_file(tmp_path / "schema.json", "CLI List")
    return f, schema, tmp_path / "ledger.sqlite3"


def test_upload_json_contract_and_rerun(sandbox: Sandbox, files: tuple[Path, Path, Path]) -> None:
    f, schema, ledger = files
    args = ["upload", str(f), "--list", "CLI List", "--create", "--schema", str(schema),
            "--sandbox", sandbox.base_url, "--ledger", str(ledger), "--json"]  # fmt: skip
    first = _cli(*args)
    assert first.returncode == 1, first.stderr  # one row was rejected
    out = json.loads(first.stdout)
    assert set(out) >= CONTRACT
    assert (out["rows"], out["created"], out["rejected"], out["updated"]) == (300, 299, 1, 0)
    assert Path(out["report"]).is_file()
    assert len(sandbox.store.all_contacts(out["list_id"])) == 299

    again = json.loads(_cli(*args).stdout)
    assert (again["unchanged"], again["created"], again["list_id"]) == (299, 0, out["list_id"])

    history = _cli("history", "--json", "--ledger", str(ledger), "--limit", "5")
    assert history.returncode == 0
    items = json.loads(history.stdout)
    assert [i["unchanged"] for i in items] == [299, 0]
    assert items[1]["sha256"] == out["sha256"]
    assert {"upload_id", "started_at", "status", "list_id", "file", "report"} <= set(items[0])
    # Issue 14: "by" is who was signed in (the OAuth client), not the OS user.
    assert {i["user"] for i in items} == {"client sandbox-client"}


@pytest.mark.parametrize(
    ("extra", "code", "words"),
    [
        (["--create"], 2, "--schema"),
        (["--list", "Nope", "--id-column", "customerId"], 1, "no contact list named"),
        (["--list", "Nope", "--batch-size", "5000"], 2, "batch size"),
        (["--list", "Nope", "--replace"], 2, "--yes"),
    ],
)
def test_upload_errors_are_one_line(
    sandbox: Sandbox, files: tuple[Path, Path, Path], extra: list[str], code: int, words: str
) -> None:
    f, _schema, ledger = files
    args = [str(f), "--sandbox", sandbox.base_url, "--ledger", str(ledger)]
    if "--list" not in extra:
        args += ["--list", "X"]
    done = _cli("upload", *args, *extra)
    assert done.returncode == code
    assert words in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_upload_of_a_missing_file(sandbox: Sandbox, tmp_path: Path) -> None:
    done = _cli("upload", str(tmp_path / "none.csv"), "--list", "L", "--sandbox", sandbox.base_url)
    assert done.returncode == 1
    assert "none.csv" in done.stderr
    assert "Traceback" not in done.stderr


def test_resume_by_id(
    sandbox: Sandbox, files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from outbound_desk.genesys import ClientCredentials, GenesysClient, sandbox_region
    from outbound_desk.upload.ledger import Ledger
    from outbound_desk.upload.model import Phase, UploadOptions, UploadProgress
    from outbound_desk.upload.runner import run_upload

    f, schema, ledger_path = files
    stop: list[bool] = []

    def watch(p: UploadProgress) -> None:
        if p.phase is Phase.UPLOADING:
            stop.append(True)

    region = sandbox_region(sandbox.base_url)
    with (
        GenesysClient(region, ClientCredentials("sandbox-client", "sandbox-secret")) as client,
        Ledger(ledger_path) as ledger,
    ):
        opts = UploadOptions(
            file=f, list="CLI List", create=True, schema_path=schema, via="api", batch_size=50
        )
        first = run_upload(client, opts, ledger, progress=watch, cancelled=lambda: bool(stop))
    assert first.status == "cancelled"
    code = main(
        [
            "upload",
            "--resume",
            first.upload_id,
            "--sandbox",
            sandbox.base_url,
            "--ledger",
            str(ledger_path),
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert (out["upload_id"], out["resumed"], out["created"]) == (first.upload_id, True, 299)


def test_lists_against_the_sandbox(sandbox: Sandbox, files: tuple[Path, Path, Path]) -> None:
    f, schema, ledger = files
    _cli("upload", str(f), "--list", "CLI List", "--create", "--schema", str(schema),
         "--sandbox", sandbox.base_url, "--ledger", str(ledger))  # fmt: skip
    done = _cli("lists", "--json", "--sandbox", sandbox.base_url, "--name", "CLI")
    assert done.returncode == 0, done.stderr
    (item,) = json.loads(done.stdout)
    assert (item["name"], item["size"], item["phone_columns"]) == ("CLI List", 299, ["phoneNumber"])
    none = _cli("lists", "--json", "--sandbox", sandbox.base_url, "--name", "Zzz")
    assert json.loads(none.stdout) == []
    bad = _cli("lists", "--sandbox", "http://example.com:8765")
    assert bad.returncode == 2
    assert "loopback" in bad.stderr


def _login(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, secret: str, *more: str) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(secret + "\n"))
    return main(
        [
            "login",
            "--profile",
            "lab",
            "--region",
            "sandbox",
            "--sandbox-url",
            sandbox.base_url,
            "--secret-stdin",
            *more,
        ]
    )


def test_login_keeps_the_secret_in_the_keyring_only(
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: object,
) -> None:
    assert _login(monkeypatch, sandbox, "sandbox-secret", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["profile"], out["region"], out["auth_method"]) == (
        "lab",
        "sandbox",
        "client_credentials",
    )
    entries = memory_keyring.entries  # type: ignore[attr-defined]
    assert "sandbox-secret" in entries.values()
    settings_text = SettingsStore().settings_path.read_text(encoding="utf-8")
    assert "sandbox-secret" not in settings_text
    assert SettingsStore().load().preferences.last_profile == "lab"
    # The profile now connects without any secret on the command line.
    assert main(["lists", "--json", "--profile", "lab"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_login_with_a_wrong_secret_saves_nothing(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    memory_keyring: object,
) -> None:  # fmt: skip
    assert _login(monkeypatch, sandbox, "wrong") == 1
    assert "refused" in capsys.readouterr().err
    assert memory_keyring.entries == {}  # type: ignore[attr-defined]
    assert SettingsStore().load().profile("lab") is None


def test_login_without_a_keyring_says_so_and_stores_nothing(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    assert _login(monkeypatch, sandbox, "sandbox-secret") == 3
    err = capsys.readouterr().err
    assert "keyring" in err.lower()
    assert "never in a file" in err
    assert SettingsStore().load().profile("lab") is None


def _registered_redirect(sandbox: Sandbox) -> str:
    """A redirect URI on a free port, registered on the sandbox's OAuth clients (tests never
    take the fixed default port: another test run on this machine may hold it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    uri = f"http://127.0.0.1:{port}/callback"
    sandbox.register_redirect_uri(uri)
    return uri


class _Browser:
    """Stands in for the system browser: loads the authorize URL (following the sandbox's
    redirect to our loopback server) on its own thread, as a browser would."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.pages: list[tuple[int, str]] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, url: str) -> bool:
        self.urls.append(url)

        def visit() -> None:
            reply = httpx.get(url, follow_redirects=True, timeout=10)
            self.pages.append((reply.status_code, reply.text))

        thread = threading.Thread(target=visit, name="fake-browser")
        thread.start()
        self.threads.append(thread)
        return True

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=10)


def test_login_pkce_signs_in_in_the_browser_and_stores_no_secret(
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: object,
) -> None:
    browser = _Browser()
    monkeypatch.setattr(webbrowser, "open", browser)
    redirect = _registered_redirect(sandbox)
    try:
        code = main(["login", "--profile", "p", "--region", "sandbox", "--sandbox-url",
                     sandbox.base_url, "--pkce", "--redirect-uri", redirect,
                     "--json"])  # fmt: skip
    finally:
        browser.join()
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out)
    assert (out["profile"], out["auth_method"], out["secret_store"]) == ("p", "pkce", None)
    assert out["redirect_uri"] == redirect
    assert out["token_expires_in"] > 0
    (url,) = browser.urls
    assert url.startswith(f"{sandbox.base_url}/oauth/authorize?")
    assert "code_challenge_method=S256" in url
    ((status, page),) = browser.pages
    assert status == 200
    assert "Signed in" in page
    assert "browser" in captured.err  # the user is told what is happening
    saved = SettingsStore().load().profile("p")
    assert saved is not None
    assert (saved.auth_method, saved.region, saved.sandbox_url, saved.redirect_uri) == (
        "pkce",
        "sandbox",
        sandbox.base_url,
        redirect,
    )
    assert memory_keyring.entries == {}  # type: ignore[attr-defined]
    log = sandbox.request_log
    assert ("GET", "/oauth/authorize", 302) in log
    assert ("POST", "/oauth/token", 200) in log

    # The profile connects by signing in in the browser again; still no secret anywhere.
    assert main(["lists", "--json", "--profile", "p"]) == 0
    browser.join()
    assert json.loads(capsys.readouterr().out) == []
    assert len(browser.urls) == 2
    assert memory_keyring.entries == {}  # type: ignore[attr-defined]


def test_login_pkce_without_a_browser_shows_the_address(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    browser = _Browser()

    def no_browser(url: str) -> bool:
        browser(url)  # the person pastes the address into a browser by hand
        return False

    monkeypatch.setattr(webbrowser, "open", no_browser)
    try:
        code = main(["login", "--profile", "p", "--region", "sandbox", "--sandbox-url",
                     sandbox.base_url, "--pkce", "--redirect-uri",
                     _registered_redirect(sandbox)])  # fmt: skip
    finally:
        browser.join()
    err = capsys.readouterr().err
    assert code == 0, err
    assert browser.urls[0] in err
