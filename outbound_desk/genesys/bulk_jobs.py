"""Asynchronous bulk contact jobs: ``contacts/bulk/remove``, ``bulk/update`` and their jobs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from outbound_desk.genesys._poll import CancelCheck, Progress, poll_until
from outbound_desk.genesys.models import BulkJob

if TYPE_CHECKING:
    from outbound_desk.genesys._client import GenesysClient

__all__ = ["BulkJobs"]


class BulkJobs:
    """Start and follow bulk contact jobs (``client.bulk_jobs``)."""

    def __init__(self, client: GenesysClient) -> None:
        self._client = client

    def _path(self, list_id: str, tail: str) -> str:
        return f"/api/v2/outbound/contactlists/{list_id}/contacts/bulk{tail}"

    def remove(
        self,
        list_id: str,
        *,
        criteria: Any = None,
        contact_list_filter_id: str | None = None,
    ) -> BulkJob:
        """Start removing the contacts that match *criteria* (or a contact list filter)."""
        body: dict[str, Any] = {}
        if criteria is not None:
            body["criteria"] = criteria
        if contact_list_filter_id is not None:
            body["contactListFilterId"] = contact_list_filter_id
        answer = self._client.request_json(
            "POST", self._path(list_id, "/remove"), json=body, idempotent=True, expect=dict
        )
        return BulkJob.from_api(answer)

    def update(
        self,
        list_id: str,
        *,
        contact: Mapping[str, Any],
        contact_ids: Sequence[str] | None = None,
        criteria: Any = None,
    ) -> BulkJob:
        """Start setting the fields of *contact* on the contacts chosen by id or criteria."""
        body: dict[str, Any] = {"contact": dict(contact)}
        if contact_ids is not None:
            body["contactIds"] = list(contact_ids)
        if criteria is not None:
            body["criteria"] = criteria
        answer = self._client.request_json(
            "POST", self._path(list_id, "/update"), json=body, idempotent=True, expect=dict
        )
        return BulkJob.from_api(answer)

    def get(self, list_id: str, job_id: str) -> BulkJob:
        return BulkJob.from_api(
            self._client.request_json("GET", self._path(list_id, f"/jobs/{job_id}"), expect=dict)
        )

    def all(self, list_id: str) -> list[BulkJob]:
        answer = self._client.request_json("GET", self._path(list_id, "/jobs")) or {}
        entities = answer.get("entities") if isinstance(answer, dict) else answer
        return [BulkJob.from_api(e) for e in entities or ()]

    def wait(
        self,
        list_id: str,
        job_id: str,
        *,
        timeout_s: float = 600.0,
        progress: Progress | None = None,
        cancelled: CancelCheck | None = None,
    ) -> BulkJob:
        """Poll until the job is ``Complete`` or ``Failed`` (check ``failed`` on the result)."""

        def check() -> BulkJob | None:
            job = self.get(list_id, job_id)
            if progress is not None and job.total_records:
                progress(job.completed_records or 0, job.total_records, "bulk job")
            return job if job.done else None

        return poll_until(
            check,
            what=f"bulk job {job_id}",
            timeout_s=timeout_s,
            sleep=self._client.sleep,
            cancelled=cancelled,
        )
