"""Workbook benchmark: validating an .xlsx with Outbound Desk against what an admin would write.

    python benchmarks/bench_workbook.py [--rows 100000] [--file contacts.xlsx] [--keep]

Each run in its own process, so that peak RSS is its own:
  preview  ``sniff`` of the workbook: what the app needs to show the first rows;
  ours     ``sniff`` + ``validate_file`` (an .xlsx: its XML streamed when over 32 MiB, else
           fastexcel into Arrow; chunks of Arrow strings, the same validation as a CSV),
           writing the normalised CSV and the rejects, set up as ``outbound-desk validate``
           is;
  naive    ``pandas.read_excel(engine="openpyxl", dtype=str)`` then ``phonenumbers`` row by
           row (the loop of bench_validate.py).
Then it CHECKS that ours and naive agree: the same valid rows with the same values (E.164
phones included); a mismatch exits 1.

The workbook is generated like an Excel export of gen_contacts.py's rows: shared strings,
ids and digit-only phones stored as numbers (as Excel stores what is typed or pasted).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]


def generate_workbook(path: Path, rows: int, seed: int = 1) -> None:
    """gen_contacts.py's rows as an Excel export: a title row, ids and bare phones as numbers."""
    import xlsxwriter
    from gen_contacts import CITIES, FIRST, LAST, phone

    rnd = random.Random(seed)
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("Contacts")
    columns = ["customerId", "firstName", "lastName", "phoneNumber", "homePhone", "email", "city"]
    ws.write_row(0, 0, columns)
    for i in range(rows):
        cid = 10**8 + i if rnd.random() > 0.001 else 10**8 + rnd.randrange(max(i, 1))
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        email = f"{first.lower()}.{last.lower()}{i}@example.com" if rnd.random() > 0.2 else ""
        r = i + 1
        ws.write_number(r, 0, cid)
        ws.write_string(r, 1, first)
        ws.write_string(r, 2, last)
        for c, optional in ((3, False), (4, True)):
            value = phone(rnd, optional)
            if value.isdigit() and len(value) <= 15 and not value.startswith("0"):
                ws.write_number(r, c, int(value))
            elif value:
                ws.write_string(r, c, value)
        if email:
            ws.write_string(r, 5, email)
        ws.write_string(r, 6, rnd.choice(CITIES))
    book.close()


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process so far, all its threads (less moved by the machine's
    load than the wall clock)."""
    import resource

    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def run_preview(path: Path, schema_path: Path, work: Path) -> dict[str, object]:
    import numpy  # noqa: F401 - imported, as in the running app, before the clock starts
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401
    import python_calamine  # noqa: F401

    from outbound_desk.files import sniff

    t0, c0 = time.perf_counter(), _cpu_s()
    profile = sniff(path)
    dt = time.perf_counter() - t0
    cpu = _cpu_s() - c0
    return {
        "seconds": dt,
        "cpu": cpu,
        "rows": len(profile.preview),
        "valid": None,
        "rss_mb": _rss_mb(),
    }


def run_ours(path: Path, schema_path: Path, work: Path) -> dict[str, object]:
    from bench_validate import run_ours as validate_ours

    # What validate_ours imports before its clock starts, imported before this one does.
    import outbound_desk.config
    import outbound_desk.contacts  # noqa: F401

    c0 = _cpu_s()
    result = validate_ours(path, schema_path, work)
    return {"cpu": _cpu_s() - c0, **{k: result[k] for k in ("seconds", "rows", "valid", "rss_mb")}}


def run_naive(path: Path, schema_path: Path, work: Path) -> dict[str, object]:
    import pandas as pd
    from bench_validate import naive_validate

    t0, c0 = time.perf_counter(), _cpu_s()
    schema = json.loads(schema_path.read_text())
    df = pd.read_excel(path, engine="openpyxl", dtype=str, keep_default_na=False)
    out = naive_validate(df, schema)
    dt, cpu = time.perf_counter() - t0, _cpu_s() - c0
    out.to_csv(work / "naive.csv", index=False)
    return {"seconds": dt, "cpu": cpu, "rows": len(df), "valid": len(out), "rss_mb": _rss_mb()}


RUNS = {"preview": run_preview, "ours": run_ours, "naive": run_naive}


def child(method: str, path: Path, schema: Path, work: Path) -> dict[str, object]:
    argv = [sys.executable, __file__, "--child", method, "--file", str(path)]
    done = subprocess.run(
        [*argv, "--schema", str(schema), "--work", str(work)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if done.returncode != 0:
        sys.exit(f"{method} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--file", type=Path, help="a workbook made by an earlier --keep run")
    ap.add_argument("--schema", type=Path)
    ap.add_argument("--work", type=Path)
    ap.add_argument("--child", choices=[*sorted(RUNS), "generate"])
    ap.add_argument("--keep", action="store_true", help="keep the generated and output files")
    ap.add_argument("--runs", default="preview,ours,naive", help="which runs (comma list)")
    a = ap.parse_args()
    if a.child == "generate":
        generate_workbook(a.file, a.rows)
        return 0
    if a.child:
        print(json.dumps(RUNS[a.child](a.file, a.schema, a.work)))
        return 0

    from bench_validate import identity
    from gen_contacts import SCHEMA

    work = Path(tempfile.mkdtemp(prefix="bench_workbook_"))
    path = a.file or work / f"contacts_{a.rows}.xlsx"
    if not path.exists():
        t0 = time.perf_counter()
        # In a process of its own: a child's peak RSS starts from its parent's at the fork,
        # so the runs' figures would carry xlsxwriter's (1.1 GB at 1M rows).
        argv = [sys.executable, __file__, "--child", "generate", "--file", str(path)]
        subprocess.run([*argv, "--rows", str(a.rows)], check=True)
        print(f"generated {path} ({a.rows} rows) in {time.perf_counter() - t0:.1f} s")
    schema = work / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    results = {m: child(m, path, schema, work) for m in RUNS if m in a.runs.split(",")}
    print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB), cpus: {os.cpu_count()}")
    print(
        f"{'run':<9}{'rows':>10}{'valid':>10}{'seconds':>9}{'CPU s':>8}{'rows/s':>11}"
        f"{'peak RSS MB':>13}"
    )
    for m, r in results.items():
        rate = float(r["rows"]) / max(float(r["seconds"]), 1e-9)  # type: ignore[arg-type]
        print(
            f"{m:<9}{r['rows']:>10}{r['valid'] if r['valid'] is not None else '-':>10}"
            f"{r['seconds']:>9.2f}{r['cpu']:>8.2f}{rate:>11,.0f}{r['rss_mb']:>13.0f}"
        )
    same = True
    if "ours" in results and "naive" in results:
        ours_s = float(results["ours"]["seconds"])  # type: ignore[arg-type]
        naive_s = float(results["naive"]["seconds"])  # type: ignore[arg-type]
        print(f"ours vs naive: {naive_s / ours_s:.1f}x faster (target >= 10x)")
        ours_c = float(results["ours"]["cpu"])  # type: ignore[arg-type]
        naive_c = float(results["naive"]["cpu"])  # type: ignore[arg-type]
        print(f"CPU time: ours {ours_c:.2f} s, naive {naive_c:.2f} s ({naive_c / ours_c:.1f}x)")
        same, detail = identity(work)
        print(f"identity check: {'PASS' if same else 'FAIL'}: {detail}")
    if not a.keep:
        for f in work.iterdir():
            if f != a.file:
                f.unlink()
        if not any(work.iterdir()):
            work.rmdir()
    else:
        print(f"kept in {work}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
