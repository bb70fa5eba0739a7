"""Issues by record and column: the Qt-free index the table model's issue roles read."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

#: Severity names, worst first; the index keeps the worst severity of a cell.
SEVERITY_ORDER = ("error", "warning", "info")


def severity_name(issue: Any) -> str:
    sev = getattr(issue, "severity", "error")
    return str(getattr(sev, "value", sev)).lower()


class IssueIndex:
    """Every issue found in a file so far, kept in arrival order and indexed by (record, column).

    ``column`` None means the issue concerns the whole record (a ragged row); file-level issues
    (no record) are listed but colour no cell. Thread-safe: validation adds from a worker.
    Counts per code include issues the engine counted but did not keep (``add_counts``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issues: list[Any] = []
        self._by_cell: dict[tuple[int, str | None], list[Any]] = {}
        self._rows: set[int] = set()
        self._extra_counts: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._issues)

    def clear(self) -> None:
        with self._lock:
            self._issues = []
            self._by_cell = {}
            self._rows = set()
            self._extra_counts = Counter()

    def issues(self) -> list[Any]:
        return list(self._issues)

    def add(self, issues: Iterable[Any]) -> list[Any]:
        """Add issues not already known; returns the ones added."""
        added = []
        with self._lock:
            for issue in issues:
                key = (issue.row, issue.column)
                same = self._by_cell.setdefault(key, [])
                if any(i.code == issue.code and i.message == issue.message for i in same):
                    continue
                same.append(issue)
                self._issues.append(issue)
                added.append(issue)
                if issue.row is not None:
                    self._rows.add(int(issue.row))
        return added

    def add_counts(self, counts: dict[str, int]) -> None:
        """Record issues counted beyond those kept (the engines cap how many they keep)."""
        with self._lock:
            kept = Counter(i.code for i in self._issues)
            for code, n in counts.items():
                self._extra_counts[code] = max(0, int(n) - kept[code])

    def counts(self) -> Counter[str]:
        with self._lock:
            c = Counter(i.code for i in self._issues)
            c.update(self._extra_counts)
            return c

    def for_cell(self, record: int, column: str | None) -> list[Any]:
        return [*self._by_cell.get((record, column), ()), *self._by_cell.get((record, None), ())]

    def has_row(self, record: int) -> bool:
        return record in self._rows

    @staticmethod
    def worst(issues: Sequence[Any]) -> str | None:
        if not issues:
            return None
        names = {severity_name(i) for i in issues}
        for name in SEVERITY_ORDER:
            if name in names:
                return name
        return "error"
