"""Redaction proven on real log records written to the log file and read back."""

from __future__ import annotations

import base64
import json
import logging
import urllib.parse

import pytest

from outbound_desk.config import paths
from outbound_desk.config.logs import (
    LOG_FILENAME,
    MASK,
    register_secret,
    setup_logging,
)

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
CLIENT_SECRET = "Zq8-client-SECRET_value~42"
REFRESH = "rfr-7777-aaaa"
VERIFIER = "pkce-verifier-0123456789abcdefghijklmnopqrstuvwxyz"
CODE = "auth-code-XYZ987"


def test_log_file_under_log_dir() -> None:
    path = setup_logging(logging.INFO)
    logging.getLogger("outbound_desk").info("hello")
    assert path == paths.log_dir() / LOG_FILENAME
    assert "hello" in path.read_text(encoding="utf-8")


def test_secrets_are_masked_in_messages_args_and_tracebacks() -> None:
    path = setup_logging(logging.DEBUG)
    log = logging.getLogger("outbound_desk.genesys.http")  # a child: the filter is on handlers
    basic = base64.b64encode(f"client-id:{CLIENT_SECRET}".encode()).decode()
    log.debug("request headers %s", {"Authorization": f"Bearer {TOKEN}", "Accept": "json"})
    log.debug("Authorization: Basic %s", basic)
    log.info(
        "token response %s",
        json.dumps({"access_token": TOKEN, "refresh_token": REFRESH, "expires_in": 86400}),
    )
    log.info(
        "POST /oauth/token body=%s",
        urllib.parse.urlencode(
            {
                "grant_type": "authorization_code",
                "code": CODE,
                "code_verifier": VERIFIER,
                "client_id": "client-id",
            }
        ),
    )
    log.info("GET https://api.example/x?access_token=%s&pageSize=25", TOKEN)
    log.warning("form client_secret=%s&grant_type=client_credentials", CLIENT_SECRET)
    try:
        raise RuntimeError(f"server said: bearer {TOKEN} is invalid")
    except RuntimeError:
        log.exception("call failed")

    text = path.read_text(encoding="utf-8")
    for secret in (TOKEN, CLIENT_SECRET, REFRESH, VERIFIER, CODE, basic):
        assert secret not in text, secret
    # What is not secret stays readable.
    for kept in ("'Accept': 'json'", '"expires_in": 86400', "pageSize=25", "client_id=client-id"):
        assert kept in text
    assert text.count(MASK) >= 9
    assert "RuntimeError: server said" in text  # the traceback is there, masked


def test_registered_secrets_are_masked_in_any_format() -> None:
    path = setup_logging(logging.INFO)
    odd = "p@ss wörd/+&="
    register_secret(odd)

    class Holder:
        def __str__(self) -> str:
            return f"<Holder secret={odd}>"

    log = logging.getLogger("outbound_desk.test")
    log.info("plain %s", odd)
    log.info("object %s", Holder())
    log.info("url-encoded %s", urllib.parse.quote(odd, safe=""))
    log.info("json %s", json.dumps({"value": odd}))
    text = path.read_text(encoding="utf-8")
    assert odd not in text
    assert urllib.parse.quote(odd, safe="") not in text
    assert json.dumps(odd)[1:-1] not in text
    assert text.count(MASK) == 4


def test_short_values_are_not_registered() -> None:
    path = setup_logging(logging.INFO)
    register_secret("ab")
    logging.getLogger("x").info("about tabs")
    assert "about tabs" in path.read_text(encoding="utf-8")


def test_setup_twice_does_not_double_the_handlers() -> None:
    setup_logging(logging.INFO)
    path = setup_logging(logging.INFO)
    logging.getLogger("outbound_desk").info("once-only-line")
    assert path.read_text(encoding="utf-8").count("once-only-line") == 1


def test_without_a_file_nothing_is_written() -> None:
    path = setup_logging(logging.INFO, to_file=False)
    logging.getLogger("outbound_desk").info("nowhere")
    assert not path.exists()


def test_console_output_is_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(logging.INFO, to_file=False, console=True, console_level=logging.INFO)
    logging.getLogger("outbound_desk").info("header Authorization: Bearer %s", TOKEN)
    err = capsys.readouterr().err
    assert "Authorization: ***" in err
    assert TOKEN not in err


def test_the_file_rotates() -> None:
    path = setup_logging(logging.INFO)
    line = "x" * 1000
    log = logging.getLogger("outbound_desk.bulk")
    for _ in range(2200):  # a little over 2 MB
        log.info(line)
    assert path.with_name(LOG_FILENAME + ".1").exists()
    assert path.stat().st_size < 2 * 1024 * 1024
