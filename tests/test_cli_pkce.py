"""A command with a browser sign-in (PKCE) profile never waits silently (issue 12, item 2)."""

from __future__ import annotations

import socket
import time
import webbrowser

import pytest

from outbound_desk.cli import _connect, main
from outbound_desk.config import OrgProfile, SettingsStore
from outbound_desk.emulator import Sandbox


def _pkce_profile(sandbox: Sandbox) -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redirect = f"http://127.0.0.1:{port}/callback"
    sandbox.register_redirect_uri(redirect)
    store = SettingsStore()
    settings = store.load()
    settings.upsert_profile(
        OrgProfile(
            name="person",
            region="sandbox",
            client_id=sandbox.pkce_client_id,
            auth_method="pkce",
            sandbox_url=sandbox.base_url,
            redirect_uri=redirect,
        )
    )
    store.save(settings)
    return redirect


def test_no_browser_and_no_terminal_stops_at_once_saying_what_is_needed(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _pkce_profile(sandbox)
    monkeypatch.setattr(webbrowser, "open", lambda url: False)  # a server: no browser
    started = time.monotonic()
    code = main(["lists", "--profile", "person"])
    err = capsys.readouterr().err
    assert code == 2
    assert time.monotonic() - started < _connect.SIGN_IN_TIMEOUT_S  # did not wait it out
    assert "signs in through the browser" in err
    assert "outbound-desk login --profile person" in err
    assert "client-credentials profile for scheduled jobs" in err


def test_an_unfinished_sign_in_times_out_with_exit_3_and_says_what_to_register(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    redirect = _pkce_profile(sandbox)
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    monkeypatch.setattr(_connect, "SIGN_IN_TIMEOUT_S", 0.5)  # nobody signs in
    code = main(["export", "X", "--out", "x.csv", "--profile", "person"])
    err = capsys.readouterr().err
    assert code == 3
    assert len(opened) == 1
    assert "opening it to sign in" in err  # said before waiting
    assert "nobody finished the sign-in" in err
    assert f"register {redirect}" in err
