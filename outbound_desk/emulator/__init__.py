"""The sandbox org: a local Genesys Cloud Outbound look-alike on loopback (no Qt).

It serves the API (``/api/v2/...``), login (``/oauth/...``) and upload service
(``/uploads/v2/...``) on one base URL, with the platform's limits, a per-token rate limit and
fault injection. It is written from the API facts in GENESYS_API.md and never imports the
client, so a misreading in one is not mirrored in the other.

>>> with Sandbox.start(seed=False) as sb:  # doctest: +SKIP
...     sb.base_url, sb.client_id, sb.client_secret
"""

from outbound_desk.emulator.behaviour import Behaviour, parse_behaviour
from outbound_desk.emulator.faults import Faults, parse_faults, parse_rate_limit
from outbound_desk.emulator.org import SandboxConfig
from outbound_desk.emulator.sandbox import Sandbox, SandboxError
from outbound_desk.emulator.store import Limits, Store

__all__ = [
    "Behaviour",
    "Faults",
    "Limits",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "Store",
    "parse_behaviour",
    "parse_faults",
    "parse_rate_limit",
]
