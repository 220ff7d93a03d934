from channels.auth import AuthMiddlewareStack
from django.urls import re_path

from . import consumers
from .models import TOKEN_PATTERN

# Only the staff board needs the session and user: tracking sockets are public by
# token and skip the cookie, session and user middleware (less work per connect,
# less memory per held socket).
websocket_urlpatterns = [
    re_path(rf"^ws/t/(?P<token>{TOKEN_PATTERN})/$", consumers.TrackConsumer.as_asgi()),
    re_path(
        r"^ws/staff/(?P<slug>[-a-zA-Z0-9_]+)/$",
        AuthMiddlewareStack(consumers.StaffBoardConsumer.as_asgi()),
    ),
    re_path(
        rf"^ws/display/(?P<slug>[-a-zA-Z0-9_]+)/(?P<token>{TOKEN_PATTERN})/$",
        consumers.DisplayConsumer.as_asgi(),
    ),
    re_path(r"", consumers.RefuseConsumer.as_asgi()),
]
