"""Run the upload queue on its own against an embedded sandbox org (STYLE rule 4).

``python -m outbound_desk.ui.upload_queue FILE [--list NAME] [--via api|file|auto]``
uploads FILE into a sandbox list (default "Spring Renewals", seeded) and shows its job card.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication

from outbound_desk.ui.upload_queue.pane import UploadQueuePane


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m outbound_desk.ui.upload_queue")
    parser.add_argument("file", type=Path)
    parser.add_argument("--list", default="Spring Renewals")
    parser.add_argument("--id-column", default="customerId")
    parser.add_argument("--via", choices=("api", "file", "auto"), default="auto")
    args = parser.parse_args(argv)

    from outbound_desk.emulator import Sandbox
    from outbound_desk.genesys import ClientCredentials, GenesysClient, sandbox_region
    from outbound_desk.upload.model import UploadOptions

    app = QApplication.instance() or QApplication(sys.argv[:1])
    ledger = Path(tempfile.mkdtemp(prefix="queue-preview-")) / "ledger.sqlite"
    with Sandbox.start(seed=True) as sandbox:
        client = GenesysClient(
            sandbox_region(sandbox.base_url),
            ClientCredentials(sandbox.client_id, sandbox.client_secret),
        )
        pane = UploadQueuePane(client=lambda: client, ledger_path=lambda: ledger)
        pane.setWindowTitle("Outbound Desk: upload queue (sandbox org)")
        pane.resize(900, 400)
        pane.show()
        pane.enqueue(
            UploadOptions(file=args.file, list=args.list, id_column=args.id_column, via=args.via),
            list_name=args.list,
        )
        code = app.exec()
        pane.shutdown()
        client.close()
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
