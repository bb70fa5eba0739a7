from __future__ import annotations

import pandas as pd
import pytest

from outbound_desk.contacts import (
    ColumnMapping,
    ListSchema,
    MappingError,
    diff_columns,
    rename_score,
    suggest_mapping,
)


def test_exact_missing_and_extra(schema: ListSchema) -> None:
    d = diff_columns(["customerId", "phoneNumber", "notes"], schema)
    assert d.matched == ("customerId", "phoneNumber")
    assert d.missing_required == ()
    assert d.missing_optional == ("firstName", "homePhone", "emailAddress")
    assert d.extra == ("notes",)
    assert d.renamed == ()


def test_case_and_whitespace_only_differences(schema: ListSchema) -> None:
    d = diff_columns(["CUSTOMERID", " phoneNumber ", "firstname"], schema)
    kinds = {(r.file_column, r.list_column, r.kind) for r in d.renamed}
    assert kinds == {
        ("CUSTOMERID", "customerId", "case"),
        (" phoneNumber ", "phoneNumber", "whitespace"),
        ("firstname", "firstName", "case"),
    }
    assert d.case_only == d.renamed
    m = suggest_mapping(d, schema, ["CUSTOMERID", " phoneNumber ", "firstname"])
    assert m.unresolved == []
    assert m.sources["customerId"] == "CUSTOMERID"


def test_likely_renames_are_scored_but_not_applied_unless_accepted(schema: ListSchema) -> None:
    cols = ["customerId", "Phone", "E-mail", "zzz"]
    d = diff_columns(cols, schema)
    renames = {r.file_column: r for r in d.renamed}
    assert renames["Phone"].list_column == "phoneNumber"
    assert renames["E-mail"].list_column == "emailAddress"
    assert all(0.6 <= r.score < 1 for r in renames.values())
    assert d.extra == ("zzz",)
    assert "phoneNumber" not in d.missing_required
    plain = suggest_mapping(d, schema, cols)
    assert plain.unresolved == ["Phone", "E-mail", "zzz"]
    accepted = suggest_mapping(d, schema, cols, accept_renames=True)
    assert accepted.unresolved == ["zzz"]
    assert accepted.sources["phoneNumber"] == "Phone"


def test_unrelated_names_score_low() -> None:
    assert rename_score("zzz", "phoneNumber") < 0.6
    assert rename_score("Phone", "phoneNumber") >= 0.6
    assert rename_score("Cell", "mobilePhone") > rename_score("Cell", "homePhone")


def test_headerless_maps_positionally(schema: ListSchema) -> None:
    cols = ["column_1", "column_2", "column_3"]
    d = diff_columns(cols, schema, has_header=False)
    assert d.matched == tuple(cols)
    assert d.missing_optional == ("homePhone", "emailAddress")
    m = suggest_mapping(d, schema, cols)
    assert m.sources == {
        "customerId": "column_1",
        "firstName": "column_2",
        "phoneNumber": "column_3",
    }
    too_wide = [f"column_{i}" for i in range(1, 8)]
    d2 = diff_columns(too_wide, schema, has_header=False)
    assert d2.extra == ("column_6", "column_7")
    assert suggest_mapping(d2, schema, too_wide).unresolved == ["column_6", "column_7"]


def test_mapping_apply_orders_and_fills(schema: ListSchema) -> None:
    frame = pd.DataFrame({"tel": ["1"], "id": ["x"], "junk": ["j"]})
    m = ColumnMapping(
        ("tel", "id", "junk"),
        tuple(schema.columns),
        {"tel": "phoneNumber", "id": "customerId", "junk": None},
    )
    out = m.apply(frame)
    assert list(out.columns) == schema.columns
    assert out.iloc[0].tolist() == ["x", "", "1", "", ""]
    assert m.excluded == ["junk"]
    assert m.unfed() == ["firstName", "homePhone", "emailAddress"]


def test_mapping_errors_name_the_problem(schema: ListSchema) -> None:
    with pytest.raises(MappingError, match="'nope' does not exist"):
        ColumnMapping(("a",), tuple(schema.columns), {"nope": "customerId"})
    with pytest.raises(MappingError, match="list column 'bogus'"):
        ColumnMapping(("a",), tuple(schema.columns), {"a": "bogus"})
    with pytest.raises(MappingError, match="both mapped"):
        ColumnMapping(("a", "b"), tuple(schema.columns), {"a": "customerId", "b": "customerId"})


def test_with_changes_moves_a_list_column_to_its_new_feeder(schema: ListSchema) -> None:
    m = ColumnMapping(("a", "b"), tuple(schema.columns), {"a": "customerId"})
    m2 = m.with_changes({"b": "customerId"}, ["a"])
    assert m2.sources == {"customerId": "b"}
    assert m2.excluded == ["a"]
    assert m2.unresolved == []
