"""Who a request or a socket comes from, as the nearest trusted proxy saw it."""

from django.conf import settings


def client_address(remote: str | None, forwarded_for: str = "") -> str | None:
    """The client's address.

    Each proxy appends the address it was called from to X-Forwarded-For, so with
    TRACKER_TRUSTED_PROXIES proxies in front, that many entries from the right are
    theirs to vouch for; anything left of them the client may have written itself
    (Daphne's --proxy-headers takes the left-most, which a client chooses). With no
    trusted proxy: the connection's own address (`remote`). None when there is none
    (a request made in-process, such as a test client's sign-in).
    """
    trusted = settings.TRACKER_TRUSTED_PROXIES
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    if trusted and len(hops) >= trusted:
        return hops[-trusted]
    return remote or None


def request_client_address(request: object) -> str | None:
    """client_address() of a Django request."""
    meta = request.META
    return client_address(meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR", ""))
