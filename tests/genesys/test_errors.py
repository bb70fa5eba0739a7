from __future__ import annotations

import httpx
import pytest

from outbound_desk.genesys import (
    AuthenticationError,
    BadRequest,
    Conflict,
    GenesysError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    VersionConflict,
)
from outbound_desk.genesys.errors import error_from_response, parse_retry_after


def _response(status: int, body: object = None, **headers: str) -> httpx.Response:
    request = httpx.Request(
        "PUT",
        "https://api.mypurecloud.com/api/v2/outbound/contactlists/abc",
        headers={"Authorization": "Bearer very-secret-token"},
    )
    return httpx.Response(status, json=body, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, AuthenticationError),
        (403, PermissionDenied),
        (404, NotFound),
        (409, Conflict),
        (429, RateLimited),
        (500, ServerError),
        (503, ServerError),
        (418, GenesysError),
    ],
)
def test_status_maps_to_type(status: int, cls: type[GenesysError]) -> None:
    error = error_from_response(_response(status, {"message": "m", "code": "c"}))
    assert type(error) is cls
    assert error.status == status


def test_error_carries_the_body_and_the_correlation_id_but_never_the_token() -> None:
    body = {
        "message": "Contact list name already exists",
        "code": "invalid.value",
        "status": 400,
        "contextId": "ctx-1",
        "details": [{"errorCode": "x", "fieldName": "name"}, "junk"],
    }
    error = error_from_response(_response(400, body, **{"ININ-Correlation-Id": "corr-9"}))
    assert error.message == "Contact list name already exists"
    assert error.code == "invalid.value"
    assert error.correlation_id == "corr-9"
    assert error.details == [{"errorCode": "x", "fieldName": "name"}]
    text = str(error) + repr(error)
    assert "corr-9" in text
    assert "PUT /api/v2/outbound/contactlists/abc" in str(error)
    assert "very-secret-token" not in text
    assert "Bearer" not in text


def test_messages_say_what_to_do() -> None:
    error = error_from_response(_response(401, {"message": "bad.credentials"}))
    assert "client id and secret" in str(error)


def test_correlation_id_falls_back_to_context_id_and_non_json_bodies_work() -> None:
    error = error_from_response(_response(500, {"message": "boom", "contextId": "ctx-7"}))
    assert error.correlation_id == "ctx-7"
    request = httpx.Request("GET", "https://api.mypurecloud.com/x")
    plain = error_from_response(httpx.Response(502, text="<html>", request=request))
    assert isinstance(plain, ServerError)
    assert plain.message == "Bad Gateway"


@pytest.mark.parametrize(
    ("status", "message", "is_version"),
    [
        (409, "Conflict", True),
        (400, "The version supplied does not match the current version", True),
        (400, "Stale version 3", True),
        (400, "Name must be unique", False),
    ],
)
def test_version_conflicts_on_updates(status: int, message: str, is_version: bool) -> None:
    error = error_from_response(_response(status, {"message": message}), version_checked=True)
    assert isinstance(error, VersionConflict) is is_version
    plain = error_from_response(_response(status, {"message": message}))
    assert not isinstance(plain, VersionConflict)


def test_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:30 GMT", now=10.0) == pytest.approx(20.0)
    error = error_from_response(_response(429, {"message": "slow down"}, **{"Retry-After": "3"}))
    assert error.retry_after == 3.0
