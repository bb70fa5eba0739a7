"""Counting the full reads of a file (issue 13): every open of it by the file reader."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import pytest


def count_reads(monkeypatch: pytest.MonkeyPatch, path: str | Path) -> list[str]:
    """Every open of *path* by the file reader from now on, as the stack that opened it."""
    import outbound_desk.files.reader as reader

    reads: list[str] = []
    real_open = open

    def counting_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(path):
            reads.append("".join(traceback.format_stack(limit=14)))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(reader, "open", counting_open, raising=False)
    return reads
