"""CSV imports: presigned upload, legacy apps upload, import status and its completion rules."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import httpx

from outbound_desk.genesys._poll import CancelCheck, Progress, poll_until
from outbound_desk.genesys.errors import ImportFailed, UnexpectedAnswer
from outbound_desk.genesys.models import ImportStatus, PresignedUpload

if TYPE_CHECKING:
    from outbound_desk.genesys._client import GenesysClient

__all__ = ["Imports", "is_import_finished"]

log = logging.getLogger(__name__)
_CHUNK = 1 << 16


def is_import_finished(
    status: ImportStatus,
    list_size: int | None,
    expected_size: int | None,
    *,
    seen_progress: bool = False,
) -> bool:
    """Whether a list's import has finished (``FAILED`` counts as finished; check ``failed``).

    The platform has no COMPLETED state: done is "no state and 100 %". But a small import may
    finish before the status ever changes, and the status still shows the *previous* import's
    100 % until the new one starts, so "no state, 100 %" alone is trusted only after this wait
    saw the import in progress (*seen_progress*), or when there is no size to compare with.
    Otherwise done means the list reached *expected_size*.
    """
    if status.failed:
        return True
    if status.in_progress:
        return False
    if expected_size is not None and list_size is not None and list_size >= expected_size:
        return True
    complete = status.percent_complete is None or status.percent_complete >= 100
    if expected_size is None:
        return complete
    return seen_progress and complete


class _Body:
    """The bytes of a CSV file or buffer, readable again for each attempt."""

    def __init__(self, source: Path | str | bytes) -> None:
        self._path: Path | None = None
        self._data = b""
        if isinstance(source, bytes):
            self._data = source
            self.size = len(source)
            self.name = "contacts.csv"
        else:
            self._path = Path(source)
            self.size = self._path.stat().st_size
            self.name = self._path.name

    def open(self) -> IO[bytes]:
        return self._path.open("rb") if self._path is not None else io.BytesIO(self._data)


class Imports:
    """Uploading CSV files into a list and following the import (``client.imports``)."""

    def __init__(self, client: GenesysClient) -> None:
        self._client = client

    def status(self, list_id: str) -> ImportStatus:
        body = self._client.request_json(
            "GET", f"/api/v2/outbound/contactlists/{list_id}/importstatus", expect=dict
        )
        return ImportStatus.from_api(body)

    def upload_presigned(
        self,
        list_id: str,
        source: Path | str | bytes,
        *,
        contact_id_name: str | None = None,
        clear_system_data: bool | None = None,
        signed_url_timeout_s: int = 600,
    ) -> PresignedUpload:
        """Ask for an upload URL, then ``PUT`` the file there with exactly the given headers.

        No bearer token goes with the ``PUT``: the URL is signed and may not be a Genesys host.
        The ``PUT`` is retried after a lost answer only with *contact_id_name* (a second import
        of the same file then updates instead of duplicating).
        """
        request: dict[str, Any] = {
            "contentType": "text/csv",
            "id": list_id,
            "signedUrlTimeoutSeconds": signed_url_timeout_s,
        }
        if contact_id_name:
            request["contactIdName"] = contact_id_name
        if clear_system_data is not None:
            request["clearSystemData"] = clear_system_data
        answer = self._client.request_json(
            "POST",
            "/api/v2/outbound/contactlists/uploads",
            json=request,
            idempotent=True,
            expect=dict,
        )
        target = PresignedUpload.from_api(answer)
        if not self._client.region.is_upload_url(target.url):
            bare = target.url.split("?", 1)[0][:200]
            raise UnexpectedAnswer(
                f"the platform returned an upload URL this client does not send files to "
                f"({bare or 'none'}): it takes https URLs only",
                method="POST",
                path="/api/v2/outbound/contactlists/uploads",
            )
        body = _Body(source)
        handles: list[IO[bytes]] = []

        def build() -> httpx.Request:
            handle = body.open()
            handles.append(handle)

            def chunks() -> Any:
                while block := handle.read(_CHUNK):
                    yield block

            # Content-Length stops httpx from chunking: signed storage URLs refuse chunked PUTs.
            headers = {**target.headers, "Content-Length": str(body.size)}
            return self._client.http.build_request(
                "PUT", target.url, content=chunks(), headers=headers
            )

        try:
            self._client.send(build, safe=contact_id_name is not None, bearer=False)
        finally:
            for handle in handles:
                handle.close()
        log.info(
            "uploaded %d bytes to list %s (upload key %s)", body.size, list_id, target.upload_key
        )
        return target

    def upload_legacy(
        self,
        list_id: str,
        source: Path | str | bytes,
        *,
        contact_id_name: str | None = None,
    ) -> Any:
        """Upload through the apps upload service (multipart, with the token).

        Returns the decoded JSON answer when there is one (its shape is not documented).
        """
        body = _Body(source)
        url = f"{self._client.region.apps_base}/uploads/v2/contactlist"
        form = {"id": list_id, "fileType": "contactlist"}
        if contact_id_name:
            form["contact-id-name"] = contact_id_name
        handles: list[IO[bytes]] = []

        def build() -> httpx.Request:
            handle = body.open()
            handles.append(handle)
            return self._client.http.build_request(
                "POST", url, data=form, files={"file": (body.name, handle, "text/csv")}
            )

        try:
            response = self._client.send(build, safe=contact_id_name is not None)
        finally:
            for handle in handles:
                handle.close()
        try:
            return response.json() if response.content else None
        except ValueError:
            return None

    def is_finished(
        self,
        status: ImportStatus,
        list_size: int | None,
        expected_size: int | None,
        *,
        seen_progress: bool = False,
    ) -> bool:
        """See :func:`is_import_finished`."""
        return is_import_finished(status, list_size, expected_size, seen_progress=seen_progress)

    def wait(
        self,
        list_id: str,
        *,
        expected_size: int | None = None,
        timeout_s: float = 3600.0,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> ImportStatus:
        """Poll until the import on *list_id* is finished; raise :class:`ImportFailed` on FAILED.

        *expected_size* is the size the list will have afterwards, when known.
        """
        seen_progress = False

        def check() -> ImportStatus | None:
            nonlocal seen_progress
            status = self.status(list_id)
            if status.failed:
                raise ImportFailed(status.failure_reason or "the import failed")
            seen_progress = seen_progress or status.in_progress
            size: int | None = None
            if expected_size is not None:
                size = self._client.contact_lists.get(list_id, include_size=True).size
            if progress is not None:
                if status.in_progress and status.total_records:
                    progress(status.completed_records or 0, status.total_records, "import")
                elif expected_size is not None:
                    progress(min(size or 0, expected_size), expected_size, "import")
            finished = is_import_finished(status, size, expected_size, seen_progress=seen_progress)
            return status if finished else None

        return poll_until(
            check,
            what=f"the import into list {list_id}",
            timeout_s=timeout_s,
            sleep=self._client.sleep,
            cancelled=cancelled,
            max_delay_s=3.0,
        )
