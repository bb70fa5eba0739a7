from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outbound_desk.contacts import (
    ColumnMapping,
    DuplicatePolicy,
    Field,
    ListSchema,
    ValidationOptions,
    ValidationReport,
    classify,
    diff_columns,
    iter_valid_chunks,
    neutralise,
    suggest_mapping,
    validate_file,
)
from outbound_desk.files import FileProfile, Overrides, sniff

HEADER = "customerId,firstName,phoneNumber,homePhone,emailAddress\n"


def _write(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def _run(
    path: Path,
    schema: ListSchema,
    tmp_path: Path,
    overrides: Overrides | None = None,
    **opts: object,
) -> tuple[ValidationReport, list[list[str]], list[list[str]]]:
    profile = sniff(path, overrides)
    mapping = suggest_mapping(
        diff_columns(profile.columns, schema, has_header=profile.has_header),
        schema,
        profile.columns,
    )
    out, rej = tmp_path / "out.csv", tmp_path / "rej.csv"
    report = validate_file(
        profile,
        schema,
        mapping,
        ValidationOptions(**opts),  # type: ignore[arg-type]
        out=out,
        rejects=rej,
    )
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8")))) if out.exists() else []
    rejects = list(csv.reader(io.StringIO(rej.read_text("utf-8"))))
    return report, rows, rejects


def test_valid_rows_are_normalised_in_input_order(schema: ListSchema, tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        HEADER
        + "  A1 , Ann ,(212) 555-0123,,ann@example.com\n"
        + "A2,Bob,+44 20 7946 0958, 416 555 0199 ,\n"
        + "A3,Cy,hello,,\n"
        + "A4,Di,212.555.0124,,not-an-email\n"
        + "A5,Ed,,,\n",
    )
    report, rows, rejects = _run(p, schema, tmp_path)
    assert rows == [
        ["customerId", "firstName", "phoneNumber", "homePhone", "emailAddress"],
        ["A1", "Ann", "+12125550123", "", "ann@example.com"],
        ["A2", "Bob", "+442079460958", "+14165550199", ""],
    ]
    assert (report.rows, report.valid, report.invalid) == (5, 2, 3)
    assert report.issue_counts == {"not_a_number": 1, "invalid_email": 1, "missing_required": 1}
    by_row = {r[0]: r for r in rejects[1:]}
    assert rejects[0] == ["row", *schema.columns, "extra_values", "reasons"]
    assert by_row["4"][1:6] == ["A3", "Cy", "hello", "", ""]
    assert "not_a_number" in by_row["4"][-1]
    assert "invalid_email" in by_row["5"][-1]
    assert "missing_required" in by_row["6"][-1]
    assert report.sha256_out is not None
    assert len(report.sha256_out) == 64
    assert report.as_dict()["issues"][0]["row"] == 4


def _dup_file(tmp_path: Path) -> Path:
    return _write(
        tmp_path,
        HEADER
        + "X,first,2125550101,,\n"
        + "Y,only,2125550102,,\n"
        + "X,second,2125550103,,\n"
        + "Z,z,2125550104,,\n"
        + "X,third,2125550105,,\n",
    )


@pytest.mark.parametrize(
    ("policy", "kept", "rejected_rows"),
    [
        (DuplicatePolicy.FIRST, ["first", "only", "z"], ["4", "6"]),
        (DuplicatePolicy.LAST, ["only", "z", "third"], ["2", "4"]),
        (DuplicatePolicy.REJECT, ["only", "z"], ["2", "4", "6"]),
    ],
)
def test_duplicate_policies(
    schema: ListSchema,
    tmp_path: Path,
    policy: DuplicatePolicy,
    kept: list[str],
    rejected_rows: list[str],
) -> None:
    report, rows, rejects = _run(
        _dup_file(tmp_path), schema, tmp_path, duplicates=policy, chunk_rows=2
    )
    assert [r[1] for r in rows[1:]] == kept
    assert [r[0] for r in rejects[1:]] == rejected_rows
    assert report.duplicates == len(rejected_rows)
    assert report.duplicate_ids == 1
    assert report.as_dict()["duplicate_groups"] == [{"id": "X", "rows": [2, 4, 6]}]
    assert all("duplicate_id" in r[-1] for r in rejects[1:])


def test_phone_id_column_is_compared_in_e164_and_warned(tmp_path: Path) -> None:
    schema = ListSchema(
        "L", (Field("phone", required=True, format="E.164"), Field("n")), id_column="phone"
    )
    p = _write(tmp_path, "phone,n\n(212) 555-0123,a\n+1 212 555 0123,b\n")
    report, rows, _ = _run(p, schema, tmp_path)
    assert rows[1:] == [["+12125550123", "a"]]
    assert report.issue_counts["id_is_phone_column"] == 1
    assert report.duplicates == 1


def test_limits_value_too_long(schema: ListSchema, tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER + f"A1,{'x' * 513},2125550101,,\nA2,{'y' * 512},2125550102,,\n")
    report, rows, _rejects = _run(p, schema, tmp_path)
    assert report.issue_counts == {"value_too_long": 1}
    assert [r[0] for r in rows[1:]] == ["A2"]


def test_rejects_neutralise_formulas(schema: ListSchema, tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER + '=HYPERLINK("x"),@cmd,-2+3,+12,\n')
    _report, _rows, rejects = _run(p, schema, tmp_path)
    assert rejects[1][1:5] == ['\'=HYPERLINK("x")', "'@cmd", "'-2+3", "'+12"]
    assert neutralise("plain") == "plain"
    assert neutralise("\tx") == "'\tx"


def test_unknown_and_missing_columns_block_without_writing_out(
    schema: ListSchema, tmp_path: Path
) -> None:
    p = _write(tmp_path, "customerId,Phone,notes\nA,2125550101,n\n")
    report, rows, _ = _run(p, schema, tmp_path)
    assert report.blocked
    assert not report.ok
    assert rows == []  # no normalised file that silently lost columns
    codes = {(i.code, i.column) for i in report.issues}
    assert ("unknown_column", "notes") in codes
    assert ("unknown_column", "Phone") in codes
    assert ("missing_required", "phoneNumber") in codes
    msg = next(i.message for i in report.issues if i.column == "Phone")
    assert "phoneNumber" in msg
    assert "--map" in msg


def test_headerless_file_maps_onto_list_order(schema: ListSchema, tmp_path: Path) -> None:
    p = _write(tmp_path, "B1,Ann,2125550101\nB2,Bob,2125550102\n")
    report, rows, _ = _run(p, schema, tmp_path, Overrides(has_header=False))
    assert report.valid == 2
    assert rows[0] == schema.columns
    assert rows[1] == ["B1", "Ann", "+12125550101", "", ""]


def test_ragged_rows_are_rejected_with_their_values(schema: ListSchema, tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER + "A1,a,2125550101,,\nA2,b,2125550102,,,extra,more\nA3,c\n")
    report, rows, rejects = _run(p, schema, tmp_path)
    assert [r[0] for r in rows[1:]] == ["A1"]
    assert report.rows == 3
    assert report.invalid == 2
    by_row = {r[0]: r for r in rejects[1:]}
    assert by_row["3"][1:3] == ["A2", "b"]
    assert by_row["3"][6] == '["extra", "more"]'
    assert by_row["4"][1:3] == ["A3", "c"]


def test_issue_list_is_capped_but_counted(schema: ListSchema, tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER + "".join(f"I{i},n,bad,,\n" for i in range(50)))
    report, _, _ = _run(p, schema, tmp_path, max_issues=10)
    d = report.as_dict()
    assert len(d["issues"]) == 10
    assert d["issue_counts"] == {"not_a_number": 50}
    assert d["issues_truncated"] is True


def test_cancel_leaves_no_output(schema: ListSchema, tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER + "".join(f"C{i},n,2125550101,,\n" for i in range(30)))
    profile = sniff(p)
    mapping = suggest_mapping(diff_columns(profile.columns, schema), schema, profile.columns)
    calls: list[tuple[int, int, str]] = []
    report = validate_file(
        profile,
        schema,
        mapping,
        ValidationOptions(chunk_rows=5),
        out=tmp_path / "o.csv",
        rejects=tmp_path / "r.csv",
        progress=lambda d, t, ph: calls.append((d, t, ph)),
        cancelled=lambda: True,
    )
    assert report.cancelled
    assert not report.ok
    assert not (tmp_path / "o.csv").exists()
    assert not (tmp_path / "r.csv").exists()
    assert not list(tmp_path.glob("*.partial"))


def test_iter_valid_chunks_yields_records_and_ids(schema: ListSchema, tmp_path: Path) -> None:
    profile = sniff(_dup_file(tmp_path))
    mapping = suggest_mapping(diff_columns(profile.columns, schema), schema, profile.columns)
    holder: list[ValidationReport] = []
    chunks = list(
        iter_valid_chunks(profile, schema, mapping, ValidationOptions(chunk_rows=2), report=holder)
    )
    assert [r for c in chunks for r in c.records.tolist()] == [2, 3, 5]
    assert [i for c in chunks for i in (c.ids if c.ids is not None else [])] == ["X", "Y", "Z"]
    assert [r.record for c in chunks for r in c.rejected] == [4, 6]
    assert holder[0].valid == 3


_cell = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\"'"),
    max_size=12,
)
_phone = st.one_of(
    _cell,
    st.builds(
        lambda pre, n, post: f"{pre}{n}{post}",
        st.sampled_from(["", " ", "+1 ", "(", "+44 20 "]),
        st.integers(2_000_000_000, 9_999_999_999).map(str),
        st.sampled_from(["", " ", "\u00a0", ")"]),
    ),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(_cell, _cell, _phone), min_size=1, max_size=8))
def test_normalising_changes_nothing_but_trim_and_e164(
    tmp_path: Path, rows: list[tuple[str, str, str]]
) -> None:
    schema = ListSchema("L", (Field("id"), Field("note"), Field("tel", format="E.164")))
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n", quoting=csv.QUOTE_ALL)
    w.writerow(["id", "note", "tel"])
    data = [(f"k{i}{a}", b, c) for i, (a, b, c) in enumerate(rows)]
    w.writerows(data)
    p = tmp_path / "h.csv"
    p.write_text(text.getvalue(), encoding="utf-8")
    profile = sniff(p, Overrides(delimiter=",", quotechar='"', has_header=True))
    mapping = suggest_mapping(diff_columns(profile.columns, schema), schema, profile.columns)
    out = tmp_path / "h_out.csv"
    report = validate_file(profile, schema, mapping, out=out)
    got = list(csv.reader(io.StringIO(out.read_text("utf-8"))))[1:]
    expected = []
    for a, b, c in data:
        e164, reason = ("", "") if not c.strip() else classify(c.strip(), "US")
        if reason:
            continue
        expected.append([a.strip(), b.strip(), e164])
    assert got == expected
    assert report.valid == len(expected)


def test_progress_reports_phases_and_reaches_the_end(schema: ListSchema, tmp_path: Path) -> None:
    p = _write(tmp_path, HEADER + "".join(f"P{i},n,2125550101,,\n" for i in range(30)))
    profile = sniff(p)
    mapping = suggest_mapping(diff_columns(profile.columns, schema), schema, profile.columns)
    calls: list[tuple[int, int, str]] = []
    report = validate_file(
        profile,
        schema,
        mapping,
        ValidationOptions(chunk_rows=7, duplicates=DuplicatePolicy.LAST),
        progress=lambda d, t, ph: calls.append((d, t, ph)),
    )
    assert report.valid == 30
    phases = [ph for _d, _t, ph in calls]
    assert phases.index("validate") > phases.index("duplicates")
    assert "duplicates" not in phases[phases.index("validate") :]
    done, total, _ = calls[-1]
    assert done == total > 0


def test_no_id_column_is_a_warning(tmp_path: Path) -> None:
    schema = ListSchema("L", (Field("tel", format="E.164"),))
    p = _write(tmp_path, "tel\n2125550101\n2125550101\n")
    report, rows, _ = _run(p, schema, tmp_path)
    assert report.ok
    assert report.issue_counts == {"no_id_column": 1}
    assert len(rows) == 3  # no id, no duplicates: both rows kept


def test_seen_ids_index_finds_first_records_across_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from outbound_desk.contacts.validate import _SeenIds

    seen = _SeenIds()
    seen.MAX_RUN = 50  # force several unmerged runs as well as merges
    monkeypatch.setattr(_SeenIds, "MERGE_BLOCK", 7)  # and merges of several blocks
    rnd = np.random.default_rng(5)
    keys = rnd.permutation(np.arange(1, 400, dtype=np.uint64) * np.uint64(7919))
    first = {}
    for lo in range(0, len(keys), 13):
        part = keys[lo : lo + 13]
        recs = np.arange(lo, lo + len(part), dtype=np.int64) + 2
        seen.add(part, recs)
        first.update(zip(part.tolist(), recs.tolist(), strict=True))
    assert len(seen.runs) > 1
    assert all(np.all(k[:-1] < k[1:]) for k, _ in seen.runs)
    probe = np.concatenate([keys[::3], np.array([1, 2, 3], dtype=np.uint64)])
    got = seen.lookup(probe).tolist()
    assert got == [first.get(k, -1) for k in probe.tolist()]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=60), st.integers(0, 5))
def test_id_hashes_depend_only_on_the_value(values: list[str], cut: int) -> None:
    """Equal ids hash equally wherever they sit (chunk, slice, buffer offset); distinct ids
    of any length (words of 8 bytes, partial last words, several word counts in one array)
    hash apart."""
    import pyarrow as pa

    from outbound_desk.contacts.validate import hash_ids

    arr = pa.array(values + [v + "\x00" for v in values], type=pa.large_string())
    whole = hash_ids(arr).tolist()
    cut = min(cut, len(arr))
    assert hash_ids(arr.slice(cut)).tolist() == whole[cut:]
    alone = [hash_ids(pa.array([v], type=pa.large_string()))[0] for v in arr.to_pylist()]
    assert alone == whole
    by_value = dict(zip(arr.to_pylist(), whole, strict=True))
    assert len(set(by_value.values())) == len(by_value)  # no two distinct values collide


def test_id_hashes_of_long_and_null_ids() -> None:
    import numpy as np
    import pyarrow as pa

    from outbound_desk.contacts.validate import hash_ids

    long = ["x" * n for n in range(0, 300, 7)] + ["é" * 100, "a" * 1000 + "b", "a" * 1001]
    arr = pa.array([*long, None], type=pa.large_string())
    hashes = hash_ids(arr)
    assert len(np.unique(hashes[:-1])) == len(long)
    assert hashes[-1] == hash_ids(pa.array([""], type=pa.large_string()))[0]  # null as ""
    ids = pa.array([f"C{i:09d}" for i in range(200_000)], type=pa.large_string())
    assert len(np.unique(hash_ids(ids))) == 200_000


@pytest.mark.parametrize("block", [1, 3, 1000])
@pytest.mark.parametrize(("na", "nb"), [(0, 5), (5, 0), (10, 10), (40, 3), (3, 40)])
def test_seen_ids_merge_equals_a_sort_of_both_runs(
    block: int, na: int, nb: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    from outbound_desk.contacts.validate import _SeenIds

    monkeypatch.setattr(_SeenIds, "MERGE_BLOCK", block)
    rnd = np.random.default_rng(na * 100 + nb)
    keys = rnd.choice(np.arange(1000, dtype=np.uint64), na + nb, replace=False)
    recs = rnd.integers(0, 10**6, na + nb).astype(np.uint32)
    a = (np.sort(keys[:na]), recs[:na][np.argsort(keys[:na])])
    b = (np.sort(keys[na:]), recs[na:][np.argsort(keys[na:])])
    got_keys, got_recs = _SeenIds._merge(a, b)
    order = np.argsort(keys)
    assert got_keys.tolist() == keys[order].tolist()
    assert got_recs.tolist() == recs[order].tolist()


@pytest.mark.parametrize("policy", list(DuplicatePolicy))
def test_duplicate_policies_match_a_plain_reference(
    schema: ListSchema, tmp_path: Path, policy: DuplicatePolicy
) -> None:
    import random

    rnd = random.Random(policy.value)
    ids = [rnd.choice("ABCDEFGHIJ") + rnd.choice("12") for _ in range(60)]
    body = "".join(f"{i},n{k},2125550101,,\n" for k, i in enumerate(ids))
    report, rows, _ = _run(
        _write(tmp_path, HEADER + body), schema, tmp_path, duplicates=policy, chunk_rows=7
    )
    positions: dict[str, list[int]] = {}
    for k, i in enumerate(ids):
        positions.setdefault(i, []).append(k)
    keep = set()
    for ks in positions.values():
        if len(ks) == 1 or policy is DuplicatePolicy.FIRST:
            keep.add(ks[0])
        elif policy is DuplicatePolicy.LAST:
            keep.add(ks[-1])
    assert [r[1] for r in rows[1:]] == [f"n{k}" for k in sorted(keep)]
    assert report.duplicate_ids == sum(len(ks) > 1 for ks in positions.values())
    assert report.duplicates == len(ids) - len(keep)


@pytest.mark.parametrize("policy", [DuplicatePolicy.FIRST, DuplicatePolicy.LAST])
def test_reading_and_checking_threads_give_the_same_answers(
    schema: ListSchema, tmp_path: Path, policy: DuplicatePolicy
) -> None:
    import random

    rnd = random.Random(11)
    phones = ["(212) 555-0123", "+44 20 7946 0958", "12345", "n/a", "", "=1+2", "212.555.0199"]
    body = "".join(
        f"{rnd.choice('ABCDEFGHIJKLMNOP')}{k % 300},n{k},{rnd.choice(phones)},"
        f"{rnd.choice(phones)},{rnd.choice(['a@b.co', 'bad@', ''])}\n"
        for k in range(3_000)
    )
    path = _write(tmp_path, HEADER + body + "Q1,ragged\n")
    answers = []
    for parallel_min_bytes in (1 << 40, 0):  # one thread; then read-ahead and checking threads
        run_dir = tmp_path / str(parallel_min_bytes)
        run_dir.mkdir()
        report, rows, rejects = _run(
            path,
            schema,
            run_dir,
            duplicates=policy,
            chunk_rows=97,
            workers=2,
            parallel_min_bytes=parallel_min_bytes,
        )
        as_dict = report.as_dict()
        del as_dict["out"], as_dict["rejects"]
        answers.append((as_dict, rows, rejects))
    assert answers[0] == answers[1]
    assert 0 < answers[0][0]["valid"] < answers[0][0]["rows"] == 3_001


def _threads_of_validation() -> list[str]:
    import threading

    return [
        t.name
        for t in threading.enumerate()
        if t.name.startswith(("validate-read-ahead", "validate-check"))
    ]


def _big_path_options(**extra: object) -> ValidationOptions:
    """Options that take the big-file path (read-ahead and checking threads) on a small file."""
    return ValidationOptions(chunk_rows=97, workers=2, parallel_min_bytes=0, **extra)  # type: ignore[arg-type]


def _many_rows(
    tmp_path: Path, schema: ListSchema, rows: int
) -> tuple[Path, FileProfile, ColumnMapping]:
    """A file of *rows* valid rows, its profile and its mapping onto *schema*."""
    p = _write(tmp_path, HEADER + "".join(f"C{i},n,2125550101,,\n" for i in range(rows)))
    profile = sniff(p)
    return (
        p,
        profile,
        suggest_mapping(diff_columns(profile.columns, schema), schema, profile.columns),
    )


def _assert_nothing_left(tmp_path: Path) -> None:
    """No output, no rejects, no half-written file, no validation thread still running."""
    assert not (tmp_path / "o.csv").exists()
    assert not (tmp_path / "r.csv").exists()
    assert not list(tmp_path.glob("*.partial"))
    assert _threads_of_validation() == []


def test_cancel_midway_with_threads_stops_them_and_leaves_no_output(
    schema: ListSchema, tmp_path: Path
) -> None:
    _p, profile, mapping = _many_rows(tmp_path, schema, 3_000)
    asked = [0]

    def cancelled() -> bool:
        asked[0] += 1
        return asked[0] > 5

    report = validate_file(
        profile,
        schema,
        mapping,
        _big_path_options(),
        out=tmp_path / "o.csv",
        rejects=tmp_path / "r.csv",
        cancelled=cancelled,
    )
    assert report.cancelled
    assert 0 < report.rows < 3_000  # stopped part of the way through
    _assert_nothing_left(tmp_path)


def test_a_file_gone_before_reading_fails_clearly_with_threads(
    schema: ListSchema, tmp_path: Path
) -> None:
    from outbound_desk.files import FileError

    p, profile, mapping = _many_rows(tmp_path, schema, 500)
    p.unlink()
    with pytest.raises(FileError, match="cannot read"):
        validate_file(profile, schema, mapping, _big_path_options(), out=tmp_path / "o.csv")
    assert not (tmp_path / "o.csv").exists()
    assert _threads_of_validation() == []


def test_an_error_in_a_checking_thread_reaches_the_caller(
    schema: ListSchema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from outbound_desk.contacts import validate as validate_module

    real = validate_module.check_columns
    calls = [0]

    def failing(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        if calls[0] == 3:
            raise RuntimeError("the third chunk broke")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(validate_module, "check_columns", failing)
    _p, profile, mapping = _many_rows(tmp_path, schema, 2_000)
    with pytest.raises(RuntimeError, match="third chunk"):
        validate_file(
            profile,
            schema,
            mapping,
            _big_path_options(),
            out=tmp_path / "o.csv",
            rejects=tmp_path / "r.csv",
        )
    _assert_nothing_left(tmp_path)


def test_a_duplicate_plan_is_reused_only_for_the_same_unchanged_file(
    schema: ListSchema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: a second run over the same file with the same settings takes the first run's
    duplicate pre-pass instead of reading the file for it again; other settings or a changed
    file read it again (and get the right answer)."""
    import os

    import outbound_desk.contacts.validate as validate

    path = _dup_file(tmp_path)
    profile = sniff(path)
    mapping = suggest_mapping(
        diff_columns(profile.columns, schema, has_header=True), schema, profile.columns
    )
    prepasses: list[int] = []
    real = validate._Validation._prepass

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        prepasses.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(validate._Validation, "_prepass", counting)
    opts = ValidationOptions(duplicates=DuplicatePolicy.REJECT)
    first = validate_file(profile, schema, mapping, opts)
    assert first.duplicate_plan is not None
    assert len(prepasses) == 1
    again = validate_file(profile, schema, mapping, opts, duplicate_plan=first.duplicate_plan)
    assert len(prepasses) == 1  # not read again
    assert (again.valid, again.duplicates, again.duplicate_ids) == (2, 3, 1)
    last = ValidationOptions(duplicates=DuplicatePolicy.LAST)
    other = validate_file(profile, schema, mapping, last, duplicate_plan=first.duplicate_plan)
    assert len(prepasses) == 2
    assert other.duplicates == 2
    # The file changes (X's third row gets its own id): the old plan is not taken.
    path.write_text(path.read_text("utf-8").replace("X,third", "W,third"), "utf-8")
    os.utime(path, ns=(1, 1))
    changed = validate_file(sniff(path), schema, mapping, opts, duplicate_plan=first.duplicate_plan)
    assert len(prepasses) == 3
    assert (changed.valid, changed.duplicates) == (3, 2)
