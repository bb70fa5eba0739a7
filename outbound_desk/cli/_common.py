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


#: Spellings of the duplicate policy before settings schema 3; still accepted, with a warning.
_OLD_POLICIES = {"keep_first": "first", "keep_last": "last"}


def add_duplicates_arg(parser: Any) -> None:
    """``--duplicates first|last|reject``, defaulting to the preferences (one default for
    ``validate`` and ``upload``)."""
    parser.add_argument(
        "--duplicates",
        choices=("first", "last", "reject", *_OLD_POLICIES),
        default=None,
        metavar="{first,last,reject}",
        help="rows sharing a contact id: keep the first, the last, or reject them all "
        "(default: the preferences' duplicate policy, 'reject' on a new install)",
    )


def add_region_arg(parser: Any) -> None:
    parser.add_argument(
        "--region",
        default=None,
        metavar="CC",
        help="default phone region, e.g. US (default: the preferences' phone region)",
    )


def duplicate_policy(given: str | None, preferred: str) -> str:
    """The policy to use: *given* on the command line (old spellings warned about) or the
    preferences' *preferred*."""
    if given in _OLD_POLICIES:
        new = _OLD_POLICIES[given]
        print(
            f"outbound-desk: warning: --duplicates {given} is deprecated; write --duplicates {new}",
            file=sys.stderr,
        )
        return new
    return given or preferred
