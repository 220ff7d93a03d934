"""The owner's console: everything of their own shop, nothing of another's."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from api.models import ApiKey
from orders import services
from orders.models import (
    Delivery,
    Membership,
    MessageTemplate,
    Order,
    Shop,
    Stage,
    WebhookEndpoint,
    Workflow,
)
from tests.conftest import _make_shop, signed_in


def _owner(shop: Shop, username: str) -> object:
    user = get_user_model().objects.create_user(username, password="pw-" + username)
    Membership.objects.create(user=user, shop=shop, role=Membership.Role.OWNER)
    return user


_client = signed_in


@pytest.fixture
def owner(shop: Shop) -> object:
    return _owner(shop, "olga")


@pytest.fixture
def owner_client(owner: object) -> Client:
    return _client(owner)


@pytest.fixture
def beta(db: None, settings) -> dict:
    """Another shop with one of everything the console manages."""
    settings.TRACKER_WEBHOOKS_ALLOW_PRIVATE = True
    shop = _make_shop("beta", "Beta")
    boss = _owner(shop, "boss")
    workflow = shop.workflows.get(key="pizza")
    key = ApiKey(shop=shop, name="beta POS")
    key.issue()
    key.save()
    endpoint = WebhookEndpoint.objects.create(shop=shop, url="http://127.0.0.1:9/hook")
    order = services.create_order(
        shop=shop,
        workflow=workflow,
        number="B1",
        customer_name="Bea",
        phone="+7 900 555-00-05",
        by=boss,
    )
    return {
        "shop": shop,
        "workflow": workflow,
        "stage": workflow.stages.last(),
        "key": key,
        "endpoint": endpoint,
        "delivery": Delivery.objects.get(order=order, channel=Delivery.Channel.WEBHOOK),
        "member": Membership.objects.get(user=boss),
        "order": order,
    }


def _state(beta: dict) -> tuple:
    """What an attack on beta could change."""
    shop = Shop.objects.get(pk=beta["shop"].pk)
    return (
        (shop.name, shop.phone, shop.embed_origins, shop.display_token, shop.logo_hash),
        list(Workflow.objects.filter(shop=shop).values_list("pk", "key", "name_en")),
        list(Stage.objects.filter(workflow__shop=shop).values_list("pk", "position", "name_en")),
        list(ApiKey.objects.filter(shop=shop).values_list("pk", "revoked_at")),
        list(WebhookEndpoint.objects.filter(shop=shop).values_list("pk", "secret", "active")),
        list(Delivery.objects.filter(shop=shop).values_list("pk", "status")),
        list(Membership.objects.filter(shop=shop).values_list("pk", "role")),
        list(MessageTemplate.objects.filter(shop=shop).values_list("pk")),
        get_user_model().objects.count(),
    )


# Every console URL: its name, and which of beta's objects its arguments are.
URLS = [
    ("console:shop", []),
    ("console:display_rotate", []),
    ("console:workflows", []),
    ("console:workflow", ["workflow"]),
    ("console:stage_add", ["workflow"]),
    ("console:stages_reorder", ["workflow"]),
    ("console:stage_save", ["stage"]),
    ("console:stage_move", ["stage", "up"]),
    ("console:stage_delete", ["stage"]),
    ("console:texts", []),
    ("console:text", ["created", "en"]),
    ("console:text_preview", ["created", "en"]),
    ("console:keys", []),
    ("console:key_revoke", ["key"]),
    ("console:webhooks", []),
    ("console:webhook_rotate", ["endpoint"]),
    ("console:webhook_toggle", ["endpoint"]),
    ("console:delivery_retry", ["delivery"]),
    ("console:team", []),
    ("console:member_role", ["member"]),
    ("console:member_remove", ["member"]),
    ("console:numbers", []),
]

HOSTILE_POST = {
    "name": "Pwned",
    "phone": "1",
    "key": "x",
    "template": "pizza",
    "order": "1,2,3",
    "new-name_en": "X",
    "subject": "x",
    "body": "x",
    "url": "http://127.0.0.1:9/x",
    "username": "intruder",
    "password": "A-long-enough-passw0rd",
    "role": "owner",
    "can_write": "on",
}


def _args(beta: dict, spec: list, slug: str) -> list:
    return [slug, *(beta[a].pk if a in beta else a for a in spec)]


@pytest.mark.parametrize(("name", "spec"), URLS, ids=[name for name, _ in URLS])
def test_an_owner_of_another_shop_gets_404_and_changes_nothing(
    shop: Shop, owner_client: Client, beta: dict, name: str, spec: list
) -> None:
    before = _state(beta)
    # Beta's own console, and beta's objects under the owner's own shop.
    for slug in ("beta", shop.slug):
        if slug == shop.slug and not [a for a in spec if a in beta]:
            continue  # the owner's own page: theirs to see
        url = reverse(name, args=_args(beta, spec, slug))
        assert owner_client.get(url).status_code in (404, 405), url
        assert owner_client.post(url, HOSTILE_POST).status_code == 404, url
    assert _state(beta) == before


@pytest.mark.parametrize(("name", "spec"), URLS, ids=[name for name, _ in URLS])
def test_staff_and_strangers_cannot_open_the_console(
    shop: Shop, staff: object, beta: dict, client: Client, name: str, spec: list
) -> None:
    url = reverse(name, args=_args(beta, spec, "beta"))
    staff_of_beta = get_user_model().objects.create_user("beta-staff", password="x")
    Membership.objects.create(user=staff_of_beta, shop=beta["shop"])  # the staff role
    before = _state(beta)
    assert _client(staff_of_beta).post(url, HOSTILE_POST).status_code == 404
    assert _client(staff_of_beta).get(url).status_code in (404, 405)
    response = client.get(url)  # signed out: to the sign-in page
    assert response.status_code == 302 and "/staff/login/" in response["Location"]
    assert _state(beta) == before


def test_the_board_shows_the_console_link_to_owners_only(
    shop: Shop, owner_client: Client, staff_client: Client
) -> None:
    console = reverse("console:shop", args=[shop.slug])
    assert console in owner_client.get(f"/staff/{shop.slug}/").content.decode()
    assert console not in staff_client.get(f"/staff/{shop.slug}/").content.decode()


def test_the_owner_sets_up_contacts(shop: Shop, owner_client: Client) -> None:
    url = reverse("console:shop", args=[shop.slug])
    form = {
        "name": "Pizzeria Uno",
        "phone": "+7 900 123-45-67",
        "address": "Main St 1",
        "website": "https://uno.example",
        "email": "hi@uno.example",
        "opening_hours": "10–22",
        "brand_color": "#114477",
        "language": "en",
        "address_form": "ty",
        "timezone": "Europe/Berlin",
        "embed_origins": "https://uno.example",
        "display_clear_minutes": "2",
    }
    assert owner_client.post(url, form).status_code == 302
    shop.refresh_from_db()
    assert (shop.name, shop.timezone, shop.address_form) == ("Pizzeria Uno", "Europe/Berlin", "ty")
    bad = owner_client.post(url, {**form, "timezone": "Mars/Base", "embed_origins": "ftp://x"})
    assert bad.status_code == 422
    assert "Unknown time zone" in bad.content.decode()
    shop.refresh_from_db()
    assert shop.timezone == "Europe/Berlin"


def test_the_owner_adds_edits_reorders_and_removes_stages(
    shop: Shop, owner_client: Client, order: Order, staff: object
) -> None:
    url = reverse("console:workflows", args=[shop.slug])
    response = owner_client.post(url, {"template": "pizza"})
    copy = Workflow.objects.get(shop=shop, key="pizza-2")  # the shop had one already
    assert response["Location"].endswith(reverse("console:workflow", args=[shop.slug, copy.pk]))
    stages = list(copy.stages.all())
    owner_client.post(
        reverse("console:stage_save", args=[shop.slug, stages[1].pk]),
        {
            f"stage-{stages[1].pk}-{k}": v
            for k, v in {
                "name_ru": "Тесто",
                "name_en": "Dough",
                "expected_minutes": "7",
                "notify": "on",
            }.items()
        },
    )
    stages[1].refresh_from_db()
    assert (stages[1].name_en, stages[1].expected_minutes, stages[1].notify) == ("Dough", 7, True)
    # A stage without a name is refused, and what was typed is shown again.
    nameless = owner_client.post(
        reverse("console:stage_add", args=[shop.slug, copy.pk]),
        {"new-text_en": "Into the box", "new-expected_minutes": "2"},
    )
    assert nameless.status_code == 422 and copy.stages.count() == len(stages)
    assert 'value="Into the box"' in nameless.content.decode()
    assert "at least one language" in nameless.content.decode()
    owner_client.post(
        reverse("console:stage_add", args=[shop.slug, copy.pk]),
        {"new-name_en": "Boxed", "new-expected_minutes": "2"},
    )
    added = copy.stages.last()
    assert added.name_en == "Boxed"
    # Up, to the top, and down again: the order follows, positions stay 1, 2, 3…
    for _ in range(len(stages)):
        owner_client.post(reverse("console:stage_move", args=[shop.slug, added.pk, "up"]))
    assert copy.stages.first() == added
    owner_client.post(reverse("console:stage_move", args=[shop.slug, added.pk, "down"]))
    assert list(copy.stages.all())[1] == added
    order_now = [s.pk for s in copy.stages.all()]
    new = list(reversed(order_now))
    owner_client.post(
        reverse("console:stages_reorder", args=[shop.slug, copy.pk]),
        {"order": ",".join(map(str, new))},
    )
    assert [s.pk for s in copy.stages.all()] == new
    assert [s.position for s in copy.stages.all()] == list(range(1, len(new) + 1))
    # A list that is not this workflow's stages is refused, nothing moves.
    stale = owner_client.post(
        reverse("console:stages_reorder", args=[shop.slug, copy.pk]), {"order": "1,2"}
    )
    assert stale.status_code == 409 and [s.pk for s in copy.stages.all()] == new
    owner_client.post(reverse("console:stage_delete", args=[shop.slug, added.pk]))
    assert not Stage.objects.filter(pk=added.pk).exists()
    # A stage with history stays (orders point at it); the page says why.
    used = order.stage
    answer = owner_client.post(
        reverse("console:stage_delete", args=[shop.slug, used.pk]), follow=True
    )
    assert Stage.objects.filter(pk=used.pk).exists()
    assert "rename it instead" in answer.content.decode()


def test_an_open_order_keeps_its_stage_when_the_workflow_is_reordered(
    shop: Shop, owner_client: Client, order: Order, staff: object
) -> None:
    order = services.advance_order(order=order, by=staff, expected_version=order.version)
    stages = list(order.workflow.stages.all())
    page = owner_client.get(reverse("console:workflow", args=[shop.slug, order.workflow_id]))
    assert "1 open order follows this workflow" in page.content.decode()
    owner_client.post(
        reverse("console:stages_reorder", args=[shop.slug, order.workflow_id]),
        {"order": ",".join(str(s.pk) for s in [stages[1], stages[0], *stages[2:]])},
    )
    order.refresh_from_db()
    assert order.stage == stages[1]
    moved = services.advance_order(order=order, by=staff, expected_version=order.version)
    assert moved.stage == stages[0]  # whatever follows it now


def test_message_texts_are_checked_previewed_and_used(shop: Shop, owner_client: Client) -> None:
    url = reverse("console:text", args=[shop.slug, "created", "en"])
    assert "We have your order {number}" in owner_client.get(url).content.decode()
    bad = owner_client.post(url, {"subject": "Hi {nmae}", "body": "x", "sms": ""})
    assert bad.status_code == 422 and "Unknown placeholders: {nmae}" in bad.content.decode()
    preview = owner_client.post(
        reverse("console:text_preview", args=[shop.slug, "created", "en"]),
        {"subject": "Order {number} at {shop}", "body": "Hi {name}\n{summary}", "sms": ""},
    ).content.decode()
    assert "Order 1042 at Pizzeria" in preview and "Hi Maria" in preview
    owner_client.post(url, {"subject": "Yours {number}", "body": "Thanks {name}", "sms": ""})
    own = MessageTemplate.objects.get(shop=shop, kind="created", language="en")
    assert own.subject == "Yours {number}"
    owner_client.post(url, {"reset": "1", "subject": "", "body": ""})
    assert not MessageTemplate.objects.filter(shop=shop).exists()
    assert (
        owner_client.get(reverse("console:text", args=[shop.slug, "nope", "en"])).status_code == 404
    )


def test_an_api_key_is_shown_once_works_and_can_be_revoked(
    shop: Shop, owner_client: Client, order: Order
) -> None:
    url = reverse("console:keys", args=[shop.slug])
    page = owner_client.post(url, {"name": "Till", "can_write": ""}).content.decode()
    raw = re.search(r'<code class="secret-value">(trk_[\w-]+)</code>', page)[1]
    key = ApiKey.objects.get(shop=shop)
    assert not key.can_write and raw not in owner_client.get(url).content.decode()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get(f"/api/v1/orders/{order.number}").status_code == 200
    owner_client.post(reverse("console:key_revoke", args=[shop.slug, key.pk]))
    assert api.get(f"/api/v1/orders/{order.number}").status_code == 401


def test_a_webhook_secret_is_shown_once_rotates_and_a_delivery_is_sent_again(
    shop: Shop, owner_client: Client, staff: object, settings
) -> None:
    settings.TRACKER_WEBHOOKS_ALLOW_PRIVATE = True
    url = reverse("console:webhooks", args=[shop.slug])
    page = owner_client.post(url, {"url": "http://127.0.0.1:9/hook", "active": "on"})
    endpoint = WebhookEndpoint.objects.get(shop=shop)
    assert endpoint.secret in page.content.decode()
    assert endpoint.secret not in owner_client.get(url).content.decode()
    old = endpoint.secret
    rotated = owner_client.post(reverse("console:webhook_rotate", args=[shop.slug, endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in rotated.content.decode()
    services.create_order(
        shop=shop, workflow=shop.workflows.first(), number="W1", customer_name="W", by=staff
    )
    delivery = Delivery.objects.get(shop=shop, channel=Delivery.Channel.WEBHOOK)
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, attempts=9)
    assert "failed (gave up)" in owner_client.get(url).content.decode()
    owner_client.post(reverse("console:delivery_retry", args=[shop.slug, delivery.pk]))
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING
    settings.TRACKER_WEBHOOKS_ALLOW_PRIVATE = False
    refused = owner_client.post(url, {"url": "http://169.254.169.254/latest", "active": "on"})
    assert refused.status_code == 422


def test_the_owner_adds_a_colleague_who_can_sign_in_and_changes_roles(
    shop: Shop, owner: object, owner_client: Client, client: Client
) -> None:
    url = reverse("console:team", args=[shop.slug])
    form = {
        "username": "pavel",
        "first_name": "Pavel",
        "password": "Pizza-oven-2026",
        "role": "staff",
    }
    assert owner_client.post(url, form).status_code == 302
    signed_in = client.post(
        "/staff/login/", {"username": "pavel", "password": "Pizza-oven-2026"}, follow=True
    )
    assert signed_in.redirect_chain[-1][0] == f"/staff/{shop.slug}/"
    taken = owner_client.post(url, {**form, "username": "PAVEL"})
    assert taken.status_code == 422 and "taken" in taken.content.decode()
    weak = owner_client.post(url, {**form, "username": "ivan", "password": "123"})
    assert weak.status_code == 422
    member = Membership.objects.get(user__username="pavel")
    owner_client.post(
        reverse("console:member_role", args=[shop.slug, member.pk]), {"role": "owner"}
    )
    member.refresh_from_db()
    assert member.role == "owner"
    # The last owner cannot step down or leave: the shop would have nobody to run it.
    own = Membership.objects.get(user=owner)
    owner_client.post(reverse("console:member_remove", args=[shop.slug, member.pk]))
    answer = owner_client.post(
        reverse("console:member_role", args=[shop.slug, own.pk]), {"role": "staff"}, follow=True
    )
    own.refresh_from_db()
    assert own.role == "owner" and "at least one owner" in answer.content.decode()


def test_the_numbers_match_a_direct_count(
    shop: Shop, owner_client: Client, staff: object, django_assert_max_num_queries
) -> None:
    from datetime import timedelta
    from statistics import median

    from django.utils import timezone

    from console.numbers import numbers
    from orders.models import Feedback, OrderEvent

    workflow = shop.workflows.get(key="pizza")
    start = timezone.now() - timedelta(days=2)
    for n in range(6):
        order = services.create_order(
            shop=shop, workflow=workflow, number=f"N{n}", customer_name="N", by=staff
        )
        for _ in range(n % 4):
            order = services.advance_order(order=order, by=staff, expected_version=order.version)
        if n == 5:
            services.cancel_order(
                order=order, by=staff, expected_version=order.version, reason="out of dough"
            )
        if n == 4:
            services.report_problem(order=order, text="cold")
        # Spread the history out: order n took n + 3 minutes per step.
        for event in OrderEvent.objects.filter(order=order).order_by("version"):
            at = start + timedelta(hours=n, minutes=event.version * (n + 3))
            OrderEvent.objects.filter(pk=event.pk).update(created_at=at)
        Order.objects.filter(pk=order.pk).update(created_at=start + timedelta(hours=n))
        if n < 3:
            Feedback.objects.create(order=order, rating=5 - n, comment=f"comment {n}")
        if n % 2:
            Client().get(f"/t/{order.token}/")  # the customer opens the link, once or twice
            Client().get(f"/t/{order.token}/embed/")
    with django_assert_max_num_queries(8):
        figures = numbers(shop, "7d")
    # The same figures, counted by hand from the rows.
    assert figures.orders == Order.objects.filter(shop=shop).count() == 6
    assert sum(count for _, count in figures.per_day) == 6
    forward = OrderEvent.objects.filter(
        order__shop=shop, kind__in=["created", "advanced", "completed"]
    ).order_by("order_id", "version")
    stays: dict[int, list[float]] = {}
    last: dict[int, OrderEvent] = {}
    for event in forward:
        before = last.get(event.order_id)
        if before is not None and before.stage_id != event.stage_id:
            minutes = (event.created_at - before.created_at).total_seconds() / 60
            stays.setdefault(before.stage_id, []).append(minutes)
        last[event.order_id] = event
    assert {t.stage.pk: t.median_minutes for t in figures.stage_times} == {
        stage: median(values) for stage, values in stays.items()
    }
    assert {t.stage.pk: t.count for t in figures.stage_times} == {
        stage: len(values) for stage, values in stays.items()
    }
    assert figures.ratings == {5: 1, 4: 1, 3: 1}
    assert figures.problems == 1 and figures.cancelled == 1
    assert figures.opened == Order.objects.filter(opened_at__isnull=False).count() == 3
    assert [f.comment for f in figures.comments] == ["comment 2", "comment 1", "comment 0"]
    # The page shows the same, as charts and as a table.
    page = owner_client.get(reverse("console:numbers", args=[shop.slug]) + "?period=7d")
    html = page.content.decode()
    assert page.status_code == 200 and html.count("<svg") == 3
    assert '<span class="figure-value" id="fig-orders">6</span>' in html
    for t in figures.stage_times:
        assert f'data-stage="{t.stage.pk}"' in html
    # Today only: nothing of two days ago.
    assert numbers(shop, "today").orders == 0


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_console_page_opens_for_its_owner(
    shop: Shop, owner: object, order: Order, lang: str
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.force_login(owner)
    workflow = order.workflow
    pages = [
        reverse(name, args=[shop.slug])
        for name in ("shop", "workflows", "texts", "keys", "webhooks", "team", "numbers")
        for name in [f"console:{name}"]
    ]
    pages += [
        reverse("console:workflow", args=[shop.slug, workflow.pk]),
        reverse("console:text", args=[shop.slug, "delayed", "ru"]),
        reverse("console:numbers", args=[shop.slug]) + "?period=today",
        reverse("console:numbers", args=[shop.slug]) + "?period=nonsense",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'<html lang="{lang}">' in response.content.decode()


def test_the_owner_sets_a_logo_that_the_tracking_page_shows(
    shop: Shop, owner_client: Client, order: Order, client: Client
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("console:shop", args=[shop.slug])
    form = {
        "name": shop.name,
        "brand_color": shop.brand_color,
        "language": "en",
        "address_form": "vy",
        "timezone": shop.timezone,
        "display_clear_minutes": "2",
    }
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    refused = owner_client.post(url, {**form, "logo": SimpleUploadedFile("x.svg", svg)})
    assert refused.status_code == 422 and "PNG, JPEG or WebP" in refused.content.decode()
    big = owner_client.post(url, {**form, "logo": SimpleUploadedFile("x.png", png * 4000)})
    assert big.status_code == 422 and "200 KB" in big.content.decode()
    assert (
        owner_client.post(url, {**form, "logo": SimpleUploadedFile("x.png", png)}).status_code
        == 302
    )
    shop.refresh_from_db()
    logo_url = f"/s/{shop.slug}/logo/?v={shop.logo_hash}"
    assert shop.logo_hash and logo_url in client.get(f"/t/{order.token}/").content.decode()
    served = client.get(logo_url)
    assert served.content == png and served["Content-Type"] == "image/png"
    assert "immutable" in served["Cache-Control"] and served["X-Content-Type-Options"] == "nosniff"
    owner_client.post(url, {**form, "remove_logo": "on"})
    shop.refresh_from_db()
    assert not shop.logo_hash and client.get(logo_url).status_code == 404
    assert "/logo/" not in client.get(f"/t/{order.token}/").content.decode()


def _console_forms(shop: Shop, workflow: Workflow) -> list[tuple[str, dict]]:
    """Every console form with valid values; each field in turn gets a hostile one."""
    stage = workflow.stages.first()
    base = f"/staff/{shop.slug}/settings"
    edit = {k: getattr(stage, k) for k in ("name_ru", "name_en", "text_ru", "text_en")}
    return [
        (
            f"{base}/",
            {
                "name": "Pizzeria",
                "phone": "+7 900",
                "address": "Main St",
                "website": "https://pizzeria.example",
                "email": "p@example.com",
                "opening_hours": "10-22",
                "brand_color": "#112233",
                "language": "en",
                "address_form": "vy",
                "timezone": "Europe/Moscow",
                "embed_origins": "https://pizzeria.example",
                "display_clear_minutes": "2",
            },
        ),
        (f"{base}/workflows/", {"template": "cafe"}),
        (
            f"{base}/workflows/{workflow.pk}/",
            {"name_ru": "Пицца", "name_en": "Pizza", "aftercare_ru": "", "aftercare_en": ""},
        ),
        (
            f"{base}/stages/{stage.pk}/",
            {f"stage-{stage.pk}-{k}": v for k, v in {**edit, "expected_minutes": "5"}.items()},
        ),
        (
            f"{base}/workflows/{workflow.pk}/stages/new/",
            {"new-name_en": "X", "new-expected_minutes": "1"},
        ),
        (
            f"{base}/workflows/{workflow.pk}/stages/order/",
            {"order": ",".join(str(s.pk) for s in workflow.stages.all())},
        ),
        (
            f"{base}/texts/delayed/en/",
            {"subject": "Late {number}", "body": "Sorry {name}", "sms": ""},
        ),
        (
            f"{base}/texts/delayed/en/preview/",
            {"subject": "Late {number}", "body": "Sorry", "sms": ""},
        ),
        (f"{base}/keys/", {"name": "Till", "can_write": "on"}),
        (f"{base}/webhooks/", {"url": "https://hooks.example/x", "active": "on"}),
        (
            f"{base}/team/",
            {
                "username": "u{n}",
                "first_name": "U",
                "email": "",
                "password": "Pizza-oven-2026",
                "role": "staff",
            },
        ),
    ]


def test_every_console_field_answers_hostile_input_clearly_and_shows_it_escaped(
    shop: Shop, owner_client: Client, order: Order, settings
) -> None:
    from tests.test_hostile import HOSTILE, assert_escaped, snapshot

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    workflow = order.workflow
    n = 0
    for url, valid in _console_forms(shop, workflow):
        for field in valid:
            for name, value in HOSTILE.items():
                n += 1
                data = {k: str(v).replace("{n}", str(n)) for k, v in valid.items()}
                data[field] = value
                before = (
                    snapshot(),
                    list(Shop.objects.values_list()),
                    list(Stage.objects.values_list()),
                )
                response = owner_client.post(url, data)
                what = f"{url} {field}={name}"
                assert response.status_code < 500, what
                if response.status_code >= 400:
                    after = (
                        snapshot(),
                        list(Shop.objects.values_list()),
                        list(Stage.objects.values_list()),
                    )
                    assert after == before, f"{what}: refused but something changed"
                assert_escaped(response.content.decode(), what)
    # Whatever was stored is shown escaped on every console page, the board and trackers.
    pages = [
        f"/staff/{shop.slug}/settings/{p}"
        for p in ("", "workflows/", "texts/", "keys/", "webhooks/", "team/", "numbers/")
    ]
    pages += [f"/staff/{shop.slug}/settings/workflows/{w.pk}/" for w in shop.workflows.all()]
    pages += [f"/staff/{shop.slug}/settings/texts/delayed/en/", f"/staff/{shop.slug}/"]
    for page in pages:
        response = owner_client.get(page)
        assert response.status_code == 200, page
        assert_escaped(response.content.decode(), page)
    assert_escaped(Client().get(f"/t/{order.token}/").content.decode(), "the tracker")
