"""The file preview and validation pane (issue 6): ``PreviewPane`` and what it hands on."""

from __future__ import annotations

from outbound_desk.ui.preview.pane import PreviewPane, UploadRequest
from outbound_desk.ui.preview.schema_panel import TargetList

__all__ = ["PreviewPane", "TargetList", "UploadRequest"]
