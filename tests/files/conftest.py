from __future__ import annotations

from pathlib import Path

import pytest

from outbound_desk.files import FileProfile, iter_chunks


def read_all(profile: FileProfile, **kwargs: object) -> tuple[list[list[str]], list[int]]:
    """Every frame row and its record number, through the public reader."""
    rows: list[list[str]] = []
    records: list[int] = []
    for chunk in iter_chunks(profile, **kwargs):  # type: ignore[arg-type]
        rows.extend([list(r) for r in chunk.frame.itertuples(index=False, name=None)])
        records.extend(int(r) for r in chunk.records)
    return rows, records


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    def _write(data: bytes | str, name: str = "f.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    return _write


def run_cli(*args: str) -> tuple[int, str, str]:
    """``outbound-desk ARGS`` in its own process: ``validate`` sets up process-wide state
    (the app's cache directory for the phone tables) that other tests must not inherit."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "outbound_desk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=False,
    )
    return done.returncode, done.stdout, done.stderr
