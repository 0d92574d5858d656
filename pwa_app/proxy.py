"""Who is asking: the one place that turns a connection into a client address (for rate limits, lock-outs and the
audit trail) and says whether it came over HTTPS.

X-Forwarded-For and X-Forwarded-Proto are written by whoever sends the request, so they count only when the
connection comes from one of the reverse proxies listed in CITA_TRUSTED_PROXIES (addresses or networks, comma
separated: uvicorn's `forwarded_allow_ips`). Then X-Forwarded-For is read from the right, past every trusted proxy:
the first address no proxy of ours wrote is the client's, whatever the client put to its left. IPv6 clients are
counted per /64 network, since one phone or home line gets a whole /64 and can change address inside it at will.
"""

import ipaddress
from functools import cache

from pwa_app import settings
from pwa_app.settings import get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class ProxySettingMissing(RuntimeError):
    pass


@cache
def _networks(setting: str) -> tuple:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",")
                 if part.strip() and part.strip() != "none")


def trusted_proxies() -> tuple:
    return _networks(get_settings().trusted_proxies)


def _address(text: str | None) -> IPAddress | None:
    try:
        ip = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    return ip.ipv4_mapped or ip if isinstance(ip, ipaddress.IPv6Address) else ip


def _trusted(ip: IPAddress | None) -> bool:
    return ip is not None and any(ip in net for net in trusted_proxies())


def group(ip: IPAddress) -> str:
    """The key an address is counted under: itself for IPv4, its /64 network for IPv6."""
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_address(headers, peer: str | None) -> str:
    """The client of a request: `headers` maps lower-case names to values, `peer` is the socket's address."""
    ip = _address(peer)
    if _trusted(ip):
        hops = [h for h in (headers.get("x-forwarded-for") or "").split(",") if h.strip()]
        for hop in reversed(hops):
            ip = _address(hop)
            if not _trusted(ip):
                break
        if ip is None:  # our proxy wrote something that is not an address: count it as the proxy itself
            ip = _address(peer)
    return group(ip) if ip else (peer or "unknown")


def forwarded_https(headers, peer: str | None) -> bool:
    """True when a trusted proxy says the client reached it over HTTPS (the last X-Forwarded-Proto value)."""
    proto = (headers.get("x-forwarded-proto") or "").split(",")[-1].strip().lower()
    return proto == "https" and _trusted(_address(peer))


def is_https(scope) -> bool:
    """An ASGI request (or websocket) that came over HTTPS: directly, or through a trusted proxy that says so."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
    return forwarded_https(headers, (scope.get("client") or (None,))[0])


def production() -> bool:
    """Served by `reflex run --env prod` (scripts/run.sh), as opposed to tests and development."""
    return settings.production()


def check_production() -> None:
    """Several workers in production (REDIS_URL) mean a reverse proxy in front: without CITA_TRUSTED_PROXIES the
    whole town would share the proxy's address, and with it one set of limits. Set it to the proxy's address, or
    to `none` when clients really connect directly."""
    if production() and get_settings().redis_url and not get_settings().trusted_proxies:
        raise ProxySettingMissing(
            "CITA_TRUSTED_PROXIES is not set: give the reverse proxy's address (e.g. 127.0.0.1 or 10.0.0.0/8), "
            "or `none` if clients connect to this server directly")
