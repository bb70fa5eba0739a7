"""The preview's Qt-free stores and the Qt models over them (no file engine needed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from PySide6.QtCore import QModelIndex, Qt

from outbound_desk.ui.preview.issues import IssueIndex
from outbound_desk.ui.preview.models import (
    IssuesRole,
    IssuesTableModel,
    RecordRole,
    RowsTableModel,
    SeverityRole,
)
from outbound_desk.ui.preview.rows import RowStore, block_from_chunk


@dataclass(frozen=True)
class FakeIssue:
    row: int | None
    column: str | None
    code: str
    message: str
    severity: str = "error"


def make_store(n: int, *, block: int = 1000, header: bool = True) -> RowStore:
    store = RowStore(["id", "phone"])
    first = 2 if header else 1
    for start in range(0, n, block):
        stop = min(n, start + block)
        recs = np.arange(first + start, first + stop, dtype=np.int64)
        store.append(
            recs,
            [
                pa.array([f"id{i}" for i in range(start, stop)]),
                pa.array([f"+1415555{i:04d}" for i in range(start, stop)]),
            ],
        )
    return store


def test_store_reads_cells_and_record_numbers_across_blocks():
    store = make_store(2500, block=1000)
    assert len(store) == 2500
    assert store.cell(0, 0) == "id0"
    assert store.cell(1999, 1) == "+14155551999"
    assert store.record(0) == 2
    assert store.record(2499) == 2501
    assert store.row_of_record(1502) == 1500
    assert store.row_of_record(1) is None  # the header is not a row
    with pytest.raises(IndexError):
        store.cell(2500, 0)


def test_ragged_records_keep_their_place_and_every_value():
    frame = pd.DataFrame({"a": ["1", "4"], "b": ["2", "5"], "c": ["3", "6"]}, dtype=object)
    raw = {3: ["x", "y", "z", "extra"], 5: ["only"]}
    recs, cols = block_from_chunk(frame, np.array([2, 4]), raw, 3, ";")
    assert list(recs) == [2, 3, 4, 5]
    rows = [[c[i].as_py() for c in cols] for i in range(4)]
    assert rows == [["1", "2", "3"], ["x", "y", "z;extra"], ["4", "5", "6"], ["only", "", ""]]


def test_issue_index_keeps_the_worst_severity_and_counts_beyond_what_it_lists():
    index = IssueIndex()
    added = index.add(
        [
            FakeIssue(3, "phone", "invalid_phone", "not a number", "error"),
            FakeIssue(3, "phone", "invalid_phone", "not a number", "error"),  # same: once
            FakeIssue(3, None, "ragged_row", "4 fields, expected 3", "warning"),
            FakeIssue(None, None, "trailing_blank_lines", "2 blank lines at the end", "info"),
        ]
    )
    assert len(added) == 3
    assert IssueIndex.worst(index.for_cell(3, "phone")) == "error"
    assert IssueIndex.worst(index.for_cell(3, "id")) == "warning"
    assert index.for_cell(4, "phone") == []
    index.add_counts({"invalid_phone": 1200})
    assert index.counts()["invalid_phone"] == 1200


def test_rows_model_fetches_lazily_and_explains_cells(qtmodeltester):
    store = make_store(5000)
    index = IssueIndex()
    index.add([FakeIssue(4, "phone", "invalid_phone", "too short: add the area code")])
    model = RowsTableModel(store, index)
    model.rows_available()
    assert model.rowCount() == RowsTableModel.FETCH_ROWS
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 2 * RowsTableModel.FETCH_ROWS
    cell = model.index(2, 1)  # record 4
    assert model.data(cell, RecordRole) == 4
    assert model.data(cell, SeverityRole) == "error"
    assert "too short" in model.data(cell, Qt.ItemDataRole.ToolTipRole)
    assert [i.code for i in model.data(cell, IssuesRole)] == ["invalid_phone"]
    assert model.data(cell, Qt.ItemDataRole.BackgroundRole) is not None
    assert model.data(model.index(2, 0), SeverityRole) is None
    assert model.headerData(2, Qt.Orientation.Vertical) == "4"
    assert model.headerData(1, Qt.Orientation.Horizontal) == "phone"
    assert model.ensure_row(4321)
    assert model.rowCount() == 4322
    assert not model.ensure_row(5000)
    qtmodeltester.check(model)


def test_rows_model_grows_while_the_store_fills(qtmodeltester):
    store = RowStore(["a"])
    model = RowsTableModel(store, IssueIndex())
    qtmodeltester.check(model)
    assert model.rowCount() == 0
    assert not model.canFetchMore(QModelIndex())
    store.append(np.array([2, 3]), [pa.array(["x", "y"])])
    model.rows_available()
    assert model.rowCount() == 2
    qtmodeltester.check(model)


def test_issues_model_filters_by_kind_and_sorts_rows_numerically(qtmodeltester):
    model = IssuesTableModel()
    qtmodeltester.check(model)
    model.append(
        [
            FakeIssue(10, "phone", "invalid_phone", "m1"),
            FakeIssue(9, "id", "duplicate_id", "m2", "warning"),
            FakeIssue(None, None, "trailing_blank_lines", "m3", "info"),
        ]
    )
    model.append([FakeIssue(100, "phone", "invalid_phone", "m4")])
    rows = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert rows == ["", "9", "10", "100"]  # numerically, file-level first
    model.set_code("invalid_phone")
    assert model.rowCount() == 2
    assert [model.index(r, IssuesTableModel.MESSAGE).data() for r in range(2)] == ["m1", "m4"]
    model.sort(IssuesTableModel.ROW, Qt.SortOrder.DescendingOrder)
    assert [model.index(r, IssuesTableModel.MESSAGE).data() for r in range(2)] == ["m4", "m1"]
    model.set_code(None)
    assert model.rowCount() == 4
    model.sort(IssuesTableModel.SEVERITY)
    assert model.index(0, IssuesTableModel.SEVERITY).data() == "error"
    qtmodeltester.check(model)
    model.clear()
    assert model.rowCount() == 0
