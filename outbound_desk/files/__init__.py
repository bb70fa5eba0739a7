"""Reading what the admin brings: encoding, dialect, header; a streaming chunked reader; the
normalised writer. No Qt, no network.

``sniff`` profiles a file from samples (fast at any size), ``scan`` makes one streaming pass
for the exact count, checksum and every issue, ``iter_chunks`` streams the records as string
frames for validation and upload.
"""

from outbound_desk.files.cache import CHUNK_CACHE_BYTES, ChunkCache
from outbound_desk.files.model import (
    ISSUES_KEPT_PER_CODE,
    MAX_COLUMNS,
    MAX_NAME_LENGTH,
    MAX_VALUE_LENGTH,
    Cancelled,
    Dialect,
    FileError,
    FileProfile,
    Issue,
    Overrides,
    RecordChunk,
    Severity,
)
from outbound_desk.files.reader import ScanPass, iter_chunks, scan, use_lean_allocator
from outbound_desk.files.sniff import sniff
from outbound_desk.files.writer import NormalisedWriter, neutralise, write_csv

__all__ = [
    "CHUNK_CACHE_BYTES",
    "ISSUES_KEPT_PER_CODE",
    "MAX_COLUMNS",
    "MAX_NAME_LENGTH",
    "MAX_VALUE_LENGTH",
    "Cancelled",
    "ChunkCache",
    "Dialect",
    "FileError",
    "FileProfile",
    "Issue",
    "NormalisedWriter",
    "Overrides",
    "RecordChunk",
    "ScanPass",
    "Severity",
    "iter_chunks",
    "neutralise",
    "scan",
    "sniff",
    "use_lean_allocator",
    "write_csv",
]
