"""Small Arrow helpers the contacts modules share (string buffers, masks, columns)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


def mask(arr: pa.Array | pa.ChunkedArray) -> BoolArray:
    """A boolean Arrow array as numpy."""
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=bool)


def large_strings(values: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    """A string column (pandas or Arrow) as one ``large_string`` Arrow array."""
    if isinstance(values, pd.Series):
        dtype = values.dtype
        if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
            # Already Arrow: take its array as it is (``astype`` would walk pandas' dtype
            # machinery on every call, which holds the GIL longer than the cast itself).
            values = pa.array(values.array)
        else:
            values = pa.array(values.astype("str"), type=pa.large_string())
    arr = values.cast(pa.large_string())
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def string_buffers(
    values: pa.Array,
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.uint8]]]:
    """The offsets (``len(values) + 1`` of them, into the data) and the UTF-8 data of a
    ``large_string`` array, as numpy views: no copy."""
    n = len(values)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[
        values.offset : values.offset + n + 1
    ]
    buf = values.buffers()[2]
    data = np.frombuffer(buf, dtype=np.uint8) if buf is not None else np.zeros(0, np.uint8)
    return offsets, data


def bytes_in(data: np.ndarray[Any, np.dtype[np.uint8]], codes: list[int]) -> BoolArray:
    """Which of *data*'s bytes are one of *codes* (a few ASCII bytes: never inside a
    multi-byte UTF-8 character). A comparison per code beats a 256-entry table lookup, 3x."""
    hit: BoolArray = data == codes[0]
    for code in codes[1:]:
        hit |= data == code
    return hit


# 64-bit mixing constants: the finaliser of MurmurHash3 (fmix64) and the golden ratio.
_M1, _M2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S33 = np.uint64(33)
_TAIL = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [0], dtype=np.uint64)
_TAIL[8] = np.uint64(0xFFFFFFFFFFFFFFFF)


def _fmix(h: np.ndarray[Any, np.dtype[np.uint64]]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """MurmurHash3's 64-bit finaliser, in place: a bijection that mixes every bit."""
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h


def hash_strings(values: pa.Array) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """A 64-bit hash of each value's UTF-8 bytes (nulls hash like ""), straight from the
    Arrow buffers: no Python string per value.

    The bytes are read as little-endian 8-byte words, the last one zero-filled, and folded
    as ``h = fmix(h ^ word)`` from a seed made of the length. ``fmix`` is a bijection, so
    two values that differ only in their last word never collide; otherwise a collision
    is as likely as for a random 64-bit function (about n^2 / 2^65 for n distinct values).
    Platform-independent (explicit byte order), so equal values hash equally in every chunk.
    """
    arr = values.cast(pa.large_string())
    if not len(arr):
        return np.zeros(0, dtype=np.uint64)
    offsets, data = string_buffers(arr)
    starts = offsets[:-1]
    lengths = np.diff(offsets)
    # Every 8-byte window of the data (padded so the last value's last word can be read),
    # as an unaligned strided view: word k of a value is windows[start + 8k].
    padded = np.zeros(len(data) + 8, dtype=np.uint8)
    padded[: len(data)] = data
    windows = np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded.data, strides=(1,))
    h = _fmix((lengths.astype(np.uint64) + np.uint64(1)) * _GOLDEN)
    words = (lengths + 7) // 8
    rows: np.ndarray[Any, Any] | None = None  # None: every value still has words
    k = 0
    while True:
        at = starts + 8 * k if rows is None else starts[rows] + 8 * k
        left = lengths - 8 * k if rows is None else lengths[rows] - 8 * k
        word = windows[at]
        if left.min() < 8:
            word &= _TAIL[np.minimum(left, 8)]
        if rows is None:
            h = _fmix(h ^ word)
        else:
            h[rows] = _fmix(h[rows] ^ word)
        k += 1
        more = words > k if rows is None else words[rows] > k
        if not more.any():
            return h
        if rows is None or not more.all():
            rows = np.flatnonzero(more) if rows is None else rows[more]
