"""UI test fixtures: an isolated app context, a scripted prompter, a signed-in main window."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import keyring
import keyring.backend
import pytest

from outbound_desk.config import OrgProfile, SettingsStore
from outbound_desk.ui.context import AppContext, make_context


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring in a dict, so no test touches the developer's real keyring."""

    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def _isolated_app_dirs(tmp_path, monkeypatch) -> Iterator[MemoryKeyring]:
    """Settings, logs and the keyring of each test live in its own tmp dir / memory."""
    for name in ("CONFIG", "DATA", "LOG", "CACHE"):
        monkeypatch.setenv(f"OUTBOUND_DESK_{name}_DIR", str(tmp_path / name.lower()))
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(_isolated_app_dirs) -> MemoryKeyring:
    return _isolated_app_dirs


class ScriptedPrompter:
    """Answers the app's questions from a script and records what was asked."""

    def __init__(self) -> None:
        self.confirm_answer = True
        self.save_answer: str | None = None
        self.open_answer: str | None = None
        self.asked: list[tuple[str, str, str]] = []

    def confirm(self, parent, title, text, *, danger=False):
        self.asked.append(("confirm", title, text))
        return self.confirm_answer

    def inform(self, parent, title, text):
        self.asked.append(("inform", title, text))

    def error(self, parent, title, text):
        self.asked.append(("error", title, text))

    def save_path(self, parent, title, suggested, filter_):
        self.asked.append(("save", title, suggested))
        return self.save_answer

    def open_path(self, parent, title, filter_):
        self.asked.append(("open", title, ""))
        return self.open_answer

    def secret(self, parent, title, text):
        self.asked.append(("secret", title, text))
        return None

    def errors(self) -> list[str]:
        return [text for kind, _, text in self.asked if kind == "error"]


@pytest.fixture
def prompter() -> ScriptedPrompter:
    return ScriptedPrompter()


@pytest.fixture
def context(qtbot, tmp_path, prompter) -> Iterator[AppContext]:
    ctx = make_context(store=SettingsStore(tmp_path / "config"), prompter=prompter)
    # Tests about failures should not sit through the client's backoff.
    ctx.session.client_options = {"max_retries": 1, "backoff_cap_s": 0.2}
    yield ctx
    ctx.jobs.shutdown()
    ctx.tasks.shutdown()
    ctx.session.close()


def sandbox_profile(sandbox, name: str = "Sandbox") -> OrgProfile:
    return OrgProfile(
        name=name, region="sandbox", client_id=sandbox.client_id, sandbox_url=sandbox.base_url
    )


def sign_in(qtbot, context: AppContext, sandbox) -> None:
    with qtbot.waitSignal(context.session.connected, timeout=15_000):
        context.session.sign_in(sandbox_profile(sandbox), sandbox.client_secret)


class _Forbidden(BaseHTTPRequestHandler):
    """Grants a token, then refuses every API call as Genesys does without the permission."""

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/oauth/token"):
            self._send(
                200, {"access_token": "t0k3n-forbidden", "token_type": "bearer", "expires_in": 3600}
            )
        else:
            self.do_GET()

    def do_GET(self):
        self._send(
            403,
            {
                "message": "You are missing the following permission(s): outbound:contactList:view",
                "code": "missing.permissions",
                "status": 403,
                "contextId": "c0ffee00-0000-0000-0000-000000000000",
                "details": [],
                "errors": [],
            },
        )

    def log_message(self, *args):
        pass


@pytest.fixture
def forbidding_server() -> Iterator[str]:
    """A real HTTP server on loopback that answers every API call with 403.

    The sandbox has no permission faults, and a 403 must be shown to the user.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Forbidden)
    thread = threading.Thread(target=server.serve_forever, name="forbidding-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
