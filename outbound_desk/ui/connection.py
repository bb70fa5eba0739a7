"""The current org connection (Qt side): sign in, sign out, tell the views.

The work is :func:`outbound_desk.ui.session.open_connection`, run on the task pool.
"""

from __future__ import annotations

import logging
import threading
import webbrowser
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from outbound_desk.config import OrgProfile
from outbound_desk.ui.session import Connection, open_connection
from outbound_desk.ui.tasks import TaskRunner

log = logging.getLogger(__name__)


class SessionController(QObject):
    """Holds the signed-in :class:`Connection`, if any.

    Signals: ``connected(connection)``, ``disconnected()``, ``sign_in_failed(exception)``,
    ``signing_in(bool)`` while a sign-in runs, ``sign_in_again(str)`` (the sign-in page's URL)
    when a browser sign-in ended without a refresh token and the person must sign in again
    (work that needs the token waits meanwhile).
    """

    sign_in_again = Signal(str)
    connected = Signal(object)
    disconnected = Signal()
    sign_in_failed = Signal(object)
    signing_in = Signal(bool)

    def __init__(self, tasks: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self.connection: Connection | None = None
        self.open_browser: Callable[[str], object] = webbrowser.open
        #: Passed to every ``GenesysClient`` made here (e.g. ``{"max_retries": 2}``).
        self.client_options: dict[str, Any] = {}
        self._cancel_sign_in = threading.Event()
        self._busy = False

    @property
    def busy(self) -> bool:
        return self._busy

    def sign_in(self, profile: OrgProfile, secret: str | None) -> None:
        """Sign in on a worker; ``connected`` or ``sign_in_failed`` follows."""
        if self._busy:
            return
        self._busy = True
        self._cancel_sign_in.clear()
        self.signing_in.emit(True)
        cancel = self._cancel_sign_in
        opener, options = self.open_browser, dict(self.client_options)
        self._tasks.run(
            lambda: open_connection(
                profile,
                secret,
                open_browser=opener,
                cancelled=cancel.is_set,
                client_options=options,
                # Emitted from the thread that needs the token; Qt queues it to the GUI.
                on_sign_in_again=self.sign_in_again.emit,
            ),
            self._on_signed_in,
            self._on_sign_in_failed,
        )

    def test(
        self,
        profile: OrgProfile,
        secret: str | None,
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        """Sign in, read one page, sign out: the answer goes to the callbacks."""

        def work() -> str:
            conn = open_connection(
                profile,
                secret,
                open_browser=self.open_browser,
                client_options=self.client_options,
            )
            try:
                return conn.identity
            finally:
                conn.close()

        self._tasks.run(work, on_success, on_failure)

    def cancel_sign_in(self) -> None:
        self._cancel_sign_in.set()

    def _on_signed_in(self, connection: Connection) -> None:
        self._busy = False
        self.signing_in.emit(False)
        old, self.connection = self.connection, connection
        if old is not None:
            old.close()
        log.info("signed in to %s (%s)", connection.profile.name, connection.region.key)
        self.connected.emit(connection)

    def _on_sign_in_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.signing_in.emit(False)
        log.warning("sign-in failed: %s", exc)
        self.sign_in_failed.emit(exc)

    def sign_out(self) -> None:
        if self.connection is None:
            return
        conn, self.connection = self.connection, None
        conn.close()
        self.disconnected.emit()

    def close(self) -> None:
        """Close the HTTP client (the app is shutting down; workers have stopped)."""
        self._cancel_sign_in.set()
        if self.connection is not None:
            self.connection.close()
            self.connection = None
