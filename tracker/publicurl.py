"""The site's public address, for links that leave a request: e-mails, SMS, webhooks,
the API's URLs and the commands' output.

TRACKER_PUBLIC_URL when set (production sets it). Otherwise the address `make run`
recorded with `manage.py set_public_url` in Django's sites framework, so a server
started on another port, the delivery worker and a `create_order` typed in another
terminal all give the same, working links without any setting.
"""

from django.conf import settings
from django.contrib.sites.models import Site

DEVELOPMENT = "http://127.0.0.1:8000"


def public_base() -> str:
    if settings.TRACKER_PUBLIC_URL:
        return settings.TRACKER_PUBLIC_URL.rstrip("/")
    try:
        recorded = Site.objects.get_current().name  # cached per process after the first read
    except Site.DoesNotExist:
        return DEVELOPMENT
    return recorded.rstrip("/") if recorded.startswith(("http://", "https://")) else DEVELOPMENT
