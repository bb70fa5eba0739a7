"""Run the preview pane on its own (STYLE rule 4).

``python -m outbound_desk.ui.preview [FILE] [--schema SCHEMA.json ...]``: target lists come from
the schema files given, else from ``resources/schemas/``; settings are the user's own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from outbound_desk.ui.preview.pane import PreviewPane
from outbound_desk.ui.preview.schema_panel import TargetList

RESOURCES = Path(__file__).resolve().parents[3] / "resources"


def schema_targets(paths: list[Path]) -> list[TargetList]:
    from outbound_desk.contacts import load_schema

    out = []
    for p in paths:
        schema = load_schema(p)
        out.append(TargetList(schema.name, f"schema:{p.stem}", schema))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m outbound_desk.ui.preview")
    parser.add_argument("file", nargs="?")
    parser.add_argument("--schema", action="append", type=Path, default=[])
    args = parser.parse_args(argv)
    from outbound_desk.config import SettingsStore

    schemas = args.schema or sorted((RESOURCES / "schemas").glob("*.json"))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    store = SettingsStore()
    settings = store.load()
    pane = PreviewPane(
        settings=settings,
        save_settings=lambda: store.save(settings),
        targets=lambda: schema_targets(schemas),
    )
    pane.open_action.setShortcut(QKeySequence.StandardKey.Open)
    pane.setWindowTitle("Outbound Desk: preview")
    pane.resize(1360, 860)
    pane.show()
    if args.file:
        pane.open_file(args.file)
    code = app.exec()
    pane.shutdown()
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
