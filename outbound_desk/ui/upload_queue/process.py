"""Run one upload in a child process, so that its CPU work never holds the GUI's GIL.

The upload engine is plain Python: planning a million-row file, encoding batches, parsing
answers and reconciling hold the interpreter lock for long stretches, and a GUI thread in the
same process then waits (the GUI stall benchmark measured stalls of several hundred ms). A
child process has its own interpreter. It gets the region and the signed-in access token
through a pipe (never the command line or the environment), builds its own client, runs
``run_upload`` and sends back progress snapshots and the result; cancel and pause are shared
events. No Qt here: the queue calls :func:`run_upload_in_child` from its worker thread.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from outbound_desk.base.errors import ErrorEnvelope

log = logging.getLogger(__name__)

#: How often the parent looks at the cancel and pause flags while waiting for messages.
POLL_S = 0.1


class UploadProcessError(RuntimeError):
    """The upload in the child process raised; ``kind`` is the exception's class name."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class PrepareCopy:
    """Write the file as the preview read it (the user's overrides applied) to *target*:
    UTF-8, comma, the list's header, valid rows only. The upload then sends that copy."""

    profile: Any
    schema: Any
    mapping: Any
    region: str
    duplicates: str
    target: Path

    def __call__(self, options: Any, progress: Any, cancelled: Callable[[], bool]) -> Any:
        import dataclasses

        from outbound_desk.contacts import DuplicatePolicy, ValidationOptions, validate_file
        from outbound_desk.upload.model import UploadCancelled

        report = validate_file(
            self.profile,
            self.schema,
            self.mapping,
            ValidationOptions(region=self.region, duplicates=DuplicatePolicy(self.duplicates)),
            out=self.target,
            progress=progress,
            cancelled=cancelled,
        )
        if report.cancelled:
            raise UploadCancelled("cancelled while preparing the file")
        return dataclasses.replace(options, file=self.target, mapping={})


def _child(
    conn: multiprocessing.connection.Connection,
    region: Any,
    token: Any,
    options: Any,
    ledger_path: Path,
    prepare: PrepareCopy | None,
    cancel: Any,
    pause: Any,
) -> None:
    """The child's whole life: build a client, run the upload, report, exit."""
    from outbound_desk.genesys import GenesysClient, TokenProvider
    from outbound_desk.ui.interpreter import prepare_for_files
    from outbound_desk.upload.ledger import Ledger
    from outbound_desk.upload.runner import run_upload

    def send(message: tuple[Any, ...]) -> None:
        conn.send(message)

    prepare_for_files()  # a new interpreter: as the app's own process does
    try:
        if prepare is not None:
            options = prepare(options, lambda d, t, p: None, cancel.is_set)
            send(("options", options))
        # The parent's token, as it is: the child never sees the client secret.
        client = GenesysClient(region, TokenProvider(lambda: token))
        ledger = Ledger(ledger_path)
        try:
            result = run_upload(
                client,
                options,
                ledger,
                progress=lambda snapshot: send(("progress", snapshot)),
                cancelled=cancel.is_set,
                paused=pause.is_set,
            )
        finally:
            ledger.close()
            client.close()
        send(("result", result))
    except BaseException as exc:  # reported to the parent, which raises it in its thread
        # Its type, message, exit code and upload id cross the pipe (base.errors).
        send(("error", ErrorEnvelope.of(exc).to_dict()))
    finally:
        conn.close()


def run_upload_in_child(
    client: Any,
    options: Any,
    ledger_path: Path,
    *,
    progress: Callable[[Any], None],
    cancelled: Callable[[], bool],
    paused: Callable[[], bool],
    prepare: PrepareCopy | None = None,
    on_options: Callable[[Any], None] | None = None,
) -> Any:
    """Run ``run_upload`` for *options* in a child process; return its ``UploadResult``.

    *client* is the signed-in ``GenesysClient`` (its region and current token are handed
    over). Raises :class:`UploadProcessError` when the upload raised in the child, and when the
    child died without an answer; either way the ledger leaves the upload resumable.
    """
    ctx = multiprocessing.get_context("spawn")  # never fork a process running Qt threads
    token = client.tokens.token()
    receive, send = ctx.Pipe(duplex=False)
    cancel, pause = ctx.Event(), ctx.Event()
    child = ctx.Process(
        target=_child,
        args=(send, client.region, token, options, ledger_path, prepare, cancel, pause),
        name="outbound-desk-upload",
        # Not a daemon: validation starts worker processes of its own for big files, which a
        # daemonic process may not have. The finally below joins (or terminates) it, so it never
        # outlives this call.
        daemon=False,
    )
    child.start()
    send.close()  # the parent's copy: EOF on *receive* once the child is gone
    try:
        while True:
            if cancelled():
                cancel.set()
                pause.clear()
            elif paused():
                pause.set()
            else:
                pause.clear()
            if not receive.poll(POLL_S):
                if not child.is_alive() and not receive.poll(0):
                    raise UploadProcessError(
                        f"the upload process stopped unexpectedly (exit code {child.exitcode}); "
                        "run the upload again to resume it",
                        "ProcessDied",
                    )
                continue
            try:
                message = receive.recv()
            except EOFError:
                continue
            kind = message[0]
            if kind == "progress":
                progress(message[1])
            elif kind == "options" and on_options is not None:
                on_options(message[1])
            elif kind == "result":
                return message[1]
            elif kind == "error":
                raise ErrorEnvelope.from_dict(message[1]).rebuild()
    finally:
        receive.close()
        child.join(timeout=30)
        if child.is_alive():  # it ignored the cancel: it must not outlive the app
            log.warning("upload process %s did not stop; terminating it", child.pid)
            child.terminate()
            child.join(timeout=10)
