"""The list manager against the embedded sandbox org: real HTTP on loopback, real threads."""

from __future__ import annotations

import re

import httpx
import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QDialogButtonBox

from outbound_desk.ui.lists.model import COLUMNS
from outbound_desk.ui.lists.pane import ListsPane
from outbound_desk.ui.mainwindow import MainWindow

from .conftest import sign_in


def api(sandbox, token):
    return httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def make_list(http, name, contacts=0):
    body = {
        "name": name,
        "columnNames": ["customerId", "phone", "firstName"],
        "phoneColumns": [{"columnName": "phone", "type": "cell"}],
    }
    created = http.post("/api/v2/outbound/contactlists", json=body)
    created.raise_for_status()
    list_id = created.json()["id"]
    if contacts:
        batch = [
            {
                "id": f"c{i}",
                "contactListId": list_id,
                "data": {"customerId": f"c{i}", "phone": f"+1415555{i:04d}", "firstName": f"N{i}"},
            }
            for i in range(contacts)
        ]
        http.post(
            f"/api/v2/outbound/contactlists/{list_id}/contacts", json=batch
        ).raise_for_status()
    return list_id


@pytest.fixture
def window(qtbot, context):
    win = MainWindow(context, [ListsPane])
    qtbot.addWidget(win)
    # Not shown: the offscreen platform warns about size hints for a shown main window.
    yield win
    win.shutdown()


@pytest.fixture
def pane(window) -> ListsPane:
    return window.panes[0]


def wait_loaded(qtbot, pane):
    qtbot.waitUntil(lambda: not pane.store.loading and pane.store.total is not None, timeout=15_000)


def wait_job(qtbot, pane, timeout=30_000):
    qtbot.waitUntil(lambda: pane.job is None, timeout=timeout)


def select(qtbot, pane, name):
    index = next(i for i, r in enumerate(pane.store.rows) if r.name == name)
    pane.table.selectRow(index)
    assert pane.selected().name == name


def test_pages_of_100_arrive_as_the_view_scrolls(
    qtbot, qtmodeltester, sandbox, sandbox_token, context, pane
):
    with api(sandbox, sandbox_token) as http:
        for i in range(230):
            make_list(http, f"{'Spring' if i % 2 else 'Autumn'} {i:03d}")
    sign_in(qtbot, context, sandbox)
    wait_loaded(qtbot, pane)
    assert pane.model.rowCount() == 100
    assert pane.store.total == 230
    assert "100 of 230 lists" in pane.count_label.text()
    qtmodeltester.check(pane.model, force_py=True)  # it calls fetchMore too, as a view does

    def scrolled_to_the_end():
        pane.model.fetchMore(QModelIndex())  # ignored while a page is on its way
        return pane.model.rowCount() == 230

    qtbot.waitUntil(scrolled_to_the_end, timeout=15_000)
    assert not pane.model.canFetchMore(QModelIndex())
    names = [r.name for r in pane.store.rows]
    assert len(set(names)) == 230
    assert names == sorted(names)

    qtbot.keyClicks(pane.filter_edit, "Spring")
    qtbot.waitUntil(
        lambda: pane.store.name_filter == "Spring" and pane.store.total == 115, timeout=15_000
    )
    wait_loaded(qtbot, pane)
    assert pane.model.rowCount() in (100, 115)  # the view may already want page 2
    assert all(r.name.startswith("Spring") for r in pane.store.rows)


def test_details_show_columns_with_roles(qtbot, sandbox, sandbox_token, context, pane):
    with api(sandbox, sandbox_token) as http:
        make_list(http, "Details", contacts=7)
    sign_in(qtbot, context, sandbox)
    wait_loaded(qtbot, pane)
    select(qtbot, pane, "Details")
    qtbot.waitUntil(lambda: pane.details.columns.rowCount() == 3)
    roles = {
        pane.details.columns.item(r, 0).text(): pane.details.columns.item(r, 1).text()
        for r in range(3)
    }
    assert roles == {"customerId": "data", "phone": "phone (cell)", "firstName": "data"}
    qtbot.waitUntil(lambda: pane.details.size_label.text() == "7")
    assert pane.details.import_label.text() == "Ready"
    # The division by its name (the sandbox org has only "Home"), never its id.
    division = pane.model.index(0, [key for key, _ in COLUMNS].index("division"))
    assert pane.model.data(division) == "Home"
    assert pane.details.division_label.text() == "Home"


def test_create_a_list_with_the_schema_editor(qtbot, sandbox, context, pane):
    sign_in(qtbot, context, sandbox)
    wait_loaded(qtbot, pane)
    sandbox.set_faults(create_404_ms=800)  # the new list reads 404 for a moment, as for real
    dialog = pane.new_list()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    assert "Give the list a name." in dialog.problems_label.text()
    dialog.name_edit.setText("Autumn Leads")
    dialog.table.add_row("customerId")
    dialog.table.add_row("mobile", "phone", "cell", True)
    dialog.table.add_row("x" * 129)
    assert "129 characters" in dialog.problems_label.text()
    assert not ok.isEnabled()
    dialog.table.removeRow(2)
    dialog.table.on_change()
    dialog.id_combo.setCurrentText("customerId")
    assert ok.isEnabled(), dialog.problems_label.text()
    ok.click()
    wait_job(qtbot, pane)
    qtbot.waitUntil(
        lambda: pane.selected() is not None and pane.selected().name == "Autumn Leads",
        timeout=15_000,
    )
    row = pane.selected()
    assert row.columns == ("customerId", "mobile")
    assert row.phone_columns == (("mobile", "cell"),)
    assert context.prompter.errors() == []


def test_create_refuses_a_name_already_taken(qtbot, sandbox, sandbox_token, context, pane):
    with api(sandbox, sandbox_token) as http:
        make_list(http, "Taken")
    sign_in(qtbot, context, sandbox)
    wait_loaded(qtbot, pane)
    dialog = pane.new_list()
    dialog.name_edit.setText("taken")
    dialog.table.add_row("phone", "phone", "cell")
    assert "exists already" in dialog.problems_label.text()
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    dialog.reject()


def test_add_columns(qtbot, sandbox, sandbox_token, context, pane):
    with api(sandbox, sandbox_token) as http:
        list_id = make_list(http, "Grow", contacts=3)
    sign_in(qtbot, context, sandbox)
    wait_loaded(qtbot, pane)
    select(qtbot, pane, "Grow")
    dialog = pane.add_columns()
    dialog.table.add_row("PHONE")
    assert "already has a column" in dialog.problems_label.text()
    dialog.table.removeRow(0)
    dialog.table.add_row("city")
    dialog.table.add_row("workPhone", "phone", "work")
    dialog.table.add_row("email", "email", "personal")
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled(), dialog.problems_label.text()
    ok.click()
    wait_job(qtbot, pane)
    assert context.prompter.errors() == []
    with api(sandbox, sandbox_token) as http:
        body = http.get(f"/api/v2/outbound/contactlists/{list_id}").json()
    assert body["columnNames"] == ["customerId", "phone", "firstName", "city", "workPhone", "email"]
    assert {"columnName": "workPhone", "type": "work"} in [
        {k: p[k] for k in ("columnName", "type")} for p in body["phoneColumns"]
    ]
    assert [{k: e[k] for k in ("columnName", "type")} for e in body["emailColumns"]] == [
        {"columnName": "email", "type": "personal"}
    ]
    qtbot.waitUntil(lambda: pane.details.columns.rowCount() == 6)
    roles = {
        pane.details.columns.item(r, 0).text(): pane.details.columns.item(r, 1).text()
        for r in range(6)
    }
    assert roles["email"] == "email (personal)"
    assert roles["workPhone"] == "phone (work)"


def test_clear_asks_then_waits_until_empty(qtbot, sandbox, sandbox_token, context, pane):
    with api(sandbox, sandbox_token) as http:
        list_id = make_list(http, "Full", contacts=25)
    sign_in(qtbot, context, sandbox)
    wait_loaded(qtbot, pane)
    select(qtbot, pane, "Full")
    context.prompter.confirm_answer = False
    pane.clear_list()
    assert pane.job is None
    assert "25 contacts" in context.prompter.asked[-1][2]
    context.prompter.confirm_answer = True
    pane.clear_list()
    wait_job(qtbot, pane)
    assert context.prompter.errors() == []
    assert pane.selected().size == 0
    with api(sandbox, sandbox_token) as http:
        body = http.get(
            f"/api/v2/outbound/contactlists/{list_id}", params={"includeSize": True}
        ).json()
    assert body["size"] == 0


def test_delete_names_the_list_and_its_size(qtbot, sandbox, sandbox_token, context, pane):
    with api(sandbox, sandbox_token) as http:
        list_id = make_list(http, "Doomed", contacts=4)
        make_list(http, "Keeper")
    sign_in(qtbot, context, sandbox)
    wait_loaded(qtbot, pane)
    select(qtbot, pane, "Doomed")
    pane.delete_list()
    wait_job(qtbot, pane)
    question = context.prompter.asked[-1]
    assert question[0] == "confirm"
    assert "“Doomed”" in question[2]
    assert "4 contacts" in question[2]
    assert [r.name for r in pane.store.rows] == ["Keeper"]
    with api(sandbox, sandbox_token) as http:
        assert http.get(f"/api/v2/outbound/contactlists/{list_id}").status_code == 404


def test_export_saves_the_platform_csv(qtbot, sandbox, sandbox_token, context, pane, tmp_path):
    with api(sandbox, sandbox_token) as http:
        make_list(http, "Exported", contacts=12)
    sign_in(qtbot, context, sandbox)
    wait_loaded(qtbot, pane)
    select(qtbot, pane, "Exported")
    target = tmp_path / "out.csv"
    context.prompter.save_answer = str(target)
    progress = []
    pane.export_list()
    pane.job.progress_changed.connect(lambda d, t, p: progress.append(p))
    wait_job(qtbot, pane)
    assert context.prompter.errors() == []
    text = target.read_bytes().decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("inin-outbound-id")
    assert len(lines) == 13
    assert "saved" in progress
    assert not (tmp_path / "out.csv.partial").exists()
    assert "Exported 12 contacts" in pane.job_label.text()


def test_an_empty_export_is_an_error_not_a_saved_file(
    qtbot, sandbox, sandbox_token, context, pane, tmp_path
):
    """Issue 12: a 0-byte download used to be written and reported as saved."""
    with api(sandbox, sandbox_token) as http:
        make_list(http, "Broken", contacts=3)
    sandbox.set_download_fault("empty")
    sign_in(qtbot, context, sandbox)
    wait_loaded(qtbot, pane)
    select(qtbot, pane, "Broken")
    target = tmp_path / "out.csv"
    context.prompter.save_answer = str(target)
    pane.export_list()
    wait_job(qtbot, pane)
    qtbot.waitUntil(lambda: bool(context.prompter.errors()), timeout=10_000)
    (error,) = context.prompter.errors()
    assert "empty" in error
    assert list(tmp_path.iterdir()) == []  # nothing saved, no .partial left
    assert "contacts to" not in pane.job_label.text()  # never "Exported ... to ..."


def test_network_down_is_shown_in_place_and_retry_recovers(qtbot, sandbox, context, pane):
    sign_in(qtbot, context, sandbox)
    wait_loaded(qtbot, pane)
    sandbox.set_faults(drop_rate=1.0)
    pane.refresh()
    qtbot.waitUntil(lambda: not pane.error_label.isHidden(), timeout=20_000)
    assert "Check the network" in pane.error_label.text()
    assert pane.model.rowCount() == 0
    sandbox.set_faults(drop_rate=0.0)
    pane.retry_button.click()
    wait_loaded(qtbot, pane)
    assert pane.error_label.isHidden()


def test_forbidden_is_shown_to_the_user(qtbot, forbidding_server, context, pane):
    from outbound_desk.config import OrgProfile

    profile = OrgProfile(
        name="NoPerm", region="sandbox", client_id="c", sandbox_url=forbidding_server
    )
    with qtbot.waitSignal(context.session.sign_in_failed, timeout=15_000) as blocker:
        context.session.sign_in(profile, "s3cret-value")
    message = str(blocker.args[0])
    assert "outbound:contactList:view" in message
    assert "403" in message
    assert context.session.connection is None


def test_operations_are_disabled_until_signed_in(qtbot, context, pane):
    assert pane.stack.currentIndex() == 0
    assert not pane.new_action.isEnabled()
    assert not pane.delete_action.isEnabled()
    assert pane.model.data(pane.model.index(0, 0), Qt.ItemDataRole.DisplayRole) is None


def test_first_list_is_selected_and_the_selection_survives_a_refresh(
    qtbot, sandbox, sandbox_token, context, pane
):
    with api(sandbox, sandbox_token) as http:
        for name in ("Charlie", "Alpha", "Bravo", "Delta"):
            make_list(http, name, contacts=2)
    sign_in(qtbot, context, sandbox)
    wait_loaded(qtbot, pane)
    # Nobody clicked: the first list is selected and its details are filled in.
    assert pane.selected() is not None
    assert pane.selected().name == "Alpha"
    assert pane.details.title.text() == "Alpha"
    qtbot.waitUntil(lambda: pane.details.size_label.text() == "2", timeout=15_000)
    assert pane.delete_action.isEnabled()

    select(qtbot, pane, "Charlie")
    pane.refresh()
    assert pane.store.rows == []  # really reloaded, not kept
    wait_loaded(qtbot, pane)
    assert pane.selected().name == "Charlie"
    assert pane.details.title.text() == "Charlie"

    # A filter without the selected list falls back to its first row.
    pane.filter_edit.setText("B")
    qtbot.waitUntil(lambda: pane.store.name_filter == "B", timeout=5_000)
    wait_loaded(qtbot, pane)
    assert [r.name for r in pane.store.rows] == ["Bravo"]
    assert pane.selected().name == "Bravo"

    pane.filter_edit.setText("")
    qtbot.waitUntil(lambda: pane.store.name_filter == "", timeout=5_000)
    wait_loaded(qtbot, pane)
    assert pane.selected().name == "Bravo"
    pane.delete_list()
    wait_job(qtbot, pane)
    # The list after the deleted one takes its place in the details.
    assert [r.name for r in pane.store.rows] == ["Alpha", "Charlie", "Delta"]
    assert pane.selected().name == "Charlie"
    assert pane.details.title.text() == "Charlie"


def spend_the_window(sandbox, token):
    """Spend the token's rate-limit window from outside the app (another tool on the token)."""
    with api(sandbox, token) as other:
        for _ in range(50):
            reply = other.get("/api/v2/outbound/contactlists", params={"pageSize": 1})
            if reply.status_code == 429:
                return int(reply.headers["Retry-After"])
    raise AssertionError("the sandbox never answered 429")


def app_token(context):
    return context.session.connection.client.tokens.token().access_token.get()


def test_a_429_pause_is_shown_then_the_lists_load(
    qtbot, sandbox, sandbox_token, context, window, pane
):
    with api(sandbox, sandbox_token) as http:
        make_list(http, "Alpha")
    sign_in(qtbot, context, sandbox)
    wait_loaded(qtbot, pane)
    qtbot.waitUntil(lambda: not context.tasks.busy, timeout=15_000)  # details are in
    sandbox.set_rate_limit(2, 3.0)
    assert spend_the_window(sandbox, app_token(context)) >= 1
    pane.refresh()
    # The client's limiter holds the request until Retry-After: the status bar says why.
    qtbot.waitUntil(lambda: "Rate limited: waiting" in window.rate_label.text(), timeout=10_000)
    assert "429" in window.rate_label.toolTip()
    assert context.session.connection.client.rate_stats().rate_limited >= 1
    wait_loaded(qtbot, pane)
    assert [r.name for r in pane.store.rows] == ["Alpha"]
    assert pane.error_label.isHidden()
    qtbot.waitUntil(lambda: "Rate limited" not in window.rate_label.text(), timeout=10_000)
    assert "requests left" in window.rate_label.text()


def test_a_429_after_the_retries_is_explained_in_place(
    qtbot, sandbox, sandbox_token, context, window, pane
):
    context.session.client_options = {"max_retries": 0}
    with api(sandbox, sandbox_token) as http:
        make_list(http, "Alpha")
    sign_in(qtbot, context, sandbox)
    wait_loaded(qtbot, pane)
    qtbot.waitUntil(lambda: not context.tasks.busy, timeout=15_000)
    sandbox.set_rate_limit(1, 30.0)
    spend_the_window(sandbox, app_token(context))
    pane.refresh()
    qtbot.waitUntil(lambda: not pane.error_label.isHidden(), timeout=10_000)
    text = pane.error_label.text()
    assert "rate limiting this connection (HTTP 429" in text
    assert re.search(r"Press Retry in about \d+ s", text), text
    assert "same OAuth client" in text
    assert not pane.retry_button.isHidden()
    assert pane.model.rowCount() == 0
    qtbot.waitUntil(lambda: "Rate limited: waiting" in window.rate_label.text(), timeout=5_000)


def test_the_pane_names_the_org_and_who_is_signed_in(qtbot, sandbox, context, pane):
    """Issue 14: a clear or delete acts in one org, as one identity: the pane says which
    (not only the status bar), and follows a sign-out."""
    assert pane.org_line.text() == "Not signed in"
    sign_in(qtbot, context, sandbox)
    assert pane.org_line.text() == (
        f"Org: Sandbox (sandbox) · signed in as client {sandbox.client_id}"
    )
    with qtbot.waitSignal(context.session.disconnected, timeout=15_000):
        context.session.sign_out()
    assert pane.org_line.text() == "Not signed in"


def test_a_one_contact_list_is_named_in_plain_words(qtbot, sandbox, sandbox_token, context, pane):
    """Issue 14 (messages read once more): "Remove all 1 contacts" read badly."""
    with api(sandbox, sandbox_token) as http:
        make_list(http, "Single", contacts=1)
    sign_in(qtbot, context, sandbox)
    wait_loaded(qtbot, pane)
    select(qtbot, pane, "Single")
    context.prompter.confirm_answer = False
    pane.clear_list()
    assert context.prompter.asked[-1][2].startswith("Remove its one contact from “Single”?")
    pane.delete_list()
    assert "Delete the list “Single” and its one contact?" in context.prompter.asked[-1][2]
