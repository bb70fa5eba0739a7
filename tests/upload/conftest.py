"""Fixtures for the upload engine tests: a client for the sandbox, a ledger, upload helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from outbound_desk.emulator import Sandbox
from outbound_desk.genesys import ClientCredentials, GenesysClient, sandbox_region
from outbound_desk.upload.ledger import Ledger
from outbound_desk.upload.model import UploadOptions, UploadProgress, UploadResult
from outbound_desk.upload.runner import run_upload

from . import helpers


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[GenesysClient]:
    region = sandbox_region(sandbox.base_url)
    with GenesysClient(
        region,
        ClientCredentials(sandbox.client_id, sandbox.client_secret),
        backoff_base_s=0.05,
        backoff_cap_s=0.5,
        max_retries=8,
    ) as c:
        yield c


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite3") as led:
        yield led


class Uploader:
    """Runs uploads of generated files into the sandbox and checks what the list holds."""

    def __init__(self, sandbox: Sandbox, client: GenesysClient, ledger: Ledger, tmp: Path) -> None:
        self.sandbox, self.client, self.ledger, self.tmp = sandbox, client, ledger, tmp
        self.schema = helpers.schema_file(tmp / "schema.json", "Spring Renewals")
        self.events: list[UploadProgress] = []

    def csv(self, n: int, name: str = "contacts.csv", **kw: Any) -> Path:
        return helpers.write_csv(self.tmp / name, n, **kw)

    def options(self, file: Path, **kw: Any) -> UploadOptions:
        base: dict[str, Any] = {
            "file": file,
            "list": "Spring Renewals",
            "create": True,
            "schema_path": self.schema,
            "via": "api",
            "busy_poll_s": 0.2,
            "import_poll_s": 0.1,
        }
        base.update(kw)
        return UploadOptions(**base)

    def run(
        self,
        opts: UploadOptions,
        *,
        cancelled: Callable[[], bool] | None = None,
        paused: Callable[[], bool] | None = None,
        progress: Callable[[UploadProgress], None] | None = None,
    ) -> UploadResult:
        def on_progress(p: UploadProgress) -> None:
            self.events.append(p)
            if progress is not None:
                progress(p)

        return run_upload(
            self.client, opts, self.ledger, progress=on_progress, cancelled=cancelled, paused=paused
        )

    def contacts(self, list_id: str) -> dict[str, dict[str, str]]:
        return {c["id"]: c["data"] for c in self.sandbox.store.all_contacts(list_id)}

    def assert_holds_exactly(
        self, list_id: str, indexes: range | list[int], *, tag: str = ""
    ) -> None:
        """The list holds exactly the rows *indexes* of the generator, normalised."""
        held = self.contacts(list_id)
        want = {}
        for i in indexes:
            r = helpers.row(i, tag=tag)
            r["phoneNumber"] = helpers.e164(i)
            want[r["customerId"]] = r
        missing, extra = sorted(set(want) - set(held)), sorted(set(held) - set(want))
        assert not missing, f"missing {missing[:5]}"
        assert not extra, f"extra {extra[:5]}"
        for cid, data in want.items():
            assert {k: held[cid].get(k, "") for k in data} == data


@pytest.fixture
def uploader(sandbox: Sandbox, client: GenesysClient, ledger: Ledger, tmp_path: Path) -> Uploader:
    return Uploader(sandbox, client, ledger, tmp_path)


def read_report(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
