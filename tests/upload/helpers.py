"""Test files for upload tests: realistic contact CSVs and schemas, generated."""

from __future__ import annotations

import csv
import json
from pathlib import Path

COLUMNS = ["customerId", "firstName", "lastName", "phoneNumber", "email", "city"]


def phone(i: int) -> str:
    """A valid US number, distinct for every i < 8,000,000, in a national shape."""
    return f"(212) {200 + (i // 10_000) % 800:03d}-{i % 10_000:04d}"


def e164(i: int) -> str:
    return f"+1212{200 + (i // 10_000) % 800:03d}{i % 10_000:04d}"


def row(i: int, *, tag: str = "") -> dict[str, str]:
    return {
        "customerId": f"C{i:07d}",
        "firstName": f"First{i}{tag}",
        "lastName": f"Last{i}",
        "phoneNumber": phone(i),
        "email": f"person{i}@example.com",
        "city": ["Boston", "Austin", "Denver", "Miami"][i % 4],
    }


def write_csv(
    path: Path,
    n: int,
    *,
    start: int = 0,
    tag: str = "",
    bad_rows: frozenset[int] = frozenset(),
    columns: list[str] | None = None,
) -> Path:
    """*n* rows; rows whose index is in *bad_rows* get an invalid phone number."""
    cols = columns or COLUMNS
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for i in range(start, start + n):
            r = row(i, tag=tag)
            if i in bad_rows:
                r["phoneNumber"] = "12"
            w.writerow(r)
    return path


def schema_file(path: Path, name: str, *, columns: list[str] | None = None) -> Path:
    cols = columns or COLUMNS
    fields = []
    for c in cols:
        f: dict[str, object] = {"name": c, "type": "string", "required": c == "customerId"}
        if c == "phoneNumber":
            f["format"] = "E.164"
            f["phone_type"] = "cell"
        if c == "email":
            f["format"] = "email"
        fields.append(f)
    path.write_text(json.dumps({"name": name, "fields": fields, "id_column": "customerId"}))
    return path
