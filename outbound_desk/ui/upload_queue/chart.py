"""A small live chart for a job card: rows per second over time, with the 429s marked.

Plain QPainter: one polyline and a few ticks a repaint, cheap enough for the card's repaint
timer, and nothing to install. A plotting library (pyqtgraph) would bring axes, zoom and a
scene graph that a 40-pixel strip has no room for.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

#: Samples kept: at the card's 0.5 s repaint that is the last ten minutes.
MAX_SAMPLES = 1200
LIMITED_COLOUR = QColor(211, 84, 0)


class RateChart(QWidget):
    """Rows/s as a line (scaled to the highest rate seen), a tick where a 429 came back."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rateChart")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(28)
        self.samples: deque[tuple[float, float, int]] = deque(maxlen=MAX_SAMPLES)
        # What paintEvent draws, made when a sample comes in or the size changes, not on
        # every repaint: the card's labels repaint it several times a second, and Python
        # work on the GUI thread waits for the interpreter lock the upload threads share.
        self._cache: tuple[QSize, QPolygonF, list[float], float] | None = None
        self.setToolTip("Rows per second over time; orange ticks mark 429 (rate limited) answers")

    def sizeHint(self) -> QSize:
        return QSize(240, 34)

    def add_sample(self, t: float, rate: float, limited_total: int) -> None:
        """Append (elapsed seconds, rows/s, 429s so far); a sample older than the last is
        ignored (a resumed job starts its clock again)."""
        if self.samples and t <= self.samples[-1][0]:
            return
        self.samples.append((t, max(0.0, rate), limited_total))
        self._cache = None
        self.update()

    def peak(self) -> float:
        return max((r for _, r, _ in self.samples), default=0.0)

    def limited_at(self) -> list[float]:
        """The times at which the 429 count went up."""
        out, last = [], None
        for t, _, limited in self.samples:
            if last is not None and limited > last:
                out.append(t)
            last = limited
        return out

    def _drawing(self, rect: QRect) -> tuple[QPolygonF, list[float], float]:
        """The line, the x of each 429 and the top rate for *rect*, from the cache if fresh."""
        if self._cache is not None and self._cache[0] == rect.size():
            return self._cache[1], self._cache[2], self._cache[3]
        t0, t1 = self.samples[0][0], self.samples[-1][0]
        span = max(t1 - t0, 1e-6)
        top = self.peak() or 1.0
        # At most one point every two pixels: more cannot be seen.
        step = max(1, len(self.samples) // max(rect.width() // 2, 1))
        points = list(self.samples)[::step]
        if points[-1] is not self.samples[-1]:
            points.append(self.samples[-1])
        scale_x, height = rect.width() / span, rect.height() - 1
        line = QPolygonF(
            [
                QPointF(rect.left() + (t - t0) * scale_x, rect.bottom() - (rate / top) * height)
                for t, rate, _ in points
            ]
        )
        ticks = [rect.left() + (t - t0) * scale_x for t in self.limited_at()]
        self._cache = (rect.size(), line, ticks, top)
        return line, ticks, top

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        rect = self.rect().adjusted(1, 2, -1, -2)
        painter.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        if len(self.samples) < 2 or rect.width() < 4:
            painter.end()
            return
        line, ticks, top = self._drawing(rect)
        painter.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 1.5))
        painter.drawPolyline(line)
        painter.setPen(QPen(LIMITED_COLOUR, 2))
        for x in ticks:
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.top() + rect.height() / 3))
        painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(
            rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, f"{top:,.0f}/s"
        )
        painter.end()


__all__ = ["RateChart"]
