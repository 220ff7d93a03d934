"""When the database cannot be reached: a clear 503, never a bare 500.

Every change is one transaction (orders.services), so a failed request has
written nothing; the answer says so and asks to retry. The pages and sockets
keep their last state and resync when the database returns.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.translation import gettext as _

log = logging.getLogger("tracker.unavailable")
RETRY_AFTER_SECONDS = "5"


def message() -> str:
    return _(
        "The service is briefly unavailable: nothing was changed. Please try again in a moment."
    )


def json_response() -> JsonResponse:
    response = JsonResponse({"detail": message()}, status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: object) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.error("database unavailable: %s", exception)
        if request.path.startswith("/api/"):
            return json_response()
        if request.headers.get("HX-Request"):
            # The board keeps its last state; only the message line changes.
            response = HttpResponse(
                format_html(
                    '<div id="flash" class="flash" role="alert" hx-swap-oob="innerHTML">{}</div>',
                    message(),
                ),
                status=503,
            )
            response["HX-Reswap"] = "none"
        else:
            response = render(request, "503.html", {"message": message()}, status=503)
        response["Retry-After"] = RETRY_AFTER_SECONDS
        return response
