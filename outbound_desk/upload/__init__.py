"""The upload engine: plan, ledger, per-list lock, runner, progress, resume. No Qt.

``run_upload(client, options, ledger, progress=..., cancelled=..., paused=...)`` is the entry
point for the CLI and the app's workers. The ledger and the lock import light; the runner
(pandas, the Genesys client) is imported on first use of its names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from outbound_desk.upload.ledger import (
    BatchRecord,
    Ledger,
    LedgerError,
    UploadCounts,
    UploadRecord,
    payload_hash,
)
from outbound_desk.upload.lock import ListBusyError, ListLock, LockHolder, LockWaitCancelledError
from outbound_desk.upload.model import (
    ListBusy,
    Outcome,
    Phase,
    UploadCancelled,
    UploadError,
    UploadOptions,
    UploadPlatformError,
    UploadProgress,
    UploadRejected,
    UploadResult,
    UploadUsageError,
)

if TYPE_CHECKING:
    from outbound_desk.upload.runner import UploadJob, run_upload

__all__ = [
    "BatchRecord",
    "Ledger",
    "LedgerError",
    "ListBusy",
    "ListBusyError",
    "ListLock",
    "LockHolder",
    "LockWaitCancelledError",
    "Outcome",
    "Phase",
    "UploadCancelled",
    "UploadCounts",
    "UploadError",
    "UploadJob",
    "UploadOptions",
    "UploadPlatformError",
    "UploadProgress",
    "UploadRecord",
    "UploadRejected",
    "UploadResult",
    "UploadUsageError",
    "payload_hash",
    "run_upload",
]


def __getattr__(name: str) -> Any:
    if name in ("UploadJob", "run_upload"):
        from outbound_desk.upload import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
