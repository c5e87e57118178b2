"""The client's network address: the socket's peer, or, behind a proxy the configuration
names (CONTACTPOINT_TRUSTED_PROXIES), the address that proxy saw.

X-Forwarded-For is whatever the caller wrote, unless a proxy we run appended to it: so it
is read only when the peer is one of ours, and from the right, skipping our own proxies;
the first address that is not one of ours is the client. Without the setting, the header
is ignored and a caller cannot pick the address its throttles are counted under.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _ours(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
    networks: tuple[Network, ...] = settings.CONTACTPOINT_TRUSTED_PROXIES
    return address is not None and any(address in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The address throttles and the audit count a request under."""
    peer = str(request.META.get("REMOTE_ADDR", ""))
    if not _ours(_address(peer)):
        return peer
    client = peer
    hops = [h for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # not written by a proxy of ours: stop at the last hop we trust
        client = str(address)
        if not _ours(address):
            break
    return client
