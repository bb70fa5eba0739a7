"""The Genesys error body, raised from anywhere in the sandbox and rendered by the app."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the sandbox answers with a Genesys-shaped JSON body.

    ``details`` entries follow the platform's ``{errorCode, fieldName, entityId, entityName}``.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.params = params or {}
        self.headers = headers or {}

    def body(self, context_id: str) -> dict[str, Any]:
        return error_body(
            self.status, self.code, self.message, context_id, field=self.field, params=self.params
        )


def error_body(
    status: int,
    code: str,
    message: str,
    context_id: str,
    *,
    field: str | None = None,
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The platform's error object: ``{message, code, status, messageWithParams, ...}``."""
    details: list[dict[str, str]] = []
    if field is not None:
        details.append({"errorCode": code, "fieldName": field})
    return {
        "message": message,
        "code": code,
        "status": status,
        "messageWithParams": message,
        "messageParams": dict(params or {}),
        "contextId": context_id,
        "details": details,
        "errors": [],
    }


def bad_request(message: str, *, field: str | None = None, code: str = "bad.request") -> ApiError:
    return ApiError(400, code, message, field=field)


def invalid_value(message: str, field: str | None = None) -> ApiError:
    return ApiError(400, "invalid.value", message, field=field)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not.found", message)
