"""Contacts: add (upsert), bulk read, delete, single-contact routes, search, clear, bulk jobs."""

from __future__ import annotations

import httpx
import pytest

from outbound_desk.emulator import Limits, Sandbox

from .helpers import LISTS, contact, make_list, wait_for


@pytest.fixture
def lst(api: httpx.Client) -> dict[str, str]:
    return make_list(api)


def _contacts(lst: dict[str, str]) -> str:
    return f"{LISTS}/{lst['id']}/contacts"


def test_add_returns_stored_contacts_and_readding_updates(
    api: httpx.Client, lst: dict[str, str], sandbox: Sandbox
) -> None:
    reply = api.post(_contacts(lst), json=[contact("c1"), contact("c2", "Ben")])
    assert reply.status_code == 200
    stored = reply.json()
    assert [c["id"] for c in stored] == ["c1", "c2"]
    first = stored[0]
    assert first["contactListId"] == lst["id"]
    assert first["data"] == {"firstName": "Ada", "phone": "+15125550100", "customerId": "c1"}
    assert first["callable"] is True
    assert first["phoneNumberStatus"] == {"phone": {"callable": True}}  # one per phone column
    api.post(_contacts(lst), json=[contact("c1", "Adele")])
    assert sandbox.store.contact_count(lst["id"]) == 2
    assert api.get(f"{_contacts(lst)}/c1").json()["data"]["firstName"] == "Adele"


def test_add_without_id_generates_one_so_a_retry_duplicates(
    api: httpx.Client, lst: dict[str, str], sandbox: Sandbox
) -> None:
    one = api.post(_contacts(lst), json=[contact(None)]).json()[0]
    two = api.post(_contacts(lst), json=[contact(None)]).json()[0]
    assert one["id"]
    assert one["id"] != two["id"]
    assert sandbox.store.contact_count(lst["id"]) == 2


def test_unknown_data_key_is_refused_with_its_name(
    api: httpx.Client, lst: dict[str, str], sandbox: Sandbox
) -> None:
    reply = api.post(_contacts(lst), json=[contact("c1"), contact("c2", shoeSize="44")])
    assert reply.status_code == 400
    error = reply.json()
    assert error["code"] == "invalid.value"
    assert error["details"][0]["fieldName"] == "data.shoeSize"
    assert "contact 1" in error["message"]
    assert sandbox.store.contact_count(lst["id"]) == 0  # nothing of a refused batch is kept


def test_at_most_1000_contacts_per_call(api: httpx.Client, lst: dict[str, str]) -> None:
    batch = [contact(f"c{i}") for i in range(1000)]
    assert api.post(_contacts(lst), json=batch).status_code == 200
    reply = api.post(_contacts(lst), json=[*batch, contact("c1000")])
    assert reply.status_code == 400
    assert "1000" in reply.json()["message"]


def test_values_longer_than_512_characters_are_refused(
    api: httpx.Client, lst: dict[str, str]
) -> None:
    assert api.post(_contacts(lst), json=[contact("c1", "x" * 512)]).status_code == 200
    reply = api.post(_contacts(lst), json=[contact("c2", "x" * 513)])
    assert reply.status_code == 400
    assert reply.json()["details"][0]["fieldName"] == "data.firstName"


def test_a_list_holds_at_most_max_contacts_per_list(sandbox: Sandbox, api: httpx.Client) -> None:
    sandbox.store.limits = Limits(max_contacts_per_list=3)
    lst = make_list(api)
    assert api.post(_contacts(lst), json=[contact(f"c{i}") for i in range(3)]).status_code == 200
    assert api.post(_contacts(lst), json=[contact("c0", "Update")]).status_code == 200
    reply = api.post(_contacts(lst), json=[contact("c3")])
    assert reply.status_code == 400
    assert reply.json()["code"] == "contact.list.size.limit.exceeded"


def test_bulk_read_returns_the_found_contacts(api: httpx.Client, lst: dict[str, str]) -> None:
    api.post(_contacts(lst), json=[contact("c1"), contact("c2")])
    reply = api.post(f"{_contacts(lst)}/bulk", json=["c2", "missing"])
    assert reply.status_code == 200
    assert [c["id"] for c in reply.json()] == ["c2"]


def test_delete_by_ids_and_single_contact_routes(
    api: httpx.Client, lst: dict[str, str], sandbox: Sandbox
) -> None:
    api.post(_contacts(lst), json=[contact(f"c{i}") for i in range(4)])
    assert api.delete(_contacts(lst), params={"contactIds": "c0,c1"}).status_code == 204
    assert api.get(f"{_contacts(lst)}/c0").status_code == 404
    put = api.put(
        f"{_contacts(lst)}/c2",
        json={"id": "c2", "data": {"customerId": "c2", "firstName": "Zed"}, "callable": False},
    )
    assert put.status_code == 200
    assert put.json()["callable"] is False
    assert api.get(f"{_contacts(lst)}/c2").json()["data"] == {
        "customerId": "c2",
        "firstName": "Zed",
    }
    assert api.delete(f"{_contacts(lst)}/c3").status_code == 204
    assert api.delete(f"{_contacts(lst)}/c3").status_code == 404
    assert [c["id"] for c in sandbox.store.all_contacts(lst["id"])] == ["c2"]


def test_search_pages_filters_and_sorts(api: httpx.Client, lst: dict[str, str]) -> None:
    names = ["Ada", "Ben", "Bea", "Cy", "Bo"]
    api.post(_contacts(lst), json=[contact(f"c{i}", n) for i, n in enumerate(names)])
    reply = api.post(
        f"{_contacts(lst)}/search",
        json={
            "pageNumber": 1,
            "pageSize": 2,
            "criteria": {
                "filterType": "AND",
                "clauses": [
                    {
                        "filterType": "AND",
                        "predicates": [
                            {"column": "firstName", "operator": "BEGINS_WITH", "value": "b"}
                        ],
                    }
                ],
            },
            "contactSorts": [{"fieldName": "firstName", "direction": "ASC"}],
        },
    )
    assert reply.status_code == 200
    page = reply.json()
    assert page["total"] == 3
    assert page["pageCount"] == 2
    assert [c["data"]["firstName"] for c in page["entities"]] == ["Bea", "Ben"]
    assert api.post(f"{_contacts(lst)}/search", json={"pageSize": 101}).status_code == 400
    everything = api.post(f"{_contacts(lst)}/search", json={}).json()
    assert everything["total"] == 5


def test_clear_empties_the_list_shortly_after(
    api: httpx.Client, lst: dict[str, str], sandbox: Sandbox
) -> None:
    api.post(_contacts(lst), json=[contact(f"c{i}") for i in range(10)])
    assert api.post(f"{LISTS}/{lst['id']}/clear").status_code == 204

    def size() -> int:
        return int(api.get(f"{LISTS}/{lst['id']}", params={"includeSize": "true"}).json()["size"])

    wait_for(lambda: size() == 0, "the list to be cleared")


def test_bulk_remove_and_update_jobs(api: httpx.Client, lst: dict[str, str]) -> None:
    api.post(_contacts(lst), json=[contact(f"c{i}", "Ada" if i < 3 else "Ben") for i in range(6)])
    criteria = {
        "clauses": [{"predicates": [{"column": "firstName", "operator": "EQUALS", "value": "Ada"}]}]
    }
    job = api.post(f"{_contacts(lst)}/bulk/remove", json={"criteria": criteria}).json()
    assert job["state"] == "InProgress"
    assert job["type"] == "BulkDelete"
    assert job["totalRecords"] == 3

    def finished(job_id: str) -> dict[str, object] | None:
        body = api.get(f"{_contacts(lst)}/bulk/jobs/{job_id}").json()
        return body if body["state"] != "InProgress" else None

    done = wait_for(lambda: finished(job["id"]), "the remove job")
    assert done["state"] == "Complete"
    assert done["percentComplete"] == 100
    left = api.post(f"{_contacts(lst)}/search", json={}).json()
    assert sorted(c["id"] for c in left["entities"]) == ["c3", "c4", "c5"]

    edit = api.post(
        f"{_contacts(lst)}/bulk/update",
        json={"contactIds": ["c3", "c4"], "contact": {"data": {"firstName": "Cy"}}},
    ).json()
    assert edit["type"] == "BulkEdit"
    wait_for(lambda: finished(edit["id"]), "the edit job")
    read = api.post(f"{_contacts(lst)}/bulk", json=["c3", "c4", "c5"]).json()
    assert {c["id"]: c["data"]["firstName"] for c in read} == {"c3": "Cy", "c4": "Cy", "c5": "Ben"}
    jobs = api.get(f"{_contacts(lst)}/bulk/jobs").json()
    assert jobs["total"] == 2
    assert api.get(f"{_contacts(lst)}/bulk/jobs/nope").status_code == 404


def test_a_1000_contact_batch_of_the_benchmark_shape_is_accepted(
    api: httpx.Client, lst: dict[str, str], sandbox: Sandbox
) -> None:
    for start in range(0, 5000, 1000):
        batch = [contact(f"k{i}") for i in range(start, start + 1000)]
        assert api.post(_contacts(lst), json=batch).status_code == 200
    assert sandbox.store.contact_count(lst["id"]) == 5000
