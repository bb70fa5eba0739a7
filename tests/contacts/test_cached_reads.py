"""Issue 13: a validation takes the chunks of a read already made (files.ChunkCache) instead
of reading the file again, and answers exactly as a validation that reads the file."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from outbound_desk.contacts import (
    DuplicatePolicy,
    ListSchema,
    ValidationOptions,
    diff_columns,
    suggest_mapping,
    validate_file,
)
from outbound_desk.files import ChunkCache, FileProfile, Overrides, ScanPass, sniff
from tests.reads import count_reads

HEADER = "customerId,firstName,phoneNumber,homePhone,emailAddress\n"
CHUNK_ROWS = 37


def messy_file(path: Path, rows: int = 600, ragged: int = 3) -> Path:
    """Duplicated and empty ids, bad phones and emails, ragged records, blank lines, a value
    that reads as a formula."""
    import random

    rnd = random.Random(5)
    phones = ["(212) 555-0123", "+44 20 7946 0958", "12345", "", "=1+2", "212.555.0199"]
    lines = [HEADER]
    for k in range(rows):
        cid = "" if k % 97 == 13 else f"{rnd.choice('ABCDEFG')}{k % 250}"
        lines.append(
            f"{cid},n{k},{rnd.choice(phones)},{rnd.choice(phones)},"
            f"{rnd.choice(['a@b.co', 'bad@', ''])}\n"
        )
        if k % 151 == 7:
            lines.append("\n")
        if ragged and k % (rows // ragged) == 11:
            lines.append(f"R{k},ragged\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def preview_read(profile: FileProfile, cache: ChunkCache) -> FileProfile:
    """The preview's one read (table and scan), filling *cache*."""
    reading = ScanPass(profile, chunk_rows=cache.chunk_rows, keep=cache)
    for _ in reading.chunks():
        pass
    assert reading.scanned is not None
    return reading.scanned


def validate(
    profile: FileProfile,
    schema: ListSchema,
    out_dir: Path,
    cache: ChunkCache | None = None,
    **opts: object,
) -> tuple[dict[str, object], bytes, bytes]:
    """The report (as ``validate --json`` gives it, paths aside) and both files written."""
    out_dir.mkdir()
    mapping = suggest_mapping(diff_columns(profile.columns, schema), schema, profile.columns)
    options = ValidationOptions(chunk_rows=CHUNK_ROWS, **opts)  # type: ignore[arg-type]
    out, rejects = out_dir / "out.csv", out_dir / "rejects.csv"
    report = validate_file(profile, schema, mapping, options, out=out, rejects=rejects, cache=cache)
    answer = report.as_dict()
    del answer["out"], answer["rejects"]
    written = out.read_bytes() if out.exists() else b""  # a blocked run writes none
    return answer, written, rejects.read_bytes()


PARALLEL = {"workers": 2, "parallel_min_bytes": 0}  # the read-ahead and checking threads


@pytest.mark.parametrize("policy", list(DuplicatePolicy))
@pytest.mark.parametrize("threads", [False, True], ids=["one thread", "checking threads"])
def test_after_the_preview_read_a_validation_reads_nothing_and_answers_the_same(
    schema: ListSchema,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    policy: DuplicatePolicy,
    threads: bool,
) -> None:
    path = messy_file(tmp_path / "in.csv")
    profile = sniff(path)
    opts: dict[str, object] = {"duplicates": policy, **(PARALLEL if threads else {})}
    expected = validate(profile, schema, tmp_path / "read", **opts)
    assert expected[0]["invalid"]
    assert expected[0]["valid"]
    assert expected[0]["duplicates"] > 0
    assert expected[0]["issue_counts"]["ragged_row"] == 3

    cache = ChunkCache(profile, chunk_rows=CHUNK_ROWS)
    reads = count_reads(monkeypatch, path)
    scanned = preview_read(profile, cache)
    assert cache.complete
    assert len(reads) == 1
    assert validate(scanned, schema, tmp_path / "cached", cache, **opts) == expected
    assert len(reads) == 1  # the preview's read only
    # Without a cache, policies last and reject keep their pre-pass's chunks: one read too.
    assert validate(profile, schema, tmp_path / "again", **opts) == expected
    assert len(reads) == 2


@pytest.mark.parametrize("policy", list(DuplicatePolicy))
def test_a_file_over_the_budget_is_read_again_with_the_same_answers(
    schema: ListSchema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: DuplicatePolicy
) -> None:
    path = messy_file(tmp_path / "in.csv")
    profile = sniff(path)
    expected = validate(profile, schema, tmp_path / "read", duplicates=policy)
    reads = count_reads(monkeypatch, path)
    # Smaller than the file: nothing is kept, from the start.
    tiny = ChunkCache(profile, chunk_rows=CHUNK_ROWS, budget=1_000)
    assert tiny.dropped is not None
    # As big as the file: its parsed rows (with their offsets) outgrow it on the way.
    small = ChunkCache(profile, chunk_rows=CHUNK_ROWS, budget=profile.size_bytes)
    monkeypatch.setattr("outbound_desk.files.cache.CHUNK_CACHE_BYTES", 1_000)
    for name, cache in (("tiny", tiny), ("small", small)):
        scanned = preview_read(profile, cache)
        assert cache.dropped is not None
        assert not cache.complete
        before = len(reads)
        assert validate(scanned, schema, tmp_path / name, cache, duplicates=policy) == expected
        # Read again: by the pre-pass (too big for a cache of its own), by the main pass.
        assert len(reads) - before == (1 if policy is DuplicatePolicy.FIRST else 2)


@pytest.mark.parametrize("policy", [DuplicatePolicy.FIRST, DuplicatePolicy.REJECT])
def test_a_validation_follows_a_read_still_under_way_and_a_cache_dropped_on_the_way(
    schema: ListSchema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: DuplicatePolicy
) -> None:
    """A validation started before the preview's read ends waits for each next chunk; when
    the cache stops keeping them (here: the budget, after a few chunks), the validation reads
    the rest from the file, from where the cache stopped."""
    path = messy_file(tmp_path / "in.csv")
    profile = sniff(path)
    for name, budget in (("complete", None), ("dropped", 4_000)):
        expected = validate(profile, schema, tmp_path / f"{name}-read", duplicates=policy)
        cache = ChunkCache(profile, chunk_rows=CHUNK_ROWS, budget=budget)
        results: list[object] = []

        def run(c: ChunkCache = cache, n: str = name, out: list[object] = results) -> None:
            out.append(validate(profile, schema, tmp_path / n, c, duplicates=policy, **PARALLEL))

        validation = threading.Thread(target=run)
        reads = count_reads(monkeypatch, path)
        validation.start()
        preview_read(profile, cache)
        validation.join(60)
        assert results == [expected], name
        if budget is None:
            assert len(reads) == 1  # the preview's
        else:
            assert cache.dropped is not None
            assert len(reads) > 1


def test_a_changed_file_or_another_reading_of_it_is_read_again(
    schema: ListSchema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = messy_file(tmp_path / "in.csv")
    profile = sniff(path)
    cache = ChunkCache(profile, chunk_rows=CHUNK_ROWS)
    scanned = preview_read(profile, cache)
    reads = count_reads(monkeypatch, path)

    # Another reading (an override) is not the one the cache holds.
    other = sniff(path, Overrides(has_header=False))
    assert not cache.usable(other, CHUNK_ROWS)
    answer, _, _ = validate(other, schema, tmp_path / "other", cache)
    assert answer["rows"] == scanned.rows + 1  # the header is a row now
    assert len(reads) == 1
    assert not cache.usable(scanned, CHUNK_ROWS + 1)  # another chunking neither

    # The file changes (a row added): the cache is not used.
    assert cache.usable(scanned, CHUNK_ROWS)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("Z1,Zed,(212) 555-0100,,\n")
    assert not cache.usable(scanned, CHUNK_ROWS)
    changed = sniff(path)
    answer, _, _ = validate(changed, schema, tmp_path / "changed", cache)
    assert answer["rows"] == scanned.rows + 1
    assert len(reads) == 2


def test_a_read_whose_issues_pass_the_scans_cap_keeps_nothing(
    schema: ListSchema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan builds at most ISSUES_KEPT_PER_CODE issues of a code and counts the rest; a
    validation needs every one (each rejects its row), so it reads such a file itself."""
    path = messy_file(tmp_path / "in.csv", ragged=6)
    profile = sniff(path)
    expected = validate(profile, schema, tmp_path / "read")
    monkeypatch.setattr("outbound_desk.files.model.ISSUES_KEPT_PER_CODE", 2)
    cache = ChunkCache(profile, chunk_rows=CHUNK_ROWS)
    scanned = preview_read(profile, cache)
    assert scanned.issue_counts["ragged_row"] == 6  # counted all the same
    assert cache.dropped is not None
    reads = count_reads(monkeypatch, path)
    assert validate(scanned, schema, tmp_path / "cached", cache) == expected
    assert len(reads) == 1


def test_a_validation_waiting_for_the_read_can_be_cancelled(
    schema: ListSchema, tmp_path: Path
) -> None:
    path = messy_file(tmp_path / "in.csv")
    profile = sniff(path)
    cache = ChunkCache(profile, chunk_rows=CHUNK_ROWS)
    cache.begin(_identity(path))  # a read that has begun, and stalls
    stop = threading.Event()
    mapping = suggest_mapping(diff_columns(profile.columns, schema), schema, profile.columns)
    options = ValidationOptions(chunk_rows=CHUNK_ROWS)
    reports: list[object] = []
    worker = threading.Thread(
        target=lambda: reports.append(
            validate_file(profile, schema, mapping, options, cancelled=stop.is_set, cache=cache)
        )
    )
    worker.start()
    stop.set()
    worker.join(30)
    assert not worker.is_alive()
    assert getattr(reports[0], "cancelled", False)


def _identity(path: Path):  # type: ignore[no-untyped-def]
    from outbound_desk.files.identity import FileIdentity

    return FileIdentity.of(path)


def test_a_workbooks_validation_takes_the_preview_reads_chunks_too(
    schema: ListSchema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from outbound_desk.files import workbook
    from tests.files.test_workbook import xlsx

    rows: list[list[object]] = [HEADER.strip().split(",")]
    rows += [
        [f"W{k % 40}", f"n{k}", "(212) 555-0123" if k % 9 else "12", "", ""] for k in range(120)
    ]
    path = xlsx(tmp_path / "in.xlsx", {"Contacts": rows})
    profile = sniff(path)
    assert profile.workbook is not None
    expected = validate(profile, schema, tmp_path / "read", duplicates=DuplicatePolicy.REJECT)
    cache = ChunkCache(profile, chunk_rows=CHUNK_ROWS)
    scanned = preview_read(profile, cache)
    assert cache.complete
    sheet_reads: list[int] = []
    real = workbook.iter_workbook_chunks

    def counting(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        sheet_reads.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(workbook, "iter_workbook_chunks", counting)
    got = validate(scanned, schema, tmp_path / "cached", cache, duplicates=DuplicatePolicy.REJECT)
    assert got == expected
    assert expected[0]["duplicates"]
    assert not sheet_reads


def test_the_fixed_copys_repair_plan_takes_the_cached_chunks_too(
    schema: ListSchema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from outbound_desk.contacts.repair import plan_repairs

    lines = [HEADER] + [
        f"{k:07d},n{k},{'2125550123.0' if k % 3 else '(212) 555-0123'},,\n" for k in range(1, 200)
    ]
    path = tmp_path / "in.csv"
    path.write_text("".join(lines), encoding="utf-8")
    profile = sniff(path)
    mapping = suggest_mapping(diff_columns(profile.columns, schema), schema, profile.columns)
    cache = ChunkCache(profile, chunk_rows=CHUNK_ROWS)
    scanned = preview_read(profile, cache)
    reads = count_reads(monkeypatch, path)
    answers = []
    for given in (None, cache):
        plan = plan_repairs(scanned, schema, mapping, chunk_rows=CHUNK_ROWS, cache=given)
        out = tmp_path / f"out-{given is None}.csv"
        options = ValidationOptions(chunk_rows=CHUNK_ROWS)
        report = validate_file(scanned, schema, mapping, options, out=out, repair=plan, cache=given)
        answers.append((plan.widths, report.repairs, report.as_dict()["valid"], out.read_bytes()))
    assert answers[0] == answers[1]
    assert answers[0][1]  # something was repaired (the ".0" phones)
    assert len(reads) == 2  # the plan and the validation without a cache; none with it


def test_a_file_with_many_broken_rows_is_not_kept_and_validates_the_same(
    schema: ListSchema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issues and broken records are Python objects (the collector walks them): past
    CHUNK_CACHE_OBJECTS a cache keeps nothing, the preview's and a pre-pass's alike."""
    path = messy_file(tmp_path / "in.csv", ragged=6)
    profile = sniff(path)
    expected = validate(profile, schema, tmp_path / "read", duplicates=DuplicatePolicy.REJECT)
    monkeypatch.setattr("outbound_desk.files.cache.CHUNK_CACHE_OBJECTS", 4)
    cache = ChunkCache(profile, chunk_rows=CHUNK_ROWS)
    scanned = preview_read(profile, cache)
    assert cache.dropped is not None
    assert "broken rows" in cache.dropped
    reads = count_reads(monkeypatch, path)
    got = validate(scanned, schema, tmp_path / "cached", cache, duplicates=DuplicatePolicy.REJECT)
    assert got == expected
    assert len(reads) == 2  # the pre-pass could not keep its chunks either
