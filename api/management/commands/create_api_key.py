import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.models import ApiKey
from orders.models import Shop


class Command(BaseCommand):
    help = "Create an API key for a shop and print it (the only time it is shown)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", required=True, help="shop slug")
        parser.add_argument("--name", required=True, help="what the key is for, e.g. POS")
        parser.add_argument("--read-only", action="store_true", help="may read, not write")

    def handle(
        self, *args: object, shop: str, name: str, read_only: bool, **options: object
    ) -> None:
        found = Shop.objects.filter(slug=shop).first()
        if found is None:
            raise CommandError(f"no shop with slug {shop!r}")
        if not name.strip() or len(name) > 80:
            raise CommandError("--name needs 1 to 80 characters")
        key = ApiKey(shop=found, name=name.strip(), can_write=not read_only)
        raw = key.issue()
        key.save()
        sys.stderr.write("Store this key now: it is kept hashed and cannot be shown again.\n")
        self.stdout.write(raw)
