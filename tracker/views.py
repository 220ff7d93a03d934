import asyncio
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

CHECK_TIMEOUT = 2.0


def _database() -> None:
    # Run through database_sync_to_async, which closes the thread's connection
    # afterwards; plain sync_to_async left one open per worker thread.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def _channel_layer() -> None:
    # A real round trip through the layer: send to a fresh channel, read it back.
    layer = get_channel_layer()
    channel = await layer.new_channel()
    try:
        await layer.send(channel, {"type": "health.ping"})
        await layer.receive(channel)
    finally:
        # The Pub/Sub layer keeps a subscription per new channel: drop it.
        unsubscribe = getattr(layer, "unsubscribe", None)
        if unsubscribe is not None:
            await unsubscribe(channel)


@require_GET
@never_cache
async def healthz(request: HttpRequest) -> JsonResponse:
    """200 only when the database and the channel layer both answer; cheap to poll."""
    started = time.monotonic()
    checks = {}
    for name, check in (
        ("database", lambda: asyncio.wait_for(database_sync_to_async(_database)(), CHECK_TIMEOUT)),
        ("channel_layer", lambda: asyncio.wait_for(_channel_layer(), CHECK_TIMEOUT)),
    ):
        try:
            await check()
            checks[name] = "ok"
        except Exception as error:
            checks[name] = f"failed: {type(error).__name__}"
    ok = all(v == "ok" for v in checks.values())
    body = {
        "status": "ok" if ok else "failed",
        **checks,
        "ms": round((time.monotonic() - started) * 1000, 1),
    }
    return JsonResponse(body, status=200 if ok else 503)
