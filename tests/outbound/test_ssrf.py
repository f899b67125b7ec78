"""The SSRF guard: which addresses and URLs a webhook may go to."""

from __future__ import annotations

import ipaddress

import pytest

from gatewayhub.outbound.ssrf import UnsafeURL, blocked_reason, check_url, system_resolver

from .conftest import FakeResolver

BLOCKED = [
    # IPv4
    ("0.0.0.0", "unspecified"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("100.64.0.1", "100.64.0.0/10"),  # carrier-grade NAT
    ("192.0.0.8", "192.0.0.0/24"),  # IETF protocol assignments
    ("192.0.2.10", "private"),  # TEST-NET-1
    ("198.18.0.1", "private"),  # benchmarking
    ("198.51.100.7", "private"),  # TEST-NET-2
    ("203.0.113.9", "private"),  # TEST-NET-3
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    # IPv6
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456:789a::1", "private"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "private"),  # documentation
    ("100::1", "reserved"),  # discard-only
    ("2001::1", "reserved"),  # Teredo prefix itself
    # IPv4 inside IPv6
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:10.1.2.3", "private"),
    ("::ffff:169.254.169.254", "link-local"),
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
    ("::7f00:1", "loopback"),  # IPv4-compatible 127.0.0.1
]
ALLOWED = [
    "93.184.216.34",
    "1.1.1.1",
    "8.8.8.8",
    "151.101.1.69",
    "2606:4700:4700::1111",
    "2a00:1450:4001:81c::200e",
    "::ffff:93.184.216.34",
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
]


@pytest.mark.parametrize(("address", "why"), BLOCKED)
def test_non_public_addresses_are_blocked(address: str, why: str) -> None:
    reason = blocked_reason(ipaddress.ip_address(address))
    assert reason is not None
    assert why in reason


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example/x", "scheme must be http or https"),
        ("file:///etc/passwd", "scheme must be http or https"),
        ("gopher://hooks.example/", "scheme must be http or https"),
        ("hooks.example/x", "scheme"),
        ("https://user:pass@hooks.example/x", "credentials"),
        ("https://token@hooks.example/x", "credentials"),
        ("https:///x", "no host"),
        ("https://hooks.example/x#frag", "fragment"),
        ("https://hooks.example/" + "a" * 2100, "longer than"),
        ("https://no-such-host.example/x", "does not resolve"),
    ],
)
async def test_bad_urls_are_refused(url: str, message: str) -> None:
    dns = FakeResolver({"hooks.example": ["93.184.216.34"]})
    for allow_private in (False, True):
        with pytest.raises(UnsafeURL) as raised:
            await check_url(url, allow_private=allow_private, resolver=dns)
        assert message in str(raised.value)
        assert raised.value.field == "url"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:8080/hook", "non-public"),
        ("http://[::1]/hook", "non-public"),
        ("http://[::ffff:127.0.0.1]/hook", "non-public"),
        ("http://[::ffff:a9fe:a9fe]/latest/meta-data", "non-public"),
        ("http://169.254.169.254/latest/meta-data", "non-public"),
        ("http://0.0.0.0/", "non-public"),
        ("http://localhost/hook", "non-public"),
        ("http://2130706433/", "non-public"),  # 127.0.0.1 as one decimal number
        ("http://0x7f000001/", "non-public"),  # ... in hex
        ("http://127.1/", "non-public"),
        ("http://10.0.0.1/", "non-public"),
        ("http://0177.0.0.1/", "not a valid URL"),  # octal: the URL parser refuses it
    ],
)
async def test_loopback_and_private_spellings_are_refused(url: str, message: str) -> None:
    """The system resolver turns every spelling into an address; the address is checked."""
    with pytest.raises(UnsafeURL) as raised:
        await check_url(url, allow_private=False, resolver=system_resolver)
    assert message in str(raised.value)


async def test_every_resolved_address_must_be_public() -> None:
    dns = FakeResolver({"mixed.example": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(UnsafeURL) as raised:
        await check_url("https://mixed.example/", allow_private=False, resolver=dns)
    assert "10.0.0.7" in str(raised.value)


async def test_allow_private_lifts_only_the_address_rule() -> None:
    target = await check_url("http://127.0.0.1:9/x", allow_private=True, resolver=system_resolver)
    assert str(target.address) == "127.0.0.1"
    with pytest.raises(UnsafeURL):
        await check_url("http://u:p@127.0.0.1/x", allow_private=True, resolver=system_resolver)


async def test_a_public_name_is_pinned_to_its_checked_address() -> None:
    dns = FakeResolver({"hooks.example": ["2606:4700:4700::1111"]})
    target = await check_url("https://hooks.example:8443/in?x=1", allow_private=False, resolver=dns)
    url, headers, extensions = target.pinned()
    assert str(url) == "https://[2606:4700:4700::1111]:8443/in?x=1"
    assert headers == {"Host": "hooks.example:8443"}
    assert extensions == {"sni_hostname": "hooks.example"}
    assert dns.asked == ["hooks.example"]
