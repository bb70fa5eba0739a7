"""Contact lists: create, validate, read, page, filter, update with versions, delete."""

from __future__ import annotations

import httpx
import pytest

from outbound_desk.emulator import Limits, Sandbox, SandboxConfig

from .helpers import LISTS, contact, list_body, make_list, token_for


def test_create_returns_the_list_with_version_1_and_iso_dates(api: httpx.Client) -> None:
    created = make_list(api, "Spring")
    assert created["version"] == 1
    assert created["dateCreated"].endswith("Z")
    assert created["columnNames"] == ["customerId", "firstName", "phone"]
    assert created["selfUri"] == f"{LISTS}/{created['id']}"
    assert "size" not in created  # only with includeSize
    assert None not in created.values()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "columnNames": ["a"]}, "phoneColumns"),
        (list_body(columns=[]), "columnNames"),
        (list_body(columns=[f"c{i}" for i in range(50)] + ["phone"]), "columnNames"),
        (list_body(columns=["phone", "x" * 129]), "columnNames"),
        (list_body(columns=["phone", "Phone"]), "columnNames"),
        (
            {**list_body(), "phoneColumns": [{"columnName": "cell", "type": "cell"}]},
            "phoneColumns.columnName",
        ),
        ({**list_body(), "name": ""}, "name"),
    ],
)
def test_create_refuses_a_bad_schema_naming_the_field(
    api: httpx.Client, body: dict[str, object], field: str
) -> None:
    reply = api.post(LISTS, json=body)
    assert reply.status_code == 400
    error = reply.json()
    assert error["code"] == "invalid.value"
    assert error["details"][0]["fieldName"] == field
    assert error["status"] == 400


def test_fifty_columns_and_128_character_names_are_allowed(api: httpx.Client) -> None:
    columns = [f"c{i}" for i in range(48)] + ["phone", "n" * 128]
    assert api.post(LISTS, json=list_body(columns=columns)).status_code == 200


def test_list_names_are_unique(api: httpx.Client) -> None:
    make_list(api, "Spring")
    reply = api.post(LISTS, json=list_body("spring"))
    assert reply.status_code == 400
    assert reply.json()["code"] == "name.not.unique"


def test_the_org_holds_at_most_max_lists() -> None:
    with Sandbox.start(SandboxConfig(seed=False, limits=Limits(max_lists=2))) as sb:
        token = token_for(sb.base_url, sb.client_id, sb.client_secret)
        with httpx.Client(
            base_url=sb.base_url, headers={"Authorization": f"Bearer {token}"}
        ) as api:
            make_list(api, "one")
            make_list(api, "two")
            reply = api.post(LISTS, json=list_body("three"))
    assert reply.status_code == 400
    assert reply.json()["code"] == "max.entity.count.reached"


def test_get_by_id_with_size_and_import_status(api: httpx.Client) -> None:
    lst = make_list(api)
    api.post(f"{LISTS}/{lst['id']}/contacts", json=[contact("c1"), contact("c2")])
    body = api.get(
        f"{LISTS}/{lst['id']}", params={"includeSize": "true", "includeImportStatus": "true"}
    ).json()
    assert body["size"] == 2
    assert body["importStatus"] == {
        "totalRecords": 0,
        "completedRecords": 0,
        "percentComplete": 100,
    }
    plain = api.get(f"{LISTS}/{lst['id']}").json()
    assert "size" not in plain
    assert "importStatus" not in plain


def test_unknown_list_is_404_not_found(api: httpx.Client) -> None:
    reply = api.get(f"{LISTS}/does-not-exist")
    assert reply.status_code == 404
    assert reply.json()["code"] == "not.found"


def test_paging_envelope(api: httpx.Client) -> None:
    for n in range(5):
        make_list(api, f"List {n}")
    first = api.get(LISTS, params={"pageSize": 2}).json()
    assert [e["name"] for e in first["entities"]] == ["List 0", "List 1"]
    assert (first["total"], first["pageCount"], first["pageNumber"], first["pageSize"]) == (
        5,
        3,
        1,
        2,
    )
    assert "previousUri" not in first
    assert first["nextUri"].startswith(LISTS + "?")
    last = api.get(first["lastUri"]).json()
    assert [e["name"] for e in last["entities"]] == ["List 4"]
    assert "nextUri" not in last
    assert api.get(last["previousUri"]).json()["pageNumber"] == 2
    assert api.get(LISTS).json()["pageSize"] == 25
    beyond = api.get(LISTS, params={"pageNumber": 9}).json()
    assert beyond["entities"] == []


@pytest.mark.parametrize("params", [{"pageSize": 101}, {"pageSize": 0}, {"pageNumber": 0}])
def test_paging_bounds_are_enforced(api: httpx.Client, params: dict[str, int]) -> None:
    reply = api.get(LISTS, params=params)
    assert reply.status_code == 400
    assert reply.json()["code"] == "invalid.value"


def test_name_filters_and_ids(api: httpx.Client) -> None:
    spring = make_list(api, "Spring Renewals")
    make_list(api, "Autumn Renewals")
    make_list(api, "Spring")

    def names(**params: str) -> list[str]:
        return sorted(e["name"] for e in api.get(LISTS, params=params).json()["entities"])

    assert names(name="spring") == ["Spring", "Spring Renewals"]  # Prefix by default
    assert names(name="renewals", filterType="Contains") == ["Autumn Renewals", "Spring Renewals"]
    assert names(name="spring", filterType="Equals") == ["Spring"]
    assert names(id=spring["id"]) == ["Spring Renewals"]
    autumn = api.get(LISTS, params={"name": "Autumn"}).json()["entities"][0]
    both = api.get(LISTS, params=[("id", spring["id"]), ("id", autumn["id"])]).json()
    assert both["total"] == 2
    joined = api.get(LISTS, params={"id": f"{spring['id']},{autumn['id']}"}).json()
    assert joined["total"] == 2


def test_sorting_and_include_size(api: httpx.Client) -> None:
    make_list(api, "b")
    make_list(api, "a")
    make_list(api, "c")
    desc = api.get(LISTS, params={"sortOrder": "descending", "includeSize": "true"}).json()
    assert [e["name"] for e in desc["entities"]] == ["c", "b", "a"]
    assert all(e["size"] == 0 for e in desc["entities"])
    by_created = api.get(LISTS, params={"sortBy": "dateCreated"}).json()
    assert [e["name"] for e in by_created["entities"]] == ["b", "a", "c"]


def test_put_increments_version_and_ignores_echoed_read_only_fields(api: httpx.Client) -> None:
    lst = make_list(api)
    current = api.get(f"{LISTS}/{lst['id']}", params={"includeSize": "true"}).json()
    current["columnNames"].append("city")
    current["dateCreated"] = "1999-01-01T00:00:00.000Z"  # read-only: ignored
    current["size"] = 12345
    reply = api.put(f"{LISTS}/{lst['id']}", json=current)
    assert reply.status_code == 200
    body = reply.json()
    assert body["version"] == 2
    assert body["columnNames"][-1] == "city"
    assert body["dateCreated"] == lst["dateCreated"]
    assert body["dateModified"] >= lst["dateModified"]


def test_put_with_a_stale_or_missing_version_is_refused(api: httpx.Client) -> None:
    lst = make_list(api)
    api.put(f"{LISTS}/{lst['id']}", json={**lst, "name": "Renamed"})
    stale = api.put(f"{LISTS}/{lst['id']}", json={**lst, "name": "Again"})
    assert stale.status_code == 409
    assert stale.json()["code"] == "general.conflict"
    missing = api.put(f"{LISTS}/{lst['id']}", json={k: v for k, v in lst.items() if k != "version"})
    assert missing.status_code == 400
    assert api.get(f"{LISTS}/{lst['id']}").json()["name"] == "Renamed"


def test_put_refuses_removing_a_column_that_holds_data(api: httpx.Client) -> None:
    lst = make_list(api, columns=["customerId", "firstName", "phone", "note"])
    api.post(f"{LISTS}/{lst['id']}/contacts", json=[contact("c1")])
    without_first = {**lst, "columnNames": ["customerId", "phone", "note"]}
    reply = api.put(f"{LISTS}/{lst['id']}", json=without_first)
    assert reply.status_code == 400
    assert "firstName" in reply.json()["message"]
    # "note" holds no data: it may go.
    without_note = {**lst, "columnNames": ["customerId", "firstName", "phone"]}
    assert api.put(f"{LISTS}/{lst['id']}", json=without_note).status_code == 200


def test_delete_one_and_several(api: httpx.Client, sandbox: Sandbox) -> None:
    a, b, c = (make_list(api, n) for n in "abc")
    assert api.delete(f"{LISTS}/{a['id']}").status_code == 204
    assert api.get(f"{LISTS}/{a['id']}").status_code == 404
    assert api.delete(LISTS, params={"id": f"{b['id']},{c['id']}"}).status_code == 204
    assert sandbox.store.list_ids() == []
