"""The platform's limits are defined once (base.limits); every layer names that definition."""

from __future__ import annotations

import re
from pathlib import Path

from outbound_desk.base import limits

PACKAGE = Path(__file__).resolve().parents[2] / "outbound_desk"
#: ``NAME = 50`` and the like: a limit's value written again somewhere else.
_COPY = re.compile(
    r"^\s*(MAX_\w+)\s*(?::\s*\w+(?:\[\w+\])?)?\s*=\s*(50|128|512|1_?000|1_?000_?000)\s*(?:#.*)?$",
    re.M,
)


def test_no_module_but_base_limits_defines_a_platform_limit() -> None:
    copies = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "base/limits.py" or rel.startswith("emulator/"):  # the emulator stands alone
            continue
        for m in _COPY.finditer(path.read_text(encoding="utf-8")):
            copies.append(f"{rel}: {m.group(1)} = {m.group(2)}")
    # Counts that are not platform limits (records kept, refusals, redirects) are fine.
    allowed = {"files/model.py: MAX_RECORD_FIELDS = 1_000"}
    assert [c for c in copies if c not in allowed] == []


def test_every_layer_names_the_one_definition() -> None:
    from outbound_desk import files
    from outbound_desk.contacts import schema
    from outbound_desk.genesys import contacts
    from outbound_desk.upload import model

    assert (files.MAX_COLUMNS, files.MAX_NAME_LENGTH, files.MAX_VALUE_LENGTH) == (
        limits.MAX_COLUMNS,
        limits.MAX_NAME_LENGTH,
        limits.MAX_VALUE_LENGTH,
    )
    assert (schema.MAX_COLUMNS, schema.MAX_COLUMN_NAME, schema.MAX_VALUE_LENGTH) == (50, 128, 512)
    assert contacts.MAX_CONTACTS_PER_CALL == model.MAX_BATCH_SIZE == limits.MAX_BATCH_SIZE
