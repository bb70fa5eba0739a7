"""The normalised CSV the platform reads: UTF-8 without a BOM, comma, minimal quoting, CRLF.

CRLF because RFC 4180 says so and Excel opens it cleanly everywhere; the platform reads
either. The SHA-256 of exactly the bytes written comes back from ``close()``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

LINE_TERMINATOR = "\r\n"
#: Spreadsheets run a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA = re.compile(r"^[=+\-@\t\r]")


def neutralise(value: str) -> str:
    """*value* made inert for spreadsheets: a leading formula character gets a ``'``."""
    return "'" + value if value.startswith(FORMULA_START) else value


class NormalisedWriter:
    """Writes a header and then frames or rows to a CSV file, hashing every byte it writes.

    With ``neutralise_formulas`` (for reject files people open in Excel), values starting with
    ``= + - @``, a tab or a CR are prefixed with ``'``; never use it for the file that is
    uploaded, since it changes values (a ``+1...`` phone number, for one).
    """

    def __init__(self, path: str | os.PathLike[str], *, neutralise_formulas: bool = False) -> None:
        self.path = os.fspath(path)
        self.neutralise_formulas = neutralise_formulas
        self._file = open(self.path, "wb")  # noqa: SIM115 - closed by close()
        self._hash = hashlib.sha256()
        self._columns: list[str] | None = None
        self.rows = 0
        self._closed = False

    def _write_text(self, text: str) -> None:
        data = text.encode("utf-8")
        self._hash.update(data)
        self._file.write(data)

    def _csv_lines(self, rows: Iterable[Sequence[str]]) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=LINE_TERMINATOR, quoting=csv.QUOTE_MINIMAL)
        if self.neutralise_formulas:
            rows = ([neutralise(v) for v in row] for row in rows)
        writer.writerows(rows)
        return buffer.getvalue()

    def write_header(self, columns: Sequence[str]) -> None:
        if self._columns is not None:
            raise ValueError("the header is already written")
        self._columns = [str(c) for c in columns]
        names = self._columns
        if self.neutralise_formulas:
            names = [neutralise(c) for c in names]  # a column name is file data too
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=LINE_TERMINATOR).writerow(names)
        self._write_text(buffer.getvalue())

    def write_rows(self, rows: Iterable[Sequence[str]]) -> None:
        """Write rows of strings (each as long as the header)."""
        if self._columns is None:
            raise ValueError("write_header first")
        rows = list(rows)
        width = len(self._columns)
        for row in rows:
            if len(row) != width:
                raise ValueError(f"a row has {len(row)} values for {width} columns")
        self._write_text(self._csv_lines(rows))
        self.rows += len(rows)

    def write_frame(self, frame: pd.DataFrame) -> None:
        """Write a frame whose columns are the header's, in that order; cells are strings."""
        if self._columns is None:
            raise ValueError("write_header first")
        if [str(c) for c in frame.columns] != self._columns:
            raise ValueError(
                f"the frame's columns {list(frame.columns)} are not the header's {self._columns}"
            )
        if frame.empty:
            return
        frame = frame.fillna("").astype(str)
        if self.neutralise_formulas:
            frame = frame.apply(lambda col: col.where(~col.str.match(_FORMULA), "'" + col))
        text = frame.to_csv(
            header=False,
            index=False,
            lineterminator=LINE_TERMINATOR,
            quoting=csv.QUOTE_MINIMAL,
        )
        self._write_text(text)
        self.rows += len(frame)

    def close(self) -> str:
        """Flush and close the file; return the SHA-256 (hex) of everything written."""
        if not self._closed:
            self._file.close()
            self._closed = True
        return self._hash.hexdigest()

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def __enter__(self) -> NormalisedWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_csv(
    path: str | os.PathLike[str],
    columns: Sequence[str],
    chunks: Iterable[pd.DataFrame | Iterable[Sequence[str]]],
    *,
    neutralise_formulas: bool = False,
) -> str:
    """Write *columns* and then every chunk (frames or row lists); return the SHA-256."""
    import pandas as pd

    with NormalisedWriter(path, neutralise_formulas=neutralise_formulas) as writer:
        writer.write_header(columns)
        for chunk in chunks:
            if isinstance(chunk, pd.DataFrame):
                writer.write_frame(chunk)
            else:
                writer.write_rows(chunk)
        return writer.close()
