"""The list store (Qt-free) and its Qt model, over fake pages (no server needed here)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt, QTimer

from outbound_desk.ui.lists.model import COLUMNS, ListRowRole, ListTableModel
from outbound_desk.ui.lists.store import ListPage, ListRow, ListStore, PageRequest, StoreEvent


def fake_lists(n: int) -> list[dict]:
    return [
        {
            "id": f"id-{i:04d}",
            "name": f"{'Spring' if i % 2 else 'Autumn'} list {i:04d}",
            "columnNames": ["customerId", "phone", "email"],
            "phoneColumns": [{"columnName": "phone", "type": "cell"}],
            "emailColumns": [{"columnName": "email", "type": "work"}],
            "size": i * 10,
            "importStatus": {"state": "IN_PROGRESS", "percentComplete": 40} if i == 3 else {},
            "division": {"id": "d1", "name": "Home"},
            "dateModified": "2024-05-01T10:00:00.000Z",
            "version": 1,
        }
        for i in range(n)
    ]


class FakeServer:
    """Pages and prefix filter as the real endpoint does them."""

    def __init__(self, n: int, page_size: int = 100) -> None:
        self.lists = fake_lists(n)
        self.page_size = page_size
        self.requests: list[PageRequest] = []

    def fetch(self, request: PageRequest) -> ListPage:
        self.requests.append(request)
        matching = [d for d in self.lists if d["name"].startswith(request.name_filter)]
        start = (request.page_number - 1) * self.page_size
        chunk = matching[start : start + self.page_size]
        pages = -(-len(matching) // self.page_size)
        return ListPage(
            [ListRow.from_api(d) for d in chunk], request.page_number, len(matching), pages
        )


def load_all(store: ListStore) -> None:
    while (request := store.start_fetch()) is not None:
        store.finish_fetch(request, store.fetch(request))


def test_row_from_api_reads_every_shown_field():
    row = ListRow.from_api(fake_lists(4)[3])
    assert row.size == 30
    assert row.columns == ("customerId", "phone", "email")
    assert row.phone_columns == (("phone", "cell"),)
    assert row.import_text == "Importing 40 %"
    assert row.division == "Home"
    assert row.date_modified is not None
    assert row.date_modified.year == 2024
    assert row.column_role("phone") == "phone (cell)"
    assert row.column_role("email") == "email (work)"
    assert row.column_role("customerId") == "data"


def test_store_pages_until_the_server_has_no_more():
    server = FakeServer(250)
    store = ListStore(server.fetch)
    load_all(store)
    assert [r.page_number for r in server.requests] == [1, 2, 3]
    assert len(store.rows) == 250
    assert store.total == 250
    assert not store.has_more


def test_stale_answer_for_an_old_filter_is_dropped():
    server = FakeServer(30)
    store = ListStore(server.fetch)
    old = store.start_fetch()
    store.reset("Spring")
    store.finish_fetch(old, server.fetch(old))
    assert store.rows == []
    load_all(store)
    assert len(store.rows) == 15
    assert all(r.name.startswith("Spring") for r in store.rows)


def test_fetch_error_is_kept_and_stops_paging():
    store = ListStore(FakeServer(5).fetch)
    request = store.start_fetch()
    store.fail_fetch(request, "You do not have permission to view contact lists.")
    assert store.error.startswith("You do not")
    assert not store.has_more
    store.reset()
    assert store.error is None
    assert store.has_more


def test_duplicates_across_shifted_pages_are_not_shown_twice():
    server = FakeServer(150)
    store = ListStore(server.fetch)
    first = store.start_fetch()
    store.finish_fetch(first, server.fetch(first))
    server.lists.insert(0, {"id": "new", "name": "Aardvark"})  # shifts page 2 by one
    load_all(store)
    ids = [r.id for r in store.rows]
    assert len(ids) == len(set(ids)) == 150


def test_events_bracket_structural_changes():
    server = FakeServer(3)
    store = ListStore(server.fetch)
    seen = []
    store.subscribe(
        lambda e, a, b: seen.append(("after", e, a, b)),
        lambda e, a, b: seen.append(("before", e, a, b)),
    )
    load_all(store)
    store.remove("id-0001")
    assert ("before", StoreEvent.APPENDED, 0, 2) in seen
    assert ("after", StoreEvent.APPENDED, 0, 2) in seen
    assert seen.index(("before", StoreEvent.REMOVED, 1, 1)) < seen.index(
        ("after", StoreEvent.REMOVED, 1, 1)
    )
    assert [r.id for r in store.rows] == ["id-0000", "id-0002"]
    assert store.total == 2


@pytest.fixture
def model(qtbot):
    server = FakeServer(250)
    store = ListStore(server.fetch)
    model = ListTableModel(store)

    # What the pane does: fetch later, not inside the view's call (here on the next loop turn
    # instead of a worker thread).
    def on_fetch():
        request = store.start_fetch()
        if request is not None:
            QTimer.singleShot(0, lambda: store.finish_fetch(request, store.fetch(request)))

    model.fetch_requested.connect(on_fetch)
    return model


def fetch_page(qtbot, model):
    before = model.rowCount()
    model.fetchMore(QModelIndex())
    qtbot.waitUntil(lambda: not model.store.loading)
    return model.rowCount() - before


def test_model_passes_qtmodeltester(qtbot, qtmodeltester, model):
    fetch_page(qtbot, model)
    # The tester stays connected and checks every change that follows.
    qtmodeltester.check(model, force_py=True)
    fetch_page(qtbot, model)
    model.store.reset("Spring")
    fetch_page(qtbot, model)
    model.store.remove(model.store.rows[0].id)
    model.store.replace(ListRow.from_api({"id": model.store.rows[0].id, "name": "x"}))
    assert model.rowCount() == 124


def test_model_fetches_lazily_one_page_at_a_time(qtbot, model):
    assert model.rowCount() == 0
    assert model.canFetchMore(QModelIndex())
    assert fetch_page(qtbot, model) == 100
    model.fetchMore(QModelIndex())
    assert not model.canFetchMore(QModelIndex())  # one page in flight at a time
    qtbot.waitUntil(lambda: not model.store.loading)
    assert fetch_page(qtbot, model) == 50
    assert model.rowCount() == 250
    assert not model.canFetchMore(QModelIndex())


def test_model_display_and_roles(qtbot, model):
    fetch_page(qtbot, model)
    col = {key: i for i, (key, _) in enumerate(COLUMNS)}
    idx = model.index(3, col["import"])
    assert model.data(idx) == "Importing 40 %"
    assert model.data(model.index(12, col["size"])) == "120"
    assert model.data(model.index(1, col["phones"])) == "phone (cell)"
    assert model.data(model.index(1, col["columns"])) == "3"
    assert model.data(model.index(1, 0), ListRowRole).id == "id-0001"
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Name"


def test_model_follows_store_edits(qtbot, model):
    fetch_page(qtbot, model)
    row = model.store.rows[5]
    with qtbot.waitSignal(model.dataChanged):
        model.store.replace(ListRow.from_api({"id": row.id, "name": "Renamed", "size": 7}))
    assert model.data(model.index(5, 0)) == "Renamed"
    with qtbot.waitSignal(model.rowsRemoved):
        model.store.remove(row.id)
    assert model.rowCount() == 99
