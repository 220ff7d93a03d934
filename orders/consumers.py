"""Thin, read-only sockets: subscribe, then snapshot, then send each change.

A change arrives as a notice (orders.live.broadcast_order); the sockets of this
process that hear it together share one read and one render per language.
"""

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Hashable
from urllib.parse import parse_qs

from asgiref.sync import async_to_sync
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import DatabaseError
from django.utils import timezone

from tracker.clientaddr import client_address
from tracker.closecodes import (
    CLOSE_ACCESS_ENDED,
    CLOSE_POLICY_VIOLATION,
    CLOSE_SERVICE_RESTART,
    CLOSE_TOO_MANY_SOCKETS,
    CLOSE_TRY_AGAIN_LATER,
)

from . import announcements, layerwatch
from .board import render_board, tiles_for
from .display import displays_for, shop_for_link
from .live import board_group, order_group, publish
from .models import Membership, Shop
from .selectors import LANGS, progress_for_tokens

log = logging.getLogger(__name__)


class _Batched:
    """Sockets that need fragments together share one read of them.

    All sockets' database work runs in one thread, one call at a time: a query per
    socket made that thread the bound of a connect burst, a reconnect storm or a
    push to many watchers. Here a socket waits for the next batch instead: every
    key asked for while the previous batch ran is read in one call, each distinct
    key once (a change heard by 2,000 watchers is read and rendered once). A
    snapshot is asked for after the socket's group_add, so subscribe-then-snapshot
    holds. A failed read fails its whole batch, so only an outage can fail one:
    an unknown key is a None, not an error.
    """

    def __init__(self, read: Callable[[list], dict]) -> None:
        self.read = read
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiting: list[tuple[Hashable, asyncio.Future]] = []
        self.reader: asyncio.Task | None = None

    async def get(self, key: Hashable) -> str | None:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:  # a new event loop (tests start one each)
            self.loop, self.waiting, self.reader = loop, [], None
        future = loop.create_future()
        self.waiting.append((key, future))
        if self.reader is None or self.reader.done():
            self.reader = loop.create_task(self._read_batches())
        return await future

    async def _read_batches(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting, []
            try:
                keys = list(dict.fromkeys(key for key, _ in batch))
                found = await database_sync_to_async(self.read)(keys)
            except Exception as error:  # each socket handles it (a database outage)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for key, future in batch:
                if not future.done():  # done: its socket went away meanwhile
                    future.set_result(found[key])


# Keys: (token, language), (order pk, language, with the alerts), (shop pk, language).
_snapshots = _Batched(progress_for_tokens)
_tiles = _Batched(tiles_for)
_displays = _Batched(displays_for)
_announcements = _Batched(announcements.renders_for)


def _lang(scope: dict) -> str:
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    lang = (query.get("lang") or [""])[0]
    return lang if lang in LANGS else settings.LANGUAGE_CODE


# Open sockets per client address in this process: one client (a script, a broken
# page in a loop) cannot hold thousands of them.
_OPEN_BY_CLIENT: Counter[str] = Counter()


def _socket_client(scope: dict) -> str:
    headers = dict(scope.get("headers") or [])
    forwarded = headers.get(b"x-forwarded-for", b"").decode("latin1")
    remote = (scope.get("client") or [None])[0]
    return client_address(remote, forwarded) or "unknown"


class _PushConsumer(AsyncWebsocketConsumer):
    group: str | None = None
    _max_age: asyncio.TimerHandle | None = None
    _client: str | None = None

    async def websocket_connect(self, message: dict) -> None:
        client = _socket_client(self.scope)
        if _OPEN_BY_CLIENT[client] >= settings.TRACKER_SOCKETS_PER_CLIENT:
            # Accepted only to say why (a refused handshake carries no reason).
            await self.accept()
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        _OPEN_BY_CLIENT[client] += 1
        self._client = client
        await super().websocket_connect(message)

    def _forget_client(self) -> None:
        if self._client is not None:
            _OPEN_BY_CLIENT[self._client] -= 1
            if _OPEN_BY_CLIENT[self._client] <= 0:
                del _OPEN_BY_CLIENT[self._client]
            self._client = None

    async def __call__(self, scope: dict, receive, send) -> None:  # noqa: ANN001
        # The layer (Redis went away between two probes) or the database failing
        # under a socket is an outage, not a bug: close it reconnectably (the page
        # retries with backoff) instead of a traceback per socket.
        try:
            await super().__call__(scope, receive, send)
        except (*layerwatch.LAYER_ERRORS, DatabaseError) as error:
            failed = "database" if isinstance(error, DatabaseError) else "channel layer"
            log.warning("socket closed: the %s failed (%s)", failed, error)
            if self.group is not None and isinstance(error, DatabaseError):
                with contextlib.suppress(*layerwatch.LAYER_ERRORS):
                    await self.channel_layer.group_discard(self.group, self.channel_name)
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
        finally:
            self._forget_client()  # however the socket ended

    async def _subscribe_then_snapshot(self, group: str, snapshot) -> bool:  # noqa: ANN001
        """`snapshot`: an async callable for the current fragment, or a list of them to
        send in turn (None: no such thing)."""
        watch = layerwatch.watch_for(self.channel_layer)
        if watch is not None and not watch.healthy:
            # Pushes would not arrive: refuse, and the page polls until they do.
            await self.close()
            return False
        # Join first, then read the state: a change committed in between is
        # either in the snapshot or arrives as a push (the page drops repeats).
        self.group = group
        await self.channel_layer.group_add(group, self.channel_name)
        html = await snapshot()
        if html is None:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.group = None
            await self.close()
            return False
        await self.accept()
        for part in [html] if isinstance(html, str) else html:
            await self.send(text_data=part)
        if watch is not None:
            watch.sockets.add(self)
        # Leave well before the layer's group_expiry silently drops us; the page reconnects.
        self._max_age = asyncio.get_running_loop().call_later(
            settings.TRACKER_WS_MAX_AGE_SECONDS,
            lambda: asyncio.ensure_future(self.close(code=CLOSE_SERVICE_RESTART)),
        )
        return True

    async def disconnect(self, code: int) -> None:
        self._forget_client()
        if self._max_age is not None:
            self._max_age.cancel()
        if self.group is not None:
            # During a layer outage this fails; there is nothing left to leave then.
            with contextlib.suppress(*layerwatch.LAYER_ERRORS):
                await self.channel_layer.group_discard(self.group, self.channel_name)

    async def websocket_disconnect(self, message: dict) -> None:
        # Channels' handler also closes stale database connections in that thread
        # after every disconnect (see dispatch): when a process stops with 10,000
        # sockets, 10,000 hops that kept the stop busy for seconds. Our groups are
        # left in disconnect(); nothing else of Channels' handler applies here.
        await self.disconnect(message["code"])
        raise StopConsumer

    async def dispatch(self, message: dict) -> None:
        # Channels (since 4.2) closes stale database connections in a thread before
        # every message of every socket: for one push to 2,000 watchers, 2,000 hops
        # through the one thread all sockets' database work shares (a third of a
        # fan-out's CPU in py-spy). Handlers here touch the database only through
        # database_sync_to_async, once per batch (_Batched), whose calls close
        # stale connections themselves; a disconnect or a stray frame never does.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # These sockets are read-only: any message is a client bug or a probe.
        await self.close(code=CLOSE_POLICY_VIOLATION)

    async def order_changed(self, event: dict) -> None:
        html = await self.fragment(event)
        if html is not None:  # None: the order is gone
            await self.send(text_data=html)

    async def fragment(self, event: dict) -> str | None:
        raise NotImplementedError

    async def shop_announced(self, event: dict) -> None:
        """A shop notice was posted or ended; pages that show notices override this."""


class TrackConsumer(_PushConsumer):
    """Public, by token, no cookies needed (it works inside third-party iframes)."""

    async def connect(self) -> None:
        self.key = (self.scope["url_route"]["kwargs"]["token"], _lang(self.scope))
        await self._subscribe_then_snapshot(
            order_group(self.key[0]), lambda: _snapshots.get(self.key)
        )

    async def fragment(self, event: dict) -> str | None:
        # The order as it is now: a later change may already be in it (pages keep
        # the highest version).
        return await _snapshots.get(self.key)

    async def shop_announced(self, event: dict) -> None:
        html = await _announcements.get((event["shop"], self.key[1]))
        if html is not None:
            await self.send(text_data=html)


def _display_shop(slug: str, token: str) -> int | None:
    shop = shop_for_link(slug, token)
    return None if shop is None else shop.pk


class DisplayConsumer(_PushConsumer):
    """The in-store display, by its secret link. It hears its shop's board notices and
    sends the whole (small) display again on each; a new link closes it at once."""

    async def connect(self) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        self.key = (
            await database_sync_to_async(_display_shop)(kwargs["slug"], kwargs["token"]),
            _lang(self.scope),
        )
        if self.key[0] is None:
            await self.close()
            return
        await self._subscribe_then_snapshot(
            board_group(self.key[0]), lambda: _displays.get(self.key)
        )

    async def fragment(self, event: dict) -> str | None:
        return await _displays.get(self.key)

    async def shop_announced(self, event: dict) -> None:
        await self.order_changed(event)  # the display shows the notice too

    async def display_retired(self, event: dict) -> None:
        await self.close(code=CLOSE_ACCESS_ENDED)


def retire_displays(shop_pk: int) -> None:
    """Close the shop's open displays (their link was replaced) on every process."""
    try:
        async_to_sync(get_channel_layer().group_send)(
            board_group(shop_pk), {"type": "display.retired"}
        )
    except Exception:  # they fail their next reconnect with the old link anyway
        log.exception("could not reach the displays of shop %s", shop_pk)


def _shop_of_member(user, slug: str) -> Shop | None:  # noqa: ANN001
    if not user.is_authenticated:
        return None
    return Shop.objects.filter(slug=slug, memberships__user=user).first()


def _still_allowed(user_pk: int, shop_pk: int, session_key: str | None) -> bool:
    """The socket's user is still active, still a member of the shop, and still signed
    in with the session the socket was opened with."""
    signed_in = Session.objects.filter(session_key=session_key, expire_date__gt=timezone.now())
    return (
        signed_in.exists()
        and Membership.objects.filter(
            user_id=user_pk, shop_id=shop_pk, user__is_active=True
        ).exists()
    )


def access_group(user_pk: int) -> str:
    return f"staff-user.{user_pk}"


def end_staff_sockets(user_pk: int, shop_pk: int | None = None) -> None:
    """Close the user's open board sockets on every process: all of them (signed out),
    or those on one shop's board (removed from that shop)."""
    try:
        publish([(access_group(user_pk), {"type": "access.ended", "shop": shop_pk})])
    except Exception:  # the periodic re-check closes them if the layer is down
        log.exception("could not reach the board sockets of user %s", user_pk)


class StaffBoardConsumer(_PushConsumer):
    """Signed-in staff of this shop only; anyone else is refused at the handshake. The
    socket closes when that ends: at once on sign-out, and within a re-check period
    after a removal from the shop, a deactivation or an expired session."""

    _recheck: asyncio.Task | None = None
    shop_pk: int | None = None

    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["slug"]
        self.lang = lang = _lang(self.scope)
        shop = await database_sync_to_async(_shop_of_member)(self.scope["user"], slug)
        if shop is None:
            await self.close()
            return
        user_pk, self.shop_pk = self.scope["user"].pk, shop.pk
        await self.channel_layer.group_add(access_group(user_pk), self.channel_name)
        accepted = await self._subscribe_then_snapshot(
            board_group(shop.pk), lambda: database_sync_to_async(render_board)(shop, lang)
        )
        if accepted:
            session_key = self.scope["session"].session_key
            self._recheck = asyncio.ensure_future(
                self._recheck_access(user_pk, shop.pk, session_key)
            )
        else:
            await self.channel_layer.group_discard(access_group(user_pk), self.channel_name)

    async def fragment(self, event: dict) -> str | None:
        return await _tiles.get((event["order"], self.lang, event["alerts"]))

    async def _recheck_access(self, user_pk: int, shop_pk: int, session_key: str | None) -> None:
        check = database_sync_to_async(_still_allowed)
        while True:  # ends with the socket: disconnect() cancels it
            await asyncio.sleep(settings.TRACKER_STAFF_RECHECK_SECONDS)
            with contextlib.suppress(DatabaseError):  # an outage is not a revocation
                if not await check(user_pk, shop_pk, session_key):
                    await self.access_ended({})
                    return

    async def access_ended(self, event: dict) -> None:
        if event.get("shop") not in (None, self.shop_pk):
            return  # another shop's access ended, not this board's
        # Leave the shop's group first: not one more push, even before the client
        # has answered the close.
        if self.group is not None:
            with contextlib.suppress(*layerwatch.LAYER_ERRORS):
                await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None
        await self.close(code=CLOSE_ACCESS_ENDED)

    async def disconnect(self, code: int) -> None:
        if self._recheck is not None:
            self._recheck.cancel()
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            with contextlib.suppress(*layerwatch.LAYER_ERRORS):
                await self.channel_layer.group_discard(access_group(user.pk), self.channel_name)
        await super().disconnect(code)


class RefuseConsumer(AsyncWebsocketConsumer):
    """Any other socket path (a malformed token, say): refused at the handshake, no error."""

    async def connect(self) -> None:
        await self.close()
