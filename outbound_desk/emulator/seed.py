"""Sample lists for the demo: a busy list, a second one, and an empty one to upload into."""

from __future__ import annotations

import random

from outbound_desk.emulator.store import Store

_FIRST = (
    "Ada Ben Chloe Dara Elif Femi Grace Hugo Ines Jonas Kira Liam Maya",
    "Nils Olga Pablo Quinn Rosa Sami Tara Uma Viktor Wen Xavi Yara Zane",
)
_LAST = (
    "Andersen Brooks Costa Dubois Evans Fischer Garcia Hansen Ito Jensen Kowalski Lopez Moreau",
    "Novak Okafor Petrov Quist Rossi Silva Tanaka Urban Vega Weber Young Zhang",
)
_FIRST_NAMES = [n for part in _FIRST for n in part.split()]
_LAST_NAMES = [n for part in _LAST for n in part.split()]
_CITIES = (
    ("Austin", "78701"),
    ("Boston", "02108"),
    ("Chicago", "60601"),
    ("Denver", "80202"),
    ("Miami", "33101"),
    ("Seattle", "98101"),
)


def seed_store(store: Store, *, rng_seed: int = 20240501) -> None:
    """Create the demo lists in an empty store (a store with lists is left alone)."""
    if store.list_ids():
        return
    rng = random.Random(rng_seed)
    renewals = store.create_list(
        {
            "name": "Spring Renewals",
            "columnNames": [
                "customerId",
                "firstName",
                "lastName",
                "phoneNumber",
                "mobile",
                "email",
                "city",
                "zip",
            ],
            "phoneColumns": [
                {"columnName": "phoneNumber", "type": "home"},
                {"columnName": "mobile", "type": "cell"},
            ],
            "emailColumns": [{"columnName": "email", "type": "work"}],
            "zipCodeColumnName": "zip",
        }
    )
    rows = []
    for n in range(1, 301):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        city, zip_code = rng.choice(_CITIES)
        cid = f"C{100000 + n}"
        rows.append(
            (
                cid,
                {
                    "customerId": cid,
                    "firstName": first,
                    "lastName": last,
                    "phoneNumber": f"+1512555{rng.randrange(10000):04d}",
                    "mobile": f"+1737555{rng.randrange(10000):04d}" if n % 4 else "",
                    "email": f"{first.lower()}.{last.lower()}{n}@example.com",
                    "city": city,
                    "zip": zip_code,
                },
                None,
            )
        )
    store.upsert_contacts(renewals["id"], rows)

    collections = store.create_list(
        {
            "name": "Collections Q4",
            "columnNames": ["accountNumber", "fullName", "phone", "balanceDue", "dueDate"],
            "phoneColumns": [{"columnName": "phone", "type": "cell"}],
            "columnDataTypeSpecifications": [
                {"columnName": "balanceDue", "columnDataType": "NUMERIC"}
            ],
        }
    )
    rows = []
    for n in range(1, 121):
        account = f"A-{700000 + n * 7}"
        rows.append(
            (
                account,
                {
                    "accountNumber": account,
                    "fullName": f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}",
                    "phone": f"+1312555{rng.randrange(10000):04d}",
                    "balanceDue": f"{rng.randrange(2000, 250000) / 100:.2f}",
                    "dueDate": f"2024-{rng.randrange(10, 13)}-{rng.randrange(1, 29):02d}",
                },
                None,
            )
        )
    store.upsert_contacts(collections["id"], rows)

    store.create_list(
        {
            "name": "Webinar Leads",
            "columnNames": ["leadId", "firstName", "lastName", "email", "phone", "company"],
            "phoneColumns": [{"columnName": "phone", "type": "work"}],
            "emailColumns": [{"columnName": "email", "type": "work"}],
        }
    )
