"""Property: a table written to a workbook reads back with every value intact or flagged."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outbound_desk.files import Overrides, scan, sniff
from outbound_desk.files.workbook import EXCEL_ERRORS
from tests.files.conftest import read_all
from tests.files.test_workbook import xlsx

cells = st.one_of(
    st.integers(-(10**15) + 1, 10**15 - 1),  # ids and phones Excel holds exactly
    st.integers(10**15, 10**19),  # more than 15 digits: Excel rounds them
    st.booleans(),
    st.dates(dt.date(1900, 3, 1), dt.date(2199, 12, 31)),
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12
    ).filter(lambda s: s.strip() != ""),
    st.sampled_from(["00123", "0042", "#N/A", "#REF!", "Zoë", "  padded  "]),
)


def expected(value: Any) -> tuple[str, str | None]:
    """The text a cell should read as, and the issue that flags it (if any)."""
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, int):
        if abs(value) >= 10**15:
            return "", "excel_rounded"  # the digits are not the written ones: flagged
        return str(value), None
    if isinstance(value, dt.date):
        return value.isoformat(), None
    if value in EXCEL_ERRORS:
        return "", "cell_error"
    return value, None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=12))
def test_every_value_reads_back_intact_or_flagged(table: list[list[Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = xlsx(Path(tmp) / "p.xlsx", {"S": [["a", "b", "c"], *table]})
        profile = scan(sniff(path, Overrides(has_header=True, skip_rows=0)))
        rows, records = read_all(profile)
    assert records == list(range(2, len(table) + 2))
    flagged = {(i.row, i.column, i.code) for i in profile.issues}
    for r, (written, read) in enumerate(zip(table, rows, strict=True), start=2):
        for name, value, got in zip("abc", written, read, strict=True):
            text, code = expected(value)
            if code is None:
                assert got == text, (r, name, value)
            else:
                assert (r, name, code) in flagged, (r, name, value, flagged)
