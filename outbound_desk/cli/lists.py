"""``outbound-desk lists [--json] [--name PREFIX]``: the org's contact lists; and
``lists create|clear|delete|export`` for scripts, on the same code as the app's Lists pane
(``upload.lists``).

- ``lists create --schema SCHEMA.json [--name NAME]``: create a list and wait until it is ready,
- ``lists clear LIST [--yes]``: remove every contact (the list and its columns stay),
- ``lists delete LIST [--yes]``: delete the list and its contacts,
- ``lists export LIST --out FILE``: the same command as ``outbound-desk export``.

Clearing and deleting ask first when stdin is a terminal (``--yes`` skips the question; without
a terminal ``--yes`` is required), and make the upload ledger forget the list's contacts, so
the next upload sends them all again. LIST is a name or an id.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from outbound_desk.cli._common import ExitCode, fail, out, print_json, safe
from outbound_desk.cli._connect import ConnectError, add_connection_args, connect

if TYPE_CHECKING:
    from outbound_desk.genesys import ContactList, GenesysError


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "lists",
        help="list the org's contact lists; create, clear, delete or export one",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--name", metavar="PREFIX", help="only lists whose name starts with PREFIX")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    add_connection_args(p)
    p.set_defaults(handler=run)
    actions = p.add_subparsers(dest="action", metavar="ACTION")

    create = actions.add_parser("create", help="create a list from a schema file")
    create.add_argument("--schema", required=True, type=Path, metavar="SCHEMA.json")
    create.add_argument("--name", dest="list_name", help="the list's name (default: the schema's)")
    create.add_argument("--json", action="store_true", help="print the list as JSON")
    add_connection_args(create)
    create.set_defaults(handler=run_create)

    for verb, what in (
        ("clear", "remove every contact of a list (the list stays)"),
        ("delete", "delete a list and its contacts"),
    ):
        q = actions.add_parser(verb, help=what)
        q.add_argument("list", metavar="LIST", help="the list's name or id")
        q.add_argument("--yes", action="store_true", help="do not ask first")
        q.add_argument("--ledger", type=Path, default=None, metavar="PATH", help="ledger file")
        q.add_argument("--json", action="store_true", help="print the result as JSON")
        add_connection_args(q)
        q.set_defaults(handler=run_clear_or_delete, verb=verb)

    from outbound_desk.cli import export

    ex = actions.add_parser("export", help="export a list's contacts to a CSV file")
    export.add_arguments(ex)
    ex.set_defaults(handler=export.run)


def _platform_code(exc: GenesysError) -> ExitCode:
    from outbound_desk.genesys import UnexpectedAnswer

    platform = isinstance(exc, UnexpectedAnswer) or exc.status is None or exc.status >= 429
    return ExitCode.PLATFORM if platform else ExitCode.REJECTED


def _describe(cl: ContactList) -> dict[str, Any]:
    return {
        "id": cl.id,
        "name": cl.name,
        "size": cl.size,
        "columns": list(cl.column_names),
        "phone_columns": [p.column_name for p in cl.phone_columns],
        "email_columns": [e.column_name for e in cl.email_columns],
    }


def run_create(args: argparse.Namespace) -> int:
    from outbound_desk.contacts import SchemaError, load_schema
    from outbound_desk.genesys import GenesysError
    from outbound_desk.upload.lists import create_list

    try:
        schema = load_schema(args.schema)
    except (SchemaError, OSError) as exc:
        return fail(f"schema {args.schema}: {exc}", ExitCode.USAGE)
    if args.list_name:
        schema = dataclasses.replace(schema, name=args.list_name)
    try:
        client, label = connect(args)
    except ConnectError as exc:
        return fail(str(exc), exc.code)
    try:
        with client:
            made = create_list(client, schema)
    except GenesysError as exc:
        return fail(f"creating list {schema.name!r} in {label}: {exc}", _platform_code(exc))
    if args.json:
        print_json(_describe(made))
    else:
        out(f"created list {made.name} ({made.id}) in {label}: {', '.join(made.column_names)}")
    return int(ExitCode.OK)


def _confirmed(question: str, yes: bool) -> bool | None:
    """True to go on; False when the person said no; None when nobody can be asked."""
    if yes:
        return True
    if not sys.stdin.isatty():
        return None
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def run_clear_or_delete(args: argparse.Namespace) -> int:
    from outbound_desk.config import SettingsStore, ledger_path
    from outbound_desk.genesys import GenesysError
    from outbound_desk.upload import lists
    from outbound_desk.upload.ledger import Ledger, LedgerError
    from outbound_desk.upload.platform import find_list

    verb: str = args.verb
    ledger = ledger_path(args.ledger or SettingsStore().load().preferences.ledger_path)
    # The ledger is told what the list no longer holds: a ledger that cannot take that must
    # stop the command before the platform is touched, not after.
    try:
        with Ledger(ledger) as led:
            led.check_writable()
    except LedgerError as exc:
        return fail(f"{exc}. Nothing was changed", ExitCode.REJECTED)
    try:
        client, label = connect(args)
    except ConnectError as exc:
        return fail(str(exc), exc.code)
    try:
        with client:
            found = find_list(client, args.list)
            if found is None:
                return fail(
                    f"no contact list named (or with id) {args.list!r} in {label}",
                    ExitCode.REJECTED,
                )
            what = (
                f"Remove all {found.size or 0:,} contacts from list {found.name!r} ({found.id})"
                if verb == "clear"
                else f"Delete list {found.name!r} ({found.id}) and its {found.size or 0:,} contacts"
            )
            ok = _confirmed(safe(f"{what} in {label}? This cannot be undone."), args.yes)
            if ok is None:
                return fail(f"lists {verb} cannot be undone: add --yes to confirm", ExitCode.USAGE)
            if not ok:
                return fail(f"not {verb}ed: nothing was changed", ExitCode.USAGE)
            if verb == "clear":
                lists.clear_contacts(client, found.id, ledger_path=ledger)
            else:
                lists.delete_list(client, found.id, ledger_path=ledger)
    except GenesysError as exc:
        return fail(f"lists {verb} {args.list!r}: {exc}", _platform_code(exc))
    if args.json:
        print_json({"id": found.id, "name": found.name, verb + "ed": True})
    else:
        out(f"list {found.name} ({found.id}) {'cleared' if verb == 'clear' else 'deleted'}")
    return int(ExitCode.OK)


def run(args: argparse.Namespace) -> int:
    from outbound_desk.genesys import GenesysError

    try:
        client, _label = connect(args)
    except ConnectError as exc:
        return fail(str(exc), exc.code)
    items: list[dict[str, Any]] = []
    try:
        with client:
            for cl in client.contact_lists.iter(
                name=args.name, include_size=True, include_import_status=True
            ):
                status = cl.import_status
                items.append(
                    {
                        "id": cl.id,
                        "name": cl.name,
                        "size": cl.size,
                        "columns": list(cl.column_names),
                        "phone_columns": [p.column_name for p in cl.phone_columns],
                        "email_columns": [e.column_name for e in cl.email_columns],
                        "import_state": status.state if status else None,
                        "import_percent": status.percent_complete if status else None,
                        "version": cl.version,
                        "date_created": cl.date_created,
                    }
                )
    except GenesysError as exc:
        return fail(str(exc), _platform_code(exc))
    if args.json:
        print_json(items)
        return int(ExitCode.OK)
    if not items:
        out("no contact lists" + (f" named {args.name}*" if args.name else ""))
        return int(ExitCode.OK)
    print(f"{'name':<32} {'size':>9}  {'import':<12} {'id':<36}  columns")
    for it in items:
        # Everything here comes from the server: escaped before it is cut to width.
        name, state = safe(it["name"]), safe(it["import_state"] or "-")
        print(
            f"{name[:32]:<32} {it['size'] or 0:>9,}  {state:<12} {safe(it['id']):<36}  "
            f"{safe(', '.join(it['columns']))}"
        )
    return int(ExitCode.OK)
