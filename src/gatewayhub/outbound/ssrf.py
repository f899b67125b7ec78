"""Which webhook URLs gatewayhub will call: the server-side request forgery guard.

A merchant chooses the URL, so without a guard an endpoint could make the gateway POST into
its own network (a metadata service, an admin port on localhost). A URL is refused unless it
is http(s), carries no credentials, and every address its host resolves to is a global
unicast address. The check runs at registration and again before every delivery, and the
delivery then connects to the address that was checked (`Target.pinned`), so a DNS answer
that changes in between (rebinding) cannot redirect the request.

`allow_private` (the `allow_private_webhook_urls` setting, for tests and local demos) lifts
the address rule only; scheme and credential rules always apply.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from gatewayhub.errors import InvalidRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""(host, port) -> the addresses a connection could go to."""

MAX_URL_LENGTH = 2048
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# IANA special-purpose ranges that are not globally reachable, listed here as well because
# the flags of `ipaddress` have changed between Python patch releases.
_SPECIAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
    )
)
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class UnsafeURL(InvalidRequest):
    """The webhook URL is not one gatewayhub will call."""

    code = "unsafe_url"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="url")


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (getaddrinfo), without blocking the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries, for the forms a network may route to it."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def blocked_reason(address: IPAddress) -> str | None:
    """Why a webhook must not be sent to `address`, or None if it may."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = blocked_reason(embedded)
            if inner is not None:
                return f"{inner} (inside {address})"
            if address.ipv4_mapped or address.sixtofour or address in _NAT64:
                return None  # the packets go to that public IPv4 address
    for name, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    ):
        if flag:
            return f"{address} is a {name} address"
    for network in _SPECIAL:
        if address.version == network.version and address in network:
            return f"{address} is in the special-purpose range {network}"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def parse_url(url: str) -> httpx.URL:
    """Check the URL's shape: http(s), a host, no credentials, not too long."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise UnsafeURL(f"not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise UnsafeURL(f"scheme must be http or https, not {parsed.scheme or 'missing'!r}")
    if parsed.userinfo:
        raise UnsafeURL("credentials in the URL are not allowed; use the signing secret")
    if not parsed.host:
        raise UnsafeURL("the URL has no host")
    if parsed.fragment:
        raise UnsafeURL("a fragment (#...) is never sent; remove it")
    return parsed


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL and the address the request will go to."""

    url: httpx.URL
    address: IPAddress

    def pinned(self) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
        """URL, headers and extensions that connect to the checked address while speaking
        to the named host: the Host header and TLS (SNI and certificate name) keep the name."""
        host = self.url.host
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return (
                self.url.copy_with(host=str(self.address)),
                {"Host": self.url.netloc.decode("ascii")},
                {"sni_hostname": host},
            )
        return self.url, {}, {}


async def check_url(url: str, *, allow_private: bool, resolver: Resolver) -> Target:
    """Raise `UnsafeURL` unless gatewayhub may POST to `url`; return where it would go."""
    parsed = parse_url(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        found = await resolver(parsed.host, port)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURL(f"the host {parsed.host!r} does not resolve ({exc})") from None
    if not found:
        raise UnsafeURL(f"the host {parsed.host!r} does not resolve")
    addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
    if not allow_private:
        # Every address, not only the first: the connection could go to any of them.
        for address in addresses:
            reason = blocked_reason(address)
            if reason is not None:
                raise UnsafeURL(f"{parsed.host} resolves to a non-public address: {reason}")
    return Target(parsed, addresses[0])
