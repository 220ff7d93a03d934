"""Where webhooks may go: http(s) to public addresses only.

A shop types a URL and our server calls it: without a check, that is a way into
the operator's own network (cloud metadata at 169.254.169.254, databases on
10.x, the admin on localhost). The URL is checked when it is saved, and again at
every send on the address actually connected to, so a name that resolves to a
public address when saved and to a private one later (DNS rebinding) gets no
request. TRACKER_WEBHOOKS_ALLOW_PRIVATE lets an on-premise install call its own
network.
"""

import http.client
import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class RefusedDestination(Exception):
    """Not a place webhooks may go. The message names no address: it is stored and shown."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_address(address: str) -> None:
    if not settings.TRACKER_WEBHOOKS_ALLOW_PRIVATE and not _is_public(address):
        raise RefusedDestination(_("The webhook URL does not lead to a public address."))


def check_url(url: str, resolve: bool = True) -> None:
    """Refuse anything but http(s) to a public host; `resolve`: look the name up too."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedDestination(_("A webhook URL must start with http:// or https://."))
    host = parts.hostname
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            addresses = ["127.0.0.1"]
        elif not resolve:
            return
        else:
            try:
                infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as error:
                raise RefusedDestination(
                    _("The webhook URL's host name does not resolve.")
                ) from error
            addresses = [info[4][0] for info in infos]
    for address in addresses:
        check_address(address)


class _CheckedHTTP(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        check_address(self.sock.getpeername()[0])  # before a byte of the request


class _CheckedHTTPS(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        check_address(self.sock.getpeername()[0])


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_CheckedHTTP, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_CheckedHTTPS, req)  # the default, verifying TLS context


def handlers() -> list[urllib.request.BaseHandler]:
    """urllib handlers that connect only to addresses check_address allows."""
    return [_HTTPHandler(), _HTTPSHandler()]
