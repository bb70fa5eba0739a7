"""Rows per second of ``iter_chunks`` next to a bare pyarrow read of the same file.

Usage: python benchmarks/bench_reader.py [ROWS]   (writes benchmarks/data/contacts_<ROWS>.csv)
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from outbound_desk.files import iter_chunks, scan, sniff


def make(path: Path, rows: int) -> None:
    rng = random.Random(7)
    first = ["Ann", "Bob", "Chloé", "Dieter", "Eva", "François", "Grace", "Hugo"]
    cities = ["Zürich", "Boston", "Lyon", '"Paris, FR"', "Austin", "Köln"]
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("customerId,firstName,lastName,phoneNumber,mobile,email,city,zip\n")
        for i in range(rows):
            n = rng.choice(first)
            f.write(
                f"{100000 + i},{n},Smith{i % 97},+1415555{i % 10000:04d},"
                f"+1650{rng.randrange(10**7):07d},{n.lower()}{i}@example.com,"
                f"{rng.choice(cities)},{rng.randrange(10**5):05d}\n"
            )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    data = Path(__file__).with_name("data")
    data.mkdir(exist_ok=True)
    path = data / f"contacts_{rows}.csv"
    if not path.exists():
        make(path, rows)
    import pyarrow.csv as pacsv

    t = time.perf_counter()
    bare = pacsv.read_csv(path).num_rows
    t_bare = time.perf_counter() - t

    t = time.perf_counter()
    profile = sniff(path)
    t_sniff = time.perf_counter() - t

    t = time.perf_counter()
    n = sum(len(c.frame) for c in iter_chunks(profile))
    t_read = time.perf_counter() - t

    t = time.perf_counter()
    scanned = scan(profile)
    t_scan = time.perf_counter() - t
    assert n == bare == scanned.rows, (n, bare, scanned.rows)
    print(f"file: {path} ({path.stat().st_size / 1e6:.0f} MB, {rows} rows)")
    print(f"bare pyarrow read_csv : {t_bare:6.2f} s  {bare / t_bare:12,.0f} rows/s")
    print(f"sniff                 : {t_sniff:6.2f} s")
    print(f"iter_chunks           : {t_read:6.2f} s  {n / t_read:12,.0f} rows/s")
    print(f"scan (sha256, issues) : {t_scan:6.2f} s  {n / t_scan:12,.0f} rows/s")


if __name__ == "__main__":
    main()
