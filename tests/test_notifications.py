"""Customer messages: confirmation, milestones, delay, cancellation; outbox delivery."""

import logging
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from orders import outbox, services
from orders.models import Delivery, MessageKind, MessageTemplate, Order, Shop
from orders.placeholders import fill
from orders.templatetags.tracker import when
from tests.support.servers import free_port, manage, watch_for

ROOT = Path(__file__).resolve().parents[1]


def create(shop: Shop, staff: object, number: str = "2001", **extra: str) -> Order:
    fields = {"customer_name": "Maria Ivanova", "email": "maria@example.com", **extra}
    return services.create_order(
        shop=shop, workflow=shop.workflows.get(key="pizza"), number=number, by=staff, **fields
    )


def advance(order: Order, by: object, times: int = 1) -> Order:
    for _ in range(times):
        order = services.advance_order(order=order, by=by, expected_version=order.version)
    return order


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def links(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def test_confirmation_has_the_order_what_next_when_and_a_working_link(
    shop: Shop, staff: object, client: Client
) -> None:
    order = create(shop, staff, summary="2 pizzas, 1 cola")
    assert outbox.deliver_due() == 1
    [message] = mail.outbox
    assert message.to == ["maria@example.com"]
    assert message.subject == "Order 2001 confirmed · Pizzeria"
    assert "Hello, Maria!" in message.body
    assert "2 pizzas, 1 cola" in message.body
    assert "Now: Order received." in message.body
    assert re.search(r"Expected: (today|tomorrow) \d\d:\d\d\.", message.body)
    tracking, unsubscribe = links(message.body)
    assert tracking.endswith(f"/t/{order.token}/")
    assert unsubscribe.endswith(f"/t/{order.token}/unsubscribe/")
    page = client.get(path_of(tracking), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Order 2001" in page.content.decode()
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_line_whose_placeholder_is_empty_is_left_out(shop: Shop, staff: object) -> None:
    create(shop, staff)  # no summary
    outbox.deliver_due()
    body = mail.outbox[0].body
    assert "{summary}" not in body
    assert "\n\n\n" not in body
    assert fill("A {summary}\nB {number}", {"summary": "", "number": "7"}) == "B 7"


def test_no_contact_no_message_and_a_phone_alone_gets_an_sms(
    shop: Shop, staff: object, caplog: pytest.LogCaptureFixture
) -> None:
    create(shop, staff, number="1", email="")
    assert Delivery.objects.count() == 0
    create(shop, staff, number="2", email="", phone="+7 900 555-66-77")
    [sms] = Delivery.objects.all()
    assert sms.channel == Delivery.Channel.SMS
    with caplog.at_level(logging.INFO, logger="tracker.sms"):
        outbox.deliver_due()
    sms.refresh_from_db()
    assert sms.status == Delivery.Status.SENT
    [record] = [r for r in caplog.records if r.name == "tracker.sms"]
    assert "order 2 confirmed" in record.getMessage()
    assert mail.outbox == []


def test_milestones_only_for_stages_the_shop_marked(shop: Shop, staff: object) -> None:
    order = create(shop, staff)
    outbox.deliver_due()
    mail.outbox.clear()
    order = advance(order, staff, times=2)  # Preparing, Baking: internal
    assert outbox.deliver_due() == 0
    order = advance(order, staff)  # Out for delivery: a milestone
    assert outbox.deliver_due() == 1
    [message] = mail.outbox
    assert message.subject == "Order 2001: Out for delivery"
    assert "The courier is on the way to you." in message.body
    assert order.token in message.body


def test_a_milestone_reached_again_after_an_undo_is_not_sent_again(
    shop: Shop, staff: object
) -> None:
    order = advance(create(shop, staff), staff, times=2)
    for _ in range(4):  # Out for delivery, undo, Out for delivery again…
        order = advance(order, staff)
        order = services.undo_order(order=order, by=staff, expected_version=order.version)
    advance(order, staff)
    outbox.deliver_due()
    subjects = [m.subject for m in mail.outbox]
    assert subjects.count("Order 2001: Out for delivery") == 1, subjects
    assert Delivery.objects.filter(event__kind="advanced").count() == 1  # the e-mail alone


def test_a_double_tap_sends_one_message(shop: Shop, staff: object, second_staff: object) -> None:
    order = advance(create(shop, staff), staff, times=2)
    seen = order.version
    services.advance_order(order=order, by=staff, expected_version=seen)
    with pytest.raises(services.StaleVersion):
        services.advance_order(order=order, by=second_staff, expected_version=seen)
    outbox.deliver_due()
    assert [m.subject for m in mail.outbox].count("Order 2001: Out for delivery") == 1


def test_the_database_refuses_a_second_delivery_for_the_same_change(
    shop: Shop, staff: object
) -> None:
    create(shop, staff)
    first = Delivery.objects.get()
    first.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        first.save()


def test_delay_and_cancellation_are_told_with_reason_and_new_time(
    shop: Shop, staff: object
) -> None:
    order = create(shop, staff)
    new_time = timezone.now() + timedelta(hours=1)
    order = services.delay_order(
        order=order,
        by=staff,
        expected_version=order.version,
        reason="The oven broke down",
        action="A second oven is heating up",
        new_time=new_time,
    )
    order = services.cancel_order(
        order=order, by=staff, expected_version=order.version, reason="We ran out of dough"
    )
    outbox.deliver_due()
    by_subject = {m.subject: m for m in mail.outbox}
    delay = by_subject["Order 2001 is running late"]
    assert "Why: The oven broke down" in delay.body
    assert "What we are doing: A second oven is heating up" in delay.body
    with timezone.override(shop.timezone):
        assert f"New time: {when(new_time)}." in delay.body
    cancel = by_subject["Order 2001 was cancelled"]
    assert "Reason: We ran out of dough" in cancel.body
    assert shop.phone in cancel.body


def test_notes_undo_and_feedback_send_nothing(shop: Shop, staff: object) -> None:
    order = create(shop, staff)
    order = services.add_note(order=order, by=staff, text="Extra napkins", public=True)
    order = advance(order, staff)
    services.undo_order(order=order, by=staff, expected_version=order.version)
    assert Delivery.objects.count() == 1  # the confirmation only


def test_unsubscribe_asks_on_get_and_stops_every_later_message(
    shop: Shop, staff: object, client: Client
) -> None:
    order = create(shop, staff)
    url = f"/t/{order.token}/unsubscribe/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Stop messages about order 2001?" in page.content.decode()
    order.refresh_from_db()
    assert order.unsubscribed_at is None  # a mail scanner opening the link changes nothing

    # RFC 8058 one-click: a POST from the mail provider, no cookie, no CSRF token.
    one_click = Client(enforce_csrf_checks=True)
    done = one_click.post(url, {"List-Unsubscribe": "One-Click"}, HTTP_ACCEPT_LANGUAGE="en")
    assert done.status_code == 200
    assert "no more messages about order 2001" in done.content.decode()
    order.refresh_from_db()
    assert order.unsubscribed_at is not None
    # Through the service: a version and a staff-only event, once however often posted.
    one_click.post(url, {"List-Unsubscribe": "One-Click"})
    assert list(order.events.filter(kind="unsubscribed").values_list("public", flat=True)) == [
        False
    ]

    # The queued confirmation is skipped, and later changes queue nothing.
    outbox.deliver_due()
    assert mail.outbox == []
    assert Delivery.objects.get().status == Delivery.Status.SKIPPED
    services.cancel_order(order=order, by=staff, expected_version=order.version, reason="x")
    assert Delivery.objects.count() == 1


def test_unsubscribe_for_an_unknown_token_is_a_friendly_404(client: Client, db: None) -> None:
    assert client.post("/t/" + "x" * 24 + "/unsubscribe/").status_code == 404


def test_russian_defaults_follow_the_shops_form_of_address(shop: Shop, staff: object) -> None:
    shop.language = "ru"
    shop.save()
    create(shop, staff, number="1")
    shop.address_form = "ty"
    shop.save()
    create(shop, staff, number="2")
    outbox.deliver_due()
    formal, informal = sorted(mail.outbox, key=lambda m: m.subject)
    assert formal.subject == "Заказ 1 принят · Pizzeria"
    assert "Здравствуйте, Maria!" in formal.body
    assert "ваш заказ 1" in formal.body
    assert "Привет, Maria!" in informal.body
    assert "твой заказ 2" in informal.body
    assert re.search(r"Ориентировочно: (сегодня|завтра) \d\d:\d\d\.", informal.body)
    assert "Отписаться от сообщений: http" in informal.body


def test_the_customers_language_wins_over_the_shops(shop: Shop, staff: object) -> None:
    shop.language = "ru"
    shop.save()
    create(shop, staff, language="en")
    outbox.deliver_due()
    assert mail.outbox[0].subject == "Order 2001 confirmed · Pizzeria"


def test_the_shops_own_text_is_used_with_placeholders(shop: Shop, staff: object) -> None:
    MessageTemplate.objects.create(
        shop=shop,
        kind=MessageKind.CREATED,
        language="en",
        subject="{shop} got order #{number}",
        body="Dear {name}, thanks! Watch it here: {link}",
    )
    order = create(shop, staff)
    outbox.deliver_due()
    [message] = mail.outbox
    assert message.subject == "Pizzeria got order #2001"
    assert message.body.startswith("Dear Maria, thanks! Watch it here: http")
    assert message.body.count(order.token + "/") == 2  # the link once, plus the unsubscribe link


def test_unknown_placeholders_are_refused_in_the_admin(shop: Shop) -> None:
    template = MessageTemplate(
        shop=shop, kind=MessageKind.CREATED, language="en", subject="Hi {nmae}", body="x"
    )
    with pytest.raises(ValidationError, match=r"\{nmae\}"):
        template.full_clean()


def test_a_failing_mail_server_is_retried_with_backoff_then_given_up_loudly(
    shop: Shop, staff: object, settings, caplog: pytest.LogCaptureFixture
) -> None:
    # A real SMTP connection to a port where nothing listens.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    create(shop, staff)
    now = timezone.now()
    assert outbox.deliver_due(now) == 1
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.attempts == 1
    assert "ConnectionRefusedError" in delivery.last_error
    assert delivery.next_attempt_at > now
    assert outbox.deliver_due(now) == 0  # not before its time
    later = delivery.next_attempt_at
    assert outbox.deliver_due(later) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.next_attempt_at - later > (later - now)  # the wait doubles

    # The server comes back: the next attempt goes through.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outbox.deliver_due(delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert len(mail.outbox) == 1

    # One that never gets through is given up after a day, with an error logged.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    create(shop, staff, number="2002")
    doomed = Delivery.objects.get(order__number="2002")
    with caplog.at_level(logging.ERROR, logger="tracker.outbox"):
        outbox.deliver_due(doomed.created_at + timedelta(hours=24, seconds=1))
    doomed.refresh_from_db()
    assert doomed.status == Delivery.Status.FAILED
    assert any("failed for good" in r.getMessage() for r in caplog.records)


def test_a_crashed_workers_claim_runs_out_and_only_one_worker_wins_a_row(
    shop: Shop, staff: object
) -> None:
    create(shop, staff)
    delivery = Delivery.objects.get()
    now = timezone.now()
    assert outbox._claim(delivery.pk, now) is True
    assert outbox._claim(delivery.pk, now) is False  # a second worker
    assert outbox.deliver_due(now) == 0  # still claimed
    # The first worker died holding it: after the lease, another delivers it.
    assert outbox.deliver_due(now + outbox.LEASE + timedelta(seconds=1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT


def test_an_attempt_cut_off_mid_send_is_recorded_counted_and_reported(
    shop: Shop, staff: object, caplog
) -> None:
    create(shop, staff)
    delivery = Delivery.objects.get()
    now = timezone.now()
    # A worker claims it, sends the e-mail, and dies before recording the outcome.
    assert outbox._claim(delivery.pk, now)
    outbox.send_email(Delivery.objects.get(pk=delivery.pk))
    delivery.refresh_from_db()
    assert delivery.started_at == now and delivery.status == Delivery.Status.PENDING
    with caplog.at_level(logging.WARNING, logger="tracker.outbox"):
        assert outbox.deliver_due(now + outbox.LEASE + timedelta(seconds=1)) == 1
    delivery.refresh_from_db()
    # Sent again (at least once, as documented), the cut-off attempt counted and
    # logged, and the same Message-ID for the receiver to drop the repeat.
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2
    assert delivery.started_at is None
    assert any("cut off" in r.getMessage() for r in caplog.records)
    first, second = (m.extra_headers["Message-ID"] for m in mail.outbox)
    assert first == second


def _manage_env(tmp_path: Path) -> dict:
    # A separate process with its own SQLite file: the worker as `make run` starts it.
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
        "EMAIL_URL": "consolemail://",
        "PATH": "/usr/bin:/bin",
    }


def _demo_order(env: dict, number: str) -> str:
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    return (
        manage(
            env,
            *("create_order", "--shop", "demo", "--number", number, "--customer", "Maria"),
            *("--email", "maria@example.com"),
        )
        .strip()
        .splitlines()[-1]
    )


def test_deliver_once_sends_what_is_queued_and_exits(tmp_path: Path) -> None:
    env = _manage_env(tmp_path)
    url = _demo_order(env, "A-1")
    out = manage(env, "deliver", "--once")
    assert url in out  # the console backend prints the message
    assert out.strip().endswith("1 attempted")
    assert manage(env, "deliver", "--once").strip() == "0 attempted"


def test_the_worker_delivers_in_the_background_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = _manage_env(tmp_path)
    url = _demo_order(env, "A-2")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "deliver", "--poll", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    sent = watch_for(worker.stdout, url)
    try:
        assert sent.wait(60), "the worker did not send the confirmation"
    finally:
        worker.terminate()
        assert worker.wait(timeout=15) == 0


def test_an_order_created_on_the_board_confirms_in_the_chosen_language(
    staff_client: Client, shop: Shop
) -> None:
    data = {
        "number": "B-1",
        "customer_name": "Ivan Petrov",
        "email": "ivan@example.com",
        "summary": "Капучино и круассан",
        "language": "ru",
        "workflow": shop.workflows.get(key="cafe").pk,
    }
    response = staff_client.post(f"/staff/{shop.slug}/orders/new/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    outbox.deliver_due()
    [message] = mail.outbox
    assert message.subject == "Заказ B-1 принят · Pizzeria"
    assert "Капучино и круассан" in message.body
    assert "Здравствуйте, Ivan!" in message.body


def test_an_e_mail_sent_again_carries_the_same_message_id(shop: Shop, staff: object) -> None:
    create(shop, staff)
    delivery = Delivery.objects.get(channel="email")
    outbox.send_email(delivery)
    outbox.send_email(delivery)  # as a retry after a worker died mid-way would
    first, second = (m.extra_headers["Message-ID"] for m in mail.outbox)
    assert first == second and first.startswith(f"<delivery-{delivery.pk}.")
