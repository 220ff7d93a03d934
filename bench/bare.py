"""The settled stack alone (Daphne, Django, Channels, PostgreSQL), for the bench's floors.

Each endpoint does only what any live tracker must, with no rendering and no Tracker
code, so what it serves on this box, measured by the same load generators as Tracker
(`make bench`), is the floor under Tracker's figure:

- a tracking socket passes the origin check, joins its order's group, accepts and
  sends a fixed fragment the size of Tracker's (about 3 KB);
- a tap (`/staff/orders/<pk>/advance/` or `undo/`, signed in, CSRF-checked) locks the
  order, checks the version, moves it on, appends an event, commits, and sends a
  fixed fragment with the new version to the order's group;
- the tracking page (`/t/<token>/`) reads the order's version by its token and
  answers a fixed page the size of Tracker's (about 6 KB).

It writes the bench's own database only: versions move on and staff-only events are
added, as real taps would.
"""

from tracker.asgi import django_asgi_app  # sets Django up: import it before any model

# isort: split
from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from orders.models import Order, OrderEvent
from tracker.views import healthz

FILLER = "x" * 3000


def fragment(version: int) -> str:
    return f'<section id="progress" data-version="{version}">{FILLER}</section>'


def group(token: str) -> str:
    return f"order.{token}.en"


@require_GET
def page(request: HttpRequest, token: str) -> HttpResponse:
    version = Order.objects.values_list("version", flat=True).get(token=token)
    return HttpResponse(f"<!doctype html><title>Order</title>{fragment(version)}{FILLER}")


@login_required
@require_POST
def tap(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    expected = int(request.POST["version"])
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .only("pk", "token", "version", "stage_id")
            .get(pk=pk, shop__memberships__user=request.user)
        )
        if order.version != expected:
            return HttpResponse("stale", status=409)
        Order.objects.filter(pk=pk).update(version=F("version") + 1)
        OrderEvent.objects.create(
            order_id=pk,
            version=expected + 1,
            kind=OrderEvent.Kind.NOTE,
            stage_id=order.stage_id,
            by=request.user,
            text=action,
            public=False,
        )
        html = fragment(expected + 1)
        transaction.on_commit(
            lambda: async_to_sync(get_channel_layer().group_send)(
                group(order.token), {"type": "push", "html": html}
            )
        )
    return HttpResponse(html)


urlpatterns = [
    path("healthz", healthz),
    path("t/<str:token>/", page),
    path("staff/orders/<int:pk>/<str:action>/", tap),
]
# This module is the whole site of the process that serves it.
settings.ROOT_URLCONF = __name__


class BareTrackConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(
            group(self.scope["url_route"]["kwargs"]["token"]), self.channel_name
        )
        await self.accept()
        await self.send(text_data=fragment(1))

    async def push(self, event: dict) -> None:
        await self.send(text_data=event["html"])


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            URLRouter([path("ws/t/<str:token>/", BareTrackConsumer.as_asgi())])
        ),
    }
)
