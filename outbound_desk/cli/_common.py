"""What every sub-command shares: exit codes, one-line errors, JSON output."""

from __future__ import annotations

import enum
import json
import re
import sys
from typing import Any


class ExitCode(enum.IntEnum):
    """Exit codes are part of the public contract (DESIGN.md)."""

    OK = 0
    REJECTED = 1  # the input or the data was rejected
    USAGE = 2
    PLATFORM = 3  # the platform or the network failed


#: What a terminal may act on instead of showing: C0 controls (ESC starts the sequences that
#: retitle or clear it), DEL, C1 controls (U+009B is a one-character CSI to some terminals),
#: and the bidirectional overrides and isolates that make text read other than it is.
#: Lone surrogates too: a file name that is not UTF-8 reaches us with its bytes as U+DC80..
#: U+DCFF (PEP 383), which a UTF-8 terminal cannot be sent (a traceback) and are shown \xNN.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_UNSAFE_OR_LINES = re.compile(f"[\n\t]|{_UNSAFE.pattern}")
#: The same characters in JSON text: outside strings they cannot occur, inside one ``\uXXXX``
#: is the same value (``json.dumps`` already escapes C0, not DEL and C1).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


#: Lone surrogates in JSON text: valid JSON must be valid UTF-8, and a ``\udcff`` escape is a
#: lone surrogate to a strict decoder. They become U+FFFD (the name's bytes as a UTF-8 reader
#: would show them).
_SURROGATES = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if 0xDC80 <= ord(ch) <= 0xDCFF:
        return f"\\x{ord(ch) - 0xDC00:02x}"  # a byte that was not UTF-8 (surrogateescape)
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def safe(value: object, *, lines: bool = False) -> str:
    """*value* as text a terminal shows rather than obeys: control characters become visible
    escapes (``\\x1b``). Names, messages and values from the platform or a file go through this
    before they are printed; with *lines*, line breaks and tabs stay as they are (for text of
    our own that quotes such values already made safe)."""
    pattern = _UNSAFE if lines else _UNSAFE_OR_LINES
    return pattern.sub(_escape, str(value))


def out(text: str) -> None:
    """Print a line of human output whose parts from outside are not yet escaped."""
    print(safe(text))


def fail(message: str, code: ExitCode) -> int:
    """Print a one-line error (never a traceback) and return *code*.

    The message often quotes the platform (a list name, a server's error text), so it is
    escaped for the terminal.
    """
    print(f"outbound-desk: error: {safe(message)}", file=sys.stderr)
    return int(code)


def json_text(obj: Any) -> str:
    """*obj* as one line of JSON, with nothing in it a terminal would act on."""
    text = json.dumps(obj, ensure_ascii=False, default=str)
    text = _SURROGATES.sub("\ufffd", text)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def print_json(obj: Any) -> None:
    sys.stdout.write(json_text(obj))
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


def add_sheet_args(parser: Any) -> None:
    """``--sheet`` and ``--skip-rows``: which table of a workbook to read."""
    parser.add_argument(
        "--sheet",
        metavar="NAME|INDEX",
        help="a workbook's sheet: its name or 0-based position (default: the first with data)",
    )
    parser.add_argument(
        "--skip-rows",
        type=_count,
        default=None,
        metavar="N",
        help="a workbook's rows above the header to skip (default: title rows are detected)",
    )


def add_repair_args(parser: Any) -> None:
    """``--repair-encoding`` and ``--fix-mojibake``: the repairs that keep the rest of a file."""
    parser.add_argument(
        "--repair-encoding",
        action="store_true",
        help="mixed encodings: read a UTF-8 file's invalid bytes as cp1252 and the rest as "
        "UTF-8 (never open such a file as cp1252: its other accents would break)",
    )
    parser.add_argument(
        "--fix-mojibake",
        action="store_true",
        help="repair UTF-8 text once read as cp1252 ('CafÃ©' -> 'Café') in every value",
    )


def _count(value: str) -> int:
    import argparse

    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a count of rows (0, 1, 2, ...)")
    return n
