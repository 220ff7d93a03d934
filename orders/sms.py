"""SMS behind a small interface: real providers plug in later via settings.SMS_BACKEND.

A backend is a class with `send(phone, text)` that returns nothing and raises on
failure (the outbox then retries). The default only logs, with the number masked.
"""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("tracker.sms")


class LoggingBackend:
    def send(self, phone: str, text: str) -> None:
        log.info("sms to %s: %s", phone, text)


def get_backend() -> object:
    return import_string(settings.SMS_BACKEND)()
