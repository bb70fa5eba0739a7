"""The platform's limits, defined once (Genesys Cloud Outbound's documented caps).

The readers (``files``), the domain (``contacts``), the client (``genesys``), the engine
(``upload``) and the Lists pane's checks all name these; none keeps a copy.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "MAX_BATCH_SIZE",
    "MAX_COLUMNS",
    "MAX_CONTACTS_PER_LIST",
    "MAX_NAME_LENGTH",
    "MAX_VALUE_LENGTH",
]

#: Columns of a contact list (data, phone and email columns together).
MAX_COLUMNS: Final = 50
#: Characters of a column name.
MAX_NAME_LENGTH: Final = 128
#: Characters of one contact's value in one column.
MAX_VALUE_LENGTH: Final = 512
#: Contacts per ``POST /contactlists/{id}/contacts`` (and per ``contacts/bulk`` read).
MAX_BATCH_SIZE: Final = 1_000
#: Contacts one list may hold.
MAX_CONTACTS_PER_LIST: Final = 1_000_000
