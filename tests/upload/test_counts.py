"""Counts are the platform's: what the result, the report, the progress and the history say
equals what an export of the list shows afterwards, for every duplicate policy and transport."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from . import helpers
from .conftest import Uploader, read_report

N = 300
#: (duplicate row index, the index whose contact id it repeats), with other data.
DUPLICATES = [(300, 5), (301, 5), (302, 77), (303, 299)]
BAD = frozenset({11, 12})


def _file_with_duplicates(path: Path) -> Path:
    helpers.write_csv(path, N, bad_rows=BAD)
    with path.open("a", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=helpers.COLUMNS)
        for i, of in DUPLICATES:
            r = helpers.row(of, tag=f"-again{i}")
            r["phoneNumber"] = helpers.phone(i)
            w.writerow(r)
    return path


@pytest.mark.parametrize("via", ["api", "file"])
@pytest.mark.parametrize("policy", ["first", "last", "reject"])
def test_counts_equal_an_export_of_the_list(uploader: Uploader, via: str, policy: str) -> None:
    f = _file_with_duplicates(uploader.tmp / "dups.csv")
    result = uploader.run(uploader.options(f, via=via, duplicates=policy, batch_size=100))
    assert result.status == "done", result.error
    assert result.transport == via

    exported = uploader.client.exports.export(result.list_id)
    in_list = {r.contact_id: r.values for r in exported.rows}
    dup_ids = {f"C{of:07d}" for _, of in DUPLICATES}
    rows = N + len(DUPLICATES)

    # The list was new: every contact in it was created by this upload, and nothing else was.
    assert result.created == len(in_list)
    assert (result.updated, result.unchanged, result.missing, result.pending) == (0, 0, 0, 0)
    if policy == "reject":
        assert set(in_list).isdisjoint(dup_ids)
        assert (result.rejected, result.dropped_duplicates) == (len(BAD) + 3 + 2 + 2, 0)
        assert len(in_list) == N - len(BAD) - len(dup_ids)
    else:
        assert dup_ids <= set(in_list)
        assert (result.rejected, result.dropped_duplicates) == (len(BAD), len(DUPLICATES))
        assert len(in_list) == N - len(BAD)
        kept_5 = in_list["C0000005"]["firstName"]
        assert kept_5 == ("First5" if policy == "first" else "First5-again301")
    assert result.rows == rows
    accounted = (
        result.created + result.updated + result.unchanged + result.rejected
    ) + result.dropped_duplicates
    assert accounted == rows

    # The report says the same, row by row; the JSON contract has the new key.
    report = read_report(result.report)
    assert len(report) == rows
    outcomes = [r["outcome"] for r in report]
    assert outcomes.count("created") == len(in_list)
    assert outcomes.count("dropped_duplicate") == result.dropped_duplicates
    assert outcomes.count("rejected") == result.rejected
    assert result.as_json()["dropped_duplicates"] == result.dropped_duplicates

    # The history (the ledger) and the last progress snapshot (what the app's card shows).
    record = uploader.ledger.get_upload(result.upload_id)
    c = record.counts
    assert (c.rows, c.created, c.rejected, c.dropped) == (
        rows,
        len(in_list),
        result.rejected,
        result.dropped_duplicates,
    )
    last = uploader.events[-1]
    assert (last.confirmed, last.rejected, last.dropped) == (
        len(in_list),
        result.rejected,
        result.dropped_duplicates,
    )
    assert last.done == last.rows == rows


def test_the_progress_line_ends_at_every_row_of_the_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The CSV-import path's last line read 20,000/19,960: rows dropped as duplicates were
    counted as done but not in the total."""
    from outbound_desk.cli.upload import _ProgressLine
    from outbound_desk.upload.model import Phase, UploadProgress

    line = _ProgressLine(enabled=True)
    line(UploadProgress(Phase.DONE, planned=19_960, confirmed=19_960, dropped=40))
    line.close()
    assert "20,000/20,000" in capsys.readouterr().err
