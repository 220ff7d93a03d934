"""A strict Content-Security-Policy on every response, with a nonce per request.

No inline script anywhere; the one inline <style> (a shop's brand colour) carries
the nonce. Pages may only be framed by ourselves, except the embeds, whose views
set `response.frame_ancestors` to the shop's listed origins (orders.embed).
"""

import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

BASE_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'nonce-{nonce}'",
    "img-src 'self' data:",
    "font-src 'self'",
    # 'self' covers ws:// and wss:// to this host (CSP Level 3).
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)


def policy(nonce: str, frame_ancestors: list[str] | None) -> str:
    """frame_ancestors: None for our own pages ('self'), a list for an embed ([] = nobody)."""
    ancestors = "'self'" if frame_ancestors is None else " ".join(frame_ancestors) or "'none'"
    parts = [part.format(nonce=nonce) for part in BASE_POLICY]
    return "; ".join([*parts, f"frame-ancestors {ancestors}"])


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy(
                request.csp_nonce, getattr(response, "frame_ancestors", None)
            )
        return response


def nonce(request: HttpRequest) -> dict[str, str]:
    """Template context: {{ csp_nonce }}."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
