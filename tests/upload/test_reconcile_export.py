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


def test_export_hashes_are_the_payload_hashes_of_the_exported_contacts(monkeypatch) -> None:
    """Arrow's parse of an export gives each contact's payload hash over the columns sent:
    a BOM, quoted commas and line breaks, quotes, a column the list lacks ("" then) and
    header case as the platform writes them; a ragged export is read record by record."""
    from outbound_desk.upload import reconcile
    from outbound_desk.upload.ledger import payload_hash
    from outbound_desk.upload.reconcile import export_hashes

    by_record = reconcile._hashes_by_record
    slow: list[int] = []
    monkeypatch.setattr(reconcile, "_hashes_by_record", lambda *a: slow.append(1) or by_record(*a))
    text = (
        "\ufeffinin-outbound-id,Phone,Name,ContactCallable\r\n"
        'C1,+15551230001,"Doe, ""Jo""",1\r\n'
        'C2,+15551230002,"two\nlines",1\r\n'
        "C3,,é\\,1\r\n"
    )
    columns = ["name", "phone", "city"]
    want = {
        "C1": payload_hash({"name": 'Doe, "Jo"', "phone": "+15551230001", "city": ""}),
        "C2": payload_hash({"name": "two\nlines", "phone": "+15551230002", "city": ""}),
        "C3": payload_hash({"name": "é\\", "phone": "", "city": ""}),
    }
    assert export_hashes(text.encode(), columns).as_dict() == want
    assert not slow  # Arrow's parse
    ragged = text + "C4,+15551230004\r\n"
    assert export_hashes(ragged.encode(), columns).as_dict() == {
        **want,
        "C4": payload_hash({"name": "", "phone": "+15551230004", "city": ""}),
    }
    assert slow


def test_a_contact_is_compared_by_the_hash_of_what_was_sent() -> None:
    from outbound_desk.upload.ledger import payload_hash
    from outbound_desk.upload.reconcile import difference

    sent = payload_hash({"phone": "+1555", "name": "Jo"})
    assert (
        difference(sent, {"Phone": "+1555", "name": "Jo", "other": "x"}, ["phone", "name"]) is None
    )
    assert difference(sent, None, ["phone", "name"]) == "not in the list after the upload"
    why = difference(sent, {"phone": "+1555", "name": "Al"}, ["phone", "name"])
    assert why == "its data in the list differs from what this upload sent"
    assert "rerun" in (difference(None, {"phone": "+1555"}, ["phone"]) or "")
