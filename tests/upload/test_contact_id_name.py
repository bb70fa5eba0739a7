"""``contact-id-name`` goes with every CSV upload into a list that has an id column (issue 12,
item 8), also when the run allows files without ids (``--allow-no-id``): the import then
upserts by the id column instead of making new ids, and a rerun updates instead of
duplicating."""

from __future__ import annotations

import pytest

from .conftest import Uploader

PRESIGN = "/api/v2/outbound/contactlists/uploads"
LEGACY = "/uploads/v2/contactlist"


@pytest.mark.parametrize("path", ["legacy", "presigned"])
def test_the_id_column_is_sent_with_allow_no_id(uploader: Uploader, path: str) -> None:
    if path == "legacy":
        uploader.sandbox.set_refusals(presigned_upload=404)
    f = uploader.csv(300)
    opts = uploader.options(f, via="file", allow_no_id=True)  # the schema names customerId
    first = uploader.run(opts)
    assert first.status == "done"
    used = [p for m, p, s in uploader.sandbox.request_log if m == "POST" and s == 200]
    assert (LEGACY in used) == (path == "legacy")
    # The contact ids are the id column's values, so the import used contact-id-name...
    uploader.assert_holds_exactly(first.list_id, range(300))
    # ...and the same file again updates the 300 contacts instead of adding 300 more.
    again = uploader.run(uploader.options(f, via="file", allow_no_id=True))
    assert again.status == "done"
    assert uploader.sandbox.store.contact_count(first.list_id) == 300
