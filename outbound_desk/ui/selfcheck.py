"""The GUI half of ``outbound-desk --self-test``: every app module and Qt library loads.

The engine half (sandbox, validate, upload) runs in :mod:`outbound_desk.cli.selftest`; this
part proves that a bundle carries the Qt libraries and plugins the app needs, without a display
(it uses the offscreen platform unless one is already chosen) and without touching settings.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys


def run() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        import outbound_desk.ui as ui_package

        names = [
            m.name
            for m in pkgutil.walk_packages(ui_package.__path__, "outbound_desk.ui.")
            if not m.name.endswith("__main__")
        ]
        for name in names:
            importlib.import_module(name)
        from PySide6.QtCore import qVersion
        from PySide6.QtWidgets import QApplication, QLabel

        app = QApplication.instance() or QApplication(sys.argv[:1])
        label = QLabel("self-test")
        label.adjustSize()
        platform = QApplication.platformName()
        label.deleteLater()
        del app
    except Exception as exc:  # a self-test reports every failure, whatever its kind
        print(
            f"outbound-desk: error: self-test failed: gui: {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return 1
    print(f"ok  gui: {len(names)} app modules, Qt {qVersion()} on the {platform} platform")
    return 0
