"""Frozen entry point: the bundle's executable runs exactly what `outbound-desk` runs."""

import multiprocessing
import sys

from outbound_desk.__main__ import main

if __name__ == "__main__":
    # Phone checks and uploads may start worker processes (forkserver/spawn): in a frozen bundle the
    # children re-enter this executable, and freeze_support() routes them to their work.
    multiprocessing.freeze_support()
    sys.exit(main())
