"""Reconciliation by export against the sandbox, whose downloads redirect to signed storage
(issue 12, item 1): the export really is read, and a broken one is said, not hidden."""

from __future__ import annotations

from .conftest import Uploader


def _reads(uploader: Uploader) -> tuple[int, int]:
    log = uploader.sandbox.request_log
    storage = sum(1 for m, p, s in log if m == "GET" and p.startswith("/storage/") and s == 200)
    bulk = sum(1 for m, p, _s in log if m == "POST" and p.endswith("/contacts/bulk"))
    return storage, bulk


def test_reconciliation_reads_the_export_through_the_redirect(uploader: Uploader) -> None:
    result = uploader.run(uploader.options(uploader.csv(1_200), reconcile_via="export"))
    assert (result.created, result.missing) == (1_200, 0)
    # The export file was fetched from storage and covered every contact: no bulk reads.
    assert _reads(uploader) == (1, 0)
    assert not [w for w in result.warnings if "export" in w]


def test_a_broken_export_falls_back_to_bulk_reads_and_says_so(uploader: Uploader) -> None:
    uploader.sandbox.set_download_fault("empty")
    result = uploader.run(uploader.options(uploader.csv(1_200), reconcile_via="export"))
    assert (result.created, result.missing) == (1_200, 0)  # checked all the same
    _storage, bulk = _reads(uploader)
    assert bulk == 2  # 1,200 contacts in reads of 1,000
    (said,) = [w for w in result.warnings if "export" in w]
    assert "empty" in said
    assert "contacts/bulk" in said
    assert any("contacts/bulk instead" in e.message for e in uploader.events)
