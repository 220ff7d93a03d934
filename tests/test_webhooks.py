"""Signed webhooks: every change, HMAC over timestamp + body, retried with backoff."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from orders import outbox, services
from orders.models import Delivery, Order, Shop, WebhookEndpoint
from tests.support.receiver import Receiver, other_receiver, receiver  # noqa: F401 (fixtures)


@pytest.fixture
def endpoint(shop: Shop, receiver: Receiver, settings) -> WebhookEndpoint:  # noqa: F811
    # The receiver runs on this machine: the setting an on-premise install uses.
    settings.TRACKER_WEBHOOKS_ALLOW_PRIVATE = True
    return WebhookEndpoint.objects.create(shop=shop, url=receiver.url, secret="s3cret-for-tests")


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """What docs/API.md tells a receiver to do, written independently of the sender."""
    timestamp = headers["Tracker-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    fresh = abs(time.time() - int(timestamp)) < 300
    return fresh and hmac.compare_digest(headers["Tracker-Signature"], "v1=" + expected.hexdigest())


def new_order(shop: Shop, staff: object) -> Order:
    return services.create_order(
        shop=shop,
        workflow=shop.workflows.get(key="pizza"),
        number="5001",
        customer_name="Maria Ivanova",
        by=staff,
    )


def test_every_change_is_posted_signed(
    shop: Shop,
    staff: object,
    endpoint: WebhookEndpoint,
    receiver: Receiver,  # noqa: F811
) -> None:
    order = new_order(shop, staff)
    order = services.advance_order(order=order, by=staff, expected_version=order.version)
    services.add_note(order=order, by=staff, text="Door code 42", public=False)
    assert outbox.deliver_due() == 3
    kinds = [json.loads(r.body)["type"] for r in receiver.requests]
    assert kinds == ["order.created", "order.advanced", "order.note"]
    for request in receiver.requests:
        assert verify(endpoint.secret, request.headers, request.body)
        assert not verify("another-secret", request.headers, request.body)
        assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    advanced = json.loads(receiver.requests[1].body)
    assert advanced["id"].startswith("evt_")
    assert advanced["order"]["number"] == "5001"
    assert advanced["order"]["stage"]["position"] == 2
    assert advanced["order"]["version"] == 2
    assert advanced["order"]["tracking_url"].endswith(f"/t/{order.token}/")
    # A staff-only note is an event, but its text never leaves the shop's board.
    note = receiver.requests[2].body.decode()
    assert "Door code 42" not in note


def test_a_tampered_body_fails_verification(
    shop: Shop,
    staff: object,
    endpoint: WebhookEndpoint,
    receiver: Receiver,  # noqa: F811
) -> None:
    new_order(shop, staff)
    outbox.deliver_due()
    [request] = receiver.requests
    assert not verify(endpoint.secret, request.headers, request.body.replace(b"5001", b"5002"))


def test_a_receiver_that_fails_twice_gets_the_same_event_until_it_succeeds(
    shop: Shop,
    staff: object,
    endpoint: WebhookEndpoint,
    receiver: Receiver,  # noqa: F811
) -> None:
    receiver.statuses = [500, 503, 200]
    new_order(shop, staff)
    now = timezone.now()
    outbox.deliver_due(now)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, 1)
    assert "500" in delivery.last_error
    first_wait = delivery.next_attempt_at - now
    outbox.deliver_due(delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, 2)
    assert delivery.next_attempt_at - now > first_wait * 2  # exponential
    outbox.deliver_due(delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        Delivery.Status.SENT,
        3,
        "",
    )
    bodies = {r.body for r in receiver.requests}
    ids = {r.headers["Tracker-Delivery"] for r in receiver.requests}
    assert len(receiver.requests) == 3
    assert len(bodies) == 1  # the same event each time …
    assert ids == {str(delivery.pk)}  # … under the same delivery id, for deduplication


def test_retries_stop_after_a_day(
    shop: Shop,
    staff: object,
    endpoint: WebhookEndpoint,
    receiver: Receiver,  # noqa: F811
) -> None:
    receiver.statuses = [500]
    new_order(shop, staff)
    delivery = Delivery.objects.get()
    moment = timezone.now()
    while delivery.status == Delivery.Status.PENDING and delivery.attempts < 100:
        moment = max(moment, delivery.next_attempt_at)
        outbox.deliver_due(moment)
        delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert moment - delivery.created_at >= timedelta(hours=24)
    # Backoff caps at an hour: about 30 tries in a day, not thousands.
    assert 20 <= delivery.attempts <= 40


def test_a_redirect_is_not_followed(
    shop: Shop,
    staff: object,
    endpoint: WebhookEndpoint,
    receiver: Receiver,  # noqa: F811
) -> None:
    receiver.statuses, receiver.location = [302], "http://127.0.0.1:9/elsewhere"
    new_order(shop, staff)
    outbox.deliver_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING
    assert "redirect" in delivery.last_error
    assert len(receiver.requests) == 1


def test_a_deactivated_endpoint_gets_nothing_more(
    shop: Shop,
    staff: object,
    endpoint: WebhookEndpoint,
    receiver: Receiver,  # noqa: F811
) -> None:
    new_order(shop, staff)
    endpoint.active = False
    endpoint.save()
    outbox.deliver_due()
    assert receiver.requests == []
    assert Delivery.objects.get().status == Delivery.Status.SKIPPED


def test_another_shops_endpoint_hears_nothing(
    shop: Shop,
    other_shop: Shop,
    staff: object,
    receiver: Receiver,  # noqa: F811
) -> None:
    WebhookEndpoint.objects.create(shop=other_shop, url=receiver.url)
    new_order(shop, staff)
    outbox.deliver_due()
    assert receiver.requests == []


def test_a_slow_webhook_never_slows_a_tap(
    shop: Shop,
    staff: object,
    endpoint: WebhookEndpoint,
    receiver: Receiver,  # noqa: F811
) -> None:
    # The tap only writes the outbox row; nothing is sent until the worker runs.
    order = new_order(shop, staff)
    services.advance_order(order=order, by=staff, expected_version=order.version)
    assert receiver.requests == []
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:8000/admin/",
        "http://0.0.0.0/",
        "https://127.0.0.1/",
        "ftp://example.com/hook",
        "http://db.internal/",
    ],
)
def test_webhooks_refuse_private_addresses_and_other_schemes(
    shop: Shop, staff: object, url: str
) -> None:
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError, match=r"public|https://"):
        WebhookEndpoint(shop=shop, url=url).full_clean()
    # One stored before the check (or by hand) is refused at send time, with a message
    # that names nothing of the network.
    WebhookEndpoint.objects.create(shop=shop, url=url)
    new_order(shop, staff)
    outbox.deliver_due()
    delivery = Delivery.objects.get(channel="webhook")
    assert delivery.status != Delivery.Status.SENT
    assert delivery.last_error.startswith("RefusedDestination: ")
    assert "169.254" not in delivery.last_error and "10.0" not in delivery.last_error


def test_a_name_that_resolves_to_a_private_address_gets_no_request(
    shop: Shop,
    staff: object,
    receiver: Receiver,  # noqa: F811
) -> None:
    import socket

    # This machine's own name resolves (through /etc/hosts) to one of its addresses.
    name = socket.gethostname()
    resolved = {info[4][0] for info in socket.getaddrinfo(name, 80)}
    assert resolved, name
    port = receiver.url.split(":")[2].split("/")[0]
    WebhookEndpoint.objects.create(shop=shop, url=f"http://{name}:{port}/hooks/tracker")
    new_order(shop, staff)
    outbox.deliver_due()
    assert receiver.requests == []
    assert Delivery.objects.get(channel="webhook").last_error.startswith("RefusedDestination")


def test_the_connection_itself_is_checked_before_a_byte_is_sent(
    receiver: Receiver,  # noqa: F811
) -> None:
    # Whatever a name resolved to when it was checked, the address actually
    # connected to is checked again (DNS rebinding): here, the receiver's.
    import urllib.request

    from orders import destinations

    opener = urllib.request.build_opener(*destinations.handlers())
    with pytest.raises(destinations.RefusedDestination):
        opener.open(urllib.request.Request(receiver.url, data=b"{}"), timeout=5)
    assert receiver.requests == []


@pytest.mark.django_db(transaction=True)
def test_a_hung_endpoint_holds_up_only_itself(
    shop: Shop,
    other_shop: Shop,
    staff: object,
    stranger: object,
    receiver: Receiver,  # noqa: F811
    other_receiver: Receiver,  # noqa: F811
    settings,
) -> None:
    import threading

    settings.TRACKER_WEBHOOKS_ALLOW_PRIVATE = True  # both receivers run on this machine
    receiver.hold = True  # shop's endpoint takes the request and never answers (yet)
    WebhookEndpoint.objects.create(shop=shop, url=receiver.url)
    WebhookEndpoint.objects.create(shop=other_shop, url=other_receiver.url)
    new_order(shop, staff)  # queued first
    services.create_order(
        shop=other_shop,
        workflow=other_shop.workflows.get(key="pizza"),
        number="9",
        customer_name="Olga",
        by=stranger,
    )
    worker = threading.Thread(target=outbox.deliver_due)
    worker.start()
    try:
        assert receiver.arrived.wait(30)  # the hung call is under way...
        # ...and the other shop's webhook is delivered meanwhile, not after it.
        assert other_receiver.arrived.wait(30)
        assert len(other_receiver.requests) == 1 and worker.is_alive()
    finally:
        receiver.release.set()
        worker.join(timeout=60)
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}


def test_a_board_tap_queues_a_webhook_and_asks_nothing_more_when_there_is_none(
    shop: Shop,
    staff: object,
    staff_client,
    receiver: Receiver,  # noqa: F811
    settings,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order = new_order(shop, staff)

    def tap() -> list[str]:
        order.refresh_from_db()
        with CaptureQueriesContext(connection) as queries:
            answer = staff_client.post(
                f"/staff/orders/{order.pk}/advance/",
                {"version": order.version},
                HTTP_HX_REQUEST="true",
            )
        assert answer.status_code == 200
        return [q["sql"] for q in queries if "orders_webhookendpoint" in q["sql"]]

    # No endpoint: the board's read of the order answered that, and nothing else asks.
    (asked,) = tap()
    assert "EXISTS" in asked and "orders_order" in asked
    assert not Delivery.objects.filter(channel=Delivery.Channel.WEBHOOK).exists()
    settings.TRACKER_WEBHOOKS_ALLOW_PRIVATE = True
    WebhookEndpoint.objects.create(shop=shop, url=receiver.url, secret="s3cret-for-tests")
    assert len(tap()) == 2  # the read, then the endpoints themselves
    assert Delivery.objects.filter(channel=Delivery.Channel.WEBHOOK).count() == 1
