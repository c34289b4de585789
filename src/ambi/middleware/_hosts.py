"""`app.enable_trusted_hosts([...])`, `app.enable_proxy_headers(trusted=[...])` and
`app.enable_https_redirect()`: where the request says it comes from and goes to.

The `Host` header's syntax is checked by the server adapters (a malformed one is a 400
there); trusted hosts is an allow-list on top: a request for any other host gets 400.
Proxy headers are honoured only when the peer is a trusted proxy: `X-Forwarded-For`
gives `request.client` (walking from the right, the first address that is not a trusted
proxy) and `X-Forwarded-Proto` gives `request.scheme` (so `request.url`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..exceptions import ConfigurationError, HTTPException
from ..http import RedirectResponse, Request, Response
from ._builtin import Builtin, check_names
from ._chain import Next

if TYPE_CHECKING:
    from ..app import App

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def host_name(host: str) -> str:
    """`Host` without its port, lower-cased (`[::1]:8000` -> `[::1]`)."""
    if host.startswith("["):
        return host[: host.find("]") + 1].lower()
    return host.rpartition(":")[0].lower() if ":" in host else host.lower()


def _is_host_pattern(name: str) -> bool:
    bare = name[2:] if name.startswith("*.") else name
    if not bare or "*" in bare or "/" in bare or any(c.isspace() for c in bare):
        return False
    return ":" not in bare or (bare.startswith("[") and bare.endswith("]"))


class TrustedHosts(Builtin):
    def __init__(self, hosts: Sequence[str]) -> None:
        names = check_names(hosts, "enable_trusted_hosts")
        if not names:
            raise ConfigurationError("enable_trusted_hosts needs at least one host name")
        self.any = "*" in names
        self.exact = frozenset(n.lower() for n in names if not n.startswith("*."))
        self.suffixes = tuple(n[1:].lower() for n in names if n.startswith("*."))
        for name in names:
            if name != "*" and not _is_host_pattern(name):
                raise ConfigurationError(
                    f"enable_trusted_hosts: {name!r} is not a host name, '*.domain' or '*'"
                )

    def allowed(self, host: str) -> bool:
        name = host_name(host)
        return name in self.exact or (bool(self.suffixes) and name.endswith(self.suffixes))

    def layer(self, app: App, call_next: Next) -> Next:
        if self.any:
            return call_next
        allowed = self.allowed
        error_response = app._error_response

        async def trusted_hosts(request: Request) -> Response:
            host = request.headers.get("host")
            if host is None or not allowed(host):
                return await error_response(request, HTTPException(400, "Invalid host header"))
            return await call_next(request)

        return trusted_hosts


def _networks(trusted: Sequence[str]) -> tuple[bool, tuple[Network, ...]]:
    names = check_names(trusted, "enable_proxy_headers(trusted=...)")
    if not names:
        raise ConfigurationError("enable_proxy_headers needs trusted= proxy addresses")
    if "*" in names:
        return True, ()
    networks = []
    for name in names:
        try:
            networks.append(ipaddress.ip_network(name, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"enable_proxy_headers: {name!r} is not an IP address or network"
            ) from None
    return False, tuple(networks)


class ProxyHeaders(Builtin):
    def __init__(self, trusted: Sequence[str]) -> None:
        self.any, self.networks = _networks(trusted)

    def trusts(self, address: str) -> bool:
        if self.any:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def _client(self, forwarded: str) -> str | None:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else None

    def layer(self, app: App, call_next: Next) -> Next:
        trusts = self.trusts
        client_of = self._client

        async def proxy_headers(request: Request) -> Response:
            peer = request.client
            if peer is not None and trusts(peer[0]):
                headers = request.headers
                forwarded = headers.get("x-forwarded-for")
                if forwarded:
                    client = client_of(forwarded)
                    if client is not None:
                        request.client = (client, 0)
                proto = headers.get("x-forwarded-proto")
                if proto:
                    scheme = proto.split(",")[0].strip().lower()
                    if scheme in ("http", "https"):
                        request.scheme = scheme
            return await call_next(request)

        return proxy_headers


class HTTPSRedirect(Builtin):
    def __init__(self, status_code: int = 307) -> None:
        if status_code not in (301, 302, 307, 308):
            raise ConfigurationError(
                f"enable_https_redirect: status_code must be 301, 302, 307 or 308: {status_code!r}"
            )
        self.status_code = status_code

    def layer(self, app: App, call_next: Next) -> Next:
        status = self.status_code

        async def https_redirect(request: Request) -> Response:
            if request.scheme != "http":
                return await call_next(request)
            host = request.headers.get("host") or request.server or "localhost"
            name = host_name(host)
            port = host[len(name) + 1 :] if len(host) > len(name) else ""
            netloc = name if port in ("", "80", "443") else f"{name}:{port}"
            url = request.url
            target = f"https://{netloc}{url[url.find('/', len('http://')) :]}"
            return RedirectResponse(target, status)

        return https_redirect
