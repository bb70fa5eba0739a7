"""``outbound-desk login --profile NAME --region KEY [--client-id ID] [--pkce]``.

Saves an org profile in the settings and its client secret in the OS keyring, and nowhere
else: where no keyring exists the command says so and stores nothing. The connection is tested
(a token is fetched) before anything is saved. The secret is asked for without echo, or read
from stdin with ``--secret-stdin`` (one line) for scripts.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from outbound_desk.cli._common import ExitCode, fail, print_json

#: How long login waits for the person to finish the sign-in in the browser.
_SIGN_IN_S = 300.0


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "login",
        help="save an org profile (secret in the OS keyring) after testing the connection",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--profile", required=True, metavar="NAME", help="profile name")
    p.add_argument(
        "--region",
        required=True,
        metavar="KEY",
        help="region key (us-east-1, eu-west-1, ...) or sandbox",
    )
    p.add_argument("--client-id", metavar="ID", help="OAuth client id")
    p.add_argument("--pkce", action="store_true", help="sign in in the browser (no secret stored)")
    p.add_argument(
        "--redirect-uri",
        metavar="URI",
        help="with --pkce: the redirect URI registered on the OAuth client (default "
        "http://127.0.0.1:18765/callback); the sign-in listens there",
    )
    p.add_argument("--secret-stdin", action="store_true", help="read the client secret from stdin")
    p.add_argument("--sandbox-url", metavar="URL", help="the sandbox's URL (with --region sandbox)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=run)


def _read_secret(args: argparse.Namespace) -> str:
    if args.secret_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ValueError("no terminal to ask for the secret: pass it on stdin with --secret-stdin")
    return getpass.getpass(f"Client secret for {args.client_id}: ")


def _open_sign_in_page(url: str) -> bool:
    """Open the sign-in page in the system browser; where none opens, show the address."""
    import webbrowser

    print(
        f"Opening the browser to sign in to Genesys Cloud (waiting up to {_SIGN_IN_S:.0f} s; "
        "Ctrl-C to stop)...",
        file=sys.stderr,
    )
    opened = bool(webbrowser.open(url))
    if not opened:
        print(f"No browser opened: open this address to sign in:\n{url}", file=sys.stderr)
    return opened


def run(args: argparse.Namespace) -> int:
    from outbound_desk.cli._connect import SANDBOX_CLIENT_ID, region_of
    from outbound_desk.config import (
        CredentialStore,
        NoKeyringError,
        OrgProfile,
        SettingsStore,
        register_secret,
    )
    from outbound_desk.genesys import (
        ClientCredentials,
        GenesysClient,
        GenesysError,
        NetworkError,
        PkceFlow,
        ServerError,
        UnexpectedAnswer,
    )

    region_key = args.region.strip().lower()
    client_id = args.client_id or (SANDBOX_CLIENT_ID if region_key == "sandbox" else None)
    if not client_id:
        return fail(
            "--client-id is required (the OAuth client's id from Genesys Cloud Admin)",
            ExitCode.USAGE,
        )
    try:
        if region_key != "sandbox":
            from outbound_desk.genesys import region_for

            region_key = region_for(region_key).key
        profile = OrgProfile(
            name=args.profile,
            region=region_key,
            client_id=client_id,
            auth_method="pkce" if args.pkce else "client_credentials",
            sandbox_url=args.sandbox_url if region_key == "sandbox" else None,
            redirect_uri=args.redirect_uri if args.pkce and args.redirect_uri else None,
        )
        region = region_of(profile)
    except ValueError as exc:
        return fail(str(exc), ExitCode.USAGE)

    store = CredentialStore()
    expires_in: float | None = None
    try:
        if args.pkce:
            import httpx

            from outbound_desk.genesys import DEFAULT_REDIRECT_URI

            redirect = profile.redirect_uri or DEFAULT_REDIRECT_URI
            print(
                f"The sign-in comes back to {redirect}: it must be one of the OAuth client's "
                "Authorized redirect URIs, exactly as written (Genesys Cloud Admin > "
                "Integrations > OAuth > the client)",
                file=sys.stderr,
            )
            with httpx.Client(timeout=httpx.Timeout(30, connect=5)) as http:
                flow = PkceFlow(
                    region,
                    client_id,
                    http_client=http,
                    redirect_uri=redirect,
                    open_browser=_open_sign_in_page,
                    timeout_s=_SIGN_IN_S,
                )
                token = flow.sign_in()
            expires_in = token.lifetime
        else:
            # Say so before asking for a secret that could not be kept.
            if not store.is_available():
                try:
                    store.require_available()
                except NoKeyringError as exc:
                    return fail(
                        f"{exc}. The client secret is stored only in the OS keyring, never in a "
                        "file; nothing was saved. Use --pkce, or install and unlock a keyring.",
                        ExitCode.PLATFORM,
                    )
            try:
                secret = _read_secret(args)
            except ValueError as exc:
                return fail(str(exc), ExitCode.USAGE)
            if not secret:
                return fail("an empty client secret: nothing was saved", ExitCode.USAGE)
            register_secret(secret)
            with GenesysClient(region, ClientCredentials(client_id, secret)) as client:
                expires_in = client.tokens.token().lifetime
            store.set_secret(profile.name, secret)
    except NoKeyringError as exc:
        return fail(f"{exc}; nothing was saved", ExitCode.PLATFORM)
    except (NetworkError, ServerError, UnexpectedAnswer) as exc:
        return fail(f"could not reach {region.login_base}: {exc}", ExitCode.PLATFORM)
    except GenesysError as exc:
        return fail(f"sign-in refused: {exc}", ExitCode.REJECTED)

    settings_store = SettingsStore()
    settings = settings_store.load()
    settings.upsert_profile(profile)
    settings.preferences.last_profile = profile.name
    settings_store.save(settings)
    result = {
        "profile": profile.name,
        "region": profile.region,
        "client_id": profile.client_id,
        "auth_method": profile.auth_method,
        "redirect_uri": (profile.redirect_uri or _default_redirect()) if args.pkce else None,
        "secret_store": None if args.pkce else store.backend_name(),
        "token_expires_in": expires_in,
    }
    if args.json:
        print_json(result)
    else:
        where = "" if args.pkce else f"; secret kept in {result['secret_store']}"
        print(f"signed in to {region.api_base} as {client_id}; profile {profile.name} saved{where}")
    return int(ExitCode.OK)


def _default_redirect() -> str:
    from outbound_desk.genesys import DEFAULT_REDIRECT_URI

    return DEFAULT_REDIRECT_URI
