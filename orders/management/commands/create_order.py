import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.urls import reverse
from django.utils import translation

from orders import services
from orders.models import Shop
from tracker.publicurl import public_base


class Command(BaseCommand):
    help = "Create an order and print its absolute tracking URL as the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", required=True, help="shop slug")
        parser.add_argument("--number", required=True, help="the shop's own order number")
        parser.add_argument("--customer", required=True, help="customer display name")
        parser.add_argument("--workflow", help="workflow key (default: the shop's first)")
        parser.add_argument("--phone", default="")
        parser.add_argument("--email", default="")

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: object) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str) -> None:
            sys.stderr.write(f"create_order: {message}\n")
            sys.exit(2)

        parser.error = one_line_error
        return parser

    def execute(self, *args: object, **options: object) -> str | None:
        # One line on stderr and exit code 2 for any bad argument, never a traceback.
        try:
            return super().execute(*args, **options)
        except CommandError as error:
            sys.stderr.write(f"create_order: {error}\n")
            sys.exit(2)

    def handle(self, *args: object, **options: str) -> None:
        shop = Shop.objects.filter(slug=options["shop"]).first()
        if shop is None:
            raise CommandError(f"no shop with slug {options['shop']!r}")
        try:
            with translation.override("en"):
                workflow = services.pick_workflow(shop, options["workflow"])
        except services.ActionRefused as refused:
            raise CommandError(refused.message) from None
        if options["email"]:
            try:
                validate_email(options["email"])
            except ValidationError:
                raise CommandError(f"not an e-mail address: {options['email']!r}") from None
        for name, limit in (("number", 40), ("customer", 80), ("phone", 32)):
            if len(options[name]) > limit:
                raise CommandError(f"--{name} is longer than {limit} characters")
        try:
            # The command speaks English throughout, service messages included.
            with translation.override("en"):
                order = services.create_order(
                    shop=shop,
                    workflow=workflow,
                    number=options["number"],
                    customer_name=options["customer"],
                    phone=options["phone"],
                    email=options["email"],
                )
        except services.ActionRefused as refused:
            raise CommandError(refused.message) from None
        base = public_base()
        self.stdout.write(f"{base}{reverse('orders:track', args=[order.token])}")
