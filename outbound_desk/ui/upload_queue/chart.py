"""A small live chart for a job card: rows per second over time, with the 429s marked.

Plain QPainter: one polyline and a few ticks a repaint, cheap enough for the card's repaint
timer, and nothing to install. A plotting library (pyqtgraph) would bring axes, zoom and a
scene graph that a 40-pixel strip has no room for.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QPointF, QSize, Qt
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
        self.setToolTip("Rows per second over time; orange ticks mark 429 (rate limited) answers")

    def sizeHint(self) -> QSize:
        return QSize(240, 34)

    def add_sample(self, t: float, rate: float, limited_total: int) -> None:
        """Append (elapsed seconds, rows/s, 429s so far); a sample older than the last is
        ignored (a resumed job starts its clock again)."""
        if self.samples and t <= self.samples[-1][0]:
            return
        self.samples.append((t, max(0.0, rate), limited_total))
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

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        rect = self.rect().adjusted(1, 2, -1, -2)
        painter.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        if len(self.samples) < 2 or rect.width() < 4:
            painter.end()
            return
        t0, t1 = self.samples[0][0], self.samples[-1][0]
        span = max(t1 - t0, 1e-6)
        top = self.peak() or 1.0

        def x_of(t: float) -> float:
            return rect.left() + (t - t0) / span * rect.width()

        line = QPolygonF(
            [
                QPointF(x_of(t), rect.bottom() - (rate / top) * (rect.height() - 1))
                for t, rate, _ in self.samples
            ]
        )
        pen = QPen(pal.color(QPalette.ColorRole.Highlight), 1.5)
        painter.setPen(pen)
        painter.drawPolyline(line)
        painter.setPen(QPen(LIMITED_COLOUR, 2))
        for t in self.limited_at():
            x = x_of(t)
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.top() + rect.height() / 3))
        painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(
            rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, f"{top:,.0f}/s"
        )
        painter.end()


__all__ = ["RateChart"]
