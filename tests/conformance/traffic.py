"""Checking recorded sandbox traffic against the official SDK's operations and models.

Each recorded exchange (see ``outbound_desk.emulator.recorder``) under ``/api/v2/`` is mapped
to the SDK operation with that method and path template, then:

- the body our client sent (User-Agent ``outbound-desk/...``) is checked against the
  operation's ``body`` type, and its query parameter names against the operation's;
- every 2xx JSON answer is checked against the operation's ``response_type``; an answer the
  SDK expects to be empty must be empty, and one it reads as JSON must be JSON;
- every 4xx/5xx JSON answer is checked against the platform's ``ErrorBody``;
- a 2xx answer on a path the SDK has no operation for is a failure (the sandbox serves
  something the platform does not).

Paths outside ``/api/v2/`` are not SDK operations (login ``/oauth/*``, the legacy upload
service ``/uploads/v2/*``, the storage behind presigned and download URLs): they are counted,
not checked.
"""

from __future__ import annotations

import dataclasses
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tests.conformance.sdk import Exceptions, Sdk, Violation, check_value

CLIENT_AGENT_PREFIX = "outbound-desk/"

#: Keys the SDK 269 models do not have that the sandbox or the client may still send, with the
#: source that says the real platform does the same. Keep it short: every entry is a place where
#: the SDK is not the whole truth.
DOCUMENTED_EXCEPTIONS: dict[tuple[str, str], str] = {}


@dataclasses.dataclass(frozen=True)
class Finding:
    """One kind of disagreement, with how often it happened and one test that showed it."""

    operation: str
    direction: str  # "sent" (our client's request) or "answered" (the sandbox's response)
    where: str
    problem: str
    count: int
    example_test: str | None

    def __str__(self) -> str:
        test = f"  (e.g. {self.example_test})" if self.example_test else ""
        times = f" [x{self.count}]" if self.count > 1 else ""
        where = self.where or "(body)"
        return f"{self.operation} {self.direction}: {where}: {self.problem}{times}{test}"


@dataclasses.dataclass
class Report:
    """What a recording held and what disagreed with the SDK."""

    exchanges: int = 0
    checked_requests: int = 0
    checked_responses: int = 0
    outside_api: int = 0
    truncated: int = 0
    findings: list[Finding] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.exchanges} exchanges: {self.checked_requests} client bodies and "
            f"{self.checked_responses} sandbox answers checked against the SDK models; "
            f"{self.outside_api} outside /api/v2 (login, upload service, storage) not checked"
            + (f"; {self.truncated} bodies too large to record" if self.truncated else "")
        )


def read_recording(path: Path) -> Iterable[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def check_recording(
    sdk: Sdk, entries: Iterable[Mapping[str, Any]], exceptions: Exceptions | None = None
) -> Report:
    """Check every recorded exchange; the findings are grouped by kind."""
    exceptions = DOCUMENTED_EXCEPTIONS if exceptions is None else exceptions
    report = Report()
    grouped: dict[tuple[str, str, str, str], list[Any]] = {}

    def found(op: str, direction: str, violations: list[Violation], test: str | None) -> None:
        for v in violations:
            key = (
                op,
                direction,
                re.sub(r"\[\d+\]", "[*]", v.where),
                re.sub(r"\[\d+\]", "[*]", v.problem),
            )
            slot = grouped.setdefault(key, [0, test])
            slot[0] += 1

    for entry in entries:
        report.exchanges += 1
        method, path, status = entry["method"], entry["path"], int(entry["status"])
        test = entry.get("test")
        if entry.get("requestTruncated") or entry.get("responseTruncated"):
            report.truncated += 1
        if not path.startswith("/api/v2/"):
            report.outside_api += 1
            continue
        op = sdk.operation_for(method, path)
        name = op.name if op is not None else f"{method} {path}"
        ours = str(entry.get("userAgent") or "").startswith(CLIENT_AGENT_PREFIX)
        if op is None:
            if 200 <= status < 300:
                found(name, "answered", [Violation("", "the SDK has no such operation")], test)
            continue
        if ours:
            unknown = sorted(
                set(urllib.parse.parse_qs(entry.get("query") or "", keep_blank_values=True))
                - op.query_params
            )
            if unknown:
                found(
                    name,
                    "sent",
                    [Violation("?", f"query parameters the SDK does not have: {unknown}")],
                    test,
                )
        request = _decode(entry.get("request"))
        if request is _INVALID:
            found(name, "sent", [Violation("", "the body is not valid JSON")], test)
        elif ours and request is not _ABSENT:
            report.checked_requests += 1
            if op.body_type is None:
                if request is not None:
                    found(name, "sent", [Violation("", "the SDK sends no body here")], test)
            else:
                found(
                    name,
                    "sent",
                    check_value(sdk, op.body_type, request, exceptions=exceptions),
                    test,
                )
        response = _decode(entry.get("response"))
        if response is _ABSENT:
            if 200 <= status < 300 and op.response_type and entry.get("responseBytes"):
                kind = entry.get("responseType") or "no content type"
                found(
                    name,
                    "answered",
                    [Violation("", f"a {kind} body where the SDK reads {op.response_type} JSON")],
                    test,
                )
            continue
        if response is _INVALID:
            found(
                name,
                "answered",
                [Violation("", "a JSON content type on a body that is not JSON")],
                test,
            )
            continue
        report.checked_responses += 1
        if 200 <= status < 300:
            if op.response_type is None:
                found(name, "answered", [Violation("", "the SDK expects no body here")], test)
            else:
                found(
                    name,
                    "answered",
                    check_value(sdk, op.response_type, response, exceptions=exceptions),
                    test,
                )
        elif status >= 400:
            found(
                name,
                f"answered {status}",
                check_value(sdk, "ErrorBody", response, exceptions=exceptions),
                test,
            )
    report.findings = [
        Finding(op, direction, where, problem, count, test)
        for (op, direction, where, problem), (count, test) in sorted(grouped.items())
    ]
    return report


_ABSENT: Any = object()
_INVALID: Any = object()


def _decode(text: str | None) -> Any:
    if text is None or not text.strip():
        return _ABSENT
    try:
        return json.loads(text)
    except ValueError:
        return _INVALID
