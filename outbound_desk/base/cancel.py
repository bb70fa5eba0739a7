"""Cancellation and progress: one exception, one callback shape, for every long operation.

Long operations are plain functions taking ``progress(done, total, phase)`` and
``cancelled()`` (STYLE rule 2). When ``cancelled()`` turns true they stop at the next safe
point and raise :class:`Cancelled` (or a subclass that adds what the caller needs, such as
the upload's ``UploadCancelled`` with its upload id and exit code). ``except Cancelled``
catches every one of them, whichever layer raised it.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["CancelCheck", "Cancelled", "Progress"]

#: ``progress(done, total, phase)``: *done* of *total* units of the step named *phase*.
Progress = Callable[[int, int, str], None]
#: ``cancelled()``: true once the caller wants the operation to stop.
CancelCheck = Callable[[], bool]


class Cancelled(Exception):  # noqa: N818 - it is an outcome, not an error
    """A long operation stopped because its ``cancelled()`` check said so."""
