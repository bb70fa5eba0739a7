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
