"""Customers' phone numbers in E.164, read in the country of the shop's own number
(or TRACKER_PHONE_REGION), as orders/phones.py stores new ones. A number that cannot
be read stays as it was typed."""

import phonenumbers
from django.conf import settings
from django.db import migrations


def _region(shop_phone: str) -> str:
    try:
        found = phonenumbers.region_code_for_number(phonenumbers.parse(shop_phone, None))
    except phonenumbers.NumberParseException:
        found = None
    return found if found and found != "ZZ" else settings.TRACKER_PHONE_REGION


def to_e164(apps, schema_editor) -> None:  # noqa: ANN001, ARG001
    Order = apps.get_model("orders", "Order")
    regions = {}
    changed = []
    for order in Order.objects.exclude(phone="").select_related("shop").iterator():
        region = regions.setdefault(order.shop_id, _region(order.shop.phone))
        try:
            number = phonenumbers.parse(order.phone, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            order.phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            changed.append(order)
    Order.objects.bulk_update(changed, ["phone"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("orders", "0015_shop_notice")]

    operations = [migrations.RunPython(to_e164, migrations.RunPython.noop)]
