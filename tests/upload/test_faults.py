"""Uploads through a misbehaving platform: each ends with the list holding exactly the file's
valid rows and a report that accounts for every row."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from outbound_desk.emulator import Limits, Sandbox, SandboxConfig
from outbound_desk.genesys import ClientCredentials, GenesysClient, sandbox_region
from outbound_desk.upload.ledger import Ledger
from outbound_desk.upload.model import Phase, UploadPlatformError, UploadProgress, UploadResult

from .conftest import Uploader, read_report

BAD = frozenset({7, 400})


def _accounts_for_every_row(result: UploadResult, rows: int) -> None:
    report = read_report(result.report)
    assert [int(r["row"]) for r in report] == list(range(2, rows + 2))
    outcomes = [r["outcome"] for r in report]
    assert outcomes.count("rejected") == len(BAD)
    assert outcomes.count("created") == rows - len(BAD)
    assert result.status == "done"


def _upload(uploader: Uploader, rows: int, **kw: Any) -> UploadResult:
    f = uploader.csv(rows, bad_rows=BAD)
    result = uploader.run(uploader.options(f, **kw))
    uploader.assert_holds_exactly(result.list_id, [i for i in range(rows) if i not in BAD])
    _accounts_for_every_row(result, rows)
    return result


def test_a_429_storm_is_ridden_out_without_a_retry_storm(uploader: Uploader) -> None:
    sb = uploader.sandbox
    sb.set_rate_limit(20, 2.0)
    result = _upload(uploader, 4_000, batch_size=250, concurrency=4)
    # The limiter learns the allowance from the first answers; after that it keeps under it.
    assert sb.store.throttled <= 3
    assert result.rate_limited == sb.store.throttled


def test_5xx_bursts(uploader: Uploader) -> None:
    uploader.sandbox.set_faults(error_rate=0.3)
    result = _upload(uploader, 3_000, batch_size=200)
    assert result.retries > 0


def test_dropped_connections(uploader: Uploader) -> None:
    uploader.sandbox.set_faults(drop_rate=0.2)
    result = _upload(uploader, 3_000, batch_size=200)
    assert result.retries > 0


def test_5xx_and_drops_from_the_very_first_request_token_included(
    sandbox: Sandbox, ledger: Ledger, tmp_path: Path
) -> None:
    # The first token request surely fails; once the client waits to retry it, the platform
    # settles to a steady 30 % errors and 20 % drops, token renewals (short-lived tokens)
    # included.
    sandbox.set_faults(error_rate=1.0, token_ttl_s=1.0)

    def sleep(seconds: float) -> None:
        if sandbox.faults.error_rate == 1.0:
            sandbox.set_faults(error_rate=0.3, drop_rate=0.2)
        time.sleep(seconds)

    region = sandbox_region(sandbox.base_url)
    creds = ClientCredentials(sandbox.client_id, sandbox.client_secret)
    with GenesysClient(
        region, creds, backoff_base_s=0.05, backoff_cap_s=0.5, max_retries=10, sleep=sleep
    ) as client:
        up = Uploader(sandbox, client, ledger, tmp_path)
        result = _upload(up, 3_000, batch_size=200)
    tokens = [s for m, p, s in sandbox.request_log if (m, p) == ("POST", "/oauth/token")]
    assert tokens[0] >= 500  # the run began with a failed token request, and went on
    assert 200 in tokens
    assert result.retries > 0


def test_token_expiry_mid_run(uploader: Uploader) -> None:
    uploader.sandbox.set_faults(token_ttl_s=0.5, latency_ms=30)
    renewals_before = uploader.client.tokens.renewals
    _upload(uploader, 3_000, batch_size=100, concurrency=2)
    assert uploader.client.tokens.renewals - renewals_before >= 2


def test_the_404_window_after_creation(uploader: Uploader) -> None:
    uploader.sandbox.set_faults(create_404_ms=1_500)
    _upload(uploader, 1_000)
    assert any(e.phase is Phase.WAITING_FOR_LIST for e in uploader.events)
    assert any(m == "GET" and s == 404 for m, _p, s in uploader.sandbox.request_log), (
        "the sandbox never hid the new list"
    )


def test_csv_import_transport(uploader: Uploader) -> None:
    result = _upload(uploader, 5_000, via="file")
    assert result.transport == "file"
    assert any(
        p.startswith("/uploads/") or p.endswith("/contactlists/uploads")
        for _m, p, _s in uploader.sandbox.request_log
    )


def test_auto_picks_the_csv_import_above_the_threshold(uploader: Uploader) -> None:
    result = _upload(uploader, 1_500, via="auto", file_threshold=1_000)
    assert result.transport == "file"


def test_a_failed_import_surfaces_its_reason_and_a_rerun_completes(
    uploader: Uploader, sandbox: Sandbox
) -> None:
    f = uploader.csv(2_000, bad_rows=BAD)
    other = GenesysClient(
        sandbox_region(sandbox.base_url),
        ClientCredentials(sandbox.client_id, sandbox.client_secret),
    )
    changed = []

    def meddle(p: UploadProgress) -> None:
        # Someone adds a column while our file is on its way: its header no longer matches.
        if p.phase is Phase.IMPORTING and not changed and uploader.events[-2:]:
            lists = [x for x in sandbox.store.lists() if x["name"] == "Spring Renewals"]
            if lists:
                other.contact_lists.add_columns(lists[0]["id"], ["region"])
                changed.append(True)

    with other, pytest.raises(UploadPlatformError, match="COLUMN_MISMATCH"):
        uploader.run(uploader.options(f, via="file"), progress=meddle)
    assert changed
    again = uploader.run(uploader.options(f, via="file"))
    assert again.resumed
    uploader.assert_holds_exactly(again.list_id, [i for i in range(2_000) if i not in BAD])
    _accounts_for_every_row(again, 2_000)


def test_a_stalled_import_is_reported_not_awaited_forever(uploader: Uploader) -> None:
    uploader.sandbox.set_faults(import_stall_s=4)
    f = uploader.csv(1_000, bad_rows=BAD)
    with pytest.raises(UploadPlatformError, match="no progress"):
        uploader.run(uploader.options(f, via="file", import_stall_timeout_s=1.0))
    uploader.sandbox.set_faults(import_stall_s=0)
    # The stalled import still holds the list: the rerun waits for it, then checks and goes on.
    again = uploader.run(uploader.options(f, via="file"))
    assert again.resumed
    uploader.assert_holds_exactly(again.list_id, [i for i in range(1_000) if i not in BAD])
    _accounts_for_every_row(again, 1_000)


def test_a_lost_network_fails_the_upload_and_a_rerun_completes(uploader: Uploader) -> None:
    f = uploader.csv(3_000, bad_rows=BAD)
    uploader.client.tokens.token()

    def cut(p: UploadProgress) -> None:
        if p.confirmed >= 1_000:
            uploader.sandbox.set_faults(drop_rate=1.0)

    with pytest.raises(UploadPlatformError, match="rerun") as failed:
        uploader.run(uploader.options(f, batch_size=250), progress=cut)
    assert failed.value.upload_id
    uploader.sandbox.set_faults(drop_rate=0.0)
    again = uploader.run(uploader.options(f, batch_size=250))
    assert again.resumed
    assert again.upload_id == failed.value.upload_id
    uploader.assert_holds_exactly(again.list_id, [i for i in range(3_000) if i not in BAD])
    _accounts_for_every_row(again, 3_000)


def test_reconciliation_by_export_reads_only_what_the_export_lacks(uploader: Uploader) -> None:
    f = uploader.csv(2_000)
    gone: list[str] = []

    def meddle(p: UploadProgress) -> None:
        if p.phase is Phase.RECONCILING and not gone:
            lists = [x for x in uploader.sandbox.store.lists() if x["name"] == "Spring Renewals"]
            uploader.sandbox.store.delete_contacts(lists[0]["id"], ["C0000042"])
            gone.append("C0000042")

    result = uploader.run(uploader.options(f, reconcile_via="export"), progress=meddle)
    assert (result.missing, result.created) == (1, 1_999)
    log = uploader.sandbox.request_log
    assert any(m == "POST" and p.endswith("/export") for m, p, _s in log)
    bulk_reads = [p for m, p, _s in log if m == "POST" and p.endswith("/contacts/bulk")]
    assert len(bulk_reads) == 1  # only the contact the export did not show


@contextlib.contextmanager
def _limited_uploader(tmp_path: Path, ledger: Ledger, **limits: int) -> Iterator[Uploader]:
    config = SandboxConfig(limits=Limits(**limits), seed=False, rate_limit=(10_000, 60.0))
    with Sandbox.start(config) as sb:
        region = sandbox_region(sb.base_url)
        with GenesysClient(region, ClientCredentials(sb.client_id, sb.client_secret)) as client:
            yield Uploader(sb, client, ledger, tmp_path)


def test_contacts_the_platform_refuses_are_isolated_and_rejected(
    tmp_path: Path, ledger: Ledger
) -> None:
    with _limited_uploader(tmp_path, ledger, max_value_chars=40) as up:
        f = up.csv(1_000)
        text = f.read_text(encoding="utf-8")
        for i in (17, 600):  # our rules allow 512 characters; this platform only 40
            text = text.replace(f"First{i},", f"First{i}{'x' * 40},", 1)
        f.write_text(text, encoding="utf-8")
        result = up.run(up.options(f))
        assert (result.created, result.rejected, result.status) == (998, 2, "done")
        up.assert_holds_exactly(result.list_id, [i for i in range(1_000) if i not in (17, 600)])
        reasons = {r["contact_id"]: r["reason"] for r in read_report(result.report)}
        assert reasons["C0000017"].startswith("refused by the platform")
        assert reasons["C0000600"].startswith("refused by the platform")
        posts = [
            p for m, p, _s in up.sandbox.request_log if m == "POST" and p.endswith("/contacts")
        ]
        assert len(posts) <= 1 + 2 * 2 * 10  # about 2 x log2(1000) per refused contact


def test_a_refusal_about_the_list_stops_the_upload_instead_of_splitting(
    tmp_path: Path, ledger: Ledger
) -> None:
    with _limited_uploader(tmp_path, ledger, max_contacts_per_list=500) as up:
        with pytest.raises(UploadPlatformError, match="500"):
            up.run(up.options(up.csv(800), batch_size=200, concurrency=1))
        posts = [
            p for m, p, _s in up.sandbox.request_log if m == "POST" and p.endswith("/contacts")
        ]
        assert len(posts) <= 4  # 200 + 200 stored, then one refusal: no splitting
