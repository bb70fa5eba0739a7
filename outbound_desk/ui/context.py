"""What every pane and dialog shares: settings, secrets, the session and the workers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from outbound_desk.config import (
    CredentialStore,
    SessionSecrets,
    Settings,
    SettingsStore,
    UiState,
)
from outbound_desk.ui.connection import SessionController
from outbound_desk.ui.prompter import DialogPrompter, Prompter
from outbound_desk.ui.tasks import JobRunner, TaskRunner

log = logging.getLogger(__name__)


class FileEvents(QObject):
    """The file the user is working on, shared by the panes.

    Signals: ``file_opened(path)`` when the user opens a file (File > Open, a recent file).
    """

    file_opened = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.current: str | None = None

    def open(self, path: str) -> None:
        self.current = path
        self.file_opened.emit(path)


class DataEvents(QObject):
    """What changed on the platform or in the ledger, so every pane showing it can refresh.

    Signals: ``lists_changed(list_id)`` when a list was created, changed, cleared, deleted or
    uploaded to (``""`` when which one is not known); ``uploads_changed()`` when an upload
    started or ended (the ledger, and so the history, has news).
    """

    lists_changed = Signal(str)
    uploads_changed = Signal()


@dataclass
class AppContext:
    """The app's shared objects; made once by :func:`make_context` and handed to each pane."""

    store: SettingsStore
    settings: Settings
    state: UiState
    secrets: CredentialStore
    session_secrets: SessionSecrets
    tasks: TaskRunner
    jobs: JobRunner
    session: SessionController
    files: FileEvents
    events: DataEvents = field(default_factory=DataEvents)
    prompter: Prompter = field(default_factory=DialogPrompter)
    log_path: Path | None = None

    def save_settings(self) -> None:
        """Write settings.json; a failure is logged, never lost silently nor fatal."""
        try:
            self.store.save(self.settings)
        except OSError as exc:
            log.error("could not save settings to %s: %s", self.store.settings_path, exc)

    def save_state(self) -> None:
        try:
            self.store.save_state(self.state)
        except OSError as exc:
            log.error("could not save window state to %s: %s", self.store.state_path, exc)


def make_context(
    *,
    store: SettingsStore | None = None,
    prompter: Prompter | None = None,
    log_path: Path | None = None,
    parent: QObject | None = None,
) -> AppContext:
    store = store or SettingsStore()
    tasks = TaskRunner(parent)
    state = store.load_state()
    return AppContext(
        store=store,
        settings=store.load(),
        state=state,
        secrets=CredentialStore(),
        session_secrets=SessionSecrets(),
        tasks=tasks,
        jobs=JobRunner(parent),
        session=SessionController(tasks, parent),
        files=FileEvents(parent),
        prompter=prompter or DialogPrompter(last_dir=state.last_dir),
        log_path=log_path,
    )
