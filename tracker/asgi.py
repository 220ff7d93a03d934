import os

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")


class OneHopASGIHandler(ASGIHandler):
    """Django's ASGI handler, with the middleware and the view run in one thread call.

    Stock, the middleware chain is built for async: every sync-only middleware
    (WhiteNoise, ours) and the sync views each cross between the event loop and a
    thread (async → sync → async → sync per request). Every view here is sync but
    /healthz, so the chain is built as under WSGI and called once, in the request's
    own thread (Django's per-request ThreadSensitiveContext, as before).
    """

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)


# Django must be set up before anything imports models (the consumers do).
django.setup(set_prefix=False)
django_asgi_app = OneHopASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from orders.routing import websocket_urlpatterns  # noqa: E402
from orders.selectors import warm_templates  # noqa: E402

warm_templates()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
