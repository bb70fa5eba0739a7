"""The PySide6 desktop app: main window, panes, Qt models over Qt-free stores, workers.

Qt appears only in this package (an import-linter contract checks it). Panes register through
:mod:`outbound_desk.ui.panes`, so the app grows by adding a pane, not by editing the window.
"""
