"""Built-in workflows a shop starts from, in Russian and English.

Each stage: (name_ru, name_en, text_ru, text_en, expected minutes); "milestones" are the
positions the customer gets a message about ("out for delivery", "ready for pickup"),
"waiting" those where the shop waits for the customer to come (the order stays on
the board until it is handed over, and the rating is asked only after that).
A shop gets its own editable copy with install_template(); the template itself never
changes a shop.
"""

from django.db import transaction

from .models import Shop, Stage, Workflow, stages_changed

TEMPLATES: dict[str, dict] = {
    "pizza": {
        "milestones": (4,),
        "name_ru": "Доставка пиццы",
        "name_en": "Pizza delivery",
        "stages": [
            (
                "Заказ принят",
                "Order received",
                "Мы получили заказ и уже передали его на кухню.",
                "We have your order and passed it to the kitchen.",
                2,
            ),
            (
                "Готовим",
                "Preparing",
                "Раскатываем тесто и собираем вашу пиццу.",
                "We are making your pizza.",
                8,
            ),
            (
                "В печи",
                "Baking",
                "Пицца в печи — это самое вкусное место.",
                "Your pizza is in the oven.",
                10,
            ),
            (
                "В пути",
                "Out for delivery",
                "Курьер уже едет к вам.",
                "The courier is on the way to you.",
                25,
            ),
            ("Доставлен", "Delivered", "Приятного аппетита!", "Enjoy your meal!", 0),
        ],
    },
    "cafe": {
        "milestones": (3,),
        "waiting": (3,),
        "name_ru": "Кафе: с собой",
        "name_en": "Café pickup",
        "stages": [
            (
                "Заказ принят",
                "Order received",
                "Заказ принят, бариста скоро начнёт.",
                "Your order is in; the barista will start soon.",
                2,
            ),
            ("Готовим", "Preparing", "Готовим ваш заказ.", "We are preparing your order.", 6),
            (
                "Готово к выдаче",
                "Ready for pickup",
                "Заберите заказ у стойки выдачи.",
                "Pick up your order at the counter.",
                10,
            ),
            ("Выдан", "Picked up", "Спасибо, что зашли!", "Thanks for stopping by!", 0),
        ],
    },
    "shop": {
        "milestones": (3, 4),
        "name_ru": "Интернет-магазин",
        "name_en": "Online shop",
        "stages": [
            (
                "Заказ подтверждён",
                "Order confirmed",
                "Мы подтвердили заказ и резервируем товары.",
                "We confirmed your order and are reserving the items.",
                60,
            ),
            (
                "Собираем",
                "Packing",
                "Собираем и упаковываем заказ на складе.",
                "We are packing your order at the warehouse.",
                240,
            ),
            (
                "Передан в доставку",
                "Shipped",
                "Заказ передан службе доставки.",
                "Your order is with the delivery service.",
                1440,
            ),
            (
                "Доставлен",
                "Delivered",
                "Заказ доставлен. Спасибо за покупку!",
                "Delivered. Thank you for your purchase!",
                0,
            ),
        ],
    },
    "drycleaning": {
        "milestones": (4,),
        "waiting": (4,),
        "name_ru": "Химчистка",
        "name_en": "Dry cleaning",
        "aftercare_ru": "Снимите плёнку дома: ткань должна дышать. Храните вещи на плечиках. "
        "Если что-то не так, сообщите нам в течение 14 дней.",
        "aftercare_en": "Remove the plastic at home so the fabric can breathe, and keep the "
        "items on hangers. If anything is wrong, tell us within 14 days.",
        "stages": [
            (
                "Принято",
                "Received",
                "Мы приняли вещи и проверили их.",
                "We have received and checked your items.",
                60,
            ),
            ("В чистке", "Cleaning", "Вещи в чистке.", "Your items are being cleaned.", 1440),
            (
                "Глажка и упаковка",
                "Pressing and packing",
                "Гладим и упаковываем.",
                "We are pressing and packing your items.",
                180,
            ),
            (
                "Готово к выдаче",
                "Ready for pickup",
                "Можно забирать — ждём вас в часы работы.",
                "Ready: pick up during opening hours.",
                0,
            ),
            ("Выдано", "Handed over", "Спасибо, что выбрали нас!", "Thank you for choosing us!", 0),
        ],
    },
    "carrepair": {
        "milestones": (5,),
        "waiting": (5,),
        "name_ru": "Автосервис",
        "name_en": "Car repair",
        "aftercare_ru": "Первые 200 км избегайте резких торможений. На работы действует гарантия "
        "6 месяцев — сохраните заказ-наряд.",
        "aftercare_en": "Avoid hard braking for the first 200 km. The work has a 6-month "
        "warranty: keep your work order.",
        "stages": [
            (
                "Автомобиль принят",
                "Car checked in",
                "Мы приняли автомобиль.",
                "We have checked in your car.",
                30,
            ),
            (
                "Диагностика",
                "Diagnostics",
                "Ищем причину неисправности.",
                "We are diagnosing the problem.",
                120,
            ),
            (
                "Ремонт",
                "Repair",
                "Мастер ремонтирует автомобиль.",
                "A mechanic is repairing your car.",
                480,
            ),
            (
                "Проверка качества",
                "Quality check",
                "Проверяем результат работы.",
                "We are checking the work.",
                60,
            ),
            (
                "Готов к выдаче",
                "Ready for pickup",
                "Автомобиль готов, можно забирать.",
                "Your car is ready for pickup.",
                0,
            ),
            ("Выдан", "Handed over", "Счастливого пути!", "Have a good trip!", 0),
        ],
    },
    "salon": {
        "milestones": (),
        "name_ru": "Салон красоты",
        "name_en": "Salon",
        "aftercare_ru": "Не мочите волосы 48 часов после окрашивания и используйте шампунь "
        "для окрашенных волос. Коррекция в течение недели — бесплатно.",
        "aftercare_en": "Keep your hair dry for 48 hours after colouring and use a shampoo for "
        "coloured hair. A touch-up within a week is free.",
        "stages": [
            (
                "Запись подтверждена",
                "Booking confirmed",
                "Ждём вас в назначенное время.",
                "We look forward to seeing you.",
                0,
            ),
            (
                "Вы пришли",
                "Checked in",
                "Мастер скоро освободится.",
                "Your stylist will be with you shortly.",
                10,
            ),
            ("Процедура", "In service", "Мастер работает.", "Your service is in progress.", 60),
            ("Готово", "Done", "Спасибо, что выбрали нас!", "Thank you for choosing us!", 0),
        ],
    },
}


# What customers may do themselves, per built-in workflow: cancel up to this stage
# (its position; None: never), and confirm receipt ("got it, all good").
SELF_SERVICE = {
    "pizza": (1, False),
    "cafe": (1, True),
    "shop": (2, True),
    "drycleaning": (1, True),
    "carrepair": (1, True),
    "salon": (1, False),
}


def free_key(shop: Shop, key: str) -> str:
    """The key itself if the shop has no workflow by it, else key-2, key-3, …"""
    taken = set(Workflow.objects.filter(shop=shop).values_list("key", flat=True))
    n, free = 2, key
    while free in taken:
        free, n = f"{key}-{n}", n + 1
    return free


@transaction.atomic
def install_template(shop: Shop, key: str, as_key: str | None = None) -> Workflow:
    """Give the shop its own copy of a built-in workflow (idempotent by `as_key`,
    the key it gets in the shop: the template's own by default)."""
    template = TEMPLATES[key]
    workflow, created = Workflow.objects.get_or_create(
        shop=shop,
        key=as_key or key,
        defaults={
            "name_ru": template["name_ru"],
            "name_en": template["name_en"],
            "aftercare_ru": template.get("aftercare_ru", ""),
            "aftercare_en": template.get("aftercare_en", ""),
        },
    )
    if created:
        Stage.objects.bulk_create(
            Stage(
                workflow=workflow,
                position=position,
                name_ru=name_ru,
                name_en=name_en,
                text_ru=text_ru,
                text_en=text_en,
                expected_minutes=minutes,
                notify=position in template["milestones"],
                waits_for_customer=position in template.get("waiting", ()),
            )
            for position, (name_ru, name_en, text_ru, text_en, minutes) in enumerate(
                template["stages"], start=1
            )
        )
        stages_changed(workflow.pk)
        cancel_until, confirms = SELF_SERVICE.get(key, (None, False))
        workflow.customer_cancel_until = workflow.stages.filter(position=cancel_until).first()
        workflow.customer_confirms = confirms
        workflow.save(update_fields=["customer_cancel_until", "customer_confirms"])
    return workflow


@transaction.atomic
def copy_workflow(workflow: Workflow, new_key: str) -> Workflow:
    """An editable duplicate of a shop's workflow, stages included."""
    copy = Workflow.objects.create(
        shop=workflow.shop,
        key=new_key,
        name_ru=workflow.name_ru,
        name_en=workflow.name_en,
        aftercare_ru=workflow.aftercare_ru,
        aftercare_en=workflow.aftercare_en,
        customer_confirms=workflow.customer_confirms,
    )
    Stage.objects.bulk_create(
        Stage(
            workflow=copy,
            position=s.position,
            name_ru=s.name_ru,
            name_en=s.name_en,
            text_ru=s.text_ru,
            text_en=s.text_en,
            expected_minutes=s.expected_minutes,
            notify=s.notify,
            waits_for_customer=s.waits_for_customer,
        )
        for s in workflow.stages.all()
    )
    stages_changed(copy.pk)
    if workflow.customer_cancel_until_id is not None:
        copy.customer_cancel_until = copy.stages.get(
            position=workflow.customer_cancel_until.position
        )
        copy.save(update_fields=["customer_cancel_until"])
    return copy
