"""The child processes the app runs big validations and uploads in."""

from __future__ import annotations

from outbound_desk.contacts import ValidationOptions, diff_columns, suggest_mapping, validate_file
from outbound_desk.files import sniff
from outbound_desk.ui.preview.child import run_in_child
from tests.ui2 import messy


def test_validation_in_a_child_may_use_its_own_threads(tmp_path) -> None:
    # parallel_min_bytes=1 makes validate_file read ahead and check in threads even for a
    # small file, as it does for every file of 16 MB and more.
    path = messy.write(tmp_path / "c.csv", [messy.HEADER, *messy.good_rows(50)])
    profile = sniff(path)
    schema = messy.schema()
    mapping = suggest_mapping(diff_columns(profile.columns, schema), schema, profile.columns)
    seen: list[str] = []
    report = run_in_child(
        validate_file,
        profile,
        schema,
        mapping,
        ValidationOptions(parallel_min_bytes=1),
        progress=lambda done, total, phase: seen.append(phase),
        cancelled=lambda: False,
    )
    assert (report.rows, report.valid) == (50, 50)
    assert seen
