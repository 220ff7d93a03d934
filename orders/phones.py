"""Phone numbers, stated once: read in the shop's country, stored in E.164.

An order's phone is kept as ``+79001234567`` whatever way it was typed ("8 900
123-45-67", "+7 (900) 123 45 67", "900 123 45 67" in a Russian shop; "020 7946
0018" in a British one), so the order lookup compares like with like for any
country. The library is Google's libphonenumber metadata (``phonenumbers``).
"""

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext_lazy as _

EXAMPLE = _("Enter a phone number, e.g. +7 900 123-45-67.")


class InvalidPhone(ValueError):
    """Not a phone number in any form the shop's country allows."""

    def __init__(self) -> None:
        super().__init__(str(EXAMPLE))
        self.message = EXAMPLE


def region(shop_phone: str = "") -> str:
    """The country a shop's customers' numbers are read in: that of the shop's own
    number when it is written with its country code, else TRACKER_PHONE_REGION."""
    try:
        found = phonenumbers.region_code_for_number(phonenumbers.parse(shop_phone, None))
    except phonenumbers.NumberParseException:
        found = None
    return found if found and found != "ZZ" else settings.TRACKER_PHONE_REGION


def normalize(raw: str, country: str) -> str:
    """``raw`` in E.164, read in ``country`` unless it carries its own code; "" stays ""."""
    raw = raw.strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        raise InvalidPhone from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def same(stored: str, typed: str, country: str) -> bool:
    """Whether a customer's typed number is the order's stored one."""
    try:
        return bool(stored) and normalize(typed, country) == stored
    except InvalidPhone:
        return False


def href(phone: str, country: str) -> str:
    """A ``tel:`` link that dials from anywhere; a number that cannot be read keeps its digits."""
    try:
        return "tel:" + normalize(phone, country)
    except InvalidPhone:
        return "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch == "+")
