"""The rows behind the preview table: a Qt-free, append-only store filled chunk by chunk.

A 1,000,000-row file does not fit comfortably as Python strings (a 1M x 8 object frame is about
half a gigabyte), so each chunk is kept as pyarrow string arrays (one contiguous buffer per
column) and a cell becomes a Python ``str`` only when the view asks for it.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class _Block:
    start: int  # index of this block's first row in the store
    records: np.ndarray  # physical record number of each row (header = 1)
    columns: tuple[pa.Array, ...]


class RowStore:
    """Every record of one file, in file order, readable one cell at a time from any thread.

    A loader appends blocks from a worker thread; the table model reads :meth:`cell` on the GUI
    thread. Appends publish a block only once it is complete, so readers need no lock.
    """

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns: tuple[str, ...] = tuple(columns)
        self._blocks: list[_Block] = []
        self._starts: list[int] = []
        self._len = 0
        self._lock = threading.Lock()
        self.complete = False

    def __len__(self) -> int:
        return self._len

    def append(self, records: np.ndarray, columns: Sequence[pa.Array]) -> None:
        if len(columns) != len(self.columns):
            raise ValueError(f"expected {len(self.columns)} columns, got {len(columns)}")
        n = len(records)
        if n == 0:
            return
        with self._lock:
            block = _Block(self._len, np.asarray(records, dtype=np.int64), tuple(columns))
            self._blocks.append(block)
            self._starts.append(block.start)
            self._len += n  # published last: a reader never sees a row without its block

    def _locate(self, row: int) -> tuple[_Block, int]:
        if not 0 <= row < self._len:
            raise IndexError(row)
        i = bisect.bisect_right(self._starts, row) - 1
        block = self._blocks[i]
        return block, row - block.start

    def cell(self, row: int, column: int) -> str:
        block, offset = self._locate(row)
        value = block.columns[column][offset].as_py()
        return "" if value is None else str(value)

    def row_values(self, row: int) -> list[str]:
        return [self.cell(row, c) for c in range(len(self.columns))]

    def record(self, row: int) -> int:
        block, offset = self._locate(row)
        return int(block.records[offset])

    def row_of_record(self, record: int) -> int | None:
        """The store row holding physical record *record*, or None (header, blank, not loaded)."""
        for block in self._blocks[: len(self._starts)]:
            recs = block.records
            if len(recs) and recs[0] <= record <= recs[-1]:
                i = int(np.searchsorted(recs, record))
                if i < len(recs) and recs[i] == record:
                    return block.start + i
                return None
        return None

    def column_arrays(self, column: int) -> list[pa.Array]:
        """Column *column*'s Arrow arrays, one per block, in row order (no copy)."""
        return [b.columns[column] for b in self._blocks[: len(self._starts)]]

    def nbytes(self) -> int:
        arrays = sum(int(a.nbytes) for b in self._blocks for a in b.columns)
        return arrays + sum(int(b.records.nbytes) for b in self._blocks)


def _join_extra(fields: list[str], width: int, delimiter: str) -> list[str]:
    """Fit a ragged record to *width* columns without hiding anything: surplus fields stay
    visible, joined into the last column with the file's own delimiter."""
    if len(fields) <= width:
        return fields + [""] * (width - len(fields))
    if width == 0:
        return []
    return [*fields[: width - 1], delimiter.join(fields[width - 1 :])]


def block_from_chunk(
    frame: Any, records: np.ndarray, raw: dict[int, list[str]], width: int, delimiter: str
) -> tuple[np.ndarray, list[pa.Array]]:
    """Turn a reader chunk (frame rows + broken ``raw`` records) into one sorted block."""
    # pandas' pyarrow-backed str columns convert without copying each value into Python.
    cols = [pa.array(frame.iloc[:, c], type=pa.string()) for c in range(width)]
    recs = np.asarray(records, dtype=np.int64)
    if not raw:
        return recs, cols
    raw_recs = np.fromiter(raw.keys(), dtype=np.int64, count=len(raw))
    fitted = [_join_extra(list(v), width, delimiter) for v in raw.values()]
    raw_cols = [pa.array([f[c] for f in fitted], type=pa.string()) for c in range(width)]
    all_recs = np.concatenate([recs, raw_recs])
    order = np.argsort(all_recs, kind="stable")
    idx = pa.array(order)
    merged = [pa.concat_arrays([a, b]).take(idx) for a, b in zip(cols, raw_cols, strict=True)]
    return all_recs[order], merged


def load_rows(
    profile: Any,
    store: RowStore,
    *,
    progress: Callable[[int, int, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    on_block: Callable[[int], None] | None = None,
    chunk_rows: int = 50_000,
    cache: Any = None,
) -> Any:
    """Read *profile*'s file by chunks into *store* and scan it in the same read (issue 13:
    the table and the scan are one pass, ``files.ScanPass``).

    Returns the scanned profile (what ``files.scan`` gives: rows, SHA-256, issues, identity),
    or None when *cancelled* stopped the read. ``on_block(rows_so_far)`` is called after each
    block is published, from this thread. *cache* (a ``files.ChunkCache`` for *profile* and
    *chunk_rows*) keeps the chunks for the validation, which then does not read the file.
    """
    from outbound_desk.files import ScanPass

    width = len(store.columns)
    reading = ScanPass(
        profile, chunk_rows=chunk_rows, progress=progress, cancelled=cancelled, keep=cache
    )
    for chunk in reading.chunks():
        recs, cols = block_from_chunk(
            chunk.frame, chunk.records, chunk.raw, width, profile.delimiter or ","
        )
        store.append(recs, cols)
        if on_block is not None:
            on_block(len(store))
        if cancelled is not None and cancelled():
            return None
    store.complete = True
    return reading.scanned
