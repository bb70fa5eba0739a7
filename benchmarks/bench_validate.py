"""Validation benchmark: Outbound Desk against what an admin would write, on the same file.

    python benchmarks/bench_validate.py [--rows 200000] [--file contacts.csv] [--keep]

Three kinds of run, each in its own process so that peak RSS is its own:
  ours   ``sniff`` + ``validate_file`` (chunked, vectorised, phone fast paths + cached slow
         path, checking threads), writing the normalised file and the rejects file, set up
         as ``outbound-desk validate`` is (Arrow on jemalloc, the app's cache directory);
  naive  ``pandas.read_csv`` then ``phonenumbers.parse`` / ``is_valid_number`` /
         ``format_number`` row by row, with the same row rules written plainly;
  parse  the bare ``pandas.read_csv(engine="pyarrow")`` of the file.
parse and ours run ``--repeat`` times (3), interleaved, and their medians are compared: one
timing on a shared 2-core machine can be off by 20 % either way. Then it CHECKS that the two
validations agree: the same valid rows, and on every valid row the
same values (E.164 phones included). A mismatch exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


def _rss_mb() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def run_ours(path: Path, schema_path: Path, work: Path) -> dict[str, object]:
    from outbound_desk.config import cache_dir
    from outbound_desk.contacts import (
        ValidationOptions,
        diff_columns,
        load_schema,
        suggest_mapping,
        use_cache_dir,
        validate_file,
    )
    from outbound_desk.files import sniff, use_lean_allocator

    # As `outbound-desk validate` sets up: Arrow on jemalloc, and the app's cache directory,
    # where the first run on a machine leaves the NANP prefix table for the next ones.
    use_lean_allocator()
    use_cache_dir(cache_dir())
    t0 = time.perf_counter()
    schema = load_schema(schema_path)
    profile = sniff(path)
    mapping = suggest_mapping(diff_columns(profile.columns, schema), schema, profile.columns)
    report = validate_file(
        profile,
        schema,
        mapping,
        ValidationOptions(),
        out=work / "ours.csv",
        rejects=work / "ours_rejects.csv",
    )
    dt = time.perf_counter() - t0
    me, kids = _rss_mb()
    return {
        "seconds": dt,
        "rows": report.rows,
        "valid": report.valid,
        "rss_mb": me,
        "workers_rss_mb": kids,
    }


def naive_validate(df: Any, schema: dict[str, Any]) -> Any:
    """What an admin writes after reading the file: strip, then loop row by row."""
    import pandas as pd
    import phonenumbers

    df = df.apply(lambda col: col.str.strip())
    keep = []
    seen: set[str] = set()
    fields = schema["fields"]
    idc = schema["id_column"]
    for row in df.itertuples(index=False):
        rec = row._asdict()
        ok = True
        for f in fields:
            v = rec[f["name"]]
            if f["required"] and v == "":
                ok = False
            if len(v) > 512:
                ok = False
            if v and f["format"] == "E.164":
                try:
                    n = phonenumbers.parse(v, "US")
                    if phonenumbers.is_valid_number(n):
                        rec[f["name"]] = phonenumbers.format_number(
                            n, phonenumbers.PhoneNumberFormat.E164
                        )
                    else:
                        ok = False
                except phonenumbers.NumberParseException:
                    ok = False
            if v and f["format"] == "email" and not EMAIL.fullmatch(v):
                ok = False
        cid = rec[idc]
        if cid:
            if cid in seen:  # first row of an id wins
                ok = False
            seen.add(cid)
        if ok:
            keep.append(rec)
    return pd.DataFrame(keep, columns=df.columns)


def run_naive(path: Path, schema_path: Path, work: Path) -> dict[str, object]:
    """What an admin writes: read everything, then loop."""
    import pandas as pd

    t0 = time.perf_counter()
    schema = json.loads(schema_path.read_text())
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = naive_validate(df, schema)
    dt = time.perf_counter() - t0
    out.to_csv(work / "naive.csv", index=False)
    me, kids = _rss_mb()
    return {"seconds": dt, "rows": len(df), "valid": len(out), "rss_mb": me, "workers_rss_mb": kids}


def run_parse(path: Path, schema_path: Path, work: Path) -> dict[str, object]:
    import pandas as pd

    t0 = time.perf_counter()
    df = pd.read_csv(path, engine="pyarrow", dtype=str)
    dt = time.perf_counter() - t0
    me, kids = _rss_mb()
    return {"seconds": dt, "rows": len(df), "valid": None, "rss_mb": me, "workers_rss_mb": kids}


RUNS = {"ours": run_ours, "naive": run_naive, "parse": run_parse}


def child(method: str, path: Path, schema: Path, work: Path) -> dict[str, object]:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            method,
            "--file",
            str(path),
            "--schema",
            str(schema),
            "--work",
            str(work),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if done.returncode != 0:
        sys.exit(f"{method} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def identity(work: Path) -> tuple[bool, str]:
    """The valid rows and all their values (E.164 phones included) equal, row by row."""
    import pandas as pd

    ours = pd.read_csv(work / "ours.csv", dtype=str, keep_default_na=False)
    naive = pd.read_csv(work / "naive.csv", dtype=str, keep_default_na=False)
    if list(ours.columns) != list(naive.columns):
        return False, f"columns differ: {list(ours.columns)} vs {list(naive.columns)}"
    if len(ours) != len(naive):
        a, b = set(ours["customerId"]), set(naive["customerId"])
        return False, (
            f"valid rows differ: {len(ours)} vs {len(naive)}; only ours "
            f"{sorted(a - b)[:5]}, only naive {sorted(b - a)[:5]}"
        )
    diff = ours.ne(naive)
    if diff.any().any():
        where = diff.any(axis=1).to_numpy().nonzero()[0][:5]
        return False, "values differ on valid rows:\n" + pd.concat(
            [ours.iloc[where], naive.iloc[where]], keys=["ours", "naive"]
        ).to_string()
    phones = ["phoneNumber", "homePhone"]
    e164 = sum(int((ours[c] != "").sum()) for c in phones)
    return True, f"{len(ours)} valid rows identical; {e164} E.164 values identical"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--file", type=Path)
    ap.add_argument("--schema", type=Path)
    ap.add_argument("--work", type=Path)
    ap.add_argument("--child", choices=sorted(RUNS))
    ap.add_argument("--keep", action="store_true", help="keep the generated and output files")
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of parse and of ours, interleaved; the medians are compared (one run of a "
        "timing on this shared machine can be off by 20%% either way). naive runs once.",
    )
    ap.add_argument(
        "--runs",
        default="parse,ours,naive",
        help="which runs (comma list); the identity check needs ours and naive",
    )
    a = ap.parse_args()
    if a.child:
        print(json.dumps(RUNS[a.child](a.file, a.schema, a.work)))
        return 0

    from gen_contacts import SCHEMA, generate

    work = Path(tempfile.mkdtemp(prefix="bench_validate_"))
    path = a.file or work / f"contacts_{a.rows}.csv"
    if not path.exists():
        t0 = time.perf_counter()
        generate(path, a.rows)
        print(f"generated {path} ({a.rows} rows) in {time.perf_counter() - t0:.1f} s")
    schema = work / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    runs = [m for m in ("parse", "ours", "naive") if m in a.runs.split(",")]
    seconds: dict[str, list[float]] = {m: [] for m in runs}
    results: dict[str, dict[str, object]] = {}
    for k in range(max(1, a.repeat)):
        for m in runs:
            if m == "naive" and k > 0:
                continue
            r = child(m, path, schema, work)
            seconds[m].append(float(r["seconds"]))  # type: ignore[arg-type]
            results[m] = r  # the last run's rows and RSS (the same in every run)
    for m, r in results.items():
        r["seconds"] = statistics.median(seconds[m])
    print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB), cpus: {os.cpu_count()}")
    print(f"{'run':<8}{'rows':>10}{'valid':>10}{'seconds':>9}{'rows/s':>11}{'RSS MB':>8}  runs")
    for m, r in results.items():
        rate = float(r["rows"]) / float(r["seconds"])  # type: ignore[arg-type]
        each = ", ".join(f"{x:.2f}" for x in seconds[m])
        print(
            f"{m:<8}{r['rows']:>10}{r['valid'] if r['valid'] is not None else '-':>10}"
            f"{r['seconds']:>9.2f}{rate:>11,.0f}{r['rss_mb']:>8.0f}  {each}"
        )
    same = True
    if "ours" in results:
        ours_s = float(results["ours"]["seconds"])  # type: ignore[arg-type]
        if "naive" in results:
            naive_s = float(results["naive"]["seconds"])  # type: ignore[arg-type]
            print(f"ours vs naive: {naive_s / ours_s:.1f}x faster (target >= 10x)")
        if "parse" in results:
            parse_s = float(results["parse"]["seconds"])  # type: ignore[arg-type]
            print(
                f"ours vs bare pyarrow parse: {ours_s / parse_s:.1f}x slower, medians "
                f"(target <= 10x); against the fastest parse run: "
                f"{ours_s / min(seconds['parse']):.1f}x"
            )
    if "ours" in results and "naive" in results:
        same, detail = identity(work)
        print(f"identity check: {'PASS' if same else 'FAIL'}: {detail}")
    if not a.keep:
        for f in work.iterdir():
            if f != a.file:
                f.unlink()
        if not any(work.iterdir()):
            work.rmdir()
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
