"""Errors across a process boundary: an envelope that keeps the type, the message, the exit
code and the error's plain attributes, so the receiving side raises the same error again.

Before this, a child process sent ``(class name, message)`` and the parent raised a generic
error: an ``UploadPlatformError`` (exit 3, resumable, with its upload id) arrived as a
``RuntimeError`` nobody could tell from a rejected file (exit 1). Now the child sends
``ErrorEnvelope.of(exc).to_dict()`` (plain JSON-able data: it pickles, and it could cross a
socket too) and the parent raises ``ErrorEnvelope.from_dict(d).rebuild()``.

Only classes of this package and Python's built-in exceptions are rebuilt; anything else (or a
class that cannot be made again) arrives as :class:`RemoteError`, which keeps the original
type's name and exit code. ``exit_code`` follows the command line's contract: 1 the input or
the data was rejected, 2 usage, 3 the platform or the network failed, or the work was stopped
and can be resumed.
"""

from __future__ import annotations

import builtins
import importlib
import json
from dataclasses import dataclass, field
from typing import Any

from outbound_desk.base.cancel import Cancelled

__all__ = ["ErrorEnvelope", "RemoteError", "exit_code_of"]

#: The exit code of an error that does not say (``exit_code`` attribute) and is not one of
#: the kinds below: the work failed, the data was not at fault, and a rerun may succeed.
DEFAULT_EXIT_CODE = 3


def _plain(value: object) -> bool:
    """JSON-able data (what can cross any boundary unchanged)."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def exit_code_of(exc: BaseException) -> int:
    """The command line's exit code for *exc*: its ``exit_code`` when it has one (the upload,
    file and platform errors do), 3 for a cancel, 2 for a usage error of Python's own kind
    (``ValueError`` raised by option checks is not one: only explicit codes count)."""
    code = getattr(exc, "exit_code", None)
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    if isinstance(exc, Cancelled | KeyboardInterrupt):
        return 3
    return DEFAULT_EXIT_CODE


class RemoteError(Exception):
    """An error from another process whose class could not be made here.

    ``type_name`` is the original ``module:QualifiedName``; ``exit_code`` is the original's.
    """

    def __init__(self, message: str, type_name: str, exit_code: int) -> None:
        super().__init__(message)
        self.type_name = type_name
        self.exit_code = exit_code


@dataclass(frozen=True)
class ErrorEnvelope:
    """One error as plain data: ``type_name`` (``module:QualifiedName``), ``message``, ``exit_code``
    and the instance's attributes that are plain values (``upload_id``, ``status``, ``row``...).
    """

    type_name: str
    message: str
    exit_code: int
    attrs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, exc: BaseException) -> ErrorEnvelope:
        kind = type(exc)
        attrs = {k: v for k, v in vars(exc).items() if not k.startswith("_") and _plain(v)}
        return cls(
            type_name=f"{kind.__module__}:{kind.__qualname__}",
            message=str(exc) or kind.__name__,
            exit_code=exit_code_of(exc),
            attrs=attrs,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "message": self.message,
            "exit_code": self.exit_code,
            "attrs": dict(self.attrs),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ErrorEnvelope:
        return cls(
            type_name=str(data["type"]),
            message=str(data["message"]),
            exit_code=int(data["exit_code"]),
            attrs=dict(data.get("attrs") or {}),
        )

    def _class(self) -> type[BaseException] | None:
        module, _, name = self.type_name.partition(":")
        if module == "builtins":
            found = getattr(builtins, name, None)
        elif module == "outbound_desk" or module.startswith("outbound_desk."):
            try:
                found = importlib.import_module(module)
            except ImportError:
                return None
            for part in name.split("."):
                found = getattr(found, part, None)
        else:
            return None
        if isinstance(found, type) and issubclass(found, BaseException):
            return found
        return None

    def rebuild(self) -> BaseException:
        """The error again: an instance of its own class with its message and attributes
        (its ``__init__`` is not run, so any signature will do), else a RemoteError."""
        kind = self._class()
        if kind is None:
            return RemoteError(self.message, self.type_name, self.exit_code)
        try:
            exc = kind.__new__(kind)
            BaseException.__init__(exc, self.message)
            for key, value in self.attrs.items():
                setattr(exc, key, value)
        except (TypeError, AttributeError):
            return RemoteError(self.message, self.type_name, self.exit_code)
        if exit_code_of(exc) != self.exit_code:
            try:
                setattr(exc, "exit_code", self.exit_code)  # noqa: B010 - any class
            except AttributeError:
                return RemoteError(self.message, self.type_name, self.exit_code)
        return exc
