"""Mixed-country files: a column holding the country sets the region of that row's phones.

A list column named like a country (``country``, ``countryCode``, ``iso``...) whose values are
ISO 3166 alpha-2 codes (``GB``), alpha-3 for the common ones, or country names in any of the
languages phonenumbers knows (``United Kingdom``, ``Deutschland``) gives each row its region;
rows without one keep the default region. The phones are normalised region by region (each
region's rows in one batch, so the fast paths stay fast); a file without such a column is not
touched at all.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from outbound_desk.contacts.schema import ListSchema

_COUNTRY_NAME = re.compile(
    r"^(?:country|countries|nation|iso|cc)(?:[\s_-]?(?:code|iso|name))?$|country", re.IGNORECASE
)
#: Alpha-3 codes seen in CRM exports, for the countries whose lists are most often mixed.
_ALPHA3 = {
    "USA": "US", "CAN": "CA", "MEX": "MX", "GBR": "GB", "IRL": "IE", "DEU": "DE", "FRA": "FR",
    "ESP": "ES", "PRT": "PT", "ITA": "IT", "NLD": "NL", "BEL": "BE", "CHE": "CH", "AUT": "AT",
    "SWE": "SE", "NOR": "NO", "DNK": "DK", "FIN": "FI", "POL": "PL", "AUS": "AU", "NZL": "NZ",
    "IND": "IN", "JPN": "JP", "CHN": "CN", "BRA": "BR", "ARG": "AR", "ZAF": "ZA", "PHL": "PH",
}  # fmt: skip
_ALIASES = {"UK": "GB", "ENGLAND": "GB", "SCOTLAND": "GB", "WALES": "GB", "AMERICA": "US"}


def country_column(schema: ListSchema) -> str | None:
    """The list column that holds each row's country, if the list has one."""
    for f in schema.fields:
        if not f.is_phone and _COUNTRY_NAME.search(f.name):
            return f.name
    return None


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^0-9A-Z]", "", text.upper())


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Folded country name (every language phonenumbers has) -> region code."""
    import phonenumbers
    from phonenumbers.geodata.locale import LOCALE_DATA

    out: dict[str, str] = {}
    for region, names in LOCALE_DATA.items():
        if region not in phonenumbers.SUPPORTED_REGIONS:
            continue
        for name in names.values():
            if name and not name.startswith("*"):
                out.setdefault(_fold(name), region)
    for code in phonenumbers.SUPPORTED_REGIONS:
        out[code] = code
    for alias, code in (*_ALPHA3.items(), *_ALIASES.items()):
        out[alias] = code
    return out


def region_of(value: str) -> str | None:
    """The phone region a country cell names, or None."""
    folded = _fold(value)
    return _names().get(folded) if folded else None


def row_regions(values: pa.Array, default: str) -> npt.NDArray[np.object_] | None:
    """Each row's region from a country column (the default where it names none); None when
    every row is the default region (nothing to do)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    distinct = encoded.dictionary.to_pylist()
    regions = np.array([region_of(v or "") or default for v in distinct], dtype=object)
    if all(r == default for r in regions):
        return None
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    out: npt.NDArray[np.object_] = regions[indices]
    return out
