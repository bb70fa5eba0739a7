from __future__ import annotations

import pytest

from outbound_desk.genesys import REGIONS, region_for, sandbox_region


def test_every_environment_of_the_api_facts_is_a_region() -> None:
    domains = {r.domain for r in REGIONS.values()}
    assert domains == {
        "mypurecloud.com", "use2.us-gov-pure.cloud", "usw2.pure.cloud", "cac1.pure.cloud",
        "sae1.pure.cloud", "mxc1.pure.cloud", "mypurecloud.ie", "euw2.pure.cloud",
        "mypurecloud.de", "euc2.pure.cloud", "mec1.pure.cloud", "aps1.pure.cloud",
        "apse1.pure.cloud", "mypurecloud.com.au", "mypurecloud.jp", "apne2.pure.cloud",
        "apne3.pure.cloud", "edee1.eusc-pure.cloud",
    }  # fmt: skip
    assert len(REGIONS) == 18


def test_regions_match_the_official_sdk_region_hosts() -> None:
    """Every region of the official SDK (PureCloudRegionHosts), under the same key and API host."""
    sdk = pytest.importorskip(
        "PureCloudPlatformClientV2.purecloud_region_hosts",
        reason="the official SDK (purecloudplatformclientv2) is not installed",
    )
    official = {h.name.replace("_", "-"): h.get_api_host() for h in sdk.PureCloudRegionHosts}
    ours = {key: region.api_base for key, region in REGIONS.items()}
    assert ours == official


def test_eu_sovereign_cloud_hosts() -> None:
    region = region_for("eusc-de-east-1")
    assert region.api_base == "https://api.edee1.eusc-pure.cloud"
    assert region.login_base == "https://login.edee1.eusc-pure.cloud"
    assert region.apps_base == "https://apps.edee1.eusc-pure.cloud"
    assert region_for("api.edee1.eusc-pure.cloud") is region
    assert region.is_platform_url("https://apps.edee1.eusc-pure.cloud/uploads/v2/contactlist")
    assert region.is_login_url("https://login.edee1.eusc-pure.cloud/oauth/token")
    assert not region.is_platform_url("https://api.eusc-pure.cloud/api/v2")


def test_region_hosts() -> None:
    region = region_for("eu-west-1")
    assert region.api_base == "https://api.mypurecloud.ie"
    assert region.login_base == "https://login.mypurecloud.ie"
    assert region.apps_base == "https://apps.mypurecloud.ie"
    assert region_for("mypurecloud.ie") is region
    assert region_for(" EU-WEST-1 ") is region


def test_unknown_region_names_the_choices() -> None:
    with pytest.raises(ValueError, match="us-east-1"):
        region_for("mars-north-1")


def test_login_and_platform_host_rules() -> None:
    region = region_for("us-east-1")
    assert region.is_login_url("https://login.mypurecloud.com/oauth/token")
    assert not region.is_login_url("https://api.mypurecloud.com/oauth/token")
    assert not region.is_login_url("http://login.mypurecloud.com/oauth/token")
    assert not region.is_login_url("https://login.mypurecloud.ie/oauth/token")
    assert region.is_platform_url("https://apps.mypurecloud.com/uploads/v2/contactlist")
    assert not region.is_platform_url("https://evilmypurecloud.com/x")
    assert not region.is_platform_url("https://s3.amazonaws.com/bucket/key")
    assert not region.is_platform_url("http://api.mypurecloud.com/api/v2")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765", "http://localhost:1/", "http://[::1]:9000", "http://127.0.0.2"]
)
def test_sandbox_accepts_loopback(url: str) -> None:
    region = sandbox_region(url)
    assert region.sandbox
    assert region.api_base == region.login_base == region.apps_base
    assert not region.api_base.endswith("/")
    assert region.is_login_url(region.login_base + "/oauth/token")
    assert region.is_platform_url(region.api_base + "/api/v2/outbound/contactlists")
    assert not region.is_platform_url("http://example.com/api")


@pytest.mark.parametrize(
    "url", ["http://example.com:8765", "http://10.0.0.5:80", "ftp://127.0.0.1/", "127.0.0.1"]
)
def test_sandbox_refuses_other_hosts(url: str) -> None:
    with pytest.raises(ValueError, match="sandbox"):
        sandbox_region(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.mypurecloud.com:8443/api/v2/outbound/contactlists",  # another port
        "https://login.mypurecloud.com:444/oauth/token",
        "https://evil.mypurecloud.com/api/v2",  # another host of the domain
        "https://mypurecloud.com/api/v2",
        "https://api.api.mypurecloud.com/api/v2",
        "http://apps.mypurecloud.com/uploads/v2/contactlist",
    ],
)
def test_a_real_region_takes_the_token_on_its_own_https_hosts_only(url: str) -> None:
    """Issue 16 item 13: https and the region's api./login./apps. hosts, default port only."""
    region = region_for("us-east-1")
    assert not region.is_platform_url(url)
    assert region.is_platform_url("https://api.mypurecloud.com:443/api/v2/outbound/contactlists")
    assert region.is_platform_url("https://apps.mypurecloud.com/uploads/v2/contactlist")
    assert region.is_platform_url("https://login.mypurecloud.com/oauth/token")


def test_presigned_upload_urls_must_be_https_for_a_real_region() -> None:
    region = region_for("eu-west-1")
    assert region.is_upload_url("https://bucket.s3.eu-west-1.amazonaws.com/k?X-Amz-Signature=x")
    assert not region.is_upload_url("http://bucket.s3.eu-west-1.amazonaws.com/k")
    assert not region.is_upload_url("ftp://bucket/k")
    assert not region.is_upload_url("")
    sandbox = sandbox_region("http://127.0.0.1:8765")
    assert sandbox.is_upload_url("http://127.0.0.1:8765/uploads/presigned/abc")
