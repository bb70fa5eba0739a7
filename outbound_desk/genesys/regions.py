"""Genesys Cloud regions and the local sandbox org: which host gets which request."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import httpx

__all__ = ["REGIONS", "Region", "region_for", "sandbox_region"]


@dataclass(frozen=True)
class Region:
    """Where one Genesys Cloud environment (or the sandbox org) serves its API, login and uploads.

    For a real region the three bases are ``https://api.<domain>``, ``https://login.<domain>``
    and ``https://apps.<domain>``; for the sandbox they are all its one loopback base URL.
    """

    key: str
    domain: str
    api_base: str
    login_base: str
    apps_base: str
    sandbox: bool = False

    def is_login_url(self, url: httpx.URL | str) -> bool:
        """True when *url* is this region's own login service, the only place for a secret."""
        return _same_origin(httpx.URL(url), httpx.URL(self.login_base))

    def is_platform_url(self, url: httpx.URL | str) -> bool:
        """True when *url* belongs to this environment, so it may receive the bearer token.

        For a real region that is ``https`` on the default port to one of the region's own
        hosts (``api.``, ``login.``, ``apps.``), nothing else of the domain; for the sandbox,
        its one loopback origin (plain HTTP allowed there only).
        """
        target = httpx.URL(url)
        if self.sandbox:
            return _same_origin(target, httpx.URL(self.api_base))
        return (
            target.scheme == "https"
            and target.port in (None, 443)
            and any(
                _same_origin(target, httpx.URL(base))
                for base in (self.api_base, self.login_base, self.apps_base)
            )
        )

    def is_upload_url(self, url: httpx.URL | str) -> bool:
        """True when *url* may take a file: a presigned storage URL the API handed out.

        Its host is the storage service's, not ours, so any host will do, but for a real
        region only over ``https`` (the URL's query is a write credential); the sandbox,
        on loopback, serves its own over plain HTTP.
        """
        target = httpx.URL(url)
        if not target.host:
            return False
        if self.sandbox:
            return target.scheme in ("http", "https")
        return target.scheme == "https"


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host.lower(), a.port) == (b.scheme, b.host.lower(), b.port)


def _region(key: str, domain: str) -> Region:
    return Region(
        key=key,
        domain=domain,
        api_base=f"https://api.{domain}",
        login_base=f"https://login.{domain}",
        apps_base=f"https://apps.{domain}",
    )


#: Every Genesys Cloud environment, by its AWS-style region key (GENESYS_API.md "Hosts").
REGIONS: dict[str, Region] = {
    r.key: r
    for r in (
        _region("us-east-1", "mypurecloud.com"),
        _region("us-east-2", "use2.us-gov-pure.cloud"),  # FedRAMP
        _region("us-west-2", "usw2.pure.cloud"),
        _region("ca-central-1", "cac1.pure.cloud"),
        _region("sa-east-1", "sae1.pure.cloud"),
        _region("mx-central-1", "mxc1.pure.cloud"),
        _region("eu-west-1", "mypurecloud.ie"),
        _region("eu-west-2", "euw2.pure.cloud"),
        _region("eu-central-1", "mypurecloud.de"),
        _region("eu-central-2", "euc2.pure.cloud"),
        _region("me-central-1", "mec1.pure.cloud"),
        _region("ap-south-1", "aps1.pure.cloud"),
        _region("ap-southeast-1", "apse1.pure.cloud"),
        _region("ap-southeast-2", "mypurecloud.com.au"),
        _region("ap-northeast-1", "mypurecloud.jp"),
        _region("ap-northeast-2", "apne2.pure.cloud"),
        _region("ap-northeast-3", "apne3.pure.cloud"),
        _region("eusc-de-east-1", "edee1.eusc-pure.cloud"),  # EU Sovereign Cloud
    )
}


def region_for(key: str) -> Region:
    """The region for *key* (``us-east-1``) or for its domain (``mypurecloud.com``)."""
    wanted = key.strip().lower()
    if wanted in REGIONS:
        return REGIONS[wanted]
    for region in REGIONS.values():
        if wanted in (region.domain, f"api.{region.domain}"):
            return region
    known = ", ".join(REGIONS)
    raise ValueError(f"unknown Genesys Cloud region {key!r}; pick one of: {known}")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sandbox_region(base_url: str) -> Region:
    """The sandbox org served at *base_url*, which must be on this machine (loopback).

    Plain HTTP is allowed here only: nothing but the sandbox's own credentials ever travels.
    """
    url = httpx.URL(base_url.strip())
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"sandbox URL {base_url!r} must look like http://127.0.0.1:8765")
    if not _is_loopback(url.host):
        raise ValueError(
            f"sandbox URL {base_url!r} is not on this machine; the sandbox runs on loopback only "
            "(127.0.0.1, ::1 or localhost)"
        )
    base = str(url.copy_with(path="/", query=None, fragment=None)).rstrip("/")
    return Region(
        key="sandbox",
        domain=url.host,
        api_base=base,
        login_base=base,
        apps_base=base,
        sandbox=True,
    )
