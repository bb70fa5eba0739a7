"""List exports: start, wait until the file is ready, download it, parse it."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import httpx

from outbound_desk.genesys._poll import CancelCheck, Progress, poll_until
from outbound_desk.genesys.errors import BadRequest, NotFound
from outbound_desk.genesys.models import ExportInfo, ExportRow, ExportTable

if TYPE_CHECKING:
    from outbound_desk.genesys._client import GenesysClient

__all__ = ["ID_COLUMN", "Exports", "parse_export"]

#: The export's first column: the contact id.
ID_COLUMN = "inin-outbound-id"


def parse_export(data: bytes) -> ExportTable:
    """Parse an export CSV (UTF-8 with a BOM; ``inin-outbound-id`` first, then the columns)."""
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return ExportTable(columns=(), rows=[])
    lowered = [h.strip().casefold() for h in header]
    if ID_COLUMN not in lowered:
        raise ValueError(f"the export has no {ID_COLUMN} column (its header: {header[:5]}...)")
    id_at = lowered.index(ID_COLUMN)
    columns = tuple(h for i, h in enumerate(header) if i != id_at)
    rows: list[ExportRow] = []
    for record in reader:
        if not any(record):
            continue
        padded = record + [""] * (len(header) - len(record))
        values = {h: padded[i] for i, h in enumerate(header) if i != id_at}
        rows.append(ExportRow(contact_id=padded[id_at], values=values))
    return ExportTable(columns=columns, rows=rows)


class Exports:
    """Exporting a list to CSV (``client.exports``)."""

    def __init__(self, client: GenesysClient) -> None:
        self._client = client

    def _path(self, list_id: str) -> str:
        return f"/api/v2/outbound/contactlists/{list_id}/export"

    def start(self, list_id: str) -> None:
        # Asking twice for an export of the same list makes one file: safe to retry.
        self._client.request("POST", self._path(list_id), idempotent=True)

    def get(self, list_id: str) -> ExportInfo | None:
        """The finished export, or None while it is not ready (404, sometimes 400)."""
        try:
            body = self._client.request_json("GET", self._path(list_id))
        except (NotFound, BadRequest):
            return None
        info = ExportInfo.from_api(body if isinstance(body, dict) else {})
        return info if info.uri else None

    def wait_ready(
        self,
        list_id: str,
        *,
        timeout_s: float = 300.0,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> ExportInfo:
        if progress is not None:
            progress(0, 1, "export")
        info = poll_until(
            lambda: self.get(list_id),
            what=f"the export of list {list_id}",
            timeout_s=timeout_s,
            sleep=self._client.sleep,
            cancelled=cancelled,
        )
        if progress is not None:
            progress(1, 1, "export")
        return info

    def download(self, uri: str) -> bytes:
        """The export file. The token goes with it only when *uri* is this region's host."""
        client = self._client
        bearer = client.region.is_platform_url(uri)

        def build() -> httpx.Request:
            return client.http.build_request("GET", uri)

        return client.send(build, safe=True, bearer=bearer).content

    def parse(self, data: bytes) -> ExportTable:
        return parse_export(data)

    def export(
        self,
        list_id: str,
        *,
        timeout_s: float = 300.0,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> ExportTable:
        """Start, wait, download and parse in one call."""
        self.start(list_id)
        info = self.wait_ready(list_id, timeout_s=timeout_s, progress=progress, cancelled=cancelled)
        return parse_export(self.download(info.uri))
