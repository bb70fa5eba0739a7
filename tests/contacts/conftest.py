from __future__ import annotations

import json
from pathlib import Path

import pytest

from outbound_desk.contacts import ListSchema

SCHEMA = {
    "name": "Spring campaign",
    "fields": [
        {
            "name": "customerId",
            "type": "string",
            "required": True,
            "format": None,
            "phone_type": None,
        },
        {
            "name": "firstName",
            "type": "string",
            "required": False,
            "format": None,
            "phone_type": None,
        },
        {
            "name": "phoneNumber",
            "type": "string",
            "required": True,
            "format": "E.164",
            "phone_type": "cell",
        },
        {
            "name": "homePhone",
            "type": "string",
            "required": False,
            "format": "E.164",
            "phone_type": "home",
        },
        {
            "name": "emailAddress",
            "type": "string",
            "required": False,
            "format": "email",
            "phone_type": None,
        },
    ],
    "id_column": "customerId",
}


@pytest.fixture
def schema() -> ListSchema:
    return ListSchema.from_dict(SCHEMA)


@pytest.fixture
def schema_file(tmp_path: Path) -> Path:
    p = tmp_path / "schema.json"
    p.write_text(json.dumps(SCHEMA), encoding="utf-8")
    return p
