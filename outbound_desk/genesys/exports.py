"""List exports: start, wait until the file is ready, download it, check it, parse or save it.

The export ``uri`` is a ``/api/v2/downloads/{id}`` URL on the API host that answers with a
redirect (3xx) to a signed storage URL (``DownloadsApi.get_download``: "Issues a redirect to a
signed secure download URL"). The first request carries the bearer token (it goes to the API
host); the redirect is followed by a second, explicit request **without** any
``Authorization`` header: the signature in the URL is the permission, a signed storage URL
refuses a request that also carries a token, and the token must never reach another host.

A download that is empty, is not a UTF-8 CSV, or lacks the ``inin-outbound-id`` column is an
:class:`ExportError`, never a saved file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import httpx

from outbound_desk.genesys._poll import CancelCheck, Progress, poll_until
from outbound_desk.genesys.errors import (
    BadRequest,
    Cancelled,
    GenesysError,
    NetworkError,
    NotFound,
)
from outbound_desk.genesys.models import ExportInfo, ExportRow, ExportTable

if TYPE_CHECKING:
    from outbound_desk.genesys._client import GenesysClient

__all__ = [
    "ID_COLUMN",
    "ExportError",
    "ExportedFile",
    "Exports",
    "check_export",
    "export_list_to_file",
    "parse_export",
]

log = logging.getLogger(__name__)

#: The export's first column: the contact id.
ID_COLUMN = "inin-outbound-id"
#: Redirects followed from the download URL to the file (the platform makes one).
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 1 << 16


class ExportError(GenesysError):
    """The export could not be downloaded or is not a usable export file (empty, not UTF-8
    CSV, no ``inin-outbound-id`` column, refused by the storage host)."""

    hint = (
        "Export the list again; if it keeps failing, quote the correlation id to Genesys support."
    )


@dataclass(frozen=True)
class ExportedFile:
    """A list export saved to *path*: its data rows (the header excluded), its header columns
    (``inin-outbound-id`` first, then the list's columns and the system columns) and the
    SHA-256 of the file's bytes."""

    list_id: str
    path: Path
    rows: int
    columns: tuple[str, ...]
    sha256: str
    size_bytes: int

    def as_json(self) -> dict[str, Any]:
        """The ``outbound-desk export --json`` object (a public contract: keys may be added)."""
        return {
            "list_id": self.list_id,
            "rows": self.rows,
            "columns": list(self.columns),
            "path": str(self.path),
            "sha256": self.sha256,
        }


def _check_header(header: list[str] | None, where: str) -> int:
    """The position of ``inin-outbound-id`` in *header*, or an :class:`ExportError`."""
    if header is None or not any(h.strip() for h in header):
        raise ExportError(f"{where} has no header row: it is not a contact list export")
    lowered = [h.strip().casefold() for h in header]
    if ID_COLUMN not in lowered:
        shown = ", ".join(header[:5]) + (", ..." if len(header) > 5 else "")
        raise ExportError(
            f"{where} is not a contact list export: its header ({shown}) has no {ID_COLUMN} column"
        )
    return lowered.index(ID_COLUMN)


def _records(stream: Iterator[str], where: str) -> Iterator[list[str]]:
    """CSV records of *stream*, with a decoding error turned into an :class:`ExportError`."""
    reader = csv.reader(stream)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise ExportError(
                f"{where} is not UTF-8 text (byte offset {exc.start} of a block: {exc.reason})"
            ) from None
        except csv.Error as exc:
            raise ExportError(
                f"{where} is not readable CSV (record {reader.line_num}): {exc}"
            ) from None
        yield record


def export_text(data: bytes) -> io.TextIOWrapper:
    """*data* as a stream of text, decoded a few kilobytes at a time.

    One ``bytes.decode`` of a big export holds the interpreter lock for as long as it takes
    (about 80 ms for 30 MB), and so freezes the app's window; the wrapper decodes as the CSV
    reader asks, so other threads run in between.
    """
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def check_export(data: bytes, *, where: str = "the export file") -> None:
    """Raise :class:`ExportError` unless *data* is a readable export: UTF-8 throughout, with a
    header that has the id column."""
    if not data:
        raise ExportError(f"{where} is empty (0 bytes): the download gave no file")
    decoder = codecs.getincrementaldecoder("utf-8")()
    step = 1 << 20  # a slice at a time: see export_text
    for start in range(0, len(data), step):
        try:
            decoder.decode(data[start : start + step], final=start + step >= len(data))
        except UnicodeDecodeError as exc:
            offset = start + exc.start
            raise ExportError(f"{where} is not UTF-8 text (byte offset {offset})") from None
    _check_header(next(_records(iter(export_text(data)), where), None), where)


def parse_export(data: bytes) -> ExportTable:
    """Parse an export CSV (UTF-8 with a BOM; ``inin-outbound-id`` first, then the columns)."""
    check_export(data)
    reader = _records(iter(export_text(data)), "the export file")
    header = next(reader)
    id_at = _check_header(header, "the export file")
    columns = tuple(h for i, h in enumerate(header) if i != id_at)
    rows: list[ExportRow] = []
    for record in reader:
        if not any(record):
            continue
        padded = record + [""] * (len(header) - len(record))
        values = {h: padded[i] for i, h in enumerate(header) if i != id_at}
        rows.append(ExportRow(contact_id=padded[id_at], values=values))
    return ExportTable(columns=columns, rows=rows)


def read_export_file(path: Path) -> tuple[tuple[str, ...], int]:
    """``(header, data rows)`` of an export file on disk, streamed; :class:`ExportError` when it
    is not a readable export."""
    where = f"the export file {path.name}"
    if path.stat().st_size == 0:
        raise ExportError(f"{where} is empty (0 bytes): the download gave no file")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        records = _records(iter(handle), where)
        header = next(records, None)
        _check_header(header, where)
        assert header is not None
        rows = sum(1 for record in records if any(record))
    return tuple(header), rows


def _storage_failure(response: httpx.Response) -> str:
    """What the storage host said, without the URL's signature (it is a credential)."""
    text = response.text[:2000] if response.content else ""
    code = ""
    for start, end in (("<Code>", "</Code>"), ('"code":"', '"')):
        if start in text:
            code = text.split(start, 1)[1].split(end, 1)[0][:60]
            break
    return f"HTTP {response.status_code}" + (f" {code}" if code else "")


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
            # The file can take many minutes: at most one look every 5 s, not every 2 s, so a
            # long wait does not spend the rate-limit allowance other work needs.
            max_delay_s=5.0,
        )
        if progress is not None:
            progress(1, 1, "export")
        return info

    def download(self, uri: str) -> bytes:
        """The export file's bytes (checked: an empty or unreadable file is an ExportError)."""
        sink = io.BytesIO()
        self.download_to(uri, sink)
        data = sink.getvalue()
        check_export(data)
        return data

    def download_to(
        self,
        uri: str,
        sink: IO[bytes],
        *,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> int:
        """Write the export file behind *uri* to *sink* (seekable); return the byte count.

        The request to *uri* carries the token only when *uri* is on this region's hosts; a
        redirect is followed by a new request without any ``Authorization`` header, retried
        (from the start of *sink*) on a lost connection or a 5xx. ``progress(bytes, total,
        "downloading")`` follows the bytes (total 0 when the size is not announced).
        """
        client = self._client
        bearer = client.region.is_platform_url(uri)

        def build() -> httpx.Request:
            return client.http.build_request("GET", uri)

        first = client.send(build, safe=True, bearer=bearer, redirects=True)
        if first.status_code not in _REDIRECTS:
            # Served directly (no redirect): the body is the file.
            sink.seek(0)
            sink.truncate()
            sink.write(first.content)
            if progress is not None:
                progress(len(first.content), len(first.content), "downloading")
            return len(first.content)
        return self._follow(first, sink, progress=progress, cancelled=cancelled)

    def _follow(
        self,
        first: httpx.Response,
        sink: IO[bytes],
        *,
        progress: Progress | None,
        cancelled: CancelCheck | None,
    ) -> int:
        response_url, headers = first.url, first.headers
        for _hop in range(MAX_REDIRECTS):
            location = headers.get("Location")
            if not location:
                raise ExportError(
                    f"the download answered a redirect (HTTP {first.status_code}) without a "
                    "Location to follow",
                    status=first.status_code,
                    correlation_id=first.headers.get("ININ-Correlation-Id"),
                )
            target = response_url.join(location)
            if target.scheme != "https" and not self._client.region.sandbox:
                # The signature in the URL is a credential: never over plain HTTP.
                raise ExportError(
                    f"the download redirected to {target.scheme}://{target.host}, not https: "
                    "refused, the signed URL would travel in the clear"
                )
            got = self._fetch_signed(target, sink, progress=progress, cancelled=cancelled)
            if isinstance(got, int):
                return got
            response_url, headers = target, got
        raise ExportError(f"the download redirected more than {MAX_REDIRECTS} times")

    def _fetch_signed(
        self,
        target: httpx.URL,
        sink: IO[bytes],
        *,
        progress: Progress | None,
        cancelled: CancelCheck | None,
    ) -> int | httpx.Headers:
        """GET a signed URL without any token: the byte count, or the headers of a further
        redirect. Lost connections and 5xx are retried with the client's backoff."""
        client = self._client
        where = f"GET {target.host}{target.path}"  # never the query: it holds the signature
        attempt = 0
        while True:
            # Built afresh and bare: the signature in the URL is the permission; a signed URL
            # refuses a token, and the token must not leave the API host.
            request = client.http.build_request("GET", target)
            request.headers.pop("Authorization", None)
            failure: str
            try:
                response = client.http.send(request, stream=True)
                try:
                    status = response.status_code
                    if status in _REDIRECTS:
                        return response.headers
                    if status < 400:
                        return self._copy(response, sink, progress=progress, cancelled=cancelled)
                    response.read()
                    failure = _storage_failure(response)
                finally:
                    response.close()
                if status < 500 or attempt >= client.max_retries:
                    raise ExportError(
                        f"the storage host refused the export file ({failure})",
                        status=status,
                        method="GET",
                        path=target.path,
                    )
            except httpx.TransportError as exc:
                if attempt >= client.max_retries:
                    raise NetworkError(
                        f"no answer from {target.host} ({type(exc).__name__})",
                        method="GET",
                        path=target.path,
                    ) from exc
                failure = type(exc).__name__
            attempt += 1
            delay = client.backoff(attempt)
            log.warning("%s: %s; retry %d in %.2f s", where, failure, attempt, delay)
            client.sleep(delay)

    def _copy(
        self,
        response: httpx.Response,
        sink: IO[bytes],
        *,
        progress: Progress | None,
        cancelled: CancelCheck | None,
    ) -> int:
        total = int(response.headers.get("Content-Length") or 0)
        sink.seek(0)
        sink.truncate()
        done = 0
        for block in response.iter_bytes(_CHUNK):
            if cancelled is not None and cancelled():
                raise Cancelled("the export download was cancelled")
            sink.write(block)
            done += len(block)
            if progress is not None:
                progress(done, max(total, done), "downloading")
        return done

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


def partial_path(target: Path) -> Path:
    """Where :func:`export_list_to_file` writes before the rename: ``<target>.partial``."""
    return target.with_name(target.name + ".partial")


def export_list_to_file(
    client: GenesysClient,
    list_id: str,
    target: Path | str,
    *,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
    timeout_s: float = 2400.0,
) -> ExportedFile:
    """Export list *list_id* and save the platform's CSV, as it is, to *target*.

    The one export used by the Lists pane and ``outbound-desk export``. The file is written to
    ``<target>.partial``, checked (not empty, UTF-8 CSV, an ``inin-outbound-id`` column; its
    data rows counted), flushed to disk and only then renamed to *target*: a failure or a
    cancel never leaves a half file, and never replaces an older *target*. ``progress(done,
    total, phase)`` goes through the phases "starting the export", "waiting for the export",
    "downloading" (in bytes), "checking" and "saved". The real platform can take many minutes
    to make the file (Terraform waits ~34 min): *timeout_s* defaults to 40 min.
    """
    path = Path(target)
    report = progress or (lambda done, total, phase: None)
    stop = cancelled or (lambda: False)
    report(0, 3, "starting the export")
    client.exports.start(list_id)
    report(1, 3, "waiting for the export")
    info = client.exports.wait_ready(list_id, timeout_s=timeout_s, cancelled=stop)
    if stop():
        raise Cancelled("the export was cancelled")
    report(2, 3, "downloading")
    partial = partial_path(path)
    try:
        with partial.open("wb") as sink:
            size = client.exports.download_to(info.uri, sink, progress=report, cancelled=stop)
            sink.flush()
            os.fsync(sink.fileno())
        report(size, max(size, 1), "checking")
        columns, rows = read_export_file(partial)
        sha256 = _sha256_of(partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    log.info("exported list %s: %d contacts, %d bytes to %s", list_id, rows, size, path)
    report(3, 3, "saved")
    return ExportedFile(
        list_id=list_id,
        path=path,
        rows=rows,
        columns=columns,
        sha256=sha256,
        size_bytes=size,
    )


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
