"""Customer messages (e-mail, SMS) in the shop's own words, queued in the outbox.

Each message is rendered when the change happens, inside its transaction, into a
Delivery row: the text is exactly what the change meant, and a message is never
lost or sent twice (one Delivery per change and channel; see orders.outbox).
"""

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tracker.publicurl import public_base

from . import rules
from .models import (
    FORWARD_KINDS,
    Delivery,
    MessageKind,
    MessageTemplate,
    Order,
    OrderEvent,
    Shop,
)
from .placeholders import fill
from .templatetags.tracker import when, window

# Defaults, per kind and language; Russian in both forms of address.
# A line whose placeholder has no value (no summary, no ETA, …) is left out.
DEFAULTS: dict[tuple[str, str], dict[str, str]] = {
    (MessageKind.CREATED, "en"): {
        "subject": "Order {number} confirmed · {shop}",
        "body": "Hello, {name}!\n\nWe have your order {number} at {shop}.\n{summary}\n"
        "Now: {stage}.\nExpected: {eta}.\n\nFollow it live: {link}",
        "sms": "{shop}: order {number} confirmed.\nExpected: {eta}.\n{link}",
    },
    (MessageKind.CREATED, "vy"): {
        "subject": "Заказ {number} принят · {shop}",
        "body": "Здравствуйте, {name}!\n\nМы приняли ваш заказ {number} в «{shop}».\n{summary}\n"
        "Сейчас: {stage}.\nОриентировочно: {eta}.\n\nСледите за заказом: {link}",
        "sms": "«{shop}»: заказ {number} принят.\nОриентировочно: {eta}.\n{link}",
    },
    (MessageKind.CREATED, "ty"): {
        "subject": "Заказ {number} принят · {shop}",
        "body": "Привет, {name}!\n\nМы приняли твой заказ {number} в «{shop}».\n{summary}\n"
        "Сейчас: {stage}.\nОриентировочно: {eta}.\n\nСледи за заказом: {link}",
        "sms": "«{shop}»: заказ {number} принят.\nОриентировочно: {eta}.\n{link}",
    },
    (MessageKind.MILESTONE, "en"): {
        "subject": "Order {number}: {stage}",
        "body": "Hello, {name}!\n\nYour order {number}: {stage}.\n{stage_text}\n\nDetails: {link}",
        "sms": "{shop}: order {number} — {stage}.\n{link}",
    },
    (MessageKind.MILESTONE, "vy"): {
        "subject": "Заказ {number}: {stage}",
        "body": "Здравствуйте, {name}!\n\nВаш заказ {number}: {stage}.\n{stage_text}\n\n"
        "Подробности: {link}",
        "sms": "«{shop}»: заказ {number} — {stage}.\n{link}",
    },
    (MessageKind.MILESTONE, "ty"): {
        "subject": "Заказ {number}: {stage}",
        "body": "Привет, {name}!\n\nТвой заказ {number}: {stage}.\n{stage_text}\n\n"
        "Подробности: {link}",
        "sms": "«{shop}»: заказ {number} — {stage}.\n{link}",
    },
    (MessageKind.DELAYED, "en"): {
        "subject": "Order {number} is running late",
        "body": "Hello, {name}!\n\nWe are sorry: your order {number} is running late.\n"
        "Why: {reason}\nWhat we are doing: {action}\nNew time: {eta}.\n\n"
        "Details: {link}\nQuestions: {phone}",
        "sms": "{shop}: order {number} is running late ({reason}).\nNew time: {eta}.\n{link}",
    },
    (MessageKind.DELAYED, "vy"): {
        "subject": "Заказ {number} задерживается",
        "body": "Здравствуйте, {name}!\n\nК сожалению, ваш заказ {number} задерживается.\n"
        "Причина: {reason}\nЧто мы делаем: {action}\nНовое время: {eta}.\n"
        "Приносим извинения за ожидание.\n\nПодробности: {link}\nВопросы: {phone}",
        "sms": "«{shop}»: заказ {number} задерживается ({reason}).\nНовое время: {eta}.\n{link}",
    },
    (MessageKind.DELAYED, "ty"): {
        "subject": "Заказ {number} задерживается",
        "body": "Привет, {name}!\n\nК сожалению, твой заказ {number} задерживается.\n"
        "Причина: {reason}\nЧто мы делаем: {action}\nНовое время: {eta}.\n"
        "Извини за ожидание.\n\nПодробности: {link}\nВопросы: {phone}",
        "sms": "«{shop}»: заказ {number} задерживается ({reason}).\nНовое время: {eta}.\n{link}",
    },
    (MessageKind.CANCELLED, "en"): {
        "subject": "Order {number} was cancelled",
        "body": "Hello, {name}!\n\nWe are sorry: your order {number} was cancelled.\n"
        "Reason: {reason}\nQuestions: {phone}\n\nDetails: {link}",
        "sms": "{shop}: order {number} was cancelled ({reason}).\n{link}",
    },
    (MessageKind.CANCELLED, "vy"): {
        "subject": "Заказ {number} отменён",
        "body": "Здравствуйте, {name}!\n\nК сожалению, ваш заказ {number} отменён.\n"
        "Причина: {reason}\nВопросы: {phone}\n\nПодробности: {link}",
        "sms": "«{shop}»: заказ {number} отменён ({reason}).\n{link}",
    },
    (MessageKind.CANCELLED, "ty"): {
        "subject": "Заказ {number} отменён",
        "body": "Привет, {name}!\n\nК сожалению, твой заказ {number} отменён.\n"
        "Причина: {reason}\nВопросы: {phone}\n\nПодробности: {link}",
        "sms": "«{shop}»: заказ {number} отменён ({reason}).\n{link}",
    },
}


def absolute(path: str) -> str:
    return public_base() + path


def tracking_url(order: Order) -> str:
    return absolute(reverse("orders:track", args=[order.token]))


def unsubscribe_url(order: Order) -> str:
    return absolute(reverse("orders:unsubscribe", args=[order.token]))


def message_kind(order: Order, event: OrderEvent) -> str | None:
    """Which customer message a change calls for, if any (internal stages: none)."""
    if event.kind == OrderEvent.Kind.CREATED:
        return MessageKind.CREATED
    if event.kind in (OrderEvent.Kind.ADVANCED, OrderEvent.Kind.COMPLETED):
        if not order.stage.notify:
            return None
        # Each milestone once per order: an advance that follows an undo reaches a
        # stage the customer has already been told about.
        told = Delivery.objects.filter(
            order=order, event__stage=order.stage, event__kind__in=FORWARD_KINDS
        ).exclude(event=event)
        return None if told.exists() else MessageKind.MILESTONE
    if event.kind == OrderEvent.Kind.DELAYED:
        return MessageKind.DELAYED
    if event.kind == OrderEvent.Kind.CANCELLED:
        return MessageKind.CANCELLED
    return None


def default_wording(shop: Shop, kind: str, lang: str) -> dict[str, str]:
    """The built-in text of a kind of message in a language, in the shop's form of address."""
    return DEFAULTS[(kind, shop.address_form if lang == "ru" else lang)]


def wording(order: Order, kind: str, lang: str) -> dict[str, str]:
    own = MessageTemplate.objects.filter(shop=order.shop_id, kind=kind, language=lang).first()
    default = default_wording(order.shop, kind, lang)
    if own is None:
        return default
    return {"subject": own.subject, "body": own.body, "sms": own.sms or default["sms"]}


def values(order: Order) -> dict[str, str]:
    """Placeholder values in the active language and the shop's time zone."""
    if order.promise_end and not order.is_delayed:
        eta = window(order.promise_start, order.promise_end)
    else:
        eta = when(rules.estimate(order, list(order.workflow.stages.all())))
    return {
        "name": order.customer_first_name,
        "number": order.number,
        "shop": order.shop.name,
        "summary": order.summary,
        "stage": order.stage.name,
        "stage_text": order.stage.text,
        "eta": eta,
        "reason": order.cancel_reason
        if order.state == Order.State.CANCELLED
        else order.delay_reason,
        "action": order.delay_action,
        "phone": order.shop.phone,
        "link": tracking_url(order),
    }


def _with_footer(text: str, template: str, order: Order) -> str:
    footer = [] if "{link}" in template else [_("Track your order: %s") % tracking_url(order)]
    footer.append(_("Stop these messages: %s") % unsubscribe_url(order))
    return text + "\n\n" + "\n".join(footer)


def enqueue_messages(order: Order, event: OrderEvent) -> list[Delivery]:
    """Queue the customer's messages for this change (inside its transaction)."""
    kind = message_kind(order, event)
    if kind is None or order.unsubscribed_at or not (order.email or order.phone):
        return []
    lang = order.message_language
    with translation.override(lang), timezone.override(order.shop.timezone):
        texts = wording(order, kind, lang)
        filled = values(order)
        planned = []
        if order.email:
            planned.append(
                (
                    Delivery.Channel.EMAIL,
                    order.email,
                    fill(texts["subject"], filled).replace("\n", " ")[:200],
                    _with_footer(fill(texts["body"], filled), texts["body"], order),
                )
            )
        if order.phone:
            planned.append(
                (
                    Delivery.Channel.SMS,
                    order.phone,
                    "",
                    _with_footer(fill(texts["sms"], filled), texts["sms"], order),
                )
            )
    return [
        Delivery.objects.create(
            shop_id=order.shop_id,
            order=order,
            event=event,
            channel=channel,
            dedupe_key=f"{event.pk}:{channel}",
            recipient=recipient,
            subject=subject,
            body=body,
        )
        for channel, recipient, subject, body in planned
    ]
