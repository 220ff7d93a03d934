from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sites.models import Site
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Record the address this installation is served at (make run does), for links "
        "made outside a request. TRACKER_PUBLIC_URL, when set, wins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="e.g. http://127.0.0.1:8000")

    def handle(self, *args: object, **options: str) -> None:
        parts = urlsplit(options["url"])
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise CommandError("Give scheme://host[:port], e.g. http://127.0.0.1:8000")
        base = f"{parts.scheme}://{parts.netloc}"
        Site.objects.update_or_create(
            pk=settings.SITE_ID, defaults={"domain": parts.netloc[:100], "name": base[:50]}
        )
        self.stdout.write(base)
