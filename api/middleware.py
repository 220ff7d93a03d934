"""Before the API parses anything: body size and type; after: every error is JSON."""

import json
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation

PREFIX = "/api/"


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


class ApiGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        if "Accept-Language" not in request.headers:
            # Messages in English unless the client asks for another language.
            translation.activate("en")
            request.LANGUAGE_CODE = "en"
        refused = self._check_body(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            # Django's own 404/405/500 pages are HTML; an API client gets JSON.
            error = _error(response.status_code, response.reason_phrase)
            if "Allow" in response:
                error["Allow"] = response["Allow"]
            return error
        return response

    def _check_body(self, request: HttpRequest) -> JsonResponse | None:
        if request.method not in ("POST", "PUT", "PATCH"):
            return None
        limit = settings.TRACKER_API_MAX_BODY_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(400, "Content-Length is not a number.")
        if declared > limit:
            return _error(413, f"The body is larger than {limit} bytes.")
        try:
            size = len(request.body)
        except RequestDataTooBig:
            size = limit + 1
        if size > limit:
            return _error(413, f"The body is larger than {limit} bytes.")
        content_type = request.content_type or ""
        if size and content_type != "application/json":
            return _error(415, "Send JSON with Content-Type: application/json.")
        if size:
            try:
                body = json.loads(request.body)
            except RecursionError:
                return _error(400, f"The JSON is nested deeper than {MAX_DEPTH} levels.")
            except (ValueError, UnicodeDecodeError):
                return _error(400, "The body is not valid JSON.")
            if _deeper_than(body, MAX_DEPTH):
                # Validation would recurse through it (a 500 at about a thousand levels).
                return _error(400, f"The JSON is nested deeper than {MAX_DEPTH} levels.")
        return None


# No request of ours nests more than three levels; this leaves room and no more.
MAX_DEPTH = 16


def _deeper_than(value: object, limit: int) -> bool:
    """Whether lists and objects nest more than `limit` levels (no recursion here)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in item)
    return False
