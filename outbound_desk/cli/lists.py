"""``outbound-desk lists [--json] [--name PREFIX]``: the org's contact lists."""

from __future__ import annotations

import argparse
from typing import Any

from outbound_desk.cli._common import ExitCode, fail, out, print_json, safe
from outbound_desk.cli._connect import ConnectError, add_connection_args, connect


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "lists", help="list the org's contact lists (size, columns, import state)"
    )
    p.add_argument("--name", metavar="PREFIX", help="only lists whose name starts with PREFIX")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    add_connection_args(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from outbound_desk.genesys import GenesysError, UnexpectedAnswer

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
        platform = isinstance(exc, UnexpectedAnswer) or exc.status is None or exc.status >= 429
        code = ExitCode.PLATFORM if platform else ExitCode.REJECTED
        return fail(str(exc), code)
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
