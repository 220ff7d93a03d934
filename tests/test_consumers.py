import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from orders import services
from orders.models import Order
from tests.support.requirements import need
from tracker.asgi import application
from tracker.closecodes import CLOSE_ACCESS_ENDED

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = (b"origin", b"http://127.0.0.1")


def track_socket(
    token: str, lang: str = "en", headers: list | None = None
) -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application, f"/ws/t/{token}/?lang={lang}", headers=[ORIGIN] if headers is None else headers
    )


async def watching(token: str, lang: str = "en") -> WebsocketCommunicator:
    """A connected tracking socket whose snapshot has been read: next comes a push."""
    ws = track_socket(token, lang)
    connected, _ = await ws.connect()
    assert connected
    await ws.receive_from(timeout=2)
    return ws


def staff_socket(cookie: str | None, slug: str = "pizzeria") -> WebsocketCommunicator:
    headers = [ORIGIN] + ([(b"cookie", cookie.encode())] if cookie else [])
    return WebsocketCommunicator(application, f"/ws/staff/{slug}/?lang=en", headers=headers)


def session_cookie(user: object) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.fixture
def staff_cookie(staff: object) -> str:
    return session_cookie(staff)


@pytest.fixture
def stranger_cookie(stranger: object) -> str:
    return session_cookie(stranger)


async def advance(order: Order, by: object) -> Order:
    return await database_sync_to_async(services.advance_order)(
        order=order, by=by, expected_version=order.version
    )


async def test_track_socket_sends_the_snapshot_on_connect(order: Order) -> None:
    ws = track_socket(order.token)
    connected, _ = await ws.connect()
    assert connected
    html = await ws.receive_from(timeout=2)
    assert html.startswith('<section id="progress"') and 'data-version="1"' in html
    assert 'aria-valuetext="Order received"' in html
    await ws.disconnect()


async def test_sockets_that_connect_together_share_their_snapshot_reads(
    order: Order, other_order: Order, staff: object, monkeypatch
) -> None:
    from orders import consumers

    batches: list[list[tuple[str, str]]] = []
    read = consumers._snapshots.read

    def recorded(wanted: list[tuple[str, str]]) -> dict:
        batches.append(list(wanted))
        return read(wanted)

    monkeypatch.setattr(consumers._snapshots, "read", recorded)
    moved = await advance(order, staff)  # its snapshot differs from a fresh order's
    wanted = [(moved.token, "en"), (other_order.token, "ru"), (moved.token, "ru")] * 3
    sockets = [track_socket(token, lang) for token, lang in wanted]
    sockets.append(track_socket("u" * 24))  # no such order, in the same burst
    answers = await asyncio.gather(*(ws.connect() for ws in sockets))
    assert [connected for connected, _ in answers] == [True] * len(wanted) + [False]
    for ws, (token, lang) in zip(sockets, wanted, strict=False):
        html = await ws.receive_from(timeout=2)
        version = moved.version if token == moved.token else other_order.version
        assert f'data-version="{version}"' in html and f"?lang={lang}" in html
        await ws.disconnect()
    # Read together: each order and language once per batch, in a few batches
    # (stock: one read per socket). The advance's own notice may reach the sockets
    # after they joined (the layer publishes it after commit): one more read, then.
    read_keys = [w for batch in batches for w in batch]
    assert set(read_keys) == {*wanted, ("u" * 24, "en")}
    assert all(len(batch) == len(set(batch)) for batch in batches)
    assert len(batches) <= 4 and len(read_keys) < len(wanted)


async def test_track_socket_pushes_every_change(order: Order, staff: object) -> None:
    ws = track_socket(order.token)
    await ws.connect()
    await ws.receive_from(timeout=2)
    order = await advance(order, staff)
    html = await ws.receive_from(timeout=2)
    assert 'data-version="2"' in html and 'aria-valuetext="Preparing"' in html
    await advance(order, staff)
    assert 'aria-valuetext="Baking"' in await ws.receive_from(timeout=2)
    await ws.disconnect()


def count_thread_hops(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """From now on, each entry of asgiref into a thread, listed (the calls still run)."""
    from asgiref import sync

    hops: list[object] = []

    def counted(self: object, *args: object, _real=sync.SyncToAsync.__call__, **kwargs: object):
        hops.append(self)
        return _real(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counted)
    return hops


async def test_a_change_reaches_its_watchers_with_one_thread_hop_not_one_each(
    order: Order, staff: object, monkeypatch
) -> None:
    from orders import live

    watchers = [await watching(order.token) for _ in range(3)]
    moved = await advance(order, staff)
    for ws in watchers:
        assert 'data-version="2"' in await ws.receive_from(timeout=2)
    hops = count_thread_hops(monkeypatch)
    # The notice alone, as another process's tap would publish it.
    await database_sync_to_async(live.broadcast_order)(moved.pk)
    for ws in watchers:
        assert 'data-version="2"' in await ws.receive_from(timeout=2)
    # One hop to publish it here, one read and render for the three watchers
    # (stock Channels also entered the shared database thread once per watcher).
    assert len(hops) == 2
    monkeypatch.undo()
    for ws in watchers:
        await ws.disconnect()


async def test_a_closing_socket_leaves_its_group_without_a_thread_hop(
    order: Order, monkeypatch
) -> None:
    from channels.layers import get_channel_layer

    from orders.live import order_group

    watchers = [await watching(order.token) for _ in range(3)]
    hops = count_thread_hops(monkeypatch)
    for ws in watchers:
        await ws.disconnect()
    # Stock Channels entered the shared database thread once per closing socket:
    # a worker stopping with 10,000 sockets spent seconds on it.
    assert hops == []
    assert not get_channel_layer().groups.get(order_group(order.token))


async def test_track_socket_speaks_the_requested_language(order: Order, staff: object) -> None:
    ws = track_socket(order.token, lang="ru")
    await ws.connect()
    assert 'aria-valuetext="Заказ принят"' in await ws.receive_from(timeout=2)
    await advance(order, staff)
    assert 'aria-valuetext="Готовим"' in await ws.receive_from(timeout=2)
    await ws.disconnect()


async def test_a_reconnecting_page_is_resynced_with_changes_it_missed(
    order: Order, staff: object
) -> None:
    ws = track_socket(order.token)
    await ws.connect()
    await ws.receive_from(timeout=2)
    await ws.disconnect()
    order = await advance(order, staff)
    order = await advance(order, staff)
    again = track_socket(order.token)
    await again.connect()
    assert 'data-version="3"' in await again.receive_from(timeout=2)
    await again.disconnect()


async def test_track_socket_refuses_an_unknown_token(db: None) -> None:
    ws = track_socket("z" * 24)
    connected, _ = await ws.connect()
    assert not connected


@pytest.mark.parametrize("path", ["/ws/t/short/", "/ws/t/" + "a" * 25 + "/", "/ws/nothing/"])
async def test_malformed_socket_paths_are_refused_without_error(db: None, path: str) -> None:
    ws = WebsocketCommunicator(application, path, headers=[ORIGIN])
    connected, _ = await ws.connect()
    assert not connected


@pytest.mark.parametrize(
    "headers", [[], [(b"origin", b"https://evil.example")], [(b"origin", b"null")]]
)
async def test_track_socket_refuses_a_missing_or_foreign_origin(
    order: Order, headers: list
) -> None:
    connected, _ = await track_socket(order.token, headers=headers).connect()
    assert not connected


async def test_customer_sockets_accept_no_messages(order: Order) -> None:
    ws = track_socket(order.token)
    await ws.connect()
    await ws.receive_from(timeout=2)
    await ws.send_to(text_data='{"advance": true}')
    closed = await ws.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": 4008}
    await ws.disconnect()


async def test_track_socket_closes_reconnectably_before_group_expiry(
    order: Order, settings: object
) -> None:
    settings.TRACKER_WS_MAX_AGE_SECONDS = 0.05
    ws = track_socket(order.token)
    await ws.connect()
    await ws.receive_from(timeout=2)
    closed = await ws.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": 4012}
    await ws.disconnect()


async def test_signing_out_closes_the_tablets_open_board_socket_at_once(
    order: Order, staff: object
) -> None:
    client = Client()
    await database_sync_to_async(client.force_login)(staff)
    ws = staff_socket(f"sessionid={client.cookies['sessionid'].value}")
    assert (await ws.connect())[0]
    await ws.receive_from(timeout=2)
    await database_sync_to_async(client.post)("/staff/logout/")
    closed = await ws.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": CLOSE_ACCESS_ENDED}
    # Changes that follow reach it no more (staff-only notes included).
    await database_sync_to_async(services.add_note)(
        order=order, by=staff, text="Door code 4411", public=False
    )
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()


@pytest.mark.parametrize("revoke", ["membership", "deactivation", "session"])
async def test_a_board_socket_closes_when_its_access_ends_in_another_way(
    order: Order, staff: object, staff_cookie: str, settings, revoke: str
) -> None:
    settings.TRACKER_STAFF_RECHECK_SECONDS = 0.1  # the period; its rule is the same
    ws = staff_socket(staff_cookie)
    assert (await ws.connect())[0]
    await ws.receive_from(timeout=2)
    assert await ws.receive_nothing(timeout=0.3)  # re-checked, still allowed: stays open

    def end() -> None:
        from django.contrib.sessions.models import Session

        from orders.models import Membership

        if revoke == "membership":
            Membership.objects.filter(user=staff).delete()
        elif revoke == "deactivation":
            type(staff).objects.filter(pk=staff.pk).update(is_active=False)
        else:
            Session.objects.all().delete()

    await database_sync_to_async(end)()
    closed = await ws.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": CLOSE_ACCESS_ENDED}
    await ws.disconnect()


async def test_one_client_may_hold_only_so_many_sockets(order: Order, settings) -> None:
    settings.TRACKER_SOCKETS_PER_CLIENT = 3
    settings.TRACKER_TRUSTED_PROXIES = 1
    path = f"/ws/t/{order.token}/?lang=en"

    def socket(address: str) -> WebsocketCommunicator:
        return WebsocketCommunicator(
            application, path, headers=[ORIGIN, (b"x-forwarded-for", address.encode())]
        )

    held = [socket("198.51.100.1") for _ in range(3)]
    for ws in held:
        assert (await ws.connect())[0]
        await ws.receive_from(timeout=2)
    extra = socket("198.51.100.1")
    await extra.connect()
    assert await extra.receive_output(timeout=2) == {"type": "websocket.close", "code": 4029}
    # Another client is not affected; a closed socket frees its place.
    other = socket("198.51.100.2")
    assert (await other.connect())[0]
    await held[0].disconnect()
    again = socket("198.51.100.1")
    assert (await again.connect())[0]
    for ws in (*held[1:], other, again, extra):
        await ws.disconnect()


async def test_staff_socket_needs_a_signed_in_user(order: Order) -> None:
    connected, _ = await staff_socket(None).connect()
    assert not connected


async def test_staff_socket_refuses_staff_of_another_shop(
    order: Order, stranger_cookie: str
) -> None:
    connected, _ = await staff_socket(stranger_cookie).connect()
    assert not connected


async def test_staff_socket_refuses_a_missing_origin(order: Order, staff_cookie: str) -> None:
    ws = WebsocketCommunicator(
        application, "/ws/staff/pizzeria/", headers=[(b"cookie", staff_cookie.encode())]
    )
    connected, _ = await ws.connect()
    assert not connected


async def test_staff_socket_sends_the_board_and_pushes_changes(
    order: Order, staff: object, staff_cookie: str
) -> None:
    ws = staff_socket(staff_cookie)
    connected, _ = await ws.connect()
    assert connected
    board = await ws.receive_from(timeout=2)
    assert board.startswith('<section id="board"') and "Advance order 1042 to Preparing" in board
    await advance(order, staff)
    assert "Advance order 1042 to Baking" in await ws.receive_from(timeout=2)
    await ws.disconnect()


async def test_a_board_of_a_thousand_orders_connects_in_parts_and_a_tap_pushes_one_tile(
    order: Order, staff: object, staff_cookie: str
) -> None:
    def open_many() -> None:
        Order.objects.bulk_create(
            Order(
                shop=order.shop,
                workflow=order.workflow,
                number=f"K{n}",
                customer_name="Ivan Petrov",
                stage=order.stage,
            )
            for n in range(1000)
        )

    await database_sync_to_async(open_many)()
    ws = staff_socket(staff_cookie)
    connected, _ = await ws.connect()
    assert connected
    parts, tiles = [], 0
    while tiles < 1001:  # bounded: each part brings tiles, or the receive times out
        part = await ws.receive_from(timeout=10)
        parts.append(part)
        tiles += part.count('<li class="tile')
    assert tiles == 1001 and len(parts) > 1
    assert max(len(p.encode()) for p in parts) < 1024 * 1024  # Daphne's frame limit
    await advance(order, staff)
    pushed = await ws.receive_from(timeout=5)
    assert pushed.count('<li class="tile') == 1 and len(pushed.encode()) < 4096
    await ws.disconnect()


async def test_staff_socket_hears_new_orders_of_its_shop_only(
    order: Order, staff: object, staff_cookie: str, other_shop: object, stranger: object
) -> None:
    ws = staff_socket(staff_cookie)
    await ws.connect()
    await ws.receive_from(timeout=2)
    create = database_sync_to_async(services.create_order)
    other_workflow = await database_sync_to_async(lambda: other_shop.workflows.first())()
    await create(
        shop=other_shop, workflow=other_workflow, number="X-1", customer_name="Olga", by=stranger
    )
    await create(
        shop=order.shop, workflow=order.workflow, number="1043", customer_name="Petr", by=staff
    )
    board = await ws.receive_from(timeout=2)
    assert "1043" in board and "X-1" not in board
    assert await ws.receive_nothing(timeout=0.2)
    await ws.disconnect()


async def test_a_connect_burst_larger_than_the_redis_pool_loses_no_socket(
    order: Order, settings: object
) -> None:
    """REALTIME_NOTES: redis-py raises past its pool; 300 connects on a pool of 50 must all work."""
    import asyncio
    import os

    from channels.layers import channel_layers

    from tests.e2e.test_cluster import reachable

    redis_url = os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    need(reachable(redis_url), f"Redis not reachable at {redis_url}")
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": redis_url, "max_connections": 50}],
                "prefix": f"tracker-burst-{os.getpid()}",
            },
        }
    }
    channel_layers.backends.clear()
    settings.TRACKER_SOCKETS_PER_CLIENT = 1000  # 300 customers, all from this machine
    sockets = [track_socket(order.token) for _ in range(300)]
    try:
        results = await asyncio.gather(*(ws.connect(timeout=30) for ws in sockets))
        assert all(connected for connected, _ in results)
        snapshots = await asyncio.gather(*(ws.receive_from(timeout=30) for ws in sockets))
        assert all('data-version="1"' in html for html in snapshots)
    finally:
        await asyncio.gather(*(ws.disconnect() for ws in sockets))
        channel_layers.backends.clear()


async def test_removing_a_member_in_the_console_closes_their_board_at_once(
    order: Order, staff: object, staff_cookie: str, shop
) -> None:
    from orders.models import Membership
    from tests.test_console import _client, _owner

    ws = staff_socket(staff_cookie)
    assert (await ws.connect())[0]
    await ws.receive_from(timeout=2)
    # Also on another shop's board: that one stays open.
    other = await database_sync_to_async(_make_other_shop_membership)(staff)
    elsewhere = staff_socket(staff_cookie, slug=other.slug)
    assert (await elsewhere.connect())[0]
    await elsewhere.receive_from(timeout=2)
    owner = await database_sync_to_async(_owner)(shop, "olga")
    member = await database_sync_to_async(Membership.objects.get)(user=staff, shop=shop)
    url = f"/staff/{shop.slug}/settings/team/{member.pk}/remove/"
    response = await database_sync_to_async(lambda: _client(owner).post(url))()
    assert response.status_code == 302
    # At once: the re-check period (minutes by default) plays no part.
    closed = await ws.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": CLOSE_ACCESS_ENDED}
    assert await elsewhere.receive_nothing(timeout=0.3)
    await ws.disconnect()
    await elsewhere.disconnect()


def _make_other_shop_membership(user: object):
    from orders.models import Membership
    from tests.conftest import _make_shop

    other = _make_shop("second", "Second")
    Membership.objects.create(user=user, shop=other)
    return other
