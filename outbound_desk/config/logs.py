"""Logging set-up, and redaction so that no secret reaches a log file.

``setup_logging`` installs a rotating file handler under ``log_dir()`` (5 files of 2 MB) and a
console handler on stderr (stdout belongs to ``--json`` output). Both carry a
``RedactingFilter``, which masks:

- ``Bearer <token>`` and ``Basic <credentials>`` wherever they appear,
- the value of any ``Authorization`` header (``Authorization: ...``, ``'Authorization': '...'``),
- ``access_token``, ``refresh_token``, ``id_token``, ``client_secret``, ``code_verifier`` and
  ``password`` values in JSON, Python reprs, query strings and form bodies (and ``code`` in
  query strings and form bodies, the OAuth authorization code),
- the value of every URL query parameter that looks like a signature, credential or token
  (``X-Amz-Signature``, ``X-Amz-Credential``, ``X-Amz-Security-Token``, ``X-Goog-Signature``,
  ``sig``, ``Signature``, ``Policy``, ``Key-Pair-Id``, anything named ``*token*``,
  ``*signature*``, ``*credential*``, ``*secret*``): a presigned upload URL is a write
  credential for its lifetime,
- every value handed to ``register_secret`` at run time, also in its URL-encoded and JSON-escaped
  forms, so that a secret in an unusual place is masked too.

The filter sits on the handlers rather than on a logger because a logger's filters do not see
records propagated from its children.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import sys
import threading
import urllib.parse
from pathlib import Path

from outbound_desk.config.paths import log_dir

__all__ = [
    "LOG_BACKUP_COUNT",
    "LOG_FILENAME",
    "LOG_MAX_BYTES",
    "MASK",
    "RedactingFilter",
    "clear_registered_secrets",
    "redact",
    "register_secret",
    "setup_logging",
    "teardown_logging",
]

MASK = "***"
LOG_FILENAME = "outbound-desk.log"
LOG_MAX_BYTES = 2 * 1024 * 1024
LOG_BACKUP_COUNT = 5
#: Shorter values are not registered: masking every "ab" in a log would destroy it, and a
#: credential that short protects nothing anyway.
MIN_SECRET_LENGTH = 4

_SENSITIVE_FIELDS = r"access_token|refresh_token|id_token|client_secret|code_verifier|password"

_PATTERNS: tuple[re.Pattern[str], ...] = (
    # JSON and Python reprs: "access_token": "value" / 'client_secret': 'value'
    re.compile(
        rf"""(?P<k>(?P<q>["'])(?:{_SENSITIVE_FIELDS})(?P=q)\s*:\s*)"""
        r"""(?P<v>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,}\]]+)""",
        re.IGNORECASE,
    ),
    # Header reprs: 'Authorization': 'Bearer x' / "authorization": "Basic y"
    re.compile(
        r"""(?P<k>(?P<q>["'])(?:proxy-)?authorization(?P=q)\s*:\s*)"""
        r"""(?P<v>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""",
        re.IGNORECASE,
    ),
    # Raw headers: Authorization: Bearer x   (to the end of the line)
    re.compile(r"(?P<k>\b(?:proxy-)?authorization\s*[:=]\s*)(?P<v>[^\r\n\"',}]+)", re.I),
    # Query strings and form bodies: access_token=value&...   code=value
    re.compile(rf"(?P<k>(?<![\w-])(?:{_SENSITIVE_FIELDS}|code)=)(?P<v>[^&\s\"'#;,]+)", re.I),
    # Presigned and signed URLs: ?X-Amz-Signature=...&X-Amz-Credential=...&sig=...
    re.compile(
        r"(?P<k>[?&;](?:[\w.~%-]*(?:signature|credential|token|secret|passw(?:or)?d|api[_-]?key)"
        r"[\w.~%-]*|sig|policy|key-pair-id)=)(?P<v>[^&\s\"'#;,]+)",
        re.IGNORECASE,
    ),
    # Schemes anywhere else (a token passed around on its own)
    re.compile(r"(?P<k>\b(?:bearer|basic)\s+)(?P<v>[A-Za-z0-9._~+/=-]{4,})", re.I),
)

_registered: set[str] = set()
_registered_lock = threading.Lock()
_pattern_cache: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Mask *value* (and its URL-encoded and JSON-escaped forms) in every log record from now on.

    The credential store and the OAuth code call this with what they know. Values shorter than
    ``MIN_SECRET_LENGTH`` are ignored.
    """
    global _pattern_cache
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    forms = {
        value,
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value, safe=""),
        json.dumps(value, ensure_ascii=True)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    }
    with _registered_lock:
        before = len(_registered)
        _registered.update(f for f in forms if len(f) >= MIN_SECRET_LENGTH)
        if len(_registered) != before:
            _pattern_cache = None


def clear_registered_secrets() -> None:
    """Forget every registered secret (tests; signing out of every profile)."""
    global _pattern_cache
    with _registered_lock:
        _registered.clear()
        _pattern_cache = None


def _registered_pattern() -> re.Pattern[str] | None:
    global _pattern_cache
    with _registered_lock:
        if _pattern_cache is None and _registered:
            # Longest first, so that a secret containing another is masked whole.
            alternatives = sorted(_registered, key=len, reverse=True)
            _pattern_cache = re.compile("|".join(re.escape(a) for a in alternatives))
        return _pattern_cache


def _mask_value(match: re.Match[str]) -> str:
    value = match.group("v")
    if value[:1] in {'"', "'"}:  # keep the quotes, so JSON stays JSON
        return f"{match.group('k')}{value[0]}{MASK}{value[0]}"
    return f"{match.group('k')}{MASK}"


def redact(text: str) -> str:
    """*text* with every known secret pattern and every registered secret masked."""
    if not text:
        return text
    registered = _registered_pattern()
    if registered is not None:
        text = registered.sub(MASK, text)
    for pattern in _PATTERNS:
        text = pattern.sub(_mask_value, text)
    return text


class RedactingFilter(logging.Filter):
    """A handler filter that masks secrets in a record's message, arguments and traceback.

    The message is formatted with its arguments first and the result redacted, so a secret inside
    a dict, an exception or any object's ``str`` is caught too; ``args`` is then cleared.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = f"{record.msg!r} % {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


# Handlers installed by setup_logging, so that a second call replaces them instead of doubling.
_installed: list[logging.Handler] = []
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(process)d:%(threadName)s] %(message)s"


def setup_logging(
    level: int | str = logging.INFO,
    *,
    to_file: bool = True,
    console: bool = False,
    console_level: int | str = logging.WARNING,
) -> Path:
    """Configure the root logger; return the path of the log file.

    The path is returned even when *to_file* is false, so the UI can say where logs would go.
    Calling it again replaces the handlers it installed before.
    """
    teardown_logging()
    path = log_dir() / LOG_FILENAME
    root = logging.getLogger()
    root.setLevel(level)
    formatter = logging.Formatter(_FORMAT)
    redacting = RedactingFilter()
    handlers: list[logging.Handler] = []
    if to_file:
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUP_COUNT, encoding="utf-8"
            )
        )
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setLevel(console_level)
        handlers.append(stream)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(redacting)
        root.addHandler(handler)
        _installed.append(handler)
    return path


def teardown_logging() -> None:
    """Remove and close the handlers ``setup_logging`` installed."""
    root = logging.getLogger()
    while _installed:
        handler = _installed.pop()
        root.removeHandler(handler)
        handler.close()
