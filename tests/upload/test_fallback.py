"""Falling back when the platform refuses an upload path: presigned -> the apps upload, and the
CSV import -> JSON batches; each ends with the list holding exactly the file's valid rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from outbound_desk.emulator import Sandbox
from outbound_desk.upload.model import UploadPlatformError, UploadResult

from . import helpers
from .conftest import Uploader, read_report

ROOT = Path(__file__).resolve().parents[2]
BAD = frozenset({3, 777})
PRESIGN = "/api/v2/outbound/contactlists/uploads"
LEGACY = "/uploads/v2/contactlist"


def _calls(sandbox: Sandbox, method: str, path: str) -> list[int]:
    return [s for m, p, s in sandbox.request_log if m == method and p == path]


def _json_posts(sandbox: Sandbox, list_id: str) -> list[int]:
    return _calls(sandbox, "POST", f"/api/v2/outbound/contactlists/{list_id}/contacts")


def _exact(uploader: Uploader, result: UploadResult, rows: int) -> None:
    uploader.assert_holds_exactly(result.list_id, [i for i in range(rows) if i not in BAD])
    outcomes = [r["outcome"] for r in read_report(result.report)]
    assert len(outcomes) == rows
    assert outcomes.count("created") == rows - len(BAD)
    assert outcomes.count("rejected") == len(BAD)
    assert (result.status, result.created, result.rejected) == ("done", rows - len(BAD), len(BAD))


@pytest.mark.parametrize("status", [403, 404])
def test_a_refused_presigned_upload_falls_back_to_the_apps_upload(
    uploader: Uploader, status: int
) -> None:
    uploader.sandbox.set_refusals(presigned_upload=status)
    f = uploader.csv(2_000, bad_rows=BAD)
    result = uploader.run(uploader.options(f, via="file"))
    _exact(uploader, result, 2_000)
    assert result.transport == "file"
    assert _calls(uploader.sandbox, "POST", PRESIGN) == [status]
    assert _calls(uploader.sandbox, "POST", LEGACY) == [200]
    # Nothing went out as JSON batches: the rows came in through the import.
    assert not _json_posts(uploader.sandbox, result.list_id)
    assert any("presigned" in w and f"HTTP {status}" in w for w in result.warnings)


def test_auto_falls_back_to_json_batches_when_both_csv_paths_are_refused(
    uploader: Uploader,
) -> None:
    uploader.sandbox.set_refusals(presigned_upload=404, legacy_upload=403)
    f = uploader.csv(2_500, bad_rows=BAD)
    seen: list[int] = []
    result = uploader.run(
        uploader.options(f, via="auto", file_threshold=1_000, batch_size=500),
        progress=lambda p: seen.append(p.planned),
    )
    _exact(uploader, result, 2_500)
    assert result.transport == "api"
    assert _calls(uploader.sandbox, "POST", PRESIGN) == [404]
    assert _calls(uploader.sandbox, "POST", LEGACY) == [403]
    posts = _json_posts(uploader.sandbox, result.list_id)
    assert posts
    assert set(posts) == {200}
    assert any("JSON batches" in w for w in result.warnings)
    # The rows are counted once, not once per transport tried.
    assert max(seen) == 2_500 - len(BAD)


def test_file_with_both_paths_refused_says_what_and_a_json_rerun_completes(
    uploader: Uploader,
) -> None:
    uploader.sandbox.set_refusals(presigned_upload=403, legacy_upload=404)
    f = uploader.csv(1_500, bad_rows=BAD)
    with pytest.raises(UploadPlatformError) as failed:
        uploader.run(uploader.options(f, via="file"))
    text = str(failed.value)
    assert "presigned" in text
    assert "HTTP 403" in text
    assert "apps upload" in text
    assert "HTTP 404" in text
    assert "--via api" in text
    assert "outbound:contactList:upload" in text
    assert failed.value.exit_code == 3
    assert failed.value.upload_id
    lists = [x for x in uploader.sandbox.store.lists() if x["name"] == "Spring Renewals"]
    assert uploader.sandbox.store.contact_count(lists[0]["id"]) == 0
    # The refused file left nothing half-sent behind: the same upload goes on as JSON batches.
    again = uploader.run(uploader.options(f, via="api", batch_size=400))
    assert again.resumed
    assert again.upload_id == failed.value.upload_id
    _exact(uploader, again, 1_500)


def test_cli_file_upload_with_both_paths_refused_exits_3_with_one_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.set_refusals(presigned_upload=404, legacy_upload=404)
    f = helpers.write_csv(tmp_path / "contacts.csv", 200)
    schema = helpers.schema_file(tmp_path / "schema.json", "Refused List")
    args = ["upload", str(f), "--list", "Refused List", "--create", "--schema", str(schema)]
    args += ["--via", "file", "--sandbox", sandbox.base_url, "--json"]
    args += ["--ledger", str(tmp_path / "ledger.sqlite3")]
    done = subprocess.run(
        [sys.executable, "-m", "outbound_desk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "presigned" in line
    assert "apps upload" in line
    assert "--via api" in line
    out = json.loads(done.stdout)
    assert out["exit_code"] == 3
    assert out["upload_id"]
