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
