"""Frozen entry point: the bundle's executable runs exactly what `outbound-desk` runs."""

import sys

from outbound_desk.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
