"""The upload queue (issue 6): job cards with live progress, per-list serialisation, resume."""

from __future__ import annotations

from outbound_desk.ui.upload_queue.card import JobCard
from outbound_desk.ui.upload_queue.pane import UploadQueuePane
from outbound_desk.ui.upload_queue.store import QueuedUpload, UploadQueueStore

__all__ = ["JobCard", "QueuedUpload", "UploadQueuePane", "UploadQueueStore"]
