"""Outbound Desk: open, fix and upload contact lists to Genesys Cloud CX Outbound."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("outbound-desk")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+local"

APP_NAME = "Outbound Desk"
APP_ID = "outbound-desk"
