"""A damaged or read-only ledger stops an upload before the platform is touched, with a message
that names the file and says what to do; a failed ``--create`` leaves no empty list behind."""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from outbound_desk.cli import main
from outbound_desk.emulator import Sandbox
from outbound_desk.upload.ledger import Ledger
from outbound_desk.upload.model import Phase, UploadProgress, UploadRejected

from . import helpers
from .conftest import Uploader


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """*path* read-only for this process: mode 0444, or, for root (who ignores modes), the
    immutable attribute; skipped where neither is possible."""
    if os.geteuid() != 0:
        os.chmod(path, 0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            os.chmod(path, 0o700 if path.is_dir() else 0o600)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], check=False).returncode:
        pytest.skip("running as root, and this file system cannot make a file immutable")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    f = helpers.write_csv(tmp_path / "contacts.csv", 20)
    schema = helpers.schema_file(tmp_path / "schema.json", "Ledger List")
    return f, schema, tmp_path / "ledger.sqlite3"


def _upload(sandbox: Sandbox, f: Path, schema: Path, ledger: Path, *extra: str) -> int:
    return main(
        ["upload", str(f), "--list", "Ledger List", "--create", "--schema", str(schema),
         "--sandbox", sandbox.base_url, "--ledger", str(ledger), *extra]
    )  # fmt: skip


def test_a_corrupt_ledger_is_named_and_nothing_is_created(
    sandbox: Sandbox, files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    f, schema, ledger = files
    ledger.write_bytes(b"this is not a database, it was overwritten\n" * 200)
    assert _upload(sandbox, f, schema, ledger) == 1
    err = capsys.readouterr().err
    assert str(ledger) in err
    assert "damaged" in err
    assert "move it aside" in err
    assert "Nothing on the platform is lost" in err
    assert len(err.strip().splitlines()) == 1
    assert sandbox.store.lists() == []

    assert main(["history", "--ledger", str(ledger)]) == 1
    err = capsys.readouterr().err
    assert str(ledger) in err
    assert "damaged" in err
    assert "Traceback" not in err


def test_a_ledger_damaged_past_its_first_page(
    files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _f, _schema, ledger = files
    with Ledger(ledger) as led:
        for i in range(300):
            led.begin_upload(
                file_path=f"/x/{i}.csv", file_sha256="0" * 64, list_id="l", options={},
                transport="api", list_name="x" * 200,
            )  # fmt: skip
    data = bytearray(ledger.read_bytes())
    data[8192:] = b"\xff" * (len(data) - 8192)  # the header page intact, the rest garbage
    ledger.write_bytes(bytes(data))
    for side in ("-wal", "-shm"):
        ledger.with_name(ledger.name + side).unlink(missing_ok=True)
    assert main(["history", "--ledger", str(ledger)]) == 1
    err = capsys.readouterr().err
    assert str(ledger) in err
    assert "move it aside" in err


def test_a_read_only_ledger_stops_before_the_list_is_created(
    sandbox: Sandbox, files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    f, schema, ledger = files
    with Ledger(ledger):
        pass
    with read_only(ledger):
        assert _upload(sandbox, f, schema, ledger) == 1
        err = capsys.readouterr().err
        assert sandbox.store.lists() == []
        assert str(ledger) in err
        assert "cannot be written" in err
        assert "Traceback" not in err
        assert main(["history", "--ledger", str(ledger)]) == 0


def _wide(path: Path, extra: int) -> Path:
    names = [f"col{i}" for i in range(extra)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([*helpers.COLUMNS, *names])
        for i in range(3):
            w.writerow([*helpers.row(i).values(), *("v" for _ in names)])
    return path


def test_a_file_too_wide_for_the_list_creates_nothing(
    sandbox: Sandbox, files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _f, _schema, ledger = files
    huge = _wide(ledger.parent / "huge.csv", 10_000)
    for extra in ([], ["--add-columns"]):
        assert _upload(sandbox, huge, _schema, ledger, *extra) == 1
        assert "Traceback" not in capsys.readouterr().err
    # 50 columns in the file, 44 of them unknown to a 10-column schema.
    wide = _wide(ledger.parent / "wide.csv", 44)
    schema = helpers.schema_file(
        ledger.parent / "s10.json", "Ledger List", columns=[*helpers.COLUMNS, "a", "b", "c", "d"]
    )
    assert _upload(sandbox, wide, schema, ledger) == 1
    assert "no column for file column" in capsys.readouterr().err
    assert _upload(sandbox, wide, schema, ledger, "--add-columns") == 1
    assert "the platform allows 50" in capsys.readouterr().err
    assert sandbox.store.lists() == []


def test_a_create_that_fails_before_sending_deletes_the_list(uploader: Uploader) -> None:
    made: list[str] = []

    def fail_at_upload(p: UploadProgress) -> None:
        if p.phase is Phase.WAITING_FOR_LIST:
            made.extend(uploader.sandbox.store.list_ids())
        if p.phase is Phase.UPLOADING:
            raise UploadRejected("the first step after creating the list failed")

    with pytest.raises(UploadRejected) as caught:
        uploader.run(uploader.options(uploader.csv(10)), progress=fail_at_upload)
    assert made, "the list was created"
    assert uploader.sandbox.store.lists() == []
    assert "was deleted again" in str(caught.value)
    assert uploader.ledger.history() == []
    # The rerun creates it again and uploads.
    res = uploader.run(uploader.options(uploader.csv(10)))
    assert res.status == "done"
    assert res.created == 10
    uploader.assert_holds_exactly(res.list_id, range(10))


def test_a_list_that_received_contacts_is_kept(uploader: Uploader) -> None:
    sent: list[int] = []

    def fail_after_a_batch(p: UploadProgress) -> None:
        if p.confirmed >= 5:
            sent.append(p.confirmed)
            raise UploadRejected("stopped after the first batch")

    with pytest.raises(UploadRejected):
        uploader.run(uploader.options(uploader.csv(20), batch_size=5), progress=fail_after_a_batch)
    assert sent
    lists = uploader.sandbox.store.lists()
    assert len(lists) == 1
    assert uploader.contacts(lists[0]["id"])


def test_lists_clear_and_resume_with_a_corrupt_ledger(
    sandbox: Sandbox, files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    f, schema, ledger = files
    assert _upload(sandbox, f, schema, ledger) == 0
    capsys.readouterr()
    list_id = sandbox.store.lists()[0]["id"]
    ledger.write_bytes(b"garbage" * 1000)
    for side in ("-wal", "-shm"):
        ledger.with_name(ledger.name + side).unlink(missing_ok=True)
    url = ["--sandbox", sandbox.base_url, "--ledger", str(ledger)]
    assert main(["lists", "clear", list_id, "--yes", *url]) == 1
    err = capsys.readouterr().err
    assert "Nothing was changed" in err
    assert str(ledger) in err
    assert len(sandbox.store.all_contacts(list_id)) == 20
    assert main(["upload", "--resume", "0" * 8, *url]) == 1
    err = capsys.readouterr().err
    assert "damaged" in err
    assert "Traceback" not in err


def test_a_ledger_in_a_read_only_folder(
    sandbox: Sandbox, files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    f, schema, _ledger = files
    folder = f.parent / "ro"
    folder.mkdir()
    ledger = folder / "ledger.sqlite3"
    with Ledger(ledger):
        pass  # closed cleanly: no -wal or -shm left, so SQLite must make them to read it
    with read_only(folder):
        assert _upload(sandbox, f, schema, ledger) == 1
        err = capsys.readouterr().err
        assert "cannot be written" in err
        assert "writable" in err
        assert sandbox.store.lists() == []
        assert main(["history", "--ledger", str(ledger)]) == 1
        assert "cannot be written" in capsys.readouterr().err
