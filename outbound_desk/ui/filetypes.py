"""The file dialogs' filters: one place, so File > Open and the preview's Open button agree."""

from __future__ import annotations

#: What an admin opens: delimited text out of a CRM, or a workbook straight out of Excel.
OPEN_FILTER = (
    "Contact files (*.csv *.txt *.tsv *.tab *.xlsx *.xlsm *.xls *.ods);;"
    "Delimited text (*.csv *.txt *.tsv *.tab);;"
    "Workbooks (*.xlsx *.xlsm *.xls *.ods);;"
    "All files (*)"
)
#: What the app writes: UTF-8 CSV (rejects, fixed copies, exports, reports).
CSV_FILTER = "CSV files (*.csv);;All files (*)"

__all__ = ["CSV_FILTER", "OPEN_FILTER"]
