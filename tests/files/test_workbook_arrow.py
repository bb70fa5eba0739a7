"""The .xlsx reader on fastexcel and Arrow (files.workbook_arrow) gives what calamine's cells
converted one by one give: the same rows, records, issues and rows set aside."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outbound_desk.files import Overrides, iter_chunks, sniff, workbook_arrow
from outbound_desk.files import workbook as wbmod
from tests.files.test_workbook import xlsx


def both(path: Path, monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> tuple[Any, Any, bool]:
    """What each reader gives for *path*, and whether the Arrow reader read it itself."""
    used: list[bool] = []
    real = workbook_arrow.read

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        used.append(out is not None)
        return out

    monkeypatch.setattr(workbook_arrow, "read", spy)
    profile = sniff(path, Overrides(**overrides))
    got = []
    for arrow in (True, False):
        wbmod.clear_cache()
        monkeypatch.setattr(wbmod, "USE_ARROW_READER", arrow)
        chunks = list(iter_chunks(profile, chunk_rows=7))
        got.append(
            (
                [c.table.to_pylist() for c in chunks],
                [c.records.tolist() for c in chunks],
                [[(i.row, i.column, i.code, i.message) for i in c.issues] for c in chunks],
                [c.raw for c in chunks],
            )
        )
    wbmod.clear_cache()
    return got[0], got[1], bool(used and used[0])


cells = st.one_of(
    st.none(),
    st.integers(-(10**15) + 1, 10**15 - 1),
    st.integers(10**15, 10**19),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8),
    st.sampled_from(["00123", "0042", "123", "#N/A", "#REF!", "true", "-7", "1.50", "2024-01-02"]),
    st.tuples(st.just("=1+1"), st.sampled_from([2, "two", 10**16, True])),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(cells, min_size=4, max_size=4), min_size=1, max_size=25),
    st.sampled_from(["number", "text", "mixed"]),
)
def test_the_arrow_reader_gives_what_calamine_gives(table: list[list[Any]], first: str) -> None:
    # The first column is all numbers, all text, or as drawn: fastexcel types each column
    # by what it holds, and each type is converted its own way.
    for row in table:
        if first == "number":
            row[0] = len(row) if not isinstance(row[0], int | float) else row[0]
        elif first == "text":
            row[0] = f"t{row[0]}"
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        path = xlsx(Path(tmp) / "p.xlsx", {"S": [["a", "b", "c", "d"], *table]})
        arrow, calamine, _ = both(path, mp, has_header=True, skip_rows=0)
    assert arrow == calamine


def test_mixed_columns_zeros_rounding_errors_and_booleans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows: list[list[Any]] = [["title of the list"], [], ["id", "phone", "zip", "flag", "note"]]
    for i in range(40):
        rows.append(
            [
                1000 + i if i != 7 else True,  # a boolean among numbers
                4155550000 + i if i % 3 else f"(415) 555-{i:04d}",
                f"{i:05d}" if i % 5 else 2134 + i,  # numbers lost their zeros
                ("=NA()", "#N/A") if i == 11 else bool(i % 2),
                "#REF!" if i == 13 else (12345678901234567 if i == 17 else f"n{i}"),
            ]
        )
    rows[25] = []  # a blank row between rows
    rows.append([1099, None, None, None, None, "past the header"])
    path = xlsx(tmp_path / "m.xlsx", {"S": rows})
    arrow, calamine, used = both(path, monkeypatch)
    assert used
    assert arrow == calamine
    codes = {issue[2] for chunk in arrow[2] for issue in chunk}
    assert {"lost_leading_zeros", "cell_error", "excel_rounded", "ragged_row", "blank_row"} <= codes
    flat = [row for chunk in arrow[0] for row in chunk]
    assert [flat[7]["id"], flat[8]["id"]] == ["true", "1008"]
    assert [flat[0]["phone"], flat[1]["phone"]] == ["(415) 555-0000", "4155550001"]


def test_a_date_in_a_text_column_is_read_by_calamine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    path = xlsx(
        tmp_path / "d.xlsx",
        {"S": [["id", "when"], [1, "soon"], [2, dt.date(2024, 5, 6)], [3, "later"]]},
    )
    arrow, calamine, used = both(path, monkeypatch)
    assert not used
    assert arrow == calamine
    assert [r["when"] for r in arrow[0][0]] == ["soon", "2024-05-06", "later"]


@pytest.mark.parametrize("header", [True, False])
def test_a_table_below_empty_rows_reads_from_its_own_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, header: bool
) -> None:
    # python-calamine's iter_rows starts at the sheet's first row where its `start` does not;
    # and a column of numbers with one text in it is typed by its numbers (read again as text).
    rows: list[list[Any]] = [[], [], [None, None, "id", "phone"]]
    rows += [[None, None, 1, 5551234567], [None, None, 2, "n/a"], [None, None, 3, 44]]
    path = xlsx(tmp_path / "b.xlsx", {"S": rows})
    arrow, calamine, used = both(path, monkeypatch, has_header=header)
    assert used
    assert arrow == calamine
    records = [r for chunk in arrow[1] for r in chunk]
    values = [list(row.values()) for chunk in arrow[0] for row in chunk]
    if header:
        assert records == [4, 5, 6]
        assert values == [["1", "5551234567"], ["2", "n/a"], ["3", "44"]]
    else:
        assert records == [3, 4, 5, 6]
        assert values[0] == ["id", "phone"]


@pytest.mark.parametrize("arrow", [True, False])
def test_a_row_whose_only_values_lie_beyond_the_header_is_reported_not_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arrow: bool
) -> None:
    # Row 3's one value sits right of the table (a note typed beside it): it is no blank row.
    path = xlsx(
        tmp_path / "beside.xlsx",
        {"S": [["id", "phone"], [1, "212-555-0101"], [None, None, "call after 5"], [3, "x"]]},
    )
    monkeypatch.setattr(wbmod, "USE_ARROW_READER", arrow)
    wbmod.clear_cache()
    chunks = list(iter_chunks(sniff(path, Overrides(has_header=True)), chunk_rows=7))
    wbmod.clear_cache()
    issues = [(i.row, i.code) for c in chunks for i in c.issues]
    assert (3, "ragged_row") in issues
    assert [r for c in chunks for r in c.records.tolist()] == [2, 4]
    assert {r: v for c in chunks for r, v in c.raw.items()} == {3: ["", "", "call after 5"]}
