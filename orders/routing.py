from django.urls import re_path

from . import consumers
from .models import TOKEN_PATTERN

websocket_urlpatterns = [
    re_path(rf"^ws/t/(?P<token>{TOKEN_PATTERN})/$", consumers.TrackConsumer.as_asgi()),
    re_path(r"^ws/staff/(?P<slug>[-a-zA-Z0-9_]+)/$", consumers.StaffBoardConsumer.as_asgi()),
    re_path(r"", consumers.RefuseConsumer.as_asgi()),
]
