"""The session-wide conformance check: every sandbox exchange of the run, against the SDK.

Registered by ``tests/conftest.py``. At the start of the session it points
``OUTBOUND_DESK_SANDBOX_RECORD`` at a file in a temporary directory, so every sandbox the
tests start (in this process or in a child process) records its traffic there; at the end it
checks the recording (:mod:`tests.conformance.traffic`), prints each finding and fails the
run if there is one. It works for any subset of the tests, since only what ran is recorded.

Without the SDK installed (it is a dev dependency) it says so and checks nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from outbound_desk.emulator.recorder import RECORD_ENV
from tests.conformance.sdk import Sdk, sdk_root
from tests.conformance.traffic import Report, check_recording, read_recording


class ConformancePlugin:
    def __init__(self) -> None:
        self.root = sdk_root()
        self.directory: Path | None = None
        self.recording: Path | None = None
        self.report: Report | None = None
        self._previous: str | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.root is None:
            return
        self.directory = Path(tempfile.mkdtemp(prefix="outbound-desk-conformance-"))
        self.recording = self.directory / "traffic.jsonl"
        self._previous = os.environ.get(RECORD_ENV)
        os.environ[RECORD_ENV] = str(self.recording)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self._previous is None:
            os.environ.pop(RECORD_ENV, None)
        else:
            os.environ[RECORD_ENV] = self._previous
        if self.root is None or self.recording is None:
            return
        self.report = check_recording(Sdk(self.root), read_recording(self.recording))
        if self.report.findings and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if not self.report.findings and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.root is None:
            terminalreporter.write_line(
                "SDK conformance: PureCloudPlatformClientV2 is not installed; nothing checked"
            )
            return
        if self.report is None:
            return
        terminalreporter.write_line(f"SDK conformance: {self.report.summary()}")
        if self.report.findings:
            terminalreporter.section("sandbox traffic that disagrees with the SDK", red=True)
            for finding in self.report.findings:
                terminalreporter.write_line(str(finding), red=True)
            terminalreporter.write_line(f"recording kept in {self.recording}")
