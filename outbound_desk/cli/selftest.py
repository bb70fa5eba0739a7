"""``outbound-desk self-test`` (also ``outbound-desk --self-test``): prove an install works.

Starts an embedded sandbox org on loopback, inspects and validates a sample file, uploads it
into a new list, checks that the list holds exactly the valid rows, uploads it again to check
that nothing is duplicated, and exits 0 (all good) or 1 (something is broken, said on stderr).
Everything it writes goes to a temporary directory: the user's settings, ledger and keyring are
never touched. A frozen bundle runs this in CI, so a missing module or data file fails there.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from outbound_desk.cli._common import ExitCode, fail, print_json

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
SAMPLE = RESOURCES / "samples" / "contacts_clean.csv"
SCHEMA = RESOURCES / "schemas" / "contacts_clean.json"


class SelfTestError(Exception):
    """One check did not hold; ``str(e)`` says which and what was seen."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "self-test",
        help="check this installation end to end against an embedded sandbox org",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--file", type=Path, default=SAMPLE, help="the file to upload (a sample)")
    p.add_argument("--schema", type=Path, default=SCHEMA, help="its list schema")
    p.add_argument("--json", action="store_true", help="print the checks as one JSON object")
    p.set_defaults(handler=run)


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise SelfTestError(what)


def run(args: argparse.Namespace) -> int:
    checks: list[dict[str, Any]] = []
    started = time.monotonic()

    def step(name: str, fn: Callable[[], str]) -> None:
        t0 = time.monotonic()
        detail = fn()
        checks.append({"check": name, "ok": True, "detail": detail})
        if not args.json:
            print(f"ok  {name}: {detail} ({time.monotonic() - t0:.1f} s)", flush=True)

    try:
        _run_checks(args.file, args.schema, step)
    except SelfTestError as exc:
        if args.json:
            print_json({"ok": False, "checks": checks, "error": str(exc)})
        return fail(f"self-test failed: {exc}", ExitCode.REJECTED)
    except Exception as exc:  # a self-test reports every failure, whatever its kind
        if args.json:
            print_json({"ok": False, "checks": checks, "error": repr(exc)})
        return fail(f"self-test failed: {type(exc).__name__}: {exc}", ExitCode.REJECTED)
    if args.json:
        print_json({"ok": True, "checks": checks, "duration_s": time.monotonic() - started})
    else:
        print(f"self-test passed in {time.monotonic() - started:.1f} s")
    return int(ExitCode.OK)


def _run_checks(
    file: Path, schema_path: Path, step: Callable[[str, Callable[[], str]], None]
) -> None:
    from outbound_desk.contacts import ValidationOptions, diff_columns, load_schema, suggest_mapping
    from outbound_desk.contacts import validate_file as validate
    from outbound_desk.emulator import Sandbox
    from outbound_desk.files import scan, sniff
    from outbound_desk.genesys import ClientCredentials, GenesysClient, sandbox_region
    from outbound_desk.upload import Ledger, UploadOptions, run_upload

    _check(file.is_file(), f"sample file {file} is missing from this installation")
    _check(schema_path.is_file(), f"schema {schema_path} is missing from this installation")

    profile = sniff(file)
    profile = scan(profile)

    def inspected() -> str:
        _check(profile.rows is not None and profile.rows > 0, f"{file.name} has no rows")
        return f"{file.name}: {profile.encoding}, {profile.rows} rows, sha256 {profile.sha256}"

    step("inspect", inspected)

    schema = load_schema(schema_path)
    diff = diff_columns(profile.columns, schema, has_header=profile.has_header)
    mapping = suggest_mapping(diff, schema, profile.columns)
    report = validate(profile, schema, mapping, ValidationOptions())

    def validated() -> str:
        _check(report.valid > 0, f"no valid rows in {file.name}")
        return f"{report.valid} valid, {report.invalid} rejected"

    step("validate", validated)

    with (
        tempfile.TemporaryDirectory(prefix="outbound-desk-self-test-") as tmp,
        Sandbox.start(seed=False, rate_limit=(10_000, 60.0)) as sandbox,
    ):
        work = Path(tmp)
        step("sandbox", lambda: f"serving on {sandbox.base_url}")
        region = sandbox_region(sandbox.base_url)
        creds = ClientCredentials(sandbox.client_id, sandbox.client_secret)
        ledger = Ledger(work / "ledger.sqlite3")
        options = UploadOptions(
            file=file,
            list=f"Self-test {int(time.time())}",
            create=True,
            schema_path=schema_path,
            via="api",
            report_path=work / "report.csv",
        )
        with GenesysClient(region, creds) as client:
            first = run_upload(client, options, ledger, lock_dir=work / "locks")

            def uploaded() -> str:
                _check(first.status == "done", f"upload ended {first.status}: {first.error}")
                _check(
                    first.created == report.valid,
                    f"{first.created} contacts created, expected {report.valid}",
                )
                _check(first.missing == 0, f"{first.missing} contacts missing after upload")
                size = client.contact_lists.get(first.list_id, include_size=True).size
                _check(size == report.valid, f"the list holds {size}, expected {report.valid}")
                return f"{first.created} created in list {first.list_id}"

            step("upload", uploaded)

            again = run_upload(client, options, ledger, lock_dir=work / "locks")

            def idempotent() -> str:
                _check(
                    again.unchanged == report.valid and again.created == 0,
                    f"rerun created {again.created}, unchanged {again.unchanged}",
                )
                size = client.contact_lists.get(first.list_id, include_size=True).size
                _check(size == report.valid, f"the rerun left {size} contacts")
                return f"rerun: {again.unchanged} unchanged, nothing duplicated"

            step("rerun", idempotent)
        ledger.close()
