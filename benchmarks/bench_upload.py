"""Upload throughput against the rate limit: how close the engine gets to the ceiling.

Starts a sandbox org in its own process with a rate limit (default 50 requests per 5 s per
token), generates a contact file (default 200,000 rows), uploads it with JSON batches and
prints contacts/s during the upload phase against the ceiling (allowed requests per second x
batch size), the 429s the sandbox answered, the end-to-end time (validation, upload and
reconciliation), the uploader's CPU time over it and the peak RSS of this process (the
uploader; the sandbox runs apart).

    python benchmarks/bench_upload.py [--rows 200000] [--rate 50/5] [--batch-size 1000]
        [--concurrency 4] [--no-reconcile]

The target is at least 95 % of the ceiling with no 429 caused by our own bursts after the
first one. The token is fetched before the clock starts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_SERVER = """
import json, sys
from outbound_desk.emulator import Sandbox
n, w = sys.argv[1], sys.argv[2]
with Sandbox.start(rate_limit=(int(n), float(w)), seed=False) as sb:
    print(json.dumps({"base_url": sb.base_url}), flush=True)
    sys.stdin.read()  # serve until the benchmark closes our stdin
    print(json.dumps({"requests": sb.store.requests, "throttled": sb.store.throttled}), flush=True)
"""


def _write_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("customerId,firstName,lastName,phoneNumber,email,city\n")
        for i in range(rows):
            fh.write(
                f"C{i:07d},First{i},Last{i},(212) {200 + (i // 10_000) % 800:03d}-{i % 10_000:04d},"
                f"person{i}@example.com,{['Boston', 'Austin', 'Denver', 'Miami'][i % 4]}\n"
            )


def _schema(path: Path) -> None:
    fields = [
        {"name": "customerId", "type": "string", "required": True},
        {"name": "firstName", "type": "string"},
        {"name": "lastName", "type": "string"},
        {"name": "phoneNumber", "type": "string", "format": "E.164", "phone_type": "cell"},
        {"name": "email", "type": "string", "format": "email"},
        {"name": "city", "type": "string"},
    ]
    path.write_text(json.dumps({"name": "Bench", "fields": fields, "id_column": "customerId"}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--rate", default="50/5", help="sandbox rate limit N/WINDOW_S per token")
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--no-reconcile", action="store_true")
    args = ap.parse_args()
    limit, _, window = args.rate.partition("/")
    allowed, window_s = int(limit), float(window or 60)

    tmp = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    for name in ("CONFIG", "DATA", "LOG", "CACHE"):
        os.environ[f"OUTBOUND_DESK_{name}_DIR"] = str(tmp / name.lower())
    from outbound_desk.genesys import ClientCredentials, GenesysClient, sandbox_region
    from outbound_desk.upload.ledger import Ledger
    from outbound_desk.upload.model import Phase, UploadOptions, UploadProgress
    from outbound_desk.upload.runner import run_upload

    csv_path, schema_path = tmp / "contacts.csv", tmp / "schema.json"
    t = time.perf_counter()
    _write_file(csv_path, args.rows)
    _schema(schema_path)
    print(f"generated {args.rows:,} rows in {time.perf_counter() - t:.1f} s ({csv_path})")

    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(allowed), str(window_s)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert server.stdin is not None
    assert server.stdout is not None
    base_url = json.loads(server.stdout.readline())["base_url"]
    marks: dict[str, float] = {}
    confirmed_at_end = 0

    def progress(p: UploadProgress) -> None:
        nonlocal confirmed_at_end
        if p.phase is Phase.UPLOADING and "upload" not in marks:
            marks["upload"] = time.perf_counter()
        if p.phase in (Phase.RECONCILING, Phase.REPORTING) and "upload_end" not in marks:
            marks["upload_end"] = time.perf_counter()
            confirmed_at_end = p.confirmed

    try:
        region = sandbox_region(base_url)
        with (
            GenesysClient(
                region,
                ClientCredentials("sandbox-client", "sandbox-secret"),
            ) as client,
            Ledger(tmp / "ledger.sqlite3") as ledger,
        ):
            client.tokens.token()
            opts = UploadOptions(
                file=csv_path,
                list="Bench",
                create=True,
                schema_path=schema_path,
                via="api",
                batch_size=args.batch_size,
                concurrency=args.concurrency,
                reconcile=not args.no_reconcile,
            )
            start, cpu0 = time.perf_counter(), time.process_time()
            result = run_upload(client, opts, ledger, progress=progress)
            total, cpu = time.perf_counter() - start, time.process_time() - cpu0
            stats = client.rate_stats()
    finally:
        server.stdin.close()
        tail = server.stdout.read()
        server.wait(timeout=30)
    served = json.loads(tail.strip().splitlines()[-1]) if tail.strip() else {}
    upload_s = marks.get("upload_end", time.perf_counter()) - marks["upload"]
    ceiling = allowed / window_s * args.batch_size
    rate = confirmed_at_end / upload_s
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"upload:     {result.status}, {result.created:,} created, {result.rejected:,} rejected")
    print(
        f"sandbox:    {allowed} requests / {window_s:g} s per token, batch {args.batch_size}, "
        f"concurrency {args.concurrency}"
    )
    print(f"ceiling:    {ceiling:,.0f} contacts/s")
    share = rate / ceiling
    print(f"upload:     {rate:,.0f} contacts/s over {upload_s:.1f} s = {share:.1%} of ceiling")
    print(f"end to end: {total:.1f} s (validation, upload, reconciliation, report)")
    print(f"CPU:        {cpu:.1f} s of the uploader process over the same (all its threads)")
    print(
        f"requests:   {stats.requests:,} by the client, {stats.retries} retries, "
        f"429s seen {stats.rate_limited}; sandbox answered {served.get('throttled', '?')} 429s "
        f"of {served.get('requests', '?')} requests"
    )
    print(f"peak RSS:   {rss_mb:,.0f} MB (uploader process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
