"""The contacts domain: list schemas, schema diff and mapping, phone normalisation, row rules
and streaming validation. No Qt, no network: a schema is an object, however it was obtained
(a schema file today, a Genesys contact list through the client later).
"""

from __future__ import annotations

from outbound_desk.contacts.diff import (
    ColumnMapping,
    MappingError,
    Rename,
    SchemaDiff,
    diff_columns,
    rename_score,
    suggest_mapping,
)
from outbound_desk.contacts.guess import guess_headerless, samples_of
from outbound_desk.contacts.nanp_table import use_cache_dir
from outbound_desk.contacts.phones import PhoneNormaliser, classify
from outbound_desk.contacts.schema import (
    EMAIL_FORMAT,
    PHONE_FORMAT,
    Field,
    ListSchema,
    SchemaError,
    load_schema,
)
from outbound_desk.contacts.validate import (
    DuplicatePlan,
    DuplicatePolicy,
    RejectedRow,
    ValidationOptions,
    ValidationReport,
    ValidChunk,
    iter_valid_chunks,
    validate_file,
)
from outbound_desk.files import neutralise  # re-exported: reject files use it

__all__ = [
    "EMAIL_FORMAT",
    "PHONE_FORMAT",
    "ColumnMapping",
    "DuplicatePlan",
    "DuplicatePolicy",
    "Field",
    "ListSchema",
    "MappingError",
    "PhoneNormaliser",
    "RejectedRow",
    "Rename",
    "SchemaDiff",
    "SchemaError",
    "ValidChunk",
    "ValidationOptions",
    "ValidationReport",
    "classify",
    "diff_columns",
    "guess_headerless",
    "iter_valid_chunks",
    "load_schema",
    "neutralise",
    "rename_score",
    "samples_of",
    "suggest_mapping",
    "use_cache_dir",
    "validate_file",
]
