"""The shop API: keys, isolation, create/read/list/act, idempotency, errors, limits."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from api.models import ApiKey, IdempotencyKey
from orders.models import Order, OrderEvent, Shop


def issue(shop: Shop, can_write: bool = True, name: str = "POS") -> str:
    key = ApiKey(shop=shop, name=name, can_write=can_write)
    raw = key.issue()
    key.save()
    return raw


class Api:
    def __init__(self, raw: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw}"} if raw else {}

    def get(self, path: str, **params: object) -> object:
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path: str, body: object = None, headers: dict | None = None, **extra):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(
            f"/api/v1{path}",
            data,
            content_type=extra.pop("content_type", "application/json"),
            headers={**self.headers, **(headers or {})},
            **extra,
        )


@pytest.fixture
def api(shop: Shop) -> Api:
    return Api(issue(shop))


@pytest.fixture
def other_api(other_shop: Shop) -> Api:
    return Api(issue(other_shop))


NEW = {"number": "A-100", "customer_name": "Maria Ivanova", "email": "maria@example.com"}


def test_a_key_is_stored_hashed_and_only_its_prefix_is_kept(shop: Shop) -> None:
    raw = issue(shop)
    key = ApiKey.objects.get()
    assert raw.startswith("trk_") and len(raw) > 40
    assert raw not in (key.key_hash, key.prefix)
    assert raw.startswith(key.prefix)


def test_create_returns_the_urls_token_and_state(api: Api, client: Client) -> None:
    response = api.post("/orders", {**NEW, "summary": "2 pizzas", "workflow": "cafe"})
    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get(number="A-100")
    assert body["token"] == order.token
    assert body["tracking_url"].endswith(f"/t/{order.token}/")
    assert body["embed_url"].endswith(f"/t/{order.token}/embed/")
    # The QR code for the POS's receipt: served, and what the link says.
    for kind, content_type in (("svg", "image/svg+xml"), ("png", "image/png")):
        assert body[f"qr_{kind}_url"] == body["tracking_url"] + f"qr.{kind}"
        path = body[f"qr_{kind}_url"].split("://", 1)[1].split("/", 1)[1]
        assert client.get("/" + path)["Content-Type"] == content_type
    assert (body["state"], body["version"], body["workflow"]) == ("active", 1, "cafe")
    assert body["stage"]["position"] == 1
    assert body["eta"] is not None
    assert order.events.get().by_name == "API: POS"
    assert client.get(f"/t/{order.token}/").status_code == 200


def test_a_promise_in_the_past_is_refused_with_422_everywhere(api: Api, order: Order) -> None:
    past = (timezone.now() - timedelta(minutes=5)).isoformat()
    created = api.post("/orders", {**NEW, "promised_until": past})
    assert created.status_code == 422
    assert "must be in the future" in created.json()["detail"]
    assert not Order.objects.filter(number=NEW["number"]).exists()
    promised = api.post(f"/orders/{order.number}/promise", {"version": 1, "end": past})
    assert promised.status_code == 422
    order.refresh_from_db()
    assert order.promise_end is None and order.version == 1


def test_a_promised_window_is_taken_and_wins(api: Api) -> None:
    start = timezone.now() + timedelta(days=1)
    end = start + timedelta(hours=3)
    body = api.post(
        "/orders",
        {**NEW, "promised_from": start.isoformat(), "promised_until": end.isoformat()},
    ).json()
    assert body["promise"]["end"].startswith(end.strftime("%Y-%m-%dT"))
    assert Order.objects.get().promise_end == end.replace(microsecond=end.microsecond)


def test_a_promise_with_any_offset_is_kept_as_the_same_moment(api: Api, order: Order) -> None:
    # -22:51 is a valid ISO 8601 offset, beyond what PostgreSQL accepts (±15:59).
    later = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    text = later.astimezone(timezone.get_fixed_timezone(-(22 * 60 + 51))).isoformat()
    created = api.post("/orders", {**NEW, "promised_until": text})
    assert created.status_code == 201, created.content
    assert Order.objects.get(number=NEW["number"]).promise_end == later
    moved = api.post(
        f"/orders/{order.number}/delay", {"version": 1, "reason": "Oven", "until": text}
    )
    assert moved.status_code == 200, moved.content
    order.refresh_from_db()
    assert order.delay_until == later
    # A moment that leaves years 1-9999 once in UTC: refused, nothing stored.
    for edge in ("9999-12-31T23:00:00-05:00", "0001-01-01T01:00:00+05:00"):
        refused = api.post("/orders", {**NEW, "number": "B-1", "promised_until": edge})
        assert refused.status_code == 422, refused.content
    assert not Order.objects.filter(number="B-1").exists()


def test_missing_wrong_and_revoked_keys_get_401(api: Api, shop: Shop) -> None:
    for caller in (Api(None), Api("trk_not-a-real-key")):
        response = caller.get("/orders")
        assert response.status_code == 401
        assert "API key" in response.json()["detail"]
        assert response["WWW-Authenticate"] == "Bearer"
    ApiKey.objects.update(revoked_at=timezone.now())
    assert api.get("/orders").status_code == 401


def test_a_read_only_key_reads_but_cannot_write(shop: Shop, order: Order) -> None:
    reader = Api(issue(shop, can_write=False))
    assert reader.get(f"/orders/{order.number}").status_code == 200
    refused = reader.post(f"/orders/{order.number}/advance", {"version": order.version})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "This API key is read-only."}
    assert reader.post("/orders", NEW).status_code == 403
    order.refresh_from_db()
    assert order.version == 1


def test_a_key_never_sees_another_shops_orders(
    api: Api, other_api: Api, order: Order, other_order: Order
) -> None:
    assert other_api.get(f"/orders/{order.number}").status_code == 404
    moved = other_api.post(f"/orders/{order.number}/advance", {"version": order.version})
    assert moved.status_code == 404
    numbers = [o["number"] for o in other_api.get("/orders").json()["items"]]
    assert numbers == [other_order.number]
    order.refresh_from_db()
    assert order.version == 1


def test_read_shows_customer_visible_history_only(api: Api, order: Order, staff: object) -> None:
    from orders import services

    services.add_note(order=order, by=staff, text="Rude customer", public=False)
    services.add_note(order=order, by=staff, text="Extra napkins", public=True)
    services.report_problem(order=order, text="Where is my pizza?")
    body = api.get(f"/orders/{order.number}").json()
    texts = json.dumps(body)
    assert "Extra napkins" in texts
    assert "Rude customer" not in texts
    assert "Where is my pizza?" not in texts
    assert [e["kind"] for e in body["history"]] == ["created", "note"]


def test_list_filters_by_state_and_stage_and_paginates(api: Api) -> None:
    for n in range(5):
        api.post("/orders", {**NEW, "number": f"L-{n}"})
    api.post("/orders/L-0/advance", {"version": 1})
    api.post("/orders/L-1/cancel", {"version": 1, "reason": "No dough"})
    page = api.get("/orders", page_size=2).json()
    assert (page["count"], page["pages"], len(page["items"])) == (4, 2, 2)
    assert [o["number"] for o in api.get("/orders", stage=2).json()["items"]] == ["L-0"]
    cancelled = api.get("/orders", state="cancelled").json()["items"]
    assert [(o["number"], o["cancel_reason"]) for o in cancelled] == [("L-1", "No dough")]
    assert api.get("/orders", page=9).json()["items"] == []
    assert api.get("/orders", state="bogus").status_code == 422
    assert api.get("/orders", page_size=1000).status_code == 422


def test_actions_need_the_current_version_and_a_stale_one_gets_409(api: Api, order: Order) -> None:
    moved = api.post(f"/orders/{order.number}/advance", {"version": 1})
    assert moved.status_code == 200
    assert (moved.json()["version"], moved.json()["stage"]["position"]) == (2, 2)
    stale = api.post(f"/orders/{order.number}/advance", {"version": 1})
    assert stale.status_code == 409
    assert "already moved" in stale.json()["detail"]
    assert stale.json()["order"]["version"] == 2  # enough to retry correctly
    assert api.post(f"/orders/{order.number}/undo", {"version": 2}).json()["version"] == 3
    delayed = api.post(
        f"/orders/{order.number}/delay",
        {
            "version": 3,
            "reason": "Oven broke",
            "until": (timezone.now() + timedelta(hours=1)).isoformat(),
        },
    )
    assert delayed.json()["delay"]["reason"] == "Oven broke"
    assert api.post(f"/orders/{order.number}/resume", {"version": 4}).json()["state"] == "active"
    end = (timezone.now() + timedelta(hours=2)).isoformat()
    assert api.post(f"/orders/{order.number}/promise", {"version": 5, "end": end}).json()["promise"]
    note = api.post(f"/orders/{order.number}/notes", {"text": "On its way", "public": True})
    assert note.json()["history"][-1]["text"] == "On its way"
    cancelled = api.post(f"/orders/{order.number}/cancel", {"version": 7, "reason": "Closed"})
    assert cancelled.json()["state"] == "cancelled"
    again = api.post(f"/orders/{order.number}/advance", {"version": 8})
    assert again.status_code == 409
    assert again.json()["detail"] == f"Order {order.number} is cancelled."


def test_the_same_idempotency_key_returns_the_same_order_never_a_duplicate(api: Api) -> None:
    headers = {"Idempotency-Key": "pos-42-attempt"}
    first = api.post("/orders", NEW, headers=headers)
    retry = api.post("/orders", NEW, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json()
    assert Order.objects.count() == 1
    assert OrderEvent.objects.count() == 1
    # Without the key, the same body is a new request: the number is taken.
    assert api.post("/orders", NEW).status_code == 409
    # The same key with another body is a client bug, said clearly.
    other = api.post("/orders", {**NEW, "number": "A-101"}, headers=headers)
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]


def test_idempotency_keys_are_per_shop_and_replay_actions(
    api: Api, other_api: Api, order: Order
) -> None:
    headers = {"Idempotency-Key": "same-key"}
    assert other_api.post("/orders", NEW, headers=headers).status_code == 201
    assert api.post("/orders", NEW, headers=headers).status_code == 201
    moved = api.post(
        f"/orders/{order.number}/advance", {"version": 1}, headers={"Idempotency-Key": "adv-1"}
    )
    replay = api.post(
        f"/orders/{order.number}/advance", {"version": 1}, headers={"Idempotency-Key": "adv-1"}
    )
    assert moved.status_code == replay.status_code == 200
    assert replay.json()["version"] == 2
    order.refresh_from_db()
    assert order.version == 2
    assert IdempotencyKey.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        ("number=1", "application/x-www-form-urlencoded", 415),
        ("[1, 2]", "application/json", 422),
        ('"x"', "application/json", 422),
        (json.dumps({**NEW, "number": 42}), "application/json", 422),
        (json.dumps({**NEW, "number": "x" * 41}), "application/json", 422),
        (json.dumps({**NEW, "number": "   "}), "application/json", 422),
        (json.dumps({**NEW, "number": "a\x00b"}), "application/json", 422),
        (json.dumps({**NEW, "email": "not-an-email"}), "application/json", 422),
        (json.dumps({**NEW, "phone": "call me"}), "application/json", 422),
        (json.dumps({**NEW, "language": "de"}), "application/json", 422),
        (json.dumps({**NEW, "surprise": 1}), "application/json", 422),
        (json.dumps({**NEW, "promised_until": "2030-01-01T10:00:00"}), "application/json", 422),
        (json.dumps({**NEW, "workflow": "nope"}), "application/json", 404),
        (json.dumps({"number": "1"}), "application/json", 422),
        ("", "application/json", 422),
    ],
)
def test_bad_requests_get_a_clear_json_error_and_store_nothing(
    api: Api, body: str, content_type: str, status: int
) -> None:
    response = api.post("/orders", body, content_type=content_type)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail
    assert Order.objects.count() == 0


def test_a_huge_body_gets_413(api: Api, settings) -> None:
    settings.TRACKER_API_MAX_BODY_BYTES = 1000
    response = api.post("/orders", {**NEW, "summary": "x" * 2000})
    assert response.status_code == 413
    assert Order.objects.count() == 0


def test_unknown_paths_and_methods_are_json_too(api: Api) -> None:
    missing = api.get("/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["detail"]
    wrong = api.client.delete("/api/v1/orders", headers=api.headers)
    assert wrong.status_code == 405
    assert wrong.json()["detail"]


def test_requests_are_rate_limited_per_key(api: Api, other_api: Api, settings) -> None:
    settings.TRACKER_API_REQUESTS_PER_MINUTE = 3
    statuses = [api.get("/orders").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api.get("/orders")
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert "retry in" in limited.json()["detail"]
    assert other_api.get("/orders").status_code == 200


def test_the_schema_and_docs_page_are_served(client: Client, db: None) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "Tracker API"
    assert "/api/v1/orders/{number}/advance" in schema["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"swagger-ui-bundle.js" in docs.content
    assert b"cdn" not in docs.content.lower()


@pytest.mark.parametrize("number", ["a%00b", "%F0%9F%8D%95", "x" * 300, "%E2%80%AE1042"])
def test_odd_order_numbers_in_the_path_are_a_clean_404(api: Api, order: Order, number: str) -> None:
    # NUL is refused by PostgreSQL itself; none of these may become a 500.
    for response in (
        api.get(f"/orders/{number}"),
        api.post(f"/orders/{number}/advance", {"version": 1}),
    ):
        assert response.status_code == 404, response.content
        assert response.json()["detail"]


@pytest.mark.parametrize("depth", [17, 1_000, 10_000])
def test_deeply_nested_json_is_a_clear_400(api: Api, depth: int) -> None:
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        response = api.post("/orders", body)
        assert response.status_code == 400
        assert "nested deeper than 16 levels" in response.json()["detail"]


def test_json_nested_as_deep_as_allowed_is_answered_by_validation(api: Api) -> None:
    body = json.dumps({**NEW, "summary": json.loads("[" * 15 + "]" * 15)})
    assert api.post("/orders", body).status_code == 422
