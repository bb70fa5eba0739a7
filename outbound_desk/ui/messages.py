"""What to tell the user about an exception: one plain paragraph, never a traceback."""

from __future__ import annotations

from outbound_desk.config import NoKeyringError, redact
from outbound_desk.genesys import GenesysError


def describe(exc: BaseException) -> str:
    """A message for a dialog or an in-place error label (secrets redacted)."""
    if isinstance(exc, GenesysError | NoKeyringError):
        text = str(exc)
    elif isinstance(exc, ValueError):
        text = str(exc)  # our own checks raise ValueError with a user-facing sentence
    elif isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        text = f"{exc.strerror or exc}{where}. Check the path and its permissions."
    else:
        text = (
            f"Unexpected error: {type(exc).__name__}: {exc}. The log file has the details "
            "(Help > Show logs)."
        )
    return redact(text)


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 issue``, ``2,677 issues``: the count with the noun that fits it."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"
