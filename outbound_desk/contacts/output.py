"""Writing what validation produced: the normalised CSV and the rejects CSV.

Both are UTF-8 without BOM, comma-separated, minimal quoting, ``\\n`` line ends. They are
written to a ``.partial`` file beside the target and renamed into place only when complete, so
a cancelled or failed run never leaves a half file that looks finished.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType

import pandas as pd

#: A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """*value* made inert for a spreadsheet: a leading quote before a formula start."""
    return "'" + value if value.startswith(FORMULA_START) else value


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
        csv.writer(buf, lineterminator="\n").writerows(rows)
        return buf.getvalue()

    def _write_text(self, text: str) -> None:
        data = text.encode("utf-8")
        self._hash.update(data)
        self._fh.write(data)

    def write_frame(self, frame: pd.DataFrame) -> None:
        if len(frame):
            self._write_text(frame.to_csv(header=False, index=False, lineterminator="\n"))
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
