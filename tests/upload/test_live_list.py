"""The live list beats the ledger: before a row is skipped as already sent, the upload checks
the list, and sends what it lacks in the same run; clearing a list resets its ledger."""

from __future__ import annotations

from outbound_desk.upload import lists

from .conftest import Uploader


def test_after_the_apps_clear_a_rerun_sends_everything_again(uploader: Uploader) -> None:
    f = uploader.csv(120)
    first = uploader.run(uploader.options(f))
    assert first.created == 120
    # Clear contacts, as the Lists pane and `outbound-desk lists clear` do it.
    lists.clear_contacts(uploader.client, first.list_id, ledger_path=uploader.ledger.path)
    assert uploader.ledger.contact_states(first.list_id) == {}

    again = uploader.run(uploader.options(f))
    assert (again.status, again.created, again.unchanged, again.missing) == ("done", 120, 0, 0)
    uploader.assert_holds_exactly(first.list_id, range(120))


def test_a_list_cleared_behind_the_apps_back_is_refilled_in_one_run(uploader: Uploader) -> None:
    f = uploader.csv(120)
    first = uploader.run(uploader.options(f))
    uploader.sandbox.store.clear_contacts(first.list_id)  # the platform's UI, another tool

    again = uploader.run(uploader.options(f))
    assert (again.status, again.created, again.unchanged, again.missing) == ("done", 120, 0, 0)
    assert any("sent them again" in w for w in again.warnings)
    uploader.assert_holds_exactly(first.list_id, range(120))


def test_contacts_the_list_lost_are_sent_again_in_the_same_run(uploader: Uploader) -> None:
    first = uploader.run(uploader.options(uploader.csv(500)))
    uploader.sandbox.store.delete_contacts(first.list_id, ["C0000007", "C0000300"])

    again = uploader.run(uploader.options(uploader.csv(500)))
    assert (again.status, again.unchanged, again.created, again.missing) == ("done", 498, 2, 0)
    uploader.assert_holds_exactly(first.list_id, range(500))


def test_replace_resets_the_ledger_of_the_list(uploader: Uploader) -> None:
    first = uploader.run(uploader.options(uploader.csv(100)))
    smaller = uploader.csv(40, name="smaller.csv")
    replaced = uploader.run(uploader.options(smaller, replace=True))
    assert (replaced.status, replaced.created) == ("done", 40)
    # The ledger no longer claims the 60 contacts the clear removed.
    assert uploader.ledger.contact_states(first.list_id) == {"confirmed": 40}
    uploader.assert_holds_exactly(first.list_id, range(40))


def test_deleting_a_list_forgets_it_in_the_ledger(uploader: Uploader) -> None:
    first = uploader.run(uploader.options(uploader.csv(30)))
    lists.delete_list(uploader.client, first.list_id, ledger_path=uploader.ledger.path)
    assert uploader.ledger.contact_states(first.list_id) == {}


def test_without_an_id_column_the_preferences_rule_takes_the_crm_key(
    uploader: Uploader,
) -> None:
    """The same id-column rule as the preview: a column that reads as a CRM key; before, the
    engine refused any upload into an existing list without --id-column."""
    import pytest

    from outbound_desk.upload.model import UploadRejected

    first = uploader.run(uploader.options(uploader.csv(10)))
    more = uploader.csv(5, name="b.csv", start=10)
    result = uploader.run(uploader.options(more, list=first.list_id, create=False))
    assert (result.status, result.created) == ("done", 5)
    assert any("'customerId'" in w and "--id-column" in w for w in result.warnings)
    uploader.assert_holds_exactly(first.list_id, range(15))

    with pytest.raises(UploadRejected, match="--id-column"):
        uploader.run(
            uploader.options(more, list=first.list_id, create=False, id_column_rule="schema")
        )
