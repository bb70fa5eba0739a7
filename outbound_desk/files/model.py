"""The value types of ``outbound_desk.files``: issues, dialects, profiles, chunks, errors.

They are plain data so that the contacts layer, the CLI and the app can share them without
knowing how a file was read.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from outbound_desk.base.cancel import Cancelled as _Cancelled
from outbound_desk.base.limits import MAX_COLUMNS as MAX_COLUMNS
from outbound_desk.base.limits import MAX_NAME_LENGTH as MAX_NAME_LENGTH
from outbound_desk.base.limits import MAX_VALUE_LENGTH as MAX_VALUE_LENGTH

if TYPE_CHECKING:  # pandas, numpy and pyarrow are only needed by whoever builds a chunk
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    import pyarrow as pa

    from outbound_desk.files.identity import FileIdentity

# MAX_COLUMNS, MAX_NAME_LENGTH, MAX_VALUE_LENGTH: the platform's limits, defined once in
# base.limits and named here for the readers' callers.

#: How many issues of one code a profile keeps; all of them are still counted.
ISSUES_KEPT_PER_CODE = 1_000

#: Fields a record may have before the file is refused (20 times the platform's column limit):
#: a wider header is no contact list, and reading it would only cost time and memory.
MAX_RECORD_FIELDS = 1_000
#: A record longer than this (in bytes or characters) is cut to its first
#: ``KEPT_RECORD_BYTES`` and rejected with a ``record_too_long`` issue: the platform takes at
#: most 50 values of 512 characters (well under 100 KiB), and a 200 MB field must not be held.
LONG_RECORD_BYTES = 1 << 20
KEPT_RECORD_BYTES = 64 << 10


class Severity(enum.StrEnum):
    """How bad an issue is: ``error`` blocks an upload, ``warning`` asks for a look."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a file, located as precisely as the reader knows it.

    ``row`` is the 1-based physical record number (the header, when there is one, is record 1;
    a quoted field holding a newline does not start a new record). ``offset`` is a byte offset
    into the file as it is on disk. ``code`` is a stable snake_case identifier; ``message`` says
    what is wrong and what the user can do.
    """

    row: int | None
    column: str | None
    code: str
    message: str
    severity: Severity = Severity.ERROR
    offset: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "message": self.message,
            "severity": self.severity.value,
            "offset": self.offset,
        }


class FileError(Exception):
    """A file that cannot be read at all; ``str(error)`` is a one-line message for the user."""

    exit_code = 1  # the input was rejected (the command line's contract)

    def __init__(
        self,
        message: str,
        *,
        code: str,
        offset: int | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.offset = offset
        self.row = row


#: Raised by a long operation when its ``cancelled()`` callable returned true (the one
#: Cancelled of every layer).
Cancelled = _Cancelled


@dataclass(frozen=True, slots=True)
class Dialect:
    """How the records of a text file are written.

    ``escapechar`` is set only for files that escape quotes with a backslash instead of
    doubling them (``doublequote`` is then false).
    """

    delimiter: str = ","
    quotechar: str = '"'
    doublequote: bool = True
    escapechar: str | None = None


@dataclass(frozen=True, slots=True)
class Overrides:
    """What the user forces instead of the detection; ``None`` means "detect it"."""

    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str | None = None
    has_header: bool | None = None
    #: A workbook's sheet: its name, or its 0-based position as digits (``"2"``).
    sheet: str | None = None
    #: A workbook's rows above the header (title or note rows) to skip; ``None``: detect them.
    skip_rows: int | None = None
    #: A UTF-8 file's invalid byte sequences read as cp1252, the rest as UTF-8 (mixed
    #: encodings), instead of as U+FFFD.
    repair_encoding: bool = False
    #: Mojibake ("CafÃ©": UTF-8 once read as cp1252) repaired in every value (ftfy).
    fix_mojibake: bool = False

    def given(self) -> dict[str, Any]:
        """The overrides actually set, by field name: a detection left to the reader (None)
        and a repair not asked for (False) are left out, so the app and the command line
        describe the same read with the same keys (an upload's identity depends on them)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is None or (value is False and name in ("repair_encoding", "fix_mojibake")):
                continue
            out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class SheetInfo:
    """One sheet of a workbook: its name, position and whether Excel shows it."""

    name: str
    index: int
    hidden: bool = False
    #: Whether the sheet holds any cell (``None``: not looked at, as for a very big sheet).
    has_data: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "index": self.index,
            "hidden": self.hidden,
            "has_data": self.has_data,
        }


@dataclass(frozen=True, slots=True)
class WorkbookInfo:
    """What a workbook's profile knows beyond a text file's (``FileProfile.workbook``).

    ``first_row`` is the sheet row number (1-based, as Excel shows it) of the first record
    read (the header when there is one); ``skipped`` says how many title or note rows above it
    were skipped. ``first_column`` is the 0-based sheet column of the table's first column.
    """

    format: str  # "xlsx", "xlsm", "xls", "ods"
    sheets: tuple[SheetInfo, ...]
    sheet: str
    first_row: int
    skipped: int
    first_column: int = 0
    #: The sheet's last row as the workbook declares it (an estimate before ``scan``).
    last_row: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "sheet": self.sheet,
            "sheets": [s.as_dict() for s in self.sheets],
            "header_row": self.first_row,
            "skipped_rows": self.skipped,
        }


@dataclass(slots=True)
class FileProfile:
    """Everything known about a file: what ``sniff`` detected and what ``scan`` counted.

    ``columns`` are the names the reader gives the frame's columns: the header's names, except
    that an empty name becomes ``column_<n>`` and a repeated one gets a ``_<k>`` suffix so that
    every column can be addressed (``header`` keeps the names exactly as written). A file
    without a header gets ``column_1`` .. ``column_<n>``.

    ``rows`` (data records, header excluded) and ``sha256`` are ``None`` until ``scan``.
    ``issue_counts`` counts every issue per code, while ``issues`` keeps at most
    ``ISSUES_KEPT_PER_CODE`` of each.
    """

    path: str
    size_bytes: int
    encoding: str
    bom: bool
    encoding_confidence: float
    encoding_runner_up: str | None
    dialect: Dialect
    has_header: bool
    header: list[str] | None
    columns: list[str]
    line_ending: str
    preview: list[list[str]]
    issues: list[Issue] = field(default_factory=list)
    issue_counts: dict[str, int] = field(default_factory=dict)
    rows: int | None = None
    sha256: str | None = None
    #: A quote character inside an unquoted field was seen: the reader takes its exact path.
    stray_quotes: bool = False
    #: Typical length of all-digit columns (for ``lost_leading_zeros``), from the samples.
    digit_lengths: dict[str, int] = field(default_factory=dict)
    overrides: Overrides = field(default_factory=Overrides)
    #: Set for a workbook (.xlsx, .xlsm, .xls, .ods): the sheet read and where its table is.
    workbook: WorkbookInfo | None = None
    #: The file as it was when ``scan`` began (size, times, inode): whoever uses the scan's
    #: counts and checksum later can tell whether they still describe the file.
    identity: FileIdentity | None = None

    @property
    def delimiter(self) -> str:
        return self.dialect.delimiter

    @property
    def quotechar(self) -> str:
        return self.dialect.quotechar

    @property
    def data_start(self) -> int:
        """Record number of the first data record (a workbook's: its sheet row number)."""
        first = self.workbook.first_row if self.workbook is not None else 1
        return first + 1 if self.has_header else first

    def copy(self) -> FileProfile:
        return replace(
            self,
            columns=list(self.columns),
            preview=[list(r) for r in self.preview],
            issues=list(self.issues),
            issue_counts=dict(self.issue_counts),
            digit_lengths=dict(self.digit_lengths),
        )

    def as_dict(self) -> dict[str, Any]:
        """The ``inspect --json`` object (DESIGN.md); keys may be added, never renamed."""
        return {
            "path": self.path,
            "size_bytes": self.size_bytes,
            "encoding": self.encoding,
            "bom": self.bom,
            "delimiter": self.dialect.delimiter,
            "quotechar": self.dialect.quotechar,
            "has_header": self.has_header,
            "columns": list(self.columns),
            "rows": self.rows,
            "line_ending": self.line_ending,
            "issues": [i.as_dict() for i in self.issues],
            "sha256": self.sha256,
            "encoding_confidence": round(self.encoding_confidence, 3),
            "encoding_runner_up": self.encoding_runner_up,
            "doublequote": self.dialect.doublequote,
            "escapechar": self.dialect.escapechar,
            "header": self.header,
            "issue_counts": dict(self.issue_counts),
            "format": self.workbook.format if self.workbook is not None else "text",
            "workbook": self.workbook.as_dict() if self.workbook is not None else None,
        }


@dataclass(slots=True)
class RecordChunk:
    """A slice of a file's data records, in file order, ready for validation.

    ``table`` has one string column per profile column (empty cells are ``""``, never null);
    ``frame`` is the same as a pandas DataFrame, made on first use (validation works on the
    Arrow columns and never needs it). ``records[i]`` is the physical record number of row
    ``i``. Records that are structurally broken (wrong number of fields) are not in the table:
    their fields are in ``raw`` under their record number, so that validation can reject them
    with their values. ``issues`` are the structural issues of this chunk's records.
    """

    table: pa.Table
    records: npt.NDArray[np.int64]
    issues: list[Issue]
    raw: dict[int, list[str]]
    _frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame whose every cell is a ``str`` (pandas' Arrow-backed
        ``str`` dtype), made once."""
        if self._frame is None:
            frame: pd.DataFrame = self.table.to_pandas()
            if self.table.num_columns and not self.table.num_rows:
                frame = frame.astype("str")
            self._frame = frame
        return self._frame
