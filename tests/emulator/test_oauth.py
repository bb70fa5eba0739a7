"""Login: client credentials, PKCE authorization code, token expiry."""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.parse

import httpx
import pytest

from outbound_desk.emulator import Faults, Sandbox

from .helpers import LISTS, wait_for


def _token(sb: Sandbox, **kw: object) -> httpx.Response:
    return httpx.post(f"{sb.base_url}/oauth/token", timeout=10, **kw)  # type: ignore[arg-type]


def test_client_credentials_with_basic_auth_gives_a_working_token(sandbox: Sandbox) -> None:
    reply = _token(
        sandbox,
        data={"grant_type": "client_credentials"},
        auth=(sandbox.client_id, sandbox.client_secret),
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86400
    listed = httpx.get(
        sandbox.base_url + LISTS, headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert listed.status_code == 200


def test_client_credentials_in_the_form_work_too(sandbox: Sandbox) -> None:
    reply = _token(
        sandbox,
        data={
            "grant_type": "client_credentials",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        },
    )
    assert reply.status_code == 200


def test_a_wrong_secret_is_refused_as_bad_credentials(sandbox: Sandbox) -> None:
    reply = _token(
        sandbox, data={"grant_type": "client_credentials"}, auth=(sandbox.client_id, "nope")
    )
    assert reply.status_code == 401
    body = reply.json()
    assert body["error"] == "invalid_client"
    assert body["code"] == "bad.credentials"
    assert "nope" not in reply.text


def test_an_unknown_grant_type_is_refused(sandbox: Sandbox) -> None:
    reply = _token(sandbox, data={"grant_type": "password"}, auth=("a", "b"))
    assert reply.status_code == 400
    assert reply.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("token", [None, "made-up-token"])
def test_missing_or_unknown_tokens_get_401_authentication_required(
    sandbox: Sandbox, token: str | None
) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    reply = httpx.get(sandbox.base_url + LISTS, headers=headers)
    assert reply.status_code == 401
    assert reply.json()["code"] == "authentication.required"
    assert reply.headers["ININ-Correlation-Id"] == reply.json()["contextId"]


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


REGISTERED = "http://127.0.0.1:18765/callback"  # the sandbox's (and the app's) default


def _authorize(
    sb: Sandbox, challenge: str, redirect: str, client_id: str | None = None
) -> httpx.Response:
    return httpx.get(
        f"{sb.base_url}/oauth/authorize",
        params={
            "client_id": client_id or sb.client_id,
            "redirect_uri": redirect,
            "response_type": "code",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "xyz",
        },
    )


def test_pkce_authorize_redirects_back_with_a_code_that_exchanges_once(
    sandbox: Sandbox,
) -> None:
    verifier, challenge = _pkce()
    redirect = REGISTERED
    reply = _authorize(sandbox, challenge, redirect)
    assert reply.status_code == 302
    location = urllib.parse.urlsplit(reply.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    query = dict(urllib.parse.parse_qsl(location.query))
    assert query["state"] == "xyz"
    exchange = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "code_verifier": verifier,
        "client_id": sandbox.client_id,
        "redirect_uri": redirect,
    }
    first = _token(sandbox, data=exchange)
    assert first.status_code == 200
    assert first.json()["access_token"]
    second = _token(sandbox, data=exchange)  # a code is single-use
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_pkce_with_the_wrong_verifier_is_refused(sandbox: Sandbox) -> None:
    _, challenge = _pkce()
    redirect = "http://localhost:18765/callback"
    code = dict(
        urllib.parse.parse_qsl(
            urllib.parse.urlsplit(
                _authorize(sandbox, challenge, redirect).headers["location"]
            ).query
        )
    )["code"]
    reply = _token(
        sandbox,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": "not-the-verifier",
            "client_id": sandbox.client_id,
            "redirect_uri": redirect,
        },
    )
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_grant"


def test_authorize_refuses_a_non_loopback_redirect(sandbox: Sandbox) -> None:
    reply = _authorize(sandbox, _pkce()[1], "http://evil.example.com/cb")
    assert reply.status_code == 400


@pytest.mark.parametrize(
    "redirect",
    [
        "http://127.0.0.1:53682/callback",  # another port
        "http://127.0.0.1:18765/callback/",  # a trailing slash
        "http://127.0.0.1:18765/Callback",  # another case
        "http://127.0.0.1:18765/callback?x=1",  # a query
        "https://127.0.0.1:18765/callback",  # another scheme
        "http://[::1]:18765/callback",  # another spelling of loopback
    ],
)
def test_authorize_accepts_only_registered_redirect_uris_exactly(
    sandbox: Sandbox, redirect: str
) -> None:
    for client_id in (sandbox.client_id, sandbox.pkce_client_id):
        reply = _authorize(sandbox, _pkce()[1], redirect, client_id)
        assert reply.status_code == 400, redirect
        assert "location" not in reply.headers  # no code goes to an unregistered address
        assert "not registered" in reply.json()["error_description"]
    sandbox.register_redirect_uri(redirect)
    assert _authorize(sandbox, _pkce()[1], redirect).status_code == 302


def _code(sb: Sandbox, client_id: str) -> tuple[str, str]:
    verifier, challenge = _pkce()
    location = _authorize(sb, challenge, REGISTERED, client_id).headers["location"]
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))["code"], verifier


def _exchange(sb: Sandbox, client_id: str, **kw: object) -> httpx.Response:
    code, verifier = _code(sb, client_id)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "client_id": client_id,
        "redirect_uri": REGISTERED,
    }
    return _token(sb, data=form, **kw)


def test_a_public_pkce_client_gets_no_refresh_token(sandbox: Sandbox) -> None:
    for client_id in (sandbox.pkce_client_id, sandbox.client_id):  # no secret sent: public
        body = _exchange(sandbox, client_id).json()
        assert body["access_token"]
        assert "refresh_token" not in body


def test_the_refresh_grant_needs_a_code_grant_client_with_its_secret(sandbox: Sandbox) -> None:
    secret = (sandbox.client_id, sandbox.client_secret)
    body = _exchange(sandbox, sandbox.client_id, auth=secret).json()
    refresh = body["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    renewed = _token(sandbox, data=form, auth=secret)
    assert renewed.status_code == 200
    assert renewed.json()["access_token"] != body["access_token"]
    without_secret = _token(sandbox, data={**form, "client_id": sandbox.client_id})
    assert without_secret.status_code == 401
    wrong = _token(sandbox, data={**form, "refresh_token": "made-up"}, auth=secret)
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")


def test_a_sandbox_can_give_pkce_clients_refresh_tokens(sandbox: Sandbox) -> None:
    """The other possible platform behaviour ([U]): a public client with a refresh token."""
    sandbox.set_pkce_refresh_tokens(True)
    body = _exchange(sandbox, sandbox.pkce_client_id).json()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": body["refresh_token"],
        "client_id": sandbox.pkce_client_id,
    }
    assert _token(sandbox, data=form).status_code == 200
    sandbox.set_pkce_refresh_tokens(False)  # revoked with the setting
    assert _token(sandbox, data=form).status_code == 400


def test_tokens_expire_after_token_ttl_s() -> None:
    with Sandbox.start(seed=False, faults=Faults(token_ttl_s=0.5)) as sb:
        body = _token(
            sb, data={"grant_type": "client_credentials"}, auth=(sb.client_id, sb.client_secret)
        ).json()
        assert body["expires_in"] == 1
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        assert httpx.get(sb.base_url + LISTS, headers=headers).status_code == 200

        def expired() -> bool:
            return httpx.get(sb.base_url + LISTS, headers=headers).status_code == 401

        wait_for(expired, "the token to expire", timeout_s=10)
