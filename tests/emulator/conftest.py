"""Fixtures for the sandbox tests: an httpx client signed in to the ``sandbox`` fixture."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from outbound_desk.emulator import Sandbox


@pytest.fixture
def api(sandbox: Sandbox, sandbox_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.base_url,
        headers={"Authorization": f"Bearer {sandbox_token}"},
        timeout=10,
    ) as client:
        yield client
