"""Outbound address policy: a source URI must not make the server fetch from an address the operator did not allow.

:class:`AddressPolicy` resolves a host once, refuses loopback, link-local, private, multicast, reserved,
unspecified and other non-public addresses (IPv4 and IPv6, looking through IPv4-mapped, 6to4 and NAT64
addresses to the IPv4 address inside) unless they fall in ``HYPERDATA_ALLOWED_FETCH_NETWORKS``, and returns the
vetted socket addresses.

:func:`vetted_session` is a ``requests`` session whose connections are opened by that policy, at connect time,
to exactly the address that was checked (the approach of the ``advocate`` library): the check and the connect
use one DNS answer, so DNS rebinding cannot swap the address in between, while the Host header, TLS SNI and
certificate verification keep using the host name. Every connection goes through the check, so each redirect
hop to a new host is vetted too. Environment proxies and ``.netrc`` are ignored (``trust_env = False``): a
proxy would resolve names itself and defeat the check. The cloud providers (S3-compatible endpoints such as
MinIO on a private network) are meant to reuse :class:`AddressPolicy` for their endpoints.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.poolmanager import PoolManager

from .errors import InvalidURIError, LocationNotAllowedError, PermanentStorageError, TransientStorageError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
SETTING = "HYPERDATA_ALLOWED_FETCH_NETWORKS"
# What an endpoint named by a credential row may be beyond the public internet. Link-local (169.254.169.254, the
# cloud metadata service) stays refused even then.
NAMED_ENDPOINT_KINDS = ("private", "loopback", "non-public", "site-local")
# The part of a refusal that tells which addresses a host name resolves to: useful to the operator, but to
# anyone else a probe of the internal network (hide_resolution removes it; hyperdata.middleware applies it).
RESOLUTION = re.compile(r": it resolves to .+?, which (?P<setting>\w+) does not allow")
RESOLUTION_MARK = ": it resolves to "


def hide_resolution(text: str) -> str:
    """``text`` with the addresses a refused host name resolved to replaced by "the host is not allowed"."""
    return RESOLUTION.sub(r": the host is not allowed (\g<setting>)", text) if RESOLUTION_MARK in text else text


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address leads to: IPv4-mapped (::ffff:a.b.c.d), 6to4 (2002::/16) and NAT64."""
    if ip.version != 6:
        return []
    found = [addr for addr in (ip.ipv4_mapped, ip.sixtofour) if addr is not None]
    if any(ip in prefix for prefix in _NAT64_PREFIXES):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _non_public_kind(ip: IPAddress) -> str | None:
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if ip.version == 6 and ip.is_site_local:
        return "site-local"
    if not ip.is_global:
        return "non-public"
    return None


class AddressPolicy:
    """Which IP addresses the server may connect to on behalf of a source URI."""

    def __init__(self, allowed_networks: Iterable[str | IPNetwork] = (), allowed_endpoints: Iterable[tuple[str, int]] = ()):
        # host:port pairs also reachable on private and loopback addresses: a server named by a credential row.
        self.allowed_endpoints = frozenset((host.lower().strip("[]"), int(port)) for host, port in allowed_endpoints)
        networks = []
        for item in allowed_networks:
            try:
                networks.append(ipaddress.ip_network(item.strip() if isinstance(item, str) else item, strict=False))
            except ValueError as exc:
                raise ImproperlyConfigured(f"{SETTING}: {item!r} is not a CIDR network ({exc})") from exc
        self.allowed_networks: tuple[IPNetwork, ...] = tuple(networks)

    @classmethod
    def from_settings(cls, allowed_endpoints: Iterable[tuple[str, int]] = ()) -> AddressPolicy:
        value = getattr(settings, SETTING, ()) or ()
        if isinstance(value, str):
            value = [item for item in value.split(",") if item.strip()]
        return cls(value, allowed_endpoints)

    def _is_allowed(self, ip: IPAddress) -> bool:
        return any(ip in network for network in self.allowed_networks)

    def blocked_reason(self, address: str | IPAddress) -> str | None:
        """Why ``address`` may not be contacted (e.g. ``"loopback"``), or None when it may."""
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        if ip.version == 6 and ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        embedded = _embedded_ipv4(ip)
        if any(self._is_allowed(candidate) for candidate in (ip, *embedded)):
            return None
        # An IPv4-mapped or NAT64 address is its IPv4 address (the IPv6 wrapper's own range says nothing);
        # a 6to4 address is judged both as itself and by the IPv4 address it routes to.
        candidates = embedded if embedded and not ip.sixtofour else [ip, *embedded]
        for candidate in candidates:
            kind = _non_public_kind(candidate)
            if kind:
                return kind if candidate is ip else f"{kind} (embedded {candidate})"
        return None

    def resolve(self, host: str, port: int, *, uri: object = None) -> list[tuple]:
        """Resolve ``host`` once; return the allowed ``(family, type, proto, sockaddr)`` entries, in DNS order.

        Raises :class:`LocationNotAllowedError` when every address is refused, :class:`TransientStorageError` on a
        temporary DNS failure, :class:`PermanentStorageError` when the name does not resolve.
        """
        if not host:
            raise InvalidURIError("the URI has no host", uri)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except UnicodeError as exc:
            raise InvalidURIError(f"invalid host name {host!r}", uri) from exc
        except socket.gaierror as exc:
            if exc.errno in (socket.EAI_AGAIN,):
                raise TransientStorageError(f"temporary DNS failure resolving {host}", uri) from exc
            raise PermanentStorageError(f"cannot resolve host {host} ({exc.strerror})", uri) from exc
        allowed, refused, seen = [], [], set()
        named = (host.lower().strip("[]"), int(port)) in self.allowed_endpoints
        for family, socktype, proto, _canonname, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6) or sockaddr in seen:
                continue
            seen.add(sockaddr)
            reason = self.blocked_reason(sockaddr[0])
            if named and reason and reason.split(" ", 1)[0] in NAMED_ENDPOINT_KINDS:
                reason = None
            if reason:
                refused.append((sockaddr[0], reason))
            else:
                allowed.append((family, socktype, proto, sockaddr))
        if not allowed:
            if not refused:
                raise PermanentStorageError(f"host {host} has no usable IPv4 or IPv6 address", uri)
            listed = ", ".join(f"{address} ({reason})" for address, reason in refused)
            try:
                ipaddress.ip_address(host)
                article = "an" if refused[0][1][0] in "aeiou" else "a"
                what = f"{refused[0][0]}, {article} {refused[0][1]} address"  # the host is an address literal
            except ValueError:
                what = f"{host}{RESOLUTION_MARK}{listed}"
            raise LocationNotAllowedError(f"refused to connect to {what}, which {SETTING} does not allow", uri)
        return allowed


class _VettedConnectionMixin:
    """Connects to an address vetted by the policy instead of letting the socket layer resolve the name again."""

    def __init__(self, *args, address_policy: AddressPolicy, **kwargs):
        self._address_policy = address_policy
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        err: OSError | None = None
        for family, socktype, proto, sockaddr in self._address_policy.resolve(self.host, self.port):
            sock = socket.socket(family, socktype, proto)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                sock.settimeout(self.timeout)
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                err = exc
                sock.close()
        if isinstance(err, TimeoutError):
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from err
        raise NewConnectionError(self, f"Failed to establish a new connection: {err}") from err


class _VettedHTTPConnection(_VettedConnectionMixin, HTTPConnection):
    pass


class _VettedHTTPSConnection(_VettedConnectionMixin, HTTPSConnection):
    pass


class _VettingPoolManager(PoolManager):
    def __init__(self, *args, address_policy: AddressPolicy, **kwargs):
        super().__init__(*args, **kwargs)
        self._address_policy = address_policy

    def _new_pool(self, scheme, host, port, request_context=None):
        pool = super()._new_pool(scheme, host, port, request_context)
        pool.ConnectionCls = _VettedHTTPSConnection if scheme == "https" else _VettedHTTPConnection
        pool.conn_kw = {**pool.conn_kw, "address_policy": self._address_policy}
        return pool


def vetting_pool_manager(policy: AddressPolicy, **kwargs) -> PoolManager:
    """A urllib3 PoolManager whose every connection goes through ``policy`` (for clients that are not requests,
    e.g. botocore's)."""
    return _VettingPoolManager(address_policy=policy, **kwargs)


class VettingHTTPAdapter(HTTPAdapter):
    """A requests transport adapter whose every connection goes through an :class:`AddressPolicy`."""

    def __init__(self, address_policy: AddressPolicy, **kwargs):
        self._address_policy = address_policy
        super().__init__(**kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        self._pool_connections, self._pool_maxsize, self._pool_block = connections, maxsize, block
        self.poolmanager = _VettingPoolManager(
            num_pools=connections, maxsize=maxsize, block=block, address_policy=self._address_policy, **pool_kwargs
        )

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        raise LocationNotAllowedError("fetching through a proxy is not supported (the proxy would resolve names)")


def vetted_session(policy: AddressPolicy | None = None) -> requests.Session:
    """A session that only connects to addresses ``policy`` (default: from settings) allows. Close it after use."""
    session = requests.Session()
    session.trust_env = False  # no environment proxies, no .netrc credentials
    adapter = VettingHTTPAdapter(policy or AddressPolicy.from_settings(), max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
