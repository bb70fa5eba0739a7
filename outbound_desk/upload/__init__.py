"""The upload engine: plan, ledger, per-list lock, runner, progress, resume. No Qt."""

from __future__ import annotations

from outbound_desk.upload.ledger import (
    BatchRecord,
    Ledger,
    LedgerError,
    UploadCounts,
    UploadRecord,
    payload_hash,
)
from outbound_desk.upload.lock import ListBusyError, ListLock, LockHolder, LockWaitCancelledError

__all__ = [
    "BatchRecord",
    "Ledger",
    "LedgerError",
    "ListBusyError",
    "ListLock",
    "LockHolder",
    "LockWaitCancelledError",
    "UploadCounts",
    "UploadRecord",
    "payload_hash",
]
