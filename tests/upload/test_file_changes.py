"""A file that changes while it is uploaded or validated stops the run with a clear message;
nothing read after the change is sent or written, and the original content resumes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from outbound_desk.contacts import (
    ValidationOptions,
    diff_columns,
    load_schema,
    suggest_mapping,
    validate_file,
)
from outbound_desk.files import sniff
from outbound_desk.files.identity import FileChangedError, FileIdentity
from outbound_desk.upload.model import Phase, UploadProgress, UploadRejected

from . import helpers
from .conftest import Uploader


def _list(uploader: Uploader) -> str:
    made = uploader.sandbox.store.create_list(
        {
            "name": "Spring Renewals",
            "columnNames": helpers.COLUMNS,
            "phoneColumns": [{"columnName": "phoneNumber", "type": "cell"}],
        }
    )
    return str(made["id"])


def _truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    cut = data.rfind(b"\n", 0, int(len(data) * keep)) + 1
    with path.open("r+b") as fh:
        fh.truncate(cut)


def _edit_in_place(path: Path) -> None:
    """Same size, modification time set back: only the status-change time shows it."""
    st = path.stat()
    data = path.read_bytes().replace(b"First1,", b"Hacked,", 1)
    assert len(data) == st.st_size
    with path.open("r+b") as fh:
        fh.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.mark.parametrize("change", ["truncate", "edit"])
def test_a_file_changed_before_it_is_streamed(uploader: Uploader, change: str) -> None:
    list_id = _list(uploader)
    f = uploader.csv(200)
    original = f.read_bytes()

    def on_progress(p: UploadProgress) -> None:
        # After the scan and the checks, just before the rows are read again to be sent.
        if p.phase is Phase.UPLOADING and f.read_bytes() == original:
            if change == "truncate":
                _truncate(f, 0.3)
            else:
                _edit_in_place(f)

    opts = uploader.options(f, list=list_id, create=False, id_column="customerId")
    with pytest.raises(UploadRejected) as caught:
        uploader.run(opts, progress=on_progress)
    msg = str(caught.value)
    assert "changed while it was being uploaded" in msg
    assert "put the original file back" in msg
    assert uploader.contacts(list_id) == {}, "nothing read after the change was sent"
    (record,) = uploader.ledger.history()
    assert record.status == "failed"

    f.write_bytes(original)
    res = uploader.run(opts)
    assert res.resumed
    assert res.status == "done"
    assert res.created == 200
    uploader.assert_holds_exactly(list_id, range(200))


def test_a_file_truncated_mid_upload_is_not_done(uploader: Uploader) -> None:
    list_id = _list(uploader)
    f = uploader.csv(300)
    original = f.read_bytes()

    def on_progress(p: UploadProgress) -> None:
        if p.confirmed >= 50 and f.read_bytes() == original:
            _truncate(f, 0.15)

    opts = uploader.options(f, list=list_id, create=False, id_column="customerId", batch_size=50)
    with pytest.raises(UploadRejected) as caught:
        uploader.run(opts, progress=on_progress)
    assert "its size went from" in str(caught.value)
    assert uploader.ledger.history()[0].status == "failed"
    # What was sent came from the original content only.
    held = uploader.contacts(list_id)
    assert held
    assert all(c["firstName"] == f"First{int(cid[1:])}" for cid, c in held.items())

    f.write_bytes(original)
    res = uploader.run(opts)
    assert res.resumed
    assert res.status == "done"
    assert res.rows == 300
    uploader.assert_holds_exactly(list_id, range(300))


def test_a_file_changed_during_the_scan_sends_nothing(uploader: Uploader) -> None:
    list_id = _list(uploader)
    f = uploader.csv(100)
    seen: list[bool] = []

    def cancelled() -> bool:
        # Asked first by the scan, between sniffing the file and reading it through.
        if not seen:
            seen.append(True)
            _truncate(f, 0.5)
        return False

    with pytest.raises(UploadRejected) as caught:
        uploader.run(
            uploader.options(f, list=list_id, create=False, id_column="customerId"),
            cancelled=cancelled,
        )
    assert "changed while it was being read" in str(caught.value)
    assert uploader.contacts(list_id) == {}
    assert uploader.ledger.history() == []


def test_identity_sees_a_replacement(tmp_path: Path) -> None:
    f = helpers.write_csv(tmp_path / "a.csv", 3)
    ident = FileIdentity.of(f)
    assert ident.difference() is None
    other = helpers.write_csv(tmp_path / "b.csv", 3)
    os.replace(other, f)
    assert ident.difference() == "it was replaced by another file"
    f.unlink()
    assert "can no longer be read" in (ident.difference() or "")


def test_validate_writes_no_out_from_a_changed_file(tmp_path: Path) -> None:
    f = helpers.write_csv(tmp_path / "in.csv", 500)
    schema = load_schema(helpers.schema_file(tmp_path / "s.json", "L"))
    out, rejects = tmp_path / "out.csv", tmp_path / "rejects.csv"
    ident = FileIdentity.of(f)
    profile = sniff(f)
    mapping = suggest_mapping(diff_columns(profile.columns, schema), schema, profile.columns)
    done: list[bool] = []

    def truncate_to_zero(_done: int, _total: int, _phase: str) -> None:
        if not done:
            done.append(True)
            with f.open("r+b") as fh:
                fh.truncate(0)

    with pytest.raises(FileChangedError) as caught:
        validate_file(
            profile, schema, mapping, ValidationOptions(), out=out, rejects=rejects,
            progress=truncate_to_zero, identity=ident,
        )  # fmt: skip
    assert "changed while it was being validated" in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "s.json"]


def test_a_change_no_file_time_shows_is_caught_by_the_checksum(uploader: Uploader) -> None:
    """A same-size edit within the file system's timestamp tick: only the bytes tell."""
    from outbound_desk.contacts import load_schema as load
    from outbound_desk.upload.plan import open_plan

    f = uploader.csv(50)
    plan = open_plan(uploader.options(f))
    assert plan.bind(load(uploader.schema)) == []
    _edit_in_place(f)
    plan.identity = FileIdentity.of(f)  # as if the stat had not seen it
    with pytest.raises(UploadRejected) as caught:
        for _chunk in plan.chunks():
            pass
    assert "SHA-256 differs" in str(caught.value)
    f.write_bytes(f.read_bytes().replace(b"Hacked,", b"First1,", 1))  # the original again
    plan.identity = FileIdentity.of(f)
    assert sum(len(c.contact_ids) for c in plan.chunks()) == 50


def test_a_preview_scan_of_an_older_version_is_not_used(uploader: Uploader) -> None:
    """The app hands the upload its preview's scan; a file saved again since (same size) is
    scanned afresh instead of being sent under the old checksum."""
    from outbound_desk.files import scan
    from outbound_desk.upload.runner import run_upload

    list_id = _list(uploader)
    f = uploader.csv(40)
    preview = scan(sniff(f))
    data = f.read_bytes().replace(b"First1,", b"Fresh1,", 1)
    f.write_bytes(data)  # same size, new content
    opts = uploader.options(f, list=list_id, create=False, id_column="customerId")
    res = run_upload(uploader.client, opts, uploader.ledger, prepared=preview)
    assert res.status == "done"
    assert res.file_sha256 != preview.sha256
    assert uploader.contacts(list_id)["C0000001"]["firstName"] == "Fresh1"
