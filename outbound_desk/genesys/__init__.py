"""The Genesys Cloud Outbound client: regions, OAuth, one shared httpx client, endpoint groups.

No Qt here. Typical use::

    with GenesysClient(region_for("eu-west-1"), ClientCredentials(cid, secret)) as client:
        for contact_list in client.contact_lists.iter(include_size=True):
            ...
"""

from outbound_desk.genesys._client import DEFAULT_TIMEOUT, GenesysClient
from outbound_desk.genesys.auth import (
    DEFAULT_REDIRECT_URI,
    ClientCredentials,
    PkceFlow,
    ReauthenticationRequired,
    Secret,
    Token,
    TokenProvider,
    fetch_client_credentials_token,
    parse_redirect_uri,
    pkce_challenge,
)
from outbound_desk.genesys.contacts import MAX_CONTACTS_PER_CALL
from outbound_desk.genesys.errors import (
    AuthenticationError,
    BadRequest,
    Cancelled,
    Conflict,
    GenesysError,
    ImportFailed,
    NetworkError,
    NotFound,
    NotReady,
    PermissionDenied,
    RateLimited,
    ServerError,
    UnexpectedAnswer,
    VersionConflict,
)
from outbound_desk.genesys.exports import (
    ID_COLUMN,
    ExportedFile,
    ExportError,
    export_list_to_file,
    parse_export,
)
from outbound_desk.genesys.imports import is_import_finished
from outbound_desk.genesys.models import (
    BulkJob,
    Contact,
    ContactList,
    ContactListSpec,
    EmailColumn,
    ErrorInfo,
    ExportInfo,
    ExportRow,
    ExportTable,
    ImportStatus,
    Page,
    PhoneColumn,
    PresignedUpload,
)
from outbound_desk.genesys.ratelimit import (
    UPLOAD_FAMILY,
    RateLimiter,
    RateLimits,
    RateStats,
    rate_family,
)
from outbound_desk.genesys.regions import REGIONS, Region, region_for, sandbox_region

__all__ = [
    "DEFAULT_REDIRECT_URI",
    "DEFAULT_TIMEOUT",
    "ID_COLUMN",
    "MAX_CONTACTS_PER_CALL",
    "REGIONS",
    "UPLOAD_FAMILY",
    "AuthenticationError",
    "BadRequest",
    "BulkJob",
    "Cancelled",
    "ClientCredentials",
    "Conflict",
    "Contact",
    "ContactList",
    "ContactListSpec",
    "EmailColumn",
    "ErrorInfo",
    "ExportError",
    "ExportInfo",
    "ExportRow",
    "ExportTable",
    "ExportedFile",
    "GenesysClient",
    "GenesysError",
    "ImportFailed",
    "ImportStatus",
    "NetworkError",
    "NotFound",
    "NotReady",
    "Page",
    "PermissionDenied",
    "PhoneColumn",
    "PkceFlow",
    "PresignedUpload",
    "RateLimited",
    "RateLimiter",
    "RateLimits",
    "RateStats",
    "ReauthenticationRequired",
    "Region",
    "Secret",
    "ServerError",
    "Token",
    "TokenProvider",
    "UnexpectedAnswer",
    "VersionConflict",
    "export_list_to_file",
    "fetch_client_credentials_token",
    "is_import_finished",
    "parse_export",
    "parse_redirect_uri",
    "pkce_challenge",
    "rate_family",
    "region_for",
    "sandbox_region",
]
