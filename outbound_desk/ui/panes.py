"""The panes of the main window, and the registry the window builds its tabs from.

A pane is a :class:`Pane` made by a factory ``(AppContext) -> Pane``. The window knows no pane
by name: it shows every pane in :data:`PANES`, in order. Part 2 of the app (the upload pane and
the history) adds its entries here the same way the CLI adds sub-commands to ``COMMANDS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from outbound_desk.config import UiState
    from outbound_desk.ui.context import AppContext

#: ``module:attribute`` of each pane factory, in tab order.
PANES: tuple[str, ...] = (
    "outbound_desk.ui.lists.pane:ListsPane",
    "outbound_desk.ui.upload_queue.tab:UploadPane",
    "outbound_desk.ui.history:HistoryPane",
)


class Pane(QWidget):
    """A tab of the main window: one area of work (lists, upload, history).

    Subclasses set :attr:`title` and override what they need; the defaults do nothing.
    """

    title = ""
    #: True for the pane that shows the file the user opens (File > Open goes to it).
    opens_files = False

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context

    def menu_actions(self) -> Sequence[QAction]:
        """Actions for a menu named after the pane (with their shortcuts)."""
        return ()

    def refresh(self) -> None:
        """Reload what the pane shows (View > Refresh, F5)."""

    def apply_preferences(self) -> None:
        """The preferences changed (the Preferences dialog): take up the new defaults."""

    def busy_reason(self) -> str | None:
        """Why closing the app now would lose work (e.g. an upload runs), or None."""
        return None

    def restore_state(self, state: UiState) -> None:
        """Apply splitter and header state saved by :meth:`save_state`."""

    def save_state(self, state: UiState) -> None:
        """Put splitter and header state into *state* (Qt byte arrays as base64 text)."""

    def shutdown(self) -> None:
        """Stop the pane's work; the app is closing. Jobs are cancelled by the app after."""


PaneFactory = Callable[["AppContext"], Pane]


def load_pane_factories(names: Sequence[str] = PANES) -> list[PaneFactory]:
    factories: list[PaneFactory] = []
    for name in names:
        module_name, _, attribute = name.partition(":")
        module = importlib.import_module(module_name)
        factories.append(getattr(module, attribute))
    return factories
