"""A shop's logo: which images are accepted, and how one is stored and replaced."""

import hashlib

from django.db import transaction

from .models import Shop, ShopLogo

MAX_BYTES = 200_000

# First bytes of the accepted formats. SVG is refused: it can carry script.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def image_type(data: bytes) -> str | None:
    """The content type of a PNG, JPEG or WebP image by its first bytes; None otherwise."""
    for signature, content_type in SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@transaction.atomic
def set_logo(shop: Shop, data: bytes | None) -> None:
    """Store the shop's new logo (checked by the caller), or remove it (None)."""
    if data is None:
        ShopLogo.objects.filter(shop=shop).delete()
        shop.logo_hash = ""
    else:
        ShopLogo.objects.update_or_create(
            shop=shop, defaults={"content_type": image_type(data), "data": data}
        )
        shop.logo_hash = hashlib.sha256(data).hexdigest()[:16]
    shop.save(update_fields=["logo_hash"])
