"""Connecting to an org from ``--profile NAME`` or ``--sandbox URL``: the one place for it.

Every command that talks to the platform adds these options with :func:`add_connection_args`
and gets a client from :func:`connect`. ``--sandbox URL`` signs in to a local sandbox org with
its well-known credentials; a profile takes its region and client id from the settings and its
secret from the OS keyring (never from anywhere else).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from outbound_desk.cli._common import ExitCode

if TYPE_CHECKING:
    from outbound_desk.config import OrgProfile
    from outbound_desk.genesys import GenesysClient, Region

#: How long a command waits for a person to finish the browser sign-in.
SIGN_IN_TIMEOUT_S = 120.0

SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - the sandbox's public, well-known secret


class ConnectError(Exception):
    """The connection options do not lead to an org; ``str(e)`` says what to do."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--profile",
        metavar="NAME",
        help="org profile to use (made with 'outbound-desk login'; default: the last one used)",
    )
    group.add_argument(
        "--sandbox",
        metavar="URL",
        help="use the local sandbox org at URL (e.g. http://127.0.0.1:8765) with its built-in "
        "credentials",
    )


def region_of(profile: OrgProfile) -> Region:
    from outbound_desk.genesys import region_for, sandbox_region

    if profile.region == "sandbox":
        return sandbox_region(profile.sandbox_url or "")
    return region_for(profile.region)


def signed_in_as(args: argparse.Namespace) -> str | None:
    """Who the options sign in as (``OrgProfile.signed_in_as``), for the ledger's "by"; None
    when the profile cannot be found (``connect`` says why)."""
    if getattr(args, "sandbox", None):
        return f"client {SANDBOX_CLIENT_ID}"
    from outbound_desk.config import SettingsStore

    settings = SettingsStore().load()
    name = getattr(args, "profile", None) or settings.preferences.last_profile
    profile = settings.profile(name) if name else None
    return profile.signed_in_as if profile is not None else None


def connect(args: argparse.Namespace) -> tuple[GenesysClient, str]:
    """A client for the org the options name, and a label for it (profile name or URL)."""
    from outbound_desk.genesys import ClientCredentials, GenesysClient, sandbox_region

    if getattr(args, "sandbox", None):
        try:
            region = sandbox_region(args.sandbox)
        except ValueError as exc:
            raise ConnectError(str(exc), ExitCode.USAGE) from None
        creds = ClientCredentials(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
        return GenesysClient(region, creds), f"sandbox {region.api_base}"

    from outbound_desk.config import CredentialStore, NoKeyringError, SettingsStore

    settings = SettingsStore().load()
    name = getattr(args, "profile", None) or settings.preferences.last_profile
    if not name:
        raise ConnectError(
            "no org to connect to: pass --profile NAME (create one with 'outbound-desk login') "
            "or --sandbox URL",
            ExitCode.USAGE,
        )
    profile = settings.profile(name)
    if profile is None:
        known = ", ".join(p.name for p in settings.profiles) or "none yet"
        raise ConnectError(
            f"no profile named {name!r} (profiles: {known}); create it with "
            f"'outbound-desk login --profile {name} --region REGION'",
            ExitCode.USAGE,
        )
    try:
        region = region_of(profile)
    except ValueError as exc:
        raise ConnectError(f"profile {name!r}: {exc}", ExitCode.USAGE) from None
    if profile.auth_method == "pkce":
        return _connect_pkce(profile, region), name
    try:
        secret = CredentialStore().get_secret(name)
    except NoKeyringError as exc:
        raise ConnectError(
            f"{exc}. The client secret of profile {name!r} lives only in the OS keyring.",
            ExitCode.PLATFORM,
        ) from None
    if not secret:
        raise ConnectError(
            f"no client secret stored for profile {name!r}; run "
            f"'outbound-desk login --profile {name} --region {profile.region}' first",
            ExitCode.USAGE,
        )
    creds = ClientCredentials(profile.client_id, secret)
    return GenesysClient(region, creds), name


def _can_ask_a_person() -> bool:
    """True when a person may be at this command: stdin and stderr are a terminal."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def _connect_pkce(profile: OrgProfile, region: Region) -> GenesysClient:
    """A client for a browser sign-in profile, signed in before any work starts.

    Never waits silently: it says on stderr that the profile signs in through the browser,
    opens it and shows the address, and waits at most :data:`SIGN_IN_TIMEOUT_S`. Where no
    browser opens and no person is at a terminal (a scheduled job) it stops at once (exit 2).
    Later renewals (no refresh token for PKCE, most likely) sign in again the same way.
    """
    import webbrowser

    from outbound_desk.genesys import (
        DEFAULT_REDIRECT_URI,
        AuthenticationError,
        Cancelled,
        GenesysClient,
        NetworkError,
        PkceFlow,
        ReauthenticationRequired,
        ServerError,
        Token,
        TokenProvider,
    )

    name = profile.name
    redirect = profile.redirect_uri or DEFAULT_REDIRECT_URI
    unattended = (
        f"profile {name!r} signs in through the browser (PKCE), which needs a person at this "
        "machine, and no browser opened here and there is no terminal to show the address. "
        f"Run the command in a terminal on a machine with a browser (sign in once with "
        f"'outbound-desk login --profile {name} --region {profile.region} --client-id "
        f"{profile.client_id} --pkce'), or use a client-credentials profile for scheduled jobs"
    )

    def open_browser(url: str) -> bool:
        print(
            f"Profile {name} signs in through the browser: opening it to sign in to Genesys "
            f"Cloud (waiting up to {SIGN_IN_TIMEOUT_S:.0f} s; Ctrl-C to stop)...",
            file=sys.stderr,
        )
        opened = bool(webbrowser.open(url))
        if not opened:
            if not _can_ask_a_person():
                raise ReauthenticationRequired(unattended)
            print(
                f"No browser opened: open this address in a browser on this machine:\n{url}",
                file=sys.stderr,
            )
        return opened

    flows: list[PkceFlow] = []

    def sign_in() -> Token:
        # The flow shares the client's own httpx client (made just below), so closing the
        # client closes everything.
        return flows[0].token()

    client = GenesysClient(region, TokenProvider(sign_in))
    try:
        flows.append(
            PkceFlow(
                region,
                profile.client_id,
                http_client=client.http,
                redirect_uri=redirect,
                open_browser=open_browser,
                timeout_s=SIGN_IN_TIMEOUT_S,
            )
        )
        client.tokens.token()
    except BaseException as exc:
        client.close()
        if isinstance(exc, ValueError):  # a redirect URI the app cannot listen on
            raise ConnectError(f"profile {name!r}: {exc}", ExitCode.USAGE) from None
        if isinstance(exc, ReauthenticationRequired):
            raise ConnectError(exc.message, ExitCode.USAGE) from None
        if isinstance(exc, (NetworkError, ServerError)):
            raise ConnectError(
                f"could not reach {region.login_base} to sign in: {exc}", ExitCode.PLATFORM
            ) from None
        if isinstance(exc, AuthenticationError) and "no answer" in exc.message:
            raise ConnectError(
                f"profile {name!r}: {exc.message}: nobody finished the sign-in in the browser. "
                f"If the browser showed an error about the redirect URI, register {redirect} "
                "on the OAuth client (Authorized redirect URIs), exactly as written",
                ExitCode.PLATFORM,
            ) from None
        if isinstance(exc, AuthenticationError):
            raise ConnectError(f"browser sign-in failed: {exc}", ExitCode.REJECTED) from None
        if isinstance(exc, Cancelled):
            raise ConnectError("sign-in cancelled", ExitCode.PLATFORM) from None
        raise
    return client
