"""Run a long Qt-free function in a child process, with progress and cooperative cancel.

Validation and the streaming scan of a big file are CPU work that holds Python's interpreter
lock for long stretches; in the app's own process the GUI thread then waits for it. A child
process has its own interpreter, so the GUI stays responsive whatever the engines do. The
function and its arguments must be picklable (a module-level function, dataclass arguments);
it gets ``progress(done, total, phase)`` and ``cancelled()`` keyword arguments (STYLE rule 2).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import time
from collections.abc import Callable
from typing import Any

from outbound_desk.base.errors import ErrorEnvelope

log = logging.getLogger(__name__)

#: Files at least this big are validated and scanned in a child process; smaller ones are
#: done before a child would have finished starting.
CHILD_MIN_BYTES = 16 * 1024 * 1024
POLL_S = 0.05
ISSUE_SLICE = 2_000
PROGRESS_INTERVAL_S = 0.1


class ChildError(RuntimeError):
    """The function raised in the child; ``kind`` is the exception's class name."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def _child(
    conn: multiprocessing.connection.Connection,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    cancel: Any,
) -> None:
    last = [0.0]

    def progress(done: int, total: int, phase: str) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_INTERVAL_S or done >= total:
            last[0] = now
            conn.send(("progress", int(done), int(total), str(phase)))

    try:
        from outbound_desk.ui.interpreter import prepare_for_files

        prepare_for_files()  # a new interpreter: as the app's own process does
        result = fn(*args, progress=progress, cancelled=cancel.is_set, **kwargs)
        # A report's long issue list crosses in slices: the parent unpickles each while
        # holding the interpreter lock, and one 50,000-issue message would stall its GUI.
        issues = getattr(result, "issues", None)
        if isinstance(issues, list) and len(issues) > ISSUE_SLICE:
            result.issues = []
            for start in range(0, len(issues), ISSUE_SLICE):
                conn.send(("issues", issues[start : start + ISSUE_SLICE]))
        conn.send(("result", result))
    except BaseException as exc:
        # Its type, message and exit code cross the pipe (base.errors).
        conn.send(("error", ErrorEnvelope.of(exc).to_dict()))
    finally:
        conn.close()


def run_in_child(
    fn: Callable[..., Any],
    *args: Any,
    progress: Callable[[int, int, str], None],
    cancelled: Callable[[], bool],
    **kwargs: Any,
) -> Any:
    """``fn(*args, progress=..., cancelled=..., **kwargs)`` in a child process; its result."""
    ctx = multiprocessing.get_context("spawn")  # never fork a process running Qt threads
    receive, send = ctx.Pipe(duplex=False)
    cancel = ctx.Event()
    child = ctx.Process(
        target=_child,
        args=(send, fn, args, kwargs, cancel),
        name="outbound-desk-worker",
        # Not a daemon: the phone checks may start worker processes of their own, which a
        # daemonic process may not have. The finally below joins (or terminates) it, so it never
        # outlives this call.
        daemon=False,
    )
    child.start()
    send.close()
    issues: list[Any] = []
    try:
        while True:
            if cancelled():
                cancel.set()
            if not receive.poll(POLL_S):
                if not child.is_alive() and not receive.poll(0):
                    raise ChildError(
                        f"the worker process stopped unexpectedly (exit code {child.exitcode})",
                        "ProcessDied",
                    )
                continue
            try:
                message = receive.recv()
            except EOFError:
                continue
            if message[0] == "progress":
                progress(message[1], message[2], message[3])
            elif message[0] == "issues":
                issues.extend(message[1])
            elif message[0] == "result":
                result = message[1]
                if issues:
                    result.issues = issues
                return result
            else:
                raise ErrorEnvelope.from_dict(message[1]).rebuild()
    finally:
        receive.close()
        child.join(timeout=30)
        if child.is_alive():
            log.warning("worker process %s did not stop; terminating it", child.pid)
            child.terminate()
            child.join(timeout=10)
