"""Writing the normalised CSV fast.

The format is ``files.writer``'s (UTF-8 without BOM, comma, minimal quoting, CRLF), and the
rejects file is written with ``files.writer.NormalisedWriter`` itself. The normalised file has
its own writer for two reasons: ``NormalisedWriter.write_frame`` goes through
``DataFrame.to_csv``, about 2 s per million rows here (a quarter of the whole validation), while
the Arrow kernels below build the same bytes in a fraction of that; and the file is written to
a ``.partial`` file renamed into place only when complete, so a cancelled run never leaves a
half file that looks finished.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from outbound_desk.files.writer import LINE_TERMINATOR


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """*frame*'s rows as UTF-8 CSV, byte for byte what ``csv.writer`` (minimal quoting,
    ``LINE_TERMINATOR``) writes, built by Arrow kernels instead of a Python loop per row."""
    q, empty = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())
    cols = []
    for c in frame.columns:
        a = pa.array(frame[c].astype("str"), type=pa.large_string())
        needs = pc.match_substring_regex(a, '[",\r\n]')
        if len(frame.columns) == 1:
            # A lone empty field would be a blank line, which readers skip: csv quotes it.
            needs = pc.or_(needs, pc.equal(pc.utf8_length(a), 0))
        if not pc.any(needs).as_py():
            cols.append(a)
            continue
        quoted = pc.binary_join_element_wise(q, pc.replace_substring(a, '"', '""'), q, empty)
        cols.append(pc.if_else(needs, quoted, a))
    line = pc.binary_join_element_wise(*cols, pa.scalar(",", pa.large_string()))
    line = pc.binary_join_element_wise(line, empty, pa.scalar(LINE_TERMINATOR, pa.large_string()))
    line = line.combine_chunks() if isinstance(line, pa.ChunkedArray) else line
    offsets = np.frombuffer(line.buffers()[1], dtype=np.int64)
    lo, hi = int(offsets[line.offset]), int(offsets[line.offset + len(line)])
    data: bytes = line.buffers()[2].to_pybytes()
    return data[lo:hi]


class CsvSink:
    """A CSV file written in pieces, with its SHA-256 computed on the way."""

    def __init__(self, path: str | os.PathLike[str], header: Sequence[str]) -> None:
        self.path = Path(path)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._fh = open(self._partial, "wb")  # noqa: SIM115 - closed in close()/abort()
        self._hash = hashlib.sha256()
        self.rows = 0
        self.sha256: str | None = None
        self._write_text(self._rows_text([list(header)]))

    def _rows_text(self, rows: Iterable[Sequence[str]]) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator=LINE_TERMINATOR).writerows(rows)
        return buf.getvalue()

    def _write_text(self, text: str) -> None:
        data = text.encode("utf-8")
        self._hash.update(data)
        self._fh.write(data)

    def write_frame(self, frame: pd.DataFrame) -> None:
        if len(frame):
            data = csv_bytes(frame)
            self._hash.update(data)
            self._fh.write(data)
            self.rows += len(frame)

    def write_rows(self, rows: Sequence[Sequence[str]]) -> None:
        if rows:
            self._write_text(self._rows_text(rows))
            self.rows += len(rows)

    def close(self) -> str:
        """Finish the file, move it into place and return its SHA-256."""
        self._fh.close()
        os.replace(self._partial, self.path)
        self.sha256 = self._hash.hexdigest()
        return self.sha256

    def abort(self) -> None:
        self._fh.close()
        self._partial.unlink(missing_ok=True)

    def __enter__(self) -> CsvSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._fh.closed:
            self.abort()
