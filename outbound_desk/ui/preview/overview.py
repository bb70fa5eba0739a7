"""Pictures of the file: a strip of small bars over the rows table (one per column: how full it
is, how many of its cells have issues, how many distinct values) and a bar of valid, invalid
and duplicate rows beside the summary.

Plain QPainter: a few rectangles per column, repainted only when the numbers or the table's
columns move. The statistics are computed by :func:`column_stats` on Arrow arrays, off the GUI
thread.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QHeaderView, QSizePolicy, QTableView, QWidget

FILLED = QColor(90, 140, 210)
ISSUES = QColor(214, 69, 65)
DUPLICATE = QColor(230, 150, 30)
VALID = QColor(60, 160, 90)


@dataclass(frozen=True)
class ColumnStats:
    """One column of the file: ``rows`` in all, ``filled`` not empty, ``distinct`` values."""

    name: str
    rows: int
    filled: int
    distinct: int


def column_stats(names: Sequence[str], columns: Sequence[Sequence[pa.Array]]) -> list[ColumnStats]:
    """Statistics of each column from its Arrow chunks (``columns[i]`` are column i's arrays)."""
    out = []
    for name, chunks in zip(names, columns, strict=True):
        arr = pa.chunked_array(list(chunks), type=pa.string())
        rows = len(arr)
        empty = pc.or_kleene(pc.is_null(arr), pc.equal(pc.utf8_trim_whitespace(arr), ""))
        filled = rows - int(pc.sum(empty.cast(pa.int64())).as_py() or 0)
        # Distinct among the filled cells: an empty cell is not a value of its own.
        distinct = int(pc.count_distinct(pc.filter(arr, pc.invert(empty))).as_py())
        out.append(ColumnStats(name, rows, filled, distinct))
    return out


def issues_per_column(issues: Sequence[Any]) -> Counter[str]:
    """How many issues name each column (issues of a whole record name none)."""
    return Counter(i.column for i in issues if getattr(i, "column", None))


class ColumnOverview(QWidget):
    """A strip of small bars aligned with *table*'s columns.

    Each column shows its filled share (blue) with the share of cells that have issues (red)
    over it, and a line of text: filled %, issues, distinct values. Clicking a column's bar
    emits ``column_clicked(name)``. Signals: ``column_clicked(str)``.
    """

    column_clicked = Signal(str)

    def __init__(self, table: QTableView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("columnOverview")
        self._table = table
        self._stats: dict[str, ColumnStats] = {}
        self._issues: Counter[str] = Counter()
        self._columns: list[str] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().height() + 12)
        self.setMouseTracking(True)
        header = table.horizontalHeader()
        header.sectionResized.connect(self.update)
        header.sectionMoved.connect(self.update)
        table.horizontalScrollBar().valueChanged.connect(self.update)

    def sizeHint(self) -> QSize:
        return QSize(400, self.fontMetrics().height() + 12)

    def clear(self) -> None:
        self._stats, self._issues, self._columns = {}, Counter(), []
        self.setToolTip("")
        self.update()

    def set_columns(self, names: Sequence[str]) -> None:
        self._columns = list(names)
        self.update()

    def set_stats(self, stats: Sequence[ColumnStats]) -> None:
        self._stats = {s.name: s for s in stats}
        self.update()

    def set_issue_counts(self, counts: Counter[str]) -> None:
        self._issues = Counter(counts)
        self.update()

    def stats(self, name: str) -> ColumnStats | None:
        return self._stats.get(name)

    def issues(self, name: str) -> int:
        return self._issues.get(name, 0)

    def describe(self, name: str) -> str:
        """The words for one column's bar (its tooltip, and its text when there is room)."""
        st, bad = self._stats.get(name), self._issues.get(name, 0)
        if st is None:
            return f"{name}: {bad:,} issue{'s' if bad != 1 else ''}" if bad else name
        share = st.filled / st.rows if st.rows else 0.0
        # Shortest news first, as a narrow column shows only the start: how full, then trouble.
        parts = [f"{share:.0%} filled"]
        if bad:
            parts.append(f"{bad:,} issue{'s' if bad != 1 else ''}")
        parts.append(f"{st.distinct:,} distinct")
        return " · ".join(parts)

    def column_at(self, x: int) -> str | None:
        header: QHeaderView = self._table.horizontalHeader()
        offset = self._table.verticalHeader().width() + self._table.frameWidth()
        logical = header.logicalIndexAt(x - offset)
        if 0 <= logical < len(self._columns):
            return self._columns[logical]
        return None

    def _rect_of(self, logical: int) -> QRect:
        header = self._table.horizontalHeader()
        offset = self._table.verticalHeader().width() + self._table.frameWidth()
        x = header.sectionViewportPosition(logical) + offset
        return QRect(x, 0, header.sectionSize(logical), self.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        pal = self.palette()
        painter.fillRect(self.rect(), pal.color(QPalette.ColorRole.Window))
        text_colour = pal.color(QPalette.ColorRole.WindowText)
        left_edge = self._table.verticalHeader().width() + self._table.frameWidth()
        painter.setClipRect(QRect(left_edge, 0, self.width() - left_edge, self.height()))
        for logical, name in enumerate(self._columns):
            cell = self._rect_of(logical).adjusted(3, 2, -3, -2)
            if cell.right() < left_edge or cell.left() > self.width() or cell.width() < 6:
                continue
            bar = QRect(cell.left(), cell.bottom() - 3, cell.width(), 4)
            painter.fillRect(bar, pal.color(QPalette.ColorRole.Base))
            st = self._stats.get(name)
            if st is not None and st.rows:
                filled = round(bar.width() * st.filled / st.rows)
                painter.fillRect(QRect(bar.left(), bar.top(), filled, bar.height()), FILLED)
                bad = min(self._issues.get(name, 0), st.rows)
                if bad:
                    width = max(2, round(bar.width() * bad / st.rows))
                    painter.fillRect(QRect(bar.left(), bar.top(), width, bar.height()), ISSUES)
            elif self._issues.get(name, 0):
                painter.fillRect(QRect(bar.left(), bar.top(), 4, bar.height()), ISSUES)
            painter.setPen(ISSUES if self._issues.get(name, 0) else text_colour)
            words = self.fontMetrics().elidedText(
                self.describe(name) if st is not None or self._issues.get(name, 0) else "",
                Qt.TextElideMode.ElideRight,
                cell.width(),
            )
            painter.drawText(
                QRect(cell.left(), cell.top(), cell.width(), cell.height() - 5),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                words,
            )
        painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        name = self.column_at(int(event.position().x()))
        self.setToolTip(f"{name}: {self.describe(name)} — click to list its issues" if name else "")
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            name = self.column_at(int(event.position().x()))
            if name is not None:
                self.column_clicked.emit(name)
        super().mouseReleaseEvent(event)


class SummaryBar(QWidget):
    """Valid, invalid and duplicate rows as one stacked bar (green, red, orange)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summaryBar")
        self.setFixedSize(160, 12)
        self.counts: tuple[int, int, int] = (0, 0, 0)

    def set_counts(self, valid: int, invalid: int, duplicates: int) -> None:
        self.counts = (valid, invalid, duplicates)
        total = valid + invalid
        self.setToolTip(
            f"{valid:,} valid, {invalid:,} invalid ({duplicates:,} of them duplicate ids) "
            f"of {total:,} rows"
            if total
            else ""
        )
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.rect()
        painter.fillRect(rect, self.palette().color(QPalette.ColorRole.Base))
        valid, invalid, duplicates = self.counts
        total = valid + invalid
        if total:
            x = 0
            # Duplicates are a part of the invalid rows; drawn at the invalid end.
            for count, colour in (
                (valid, VALID),
                (max(invalid - duplicates, 0), ISSUES),
                (min(duplicates, invalid), DUPLICATE),
            ):
                width = round(rect.width() * count / total)
                if count and width == 0:
                    width = 1
                painter.fillRect(QRect(x, 0, width, rect.height()), colour)
                x += width
        painter.end()


__all__ = ["ColumnOverview", "ColumnStats", "SummaryBar", "column_stats", "issues_per_column"]
