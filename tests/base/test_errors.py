"""Errors keep their type and exit code across a process boundary (base.errors)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from outbound_desk.base.cancel import Cancelled
from outbound_desk.base.errors import ErrorEnvelope, RemoteError, exit_code_of
from outbound_desk.files import FileError
from outbound_desk.genesys import Cancelled as GenesysCancelled
from outbound_desk.genesys import RateLimited
from outbound_desk.upload.model import (
    UploadCancelled,
    UploadPlatformError,
    UploadRejected,
    UploadUsageError,
)


class _Foreign(Exception):
    """Not ours, and not importable by name from the other side."""


def _fail(kind: str, **_: Any) -> None:
    if kind == "platform":
        raise UploadPlatformError("the network went away; rerun", upload_id="u-42")
    if kind == "file":
        raise FileError("bad byte at 17", code="decode_error", offset=17, row=3)
    raise KeyError("nothing like that")


def _through_a_pipe(exc: BaseException) -> BaseException:
    data = json.loads(json.dumps(ErrorEnvelope.of(exc).to_dict()))  # plain data, any pipe
    return ErrorEnvelope.from_dict(data).rebuild()


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (UploadRejected("no id column"), 1),
        (UploadUsageError("batch size 0"), 2),
        (UploadPlatformError("503 twice", upload_id="u-1"), 3),
        (UploadCancelled("stopped"), 3),
        (FileError("not text", code="binary"), 1),
        (RateLimited("slow down", status=429, retry_after=2.0), 3),
        (ValueError("plain"), 3),
    ],
)
def test_type_message_attributes_and_exit_code_survive(exc: BaseException, code: int) -> None:
    again = _through_a_pipe(exc)
    assert type(again) is type(exc)
    assert str(again) == str(exc)
    assert exit_code_of(again) == exit_code_of(exc) == code
    for key, value in vars(exc).items():
        if not key.startswith("_"):
            assert getattr(again, key) == value


def test_one_cancelled_for_every_layer() -> None:
    assert GenesysCancelled is Cancelled
    assert issubclass(UploadCancelled, Cancelled)
    assert isinstance(_through_a_pipe(UploadCancelled("x")), Cancelled)


def test_a_class_that_cannot_be_made_here_keeps_its_name_and_code() -> None:
    exc = _Foreign("odd")
    exc.exit_code = 1  # type: ignore[attr-defined]
    data = ErrorEnvelope.of(exc).to_dict()
    data["type"] = "somewhere_else.module:_Foreign"
    again = ErrorEnvelope.from_dict(data).rebuild()
    assert isinstance(again, RemoteError)
    assert (str(again), again.exit_code, again.type_name) == ("odd", 1, data["type"])
