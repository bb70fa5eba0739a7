"""Uploads are paced by the allowance of the resource they use (issue 12 item 7).

The platform's allowance differs per resource. Here the contacts resource allows 20 requests
per 2 s (the sandbox's own limit), while list reads, answered by a hostile proxy in front of
it, say 10,000 per minute, as a generous resource would. The app reads lists while an upload
runs (its Lists pane refreshes itself); those answers must not talk the upload into a 429 storm,
and the reads must not wait for the upload's window. (The exact pacing per family is proved
with a fake clock in tests/genesys/test_ratelimit.py; this runs it end to end over HTTP.)
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from outbound_desk.emulator import Sandbox
from outbound_desk.genesys import ClientCredentials, GenesysClient, sandbox_region
from outbound_desk.upload.ledger import Ledger
from tests.genesys.hostile import HostileProxy

from .conftest import Uploader

GENEROUS = {
    "Content-Type": "application/json",
    "inin-ratelimit-allowed": "10000",
    "inin-ratelimit-count": "1",
    "inin-ratelimit-reset": "60",
}
PAGE = {"entities": [], "pageSize": 1, "pageNumber": 1, "total": 0, "pageCount": 0}


def test_list_reads_with_a_bigger_allowance_do_not_hurry_the_upload(
    sandbox: Sandbox, ledger: Ledger, tmp_path: Path
) -> None:
    with HostileProxy(sandbox.base_url).running() as proxy:
        proxy.answer(
            "GET", "/api/v2/outbound/contactlists", 200, headers=GENEROUS,
            body=json.dumps(PAGE).encode(),
        )  # fmt: skip
        with GenesysClient(
            sandbox_region(proxy.base_url),
            ClientCredentials(sandbox.client_id, sandbox.client_secret),
            backoff_base_s=0.05,
            backoff_cap_s=0.5,
            max_retries=10,
        ) as client:
            up = Uploader(sandbox, client, ledger, tmp_path)
            f = up.csv(2_000)
            # The list exists before the limit starts, so the upload's first steps are quick.
            client.contact_lists.list(page_size=1)
            sandbox.set_rate_limit(20, 2.0)
            stop = threading.Event()

            def read_lists() -> None:
                while not stop.is_set():
                    client.contact_lists.list(page_size=1)
                    stop.wait(0.02)

            reader = threading.Thread(target=read_lists, name="lists-pane")
            reader.start()
            try:
                result = up.run(up.options(f, batch_size=50, concurrency=4, reconcile=False))
            finally:
                stop.set()
                reader.join(10)
        assert result.status == "done"
        assert len(sandbox.store.all_contacts(result.list_id)) == 2_000
        reads = [s for s in proxy.seen if s.path == "/api/v2/outbound/contactlists"]
        assert len(reads) > 10  # the reads went on during the upload
    # The contacts limiter kept to its own 20 per 2 s: at most the first window's few.
    assert sandbox.store.throttled <= 3
