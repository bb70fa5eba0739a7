"""Fault injection and rate-limit settings, parsed from the command line's mini-language."""

from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class Faults:
    """What goes wrong on purpose, so clients can be tested against a misbehaving platform.

    ``error_rate`` and ``drop_rate`` are shares of requests (0..1); ``latency_ms`` is added to
    every request; ``token_ttl_s`` is the lifetime of tokens issued from now on;
    ``create_404_ms`` hides a new list from reads for that long after its creation;
    ``import_stall_s`` keeps a new import at IN_PROGRESS with no progress for that long.
    """

    error_rate: float = 0.0
    drop_rate: float = 0.0
    latency_ms: float = 0.0
    token_ttl_s: float = 86400.0
    create_404_ms: float = 0.0
    import_stall_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("error_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        for name in ("latency_ms", "create_404_ms", "import_stall_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a number >= 0, not {value}")
        if not (math.isfinite(self.token_ttl_s) and self.token_ttl_s > 0):
            raise ValueError(f"token_ttl_s must be a number > 0, not {self.token_ttl_s}")


FAULT_KEYS = tuple(f.name for f in dataclasses.fields(Faults))


def parse_faults(spec: str) -> Faults:
    """``"error_rate=0.1,latency_ms=50"`` -> :class:`Faults`; ``ValueError`` says what is wrong."""
    values: dict[str, float] = {}
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep:
            raise ValueError(f"fault {item!r} is not key=value")
        if key not in FAULT_KEYS:
            raise ValueError(f"unknown fault {key!r}; known: {', '.join(FAULT_KEYS)}")
        try:
            values[key] = float(text)
        except ValueError:
            raise ValueError(f"fault {key} needs a number, not {text.strip()!r}") from None
    return Faults(**values)


def parse_rate_limit(text: str) -> tuple[int, float]:
    """``"300"`` -> (300, 60.0); ``"50/5"`` -> (50, 5.0)."""
    count_text, sep, window_text = text.partition("/")
    try:
        count = int(count_text)
        window = float(window_text) if sep else 60.0
    except ValueError:
        raise ValueError(f"rate limit {text!r} is not N or N/WINDOW_SECONDS") from None
    if count < 1 or not (math.isfinite(window) and window > 0):
        raise ValueError(f"rate limit {text!r} needs N >= 1 and a window > 0 seconds")
    return count, window
