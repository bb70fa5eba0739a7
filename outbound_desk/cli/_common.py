"""What every sub-command shares: exit codes, one-line errors, JSON output."""

from __future__ import annotations

import enum
import json
import sys
from typing import Any


class ExitCode(enum.IntEnum):
    """Exit codes are part of the public contract (DESIGN.md)."""

    OK = 0
    REJECTED = 1  # the input or the data was rejected
    USAGE = 2
    PLATFORM = 3  # the platform or the network failed


def fail(message: str, code: ExitCode) -> int:
    """Print a one-line error (never a traceback) and return *code*."""
    print(f"outbound-desk: error: {message}", file=sys.stderr)
    return int(code)


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
    sys.stdout.flush()
