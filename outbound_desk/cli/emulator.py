"""``outbound-desk emulator``: serve the sandbox org until stopped (DESIGN.md contract)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from outbound_desk.cli._common import ExitCode, fail, print_json

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "emulator",
        help="serve a local sandbox org (a Genesys Cloud Outbound look-alike)",
        description=(
            "Serve the sandbox org on loopback until stopped (Ctrl+C or SIGTERM). It serves "
            "/api/v2/..., /oauth/... and /uploads/v2/... on one base URL and prints that URL "
            "and the client id and secret it accepts."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback)")
    parser.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one")
    parser.add_argument(
        "--rate-limit",
        default="300",
        metavar="N[/WINDOW_S]",
        help="requests per token per window (default 300 per 60 s)",
    )
    parser.add_argument(
        "--faults",
        default="",
        metavar="SPEC",
        help="comma list of key=value: error_rate, drop_rate, latency_ms, token_ttl_s, "
        "create_404_ms, import_stall_s",
    )
    parser.add_argument(
        "--behaviour",
        default="",
        metavar="SPEC",
        help="where the platform's behaviour is unknown, pick one (key=value,...): "
        "empty_result=error|page, stale_version=409|400, unknown_data_keys=refuse|ignore, "
        "excel_import=parse|fail, legacy_upload_body=json|empty, column_changes=allow|refuse",
    )
    parser.add_argument("--state", metavar="FILE", help="SQLite file that keeps the org's state")
    parser.add_argument("--no-seed", action="store_true", help="do not create the sample lists")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (plain HTTP, well-known credentials: beware)",
    )
    parser.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        metavar="URI",
        help="register one more browser sign-in redirect URI on the OAuth clients (repeatable; "
        "http://127.0.0.1:18765/callback and http://localhost:18765/callback always are)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line when ready")
    parser.set_defaults(handler=run)


_SQLITE_MAGIC = b"SQLite format 3\x00"


def _state_problem(state: str) -> tuple[str, ExitCode] | None:
    """Why ``--state`` cannot be the sandbox's state file (message, exit code), or None.

    A directory is a usage error (2); a file that is not an SQLite database (a CSV given by
    mistake, a damaged file) is refused (1) before the sandbox would touch it.
    """
    if os.path.isdir(state):
        return f"--state {state} is a directory; give the path of a file", ExitCode.USAGE
    try:
        with open(state, "rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return None  # a new state file is made
    except OSError as exc:
        return f"--state {state} cannot be read: {exc.strerror or exc}", ExitCode.REJECTED
    if head and head != _SQLITE_MAGIC:
        return (
            f"--state {state} is not a sandbox state file (not an SQLite database); move it "
            "aside or choose another file",
            ExitCode.REJECTED,
        )
    return None


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import signal
    import sqlite3
    import threading
    from pathlib import Path

    from outbound_desk.emulator import (
        Sandbox,
        SandboxConfig,
        SandboxError,
        parse_behaviour,
        parse_faults,
        parse_rate_limit,
    )

    if args.host not in _LOOPBACK and not args.allow_remote:
        return fail(
            f"--host {args.host} is not loopback; the sandbox is plain HTTP with well-known "
            "credentials. Add --allow-remote if you really mean it.",
            ExitCode.USAGE,
        )
    if not 0 <= args.port <= 65535:
        return fail(f"--port {args.port} is not a port number (0..65535)", ExitCode.USAGE)
    try:
        rate_limit = parse_rate_limit(args.rate_limit)
        faults = parse_faults(args.faults)
        behaviour = parse_behaviour(args.behaviour)
    except ValueError as exc:
        return fail(str(exc), ExitCode.USAGE)
    state_problem = _state_problem(args.state) if args.state else None
    if state_problem is not None:
        return fail(*state_problem)
    config = SandboxConfig(
        host=args.host,
        port=args.port,
        rate_limit=rate_limit,
        faults=faults,
        behaviour=behaviour,
        state_path=Path(args.state) if args.state else None,
        seed=not args.no_seed,
    )
    if args.redirect_uri:
        config = dataclasses.replace(
            config, redirect_uris=(*config.redirect_uris, *args.redirect_uri)
        )
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            sandbox = Sandbox.start(config)
        except (SandboxError, OSError) as exc:
            return fail(f"the sandbox could not start: {exc}", ExitCode.PLATFORM)
        except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            if not args.state:
                raise
            # A database of another program, or one damaged: its content cannot be loaded.
            return fail(
                f"--state {args.state} cannot be loaded as the sandbox's state "
                f"({type(exc).__name__}: {exc}); move it aside or choose another file, and "
                "a new state file is made",
                ExitCode.REJECTED,
            )
        with sandbox:
            if args.json:
                print_json(
                    {
                        "base_url": sandbox.base_url,
                        "client_id": sandbox.client_id,
                        "client_secret": sandbox.client_secret,
                        "pkce_client_id": sandbox.pkce_client_id,
                        "redirect_uris": list(sandbox.config.redirect_uris),
                    }
                )
            else:
                print(f"Sandbox org serving at {sandbox.base_url}", flush=True)
                print(f"  client id:     {sandbox.client_id}", flush=True)
                print(f"  client secret: {sandbox.client_secret}", flush=True)
                print(f"  browser sign-in (PKCE) client id: {sandbox.pkce_client_id}", flush=True)
                print(f"  redirect URIs: {', '.join(sandbox.config.redirect_uris)}", flush=True)
                print("Stop it with Ctrl+C.", flush=True)
            while not stop.wait(0.5):
                pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return ExitCode.OK
