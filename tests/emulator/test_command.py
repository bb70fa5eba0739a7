"""``outbound-desk emulator`` in a subprocess: the JSON line, a curl-style request, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "outbound_desk", "emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    proc = _run("--port", "0", "--json", "--rate-limit", "50/5", "--state", str(tmp_path / "s"))
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        yield proc, json.loads(line)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def test_json_line_then_curl_style_requests_then_sigterm_exits_0(
    served: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    proc, ready = served
    assert set(ready) == {
        "base_url",
        "client_id",
        "client_secret",
        "pkce_client_id",  # keys added for the browser sign-in (issue 12)
        "redirect_uris",
    }
    assert ready["pkce_client_id"] == "sandbox-pkce"
    assert "http://127.0.0.1:18765/callback" in ready["redirect_uris"]
    assert ready["base_url"].startswith("http://127.0.0.1:")
    assert (ready["client_id"], ready["client_secret"]) == ("sandbox-client", "sandbox-secret")
    # curl -u sandbox-client:sandbox-secret -d grant_type=client_credentials $URL/oauth/token
    token = httpx.post(
        ready["base_url"] + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(ready["client_id"], ready["client_secret"]),
    ).json()["access_token"]
    listed = httpx.get(
        ready["base_url"] + "/api/v2/outbound/contactlists",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert listed.status_code == 200
    assert listed.headers["inin-ratelimit-allowed"] == "50"
    assert {e["name"] for e in listed.json()["entities"]} >= {"Spring Renewals"}
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "192.0.2.10"], "--allow-remote"),
        (["--faults", "error_rate=3"], "error_rate"),
        (["--rate-limit", "abc"], "rate limit"),
        (["--behaviour", "empty_result=maybe"], "empty_result must be one of error, page"),
        (["--behaviour", "colour=blue"], "unknown behaviour 'colour'"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], message: str) -> None:
    proc = _run("--port", "0", *args)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert message in err
    assert "Traceback" not in err


def test_behaviour_picks_the_other_reading_of_undocumented_behaviour() -> None:
    proc = _run("--port", "0", "--json", "--no-seed", "--behaviour", "empty_result=page")
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        token = httpx.post(
            ready["base_url"] + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(ready["client_id"], ready["client_secret"]),
        ).json()["access_token"]
        found = httpx.get(
            ready["base_url"] + "/api/v2/outbound/contactlists",
            params={"name": "nothing like this"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert found.status_code == 200  # the default answers 404 no.results
        assert found.json()["entities"] == []
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
