"""The settled stack alone (Daphne, Channels, the channel layer), for the bench's floor.

A tracking socket here does only what any live tracker must: pass the origin check,
join its order's group, accept, and send a fragment the size of Tracker's (about
3 KB). No database, no rendering, no Tracker code. What this serves per second and
holds per socket is what the stack itself allows on this box, measured by the same
load generator as Tracker (`make bench`, section 1–2).
"""

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from tracker.asgi import django_asgi_app  # /healthz, which the bench polls on start

FRAGMENT = '<section id="progress" data-version="1">' + "x" * 3000 + "</section>"


class BareTrackConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        token = self.scope["url_route"]["kwargs"]["token"]
        await self.channel_layer.group_add(f"order.{token}.en", self.channel_name)
        await self.accept()
        await self.send(text_data=FRAGMENT)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            URLRouter([path("ws/t/<str:token>/", BareTrackConsumer.as_asgi())])
        ),
    }
)
