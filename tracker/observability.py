"""Request ids, one-line JSON logs, and no personal data in any log line."""

import contextvars
import json
import logging
import re
import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# E-mail addresses; runs of digits with the usual phone separators; tracking links.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_DIGITS = re.compile(r"\+?\(?\d[\d ()-]{5,}\d")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A tracking link's token opens the order's page: it is as private as the order.
_TOKEN = re.compile(r"/t/[A-Za-z0-9_-]{24}")


def _phone(match: re.Match) -> str:
    run = match.group()
    digits = sum(ch.isdigit() for ch in run)
    # Phone numbers have 10 to 15 digits (E.164); a date or a counter stays readable.
    if not 10 <= digits <= 15 or _DATE.match(run.lstrip("+(")):
        return run
    return "[phone]"


def redact(text: str) -> str:
    """Personal data and tracking tokens out of a log line; dates and numbers kept."""
    return _TOKEN.sub("/t/[token]", _DIGITS.sub(_phone, _EMAIL.sub("[email]", text)))


class RequestIdMiddleware:
    """Take the proxy's X-Request-ID (if sane) or make one; echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _SAFE_ID.match(incoming) else secrets.token_hex(8)
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response["X-Request-ID"] = rid
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, personal data masked, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)
