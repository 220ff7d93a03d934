import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from orders import outbox


class Command(BaseCommand):
    help = "Deliver queued e-mails, SMS and webhooks (runs until stopped; --once: drain and exit)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--once", action="store_true", help="deliver what is due, then exit")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between idle checks")

    def handle(self, *args: object, once: bool, poll: float, **options: object) -> None:
        if once:
            total = 0
            while (n := outbox.deliver_due()) > 0:
                total += n
            self.stdout.write(f"{total} attempted")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        try:
            outbox.run(stop, poll)
        finally:
            close_old_connections()
