"""Hostile files beside a clean file of the same size: time and peak memory of each command.

Each file runs `outbound-desk inspect --json` and `outbound-desk validate --json` (with a
schema of the clean file's columns, writing --out and --rejects) in a fresh process, and the
table shows wall time, peak RSS (the child's own, from wait4) and the exit code. A benchmark,
not a test: nothing here is asserted; the figures go to benchmarks/README.md.

    python benchmarks/bench_hostile.py            # 20 MB files in a temp dir
    python benchmarks/bench_hostile.py --mb 200   # the bigger picture
    python benchmarks/bench_hostile.py --only huge_field,random_bytes --keep

The files (all `--mb` in size):

  clean               contacts from gen_contacts.py
  repeated_header     40,000 copies of one column name, then the clean rows
  delimiter_line      one line of `abc,` (the whole file)
  huge_field          the clean rows with one quoted value of most of the file, and a
                      ragged row in the same block (so the stdlib parser sees it)
  unterminated        a quote opened on row 10 and never closed
  random_bytes        the clean rows with 1/100 of the file overwritten by random bytes
  stray_quotes        the clean rows with a stray quote (5" screen) in every tenth row
  blank_lines         the header, one row, then blank lines, then one row
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.gen_contacts import main as gen_main  # noqa: E402

HEADER = b"customerId,firstName,lastName,phoneNumber,homePhone,email,city\n"


def _clean_rows(path: Path, size: int, work: Path) -> bytes:
    """Clean data rows (no header) of about *size* bytes."""
    src = work / "_rows.csv"
    if not src.exists() or src.stat().st_size < size:
        rows = max(1000, size // 70)
        sys.argv = ["gen_contacts.py", str(src), "--rows", str(rows), "--seed", "1"]
        gen_main()
    data = src.read_bytes()
    body = data[data.index(b"\n") + 1 :]
    cut = body.rfind(b"\n", 0, size) + 1
    return body[:cut]


def make_clean(path: Path, size: int, work: Path) -> None:
    path.write_bytes(HEADER + _clean_rows(path, size - len(HEADER), work))


def make_repeated_header(path: Path, size: int, work: Path) -> None:
    header = b",".join([b"phone"] * 40_000) + b"\n"
    path.write_bytes(header + _clean_rows(path, max(size - len(header), 1000), work))


def make_delimiter_line(path: Path, size: int, work: Path) -> None:
    path.write_bytes(b"abc," * (size // 4) + b"\n")


def make_huge_field(path: Path, size: int, work: Path) -> None:
    rows = _clean_rows(path, 200_000, work)
    field = b"x" * (size - 2 * len(rows))
    path.write_bytes(
        HEADER + rows[:100_000] + b'1,"' + field + b'",a,b,c,d,e\n' + b"2,ragged\n" + rows
    )


def make_unterminated(path: Path, size: int, work: Path) -> None:
    rows = _clean_rows(path, size - len(HEADER), work).split(b"\n")
    rows[9] = rows[9] + b',"never closed'
    path.write_bytes(HEADER + b"\n".join(rows))


def make_random_bytes(path: Path, size: int, work: Path) -> None:
    data = bytearray(HEADER + _clean_rows(path, size - len(HEADER), work))
    n = max(len(data) // 100, 1)
    at = len(data) // 2
    data[at : at + n] = random.Random(1).randbytes(n)
    path.write_bytes(bytes(data))


def make_stray_quotes(path: Path, size: int, work: Path) -> None:
    rows = _clean_rows(path, size - len(HEADER), work).split(b"\n")
    for i in range(0, len(rows) - 1, 10):
        rows[i] = rows[i].replace(b",", b',5" screen ', 1)
    path.write_bytes(HEADER + b"\n".join(rows))


def make_blank_lines(path: Path, size: int, work: Path) -> None:
    row = b"1,Ann,Lee,2125550123,,ann@example.com,NYC\n"
    path.write_bytes(HEADER + row + b"\n" * (size - 2 * len(row)) + row.replace(b"1", b"2", 1))


MAKERS: dict[str, Callable[[Path, int, Path], None]] = {
    "clean": make_clean,
    "repeated_header": make_repeated_header,
    "delimiter_line": make_delimiter_line,
    "huge_field": make_huge_field,
    "unterminated": make_unterminated,
    "random_bytes": make_random_bytes,
    "stray_quotes": make_stray_quotes,
    "blank_lines": make_blank_lines,
}

SCHEMA = {
    "name": "bench",
    "id_column": "customerId",
    "fields": [
        {"name": "customerId", "type": "string", "required": True},
        {"name": "firstName", "type": "string"},
        {"name": "lastName", "type": "string"},
        {"name": "phoneNumber", "type": "string", "format": "E.164", "phone_type": "cell"},
        {"name": "homePhone", "type": "string", "format": "E.164", "phone_type": "home"},
        {"name": "email", "type": "string", "format": "email"},
        {"name": "city", "type": "string"},
    ],
}


def run(command: list[str], timeout: float, root: Path) -> tuple[float, float, int, str]:
    """(seconds, peak RSS MB, exit code, last line of stderr) of one child process, killed
    after *timeout* seconds."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=root)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines()
        first = [f"killed after {timeout:g} s"] if proc.returncode == -9 else lines[-1:]
    # ru_maxrss is in KiB on Linux.
    return seconds, usage.ru_maxrss / 1024, proc.returncode, first[0] if first else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--mb", type=float, default=20.0, help="size of every file (default 20)")
    ap.add_argument("--only", help="comma list of file kinds (default: all)")
    ap.add_argument("--work", type=Path, help="directory for the files (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the files")
    ap.add_argument("--timeout", type=float, default=300, help="kill a run after this (s)")
    ap.add_argument("--make", help=argparse.SUPPRESS)  # child: write one file and exit
    ap.add_argument(
        "--root", type=Path, default=ROOT, help="the checkout whose code runs (default: this)"
    )
    args = ap.parse_args()
    kinds = args.only.split(",") if args.only else list(MAKERS)
    unknown = [k for k in kinds if k not in MAKERS]
    if unknown:
        ap.error(f"unknown kinds {unknown}; choose from {', '.join(MAKERS)}")
    size = int(args.mb * 1024 * 1024)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_hostile_"))
    work.mkdir(parents=True, exist_ok=True)
    if args.make:
        MAKERS[args.make](work / f"{args.make}.csv", size, work)
        return 0
    schema = work / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    cli = [sys.executable, "-m", "outbound_desk"]
    print(f"files of {args.mb:g} MB in {work}")
    head = f"{'file':16} {'command':9} {'time s':>8} {'peak MB':>8} {'exit':>4}"
    print(f"{head}  last line of stderr")
    for kind in kinds:
        path = work / f"{kind}.csv"
        # Made by a child: Linux starts a child's peak RSS at its parent's RSS when it forks,
        # so this process must stay small (a 200 MB file made here showed 614 MB everywhere).
        subprocess.run(
            [sys.executable, __file__, "--make", kind, "--mb", str(args.mb), "--work", str(work)],
            check=True,
        )
        for command, extra in (
            ("inspect", ["inspect", str(path), "--json"]),
            (
                "validate",
                [
                    "validate",
                    str(path),
                    "--schema",
                    str(schema),
                    "--out",
                    str(work / f"{kind}.out.csv"),
                    "--rejects",
                    str(work / f"{kind}.rejects.csv"),
                    "--json",
                ],
            ),
        ):
            seconds, peak, code, err = run([*cli, *extra], args.timeout, args.root)
            print(f"{kind:16} {command:9} {seconds:8.2f} {peak:8.0f} {code:>4}  {err[:70]}")
        if not args.keep:
            for p in work.glob(f"{kind}.*"):
                p.unlink()
    if not args.keep and args.work is None:
        for p in work.iterdir():
            p.unlink()
        work.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
