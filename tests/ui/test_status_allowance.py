"""The status bar's allowance with allowances that differ per resource (issue 12 item 7): it
shows the upload family's once uploads went out, else the family with the fewest left."""

from __future__ import annotations

import httpx

from outbound_desk.emulator import Sandbox
from outbound_desk.genesys import (
    ClientCredentials,
    ContactListSpec,
    GenesysClient,
    PhoneColumn,
    sandbox_region,
)
from outbound_desk.ui.session import StatusWatch
from tests.genesys.hostile import HostileProxy


def _allowance(allowed: int, count: int) -> dict[str, str]:
    return {
        "inin-ratelimit-allowed": str(allowed),
        "inin-ratelimit-count": str(count),
        "inin-ratelimit-reset": "60",
    }


def test_the_status_bar_shows_the_upload_allowance_or_the_lowest(sandbox: Sandbox) -> None:
    watch = StatusWatch()
    with HostileProxy(sandbox.base_url).running() as proxy:
        proxy.add_headers("POST", r".*/contacts", lambda: _allowance(180, 5))
        proxy.add_headers("GET", r".*/importstatus", lambda: _allowance(60, 50))
        proxy.add_headers("*", r".*", lambda: _allowance(300, 10))
        http = httpx.Client(event_hooks={"response": [watch.on_response]})
        with GenesysClient(
            sandbox_region(proxy.base_url),
            ClientCredentials(sandbox.client_id, sandbox.client_secret),
            http_client=http,
        ) as client:
            made = client.contact_lists.create(
                ContactListSpec("Status", ["id", "phone"], [PhoneColumn("phone")])
            )
            client.contact_lists.get(made.id)
            assert watch.remaining() == (290, 300)
            client.imports.status(made.id)
            assert watch.remaining() == (10, 60)  # the fewest left, while nothing was uploaded
            client.contacts.add(made.id, [{"id": "c1", "data": {"id": "c1", "phone": "+1"}}])
            client.contact_lists.get(made.id)  # a later answer of another family
            assert watch.remaining() == (175, 180)  # the allowance that paces uploads
        http.close()
