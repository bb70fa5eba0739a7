"""Where the platform's behaviour is not known, the sandbox can show each possibility.

Every field is a fact tagged [U] in the API notes (nothing official says which the real
service does). The default is the sandbox's pick; tests and ``outbound-desk emulator
--behaviour key=value,...`` choose the other, so a client can be shown to handle both.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Behaviour:
    """The sandbox's choices for undocumented platform behaviour.

    - ``empty_result``: a look-up by ``name`` or ``id`` that finds nothing on the page asked
      for, without ``allowEmptyResult=true``, answers ``error`` (404 ``no.results``: the SDK
      says allowEmptyResult makes it "return an empty page when there are no results", and
      Terraform always sends it for name look-ups) or ``page`` (an empty page anyway). Plain
      listings (no filter) always answer a page.
    - ``stale_version``: a ``PUT`` of a list with a stale ``version`` answers ``409``
      (``general.conflict``) or ``400`` (``invalid.value``, the message naming the version).
    - ``unknown_data_keys``: contact ``data`` keys that are not list columns are refused
      (``refuse``: 400) or dropped silently (``ignore``).
    - ``excel_import``: a presigned upload with an Excel content type is ``parse``\\d (the
      first sheet, read with python-calamine when it is installed) or ``fail``\\s the import
      with ``UNSUPPORTED_FILE_TYPE``.
    - ``pkce_refresh``: a public (PKCE, no secret) OAuth client gets ``none`` (no refresh
      token: the safe reading, the SDK's only refresh sends a secret) or ``issue`` (a refresh
      token usable with its client id alone). Confidential clients always get one.
    - ``legacy_upload_body``: the legacy upload service answers ``200`` with ``json``
      (``{"id", "fileType"}``) or ``empty`` (no body): only the 200 is documented.
    - ``column_changes``: a ``PUT`` that changes ``columnNames``: ``allow`` (columns may be
      added; a column holding data may not be removed) or ``refuse`` (``400``; Terraform
      treats a column change as destroy-and-recreate).
    """

    empty_result: str = "error"
    stale_version: str = "409"
    unknown_data_keys: str = "refuse"
    excel_import: str = "parse"
    legacy_upload_body: str = "json"
    column_changes: str = "allow"
    pkce_refresh: str = "none"

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            allowed = CHOICES[field.name]
            if value not in allowed:
                raise ValueError(f"{field.name} must be one of {', '.join(allowed)}, not {value!r}")


CHOICES: dict[str, tuple[str, ...]] = {
    "empty_result": ("error", "page"),
    "stale_version": ("409", "400"),
    "unknown_data_keys": ("refuse", "ignore"),
    "excel_import": ("parse", "fail"),
    "pkce_refresh": ("none", "issue"),
    "legacy_upload_body": ("json", "empty"),
    "column_changes": ("allow", "refuse"),
}


def parse_behaviour(spec: str) -> Behaviour:
    """``"empty_result=page,stale_version=400"`` -> :class:`Behaviour`; ``ValueError`` if bad."""
    values: dict[str, str] = {}
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise ValueError(f"behaviour {item!r} is not key=value")
        if key not in CHOICES:
            raise ValueError(f"unknown behaviour {key!r}; known: {', '.join(CHOICES)}")
        values[key] = value.strip()
    return Behaviour(**values)
