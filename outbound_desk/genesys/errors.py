"""Typed errors built from the Genesys error body; each message says what to do next.

Nothing here ever holds a token or an ``Authorization`` header: errors are made from the
response status, the error body and a few response headers only.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from typing import Any

import httpx

from outbound_desk.base.cancel import Cancelled as _Cancelled

__all__ = [
    "AuthenticationError",
    "BadRequest",
    "Cancelled",
    "Conflict",
    "GenesysError",
    "ImportFailed",
    "NetworkError",
    "NotFound",
    "NotReady",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "UnexpectedAnswer",
    "VersionConflict",
    "error_from_response",
    "parse_retry_after",
]

_VERSION_MESSAGE = re.compile(r"version", re.IGNORECASE)
_VERSION_CODES = {"version.mismatch", "version.conflict", "entity.version.mismatch"}


class GenesysError(Exception):
    """A request to Genesys Cloud failed; the fields are what the platform said about it."""

    hint = "Try again; if it keeps failing, quote the correlation id to Genesys support."
    exit_code = 3  # the platform or the network failed (the command line's contract)

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        correlation_id: str | None = None,
        details: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.code = code
        self.correlation_id = correlation_id
        self.details = details or []
        self.retry_after = retry_after
        self.method = method
        self.path = path
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        facts = [f"HTTP {self.status}" if self.status is not None else None]
        facts.append(f"code {self.code}" if self.code else None)
        facts.append(f"correlation id {self.correlation_id}" if self.correlation_id else None)
        shown = ", ".join(f for f in facts if f)
        tail = f" ({shown})" if shown else ""
        return f"{where}{self.message}{tail}. {self.hint}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, correlation_id={self.correlation_id!r})"
        )


class BadRequest(GenesysError):  # noqa: N818 - the names the brief gives
    """400: the platform refused the values sent."""

    hint = "Check the values named in the details and correct them."


class AuthenticationError(GenesysError):
    """401 (or a refused token request): the credentials or the token are not accepted."""

    hint = (
        "Check the org profile's client id and secret (File > Connection… in the app, "
        "`outbound-desk login` on the command line), or sign in again."
    )


class PermissionDenied(GenesysError):  # noqa: N818 - the names the brief gives
    """403: the OAuth client or user lacks a permission."""

    hint = (
        "Ask a Genesys Cloud admin to give the OAuth client's role the outbound permission "
        "this needs (for example outbound:contactList:view)."
    )


class NotFound(GenesysError):  # noqa: N818 - the names the brief gives
    """404: no such entity (or a brand-new one the platform does not show yet)."""

    hint = "Check the id; a list created moments ago may take a few seconds to become readable."


class Conflict(GenesysError):  # noqa: N818 - the names the brief gives
    """409: the entity is busy or changed meanwhile."""

    hint = "The entity changed or is busy; reload it and try again."


class VersionConflict(Conflict):
    """A stale ``version`` on an update: 409, or 400 whose message says the version differs."""

    hint = "Someone else changed the list meanwhile; reload it and apply the change again."


class RateLimited(GenesysError):  # noqa: N818 - the names the brief gives
    """429: too many requests for this token."""

    hint = "Wait a moment and try again; the platform limits requests per token."


class ServerError(GenesysError):
    """5xx: Genesys Cloud failed to answer."""

    hint = "Genesys Cloud had a problem; try again later and quote the correlation id if it lasts."


class UnexpectedAnswer(GenesysError):  # noqa: N818 - named for the outcome
    """An answer that is not a documented success: a redirect, or a success status without
    the documented body (none, not JSON, or the wrong shape). Nothing counts as done from it.

    A platform failure (exit 3), never a refusal of the input: something between this machine
    and Genesys Cloud (a proxy, a captive portal, a wrong base URL) may be answering instead.
    """

    hint = (
        "Nothing was taken as done. Check the network (a proxy or captive portal may be "
        "answering instead of Genesys Cloud) and the region, then try again."
    )


class NetworkError(GenesysError):
    """No HTTP answer: connection refused or dropped, or a timeout."""

    hint = (
        "Check the network connection, a proxy or firewall, and the org profile's region "
        "(File > Connection… in the app, `outbound-desk login` on the command line)."
    )


class NotReady(GenesysError):  # noqa: N818 - the names the brief gives
    """A wait ran out of time: the list, import or export did not get ready."""

    hint = "The platform is still working on it; wait a little and look again."


class ImportFailed(GenesysError):  # noqa: N818 - the names the brief gives
    """The contact list import reported ``FAILED``; ``message`` is its ``failureReason``."""

    hint = "Fix the file as the failure reason says and upload it again."


#: The caller's ``cancelled()`` check said stop: the one Cancelled of every layer.
Cancelled = _Cancelled


_BY_STATUS: dict[int, type[GenesysError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    429: RateLimited,
}


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (seconds or an HTTP date), or None."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _body(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _is_version_conflict(status: int, code: str | None, message: str) -> bool:
    if status == 409:
        return True
    if status == 400:
        return (code or "").lower() in _VERSION_CODES or bool(
            _VERSION_MESSAGE.search(message)
            and re.search(r"match|stale|conflict|differ|outdated", message, re.IGNORECASE)
        )
    return False


def error_from_response(response: httpx.Response, *, version_checked: bool = False) -> GenesysError:
    """The typed error for a failed *response*.

    With *version_checked* (an update that sent a ``version``) a 409, or a 400 whose message
    says the version does not match, becomes a :class:`VersionConflict`.
    """
    status = response.status_code
    body = _body(response)
    message = str(body.get("message") or response.reason_phrase or "request failed")
    code_value = body.get("code")
    code = str(code_value) if code_value else None
    details_value = body.get("details")
    details = (
        [d for d in details_value if isinstance(d, dict)] if isinstance(details_value, list) else []
    )
    correlation_id = response.headers.get("ININ-Correlation-Id") or (
        str(body["contextId"]) if body.get("contextId") else None
    )
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    cls: type[GenesysError]
    if version_checked and _is_version_conflict(status, code, message):
        cls = VersionConflict
    elif status >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(status, GenesysError)
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:  # a response built by hand, never sent
        request = None
    return cls(
        message,
        status=status,
        code=code,
        correlation_id=correlation_id,
        details=details,
        retry_after=retry_after,
        method=request.method if request is not None else None,
        path=request.url.path if request is not None else None,
    )
