"""State: SQLite persistence across restarts, and the demo's sample lists."""

from __future__ import annotations

from pathlib import Path

import httpx

from outbound_desk.emulator import Sandbox

from .helpers import LISTS, contact, make_list, token_for


def _client(sb: Sandbox) -> httpx.Client:
    token = token_for(sb.base_url, sb.client_id, sb.client_secret)
    return httpx.Client(base_url=sb.base_url, headers={"Authorization": f"Bearer {token}"})


def test_state_file_keeps_lists_and_contacts_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "org.sqlite"
    with Sandbox.start(seed=False, state_path=state) as sb, _client(sb) as api:
        kept = make_list(api, "Kept")
        gone = make_list(api, "Gone")
        api.post(f"{LISTS}/{kept['id']}/contacts", json=[contact("c1"), contact("c2")])
        api.post(f"{LISTS}/{kept['id']}/contacts", json=[contact("c1", "Updated")])
        api.delete(f"{LISTS}/{kept['id']}/contacts", params={"contactIds": "c2"})
        current = api.get(f"{LISTS}/{kept['id']}").json()
        api.put(f"{LISTS}/{kept['id']}", json={**current, "name": "Kept (renamed)"})
        api.delete(f"{LISTS}/{gone['id']}")

    with Sandbox.start(seed=True, state_path=state) as sb, _client(sb) as api:
        listed = api.get(LISTS, params={"includeSize": "true"}).json()["entities"]
        # A state file with lists is not seeded again.
        assert [(e["name"], e["version"], e["size"]) for e in listed] == [("Kept (renamed)", 2, 1)]
        again = api.get(f"{LISTS}/{kept['id']}/contacts/c1").json()
        assert again["data"]["firstName"] == "Updated"
        # New writes keep working on a reopened file.
        api.post(f"{LISTS}/{kept['id']}/contacts", json=[contact("c3")])

    with Sandbox.start(seed=False, state_path=state) as sb:
        assert [c["id"] for c in sb.store.all_contacts(kept["id"])] == ["c1", "c3"]


def test_without_a_state_file_a_restart_starts_empty() -> None:
    with Sandbox.start(seed=False) as sb, _client(sb) as api:
        make_list(api)
    with Sandbox.start(seed=False) as sb:
        assert sb.store.list_ids() == []


def test_seed_creates_the_sample_lists() -> None:
    with Sandbox.start(seed=True) as sb, _client(sb) as api:
        lists = api.get(LISTS, params={"includeSize": "true"}).json()["entities"]
        sizes = {e["name"]: e["size"] for e in lists}
        assert set(sizes) == {"Spring Renewals", "Collections Q4", "Webinar Leads"}
        assert sizes["Webinar Leads"] == 0
        assert sizes["Spring Renewals"] >= 200
        renewals = sb.store.find_list("spring renewals")
        assert renewals is not None
        assert renewals["columnNames"] == [
            "customerId",
            "firstName",
            "lastName",
            "phoneNumber",
            "mobile",
            "email",
            "city",
            "zip",
        ]
        sample = api.post(f"{LISTS}/{renewals['id']}/contacts/search", json={"pageSize": 1})
        assert set(sample.json()["entities"][0]["data"]) == set(renewals["columnNames"])
