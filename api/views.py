"""The shop API, /api/v1/: create, read, list and move orders with a per-shop key.

django-ninja: the pydantic schemas that validate each request also produce the
OpenAPI schema and the docs page, so the documentation cannot drift from the code.
"""

import hashlib
import json
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.paginator import Paginator
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from orders import phones, ratelimit, services, tickets
from orders.models import Order
from orders.representation import order_payload
from tracker import unavailable

from .models import ApiKey, IdempotencyKey, hash_key
from .schemas import (
    MAX_NUMBER,
    SINGLE_LINE,
    CancelIn,
    Conflict,
    DelayIn,
    Error,
    Invalid,
    ListFilters,
    NoteIn,
    OrderIn,
    OrderOut,
    OrderPage,
    PromiseIn,
    VersionIn,
)

log = logging.getLogger("tracker.api")
IDEMPOTENCY_HOURS = 24
# Any operation may answer these (bad JSON, no key, too big, not JSON, invalid, too many).
ERRORS = {400: Error, 401: Error, 413: Error, 415: Error, 422: Invalid, 429: Error}


class RateLimited(HttpError):
    def __init__(self, wait: int) -> None:
        super().__init__(429, f"Too many requests for this API key; retry in {wait} s.")
        self.wait = wait


class KeyAuth(HttpBearer):
    openapi_description = "A shop's API key: `Authorization: Bearer trk_…`"

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        if len(token) > 100:
            return None
        key = (
            ApiKey.objects.select_related("shop")
            .filter(key_hash=hash_key(token), revoked_at__isnull=True)
            .first()
        )
        if key is None:
            return None
        wait = ratelimit.take(f"api:{key.pk}", settings.TRACKER_API_REQUESTS_PER_MINUTE, 60)
        if wait:
            raise RateLimited(wait)
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return key


api = NinjaAPI(
    title="Tracker API",
    version="1",
    description=(
        "Create and move orders from a shop's own systems. Authenticate with "
        "Authorization: Bearer <key> (a key per shop); send Idempotency-Key to retry "
        "a POST safely; a stale version is a 409 with the order as it is now."
    ),
    auth=KeyAuth(),
    urls_namespace="api",
)


def _json(request: HttpRequest, status: int, body: dict, **headers: str) -> HttpResponse:
    response = api.create_response(request, body, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _json(
        request,
        401,
        {"detail": "Missing, unknown or revoked API key: send Authorization: Bearer <key>."},
        WWW_Authenticate="Bearer",
    )


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.error("database unavailable: %s", exc)
    return unavailable.json_response()


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    return _json(request, 429, {"detail": exc.message}, Retry_After=str(exc.wait))


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # Never echo the input back: it may be huge, or personal.
    errors = [
        {
            "loc": [str(part) for part in e.get("loc", ())],
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in exc.errors
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(part for part in first["loc"] if part not in ("body", "payload", "query"))
    return _json(
        request,
        422,
        {"detail": f"{where}: {first['msg']}" if where else first["msg"], "errors": errors},
    )


def _key(request: HttpRequest) -> ApiKey:
    return request.auth


def _by(request: HttpRequest) -> str:
    """Who did it, as staff see it on the board and in the history."""
    return f"API: {_key(request).name}"


def _writable(request: HttpRequest) -> ApiKey:
    key = _key(request)
    if not key.can_write:
        raise HttpError(403, "This API key is read-only.")
    return key


def _order(request: HttpRequest, number: str) -> Order:
    # Another shop's order does not exist for this key: 404, never 403. A number no
    # order can have (too long, control characters such as NUL, which PostgreSQL
    # refuses) is not even looked up.
    possible = len(number) <= MAX_NUMBER and re.fullmatch(SINGLE_LINE, number)
    order = (
        Order.objects.select_related("shop", "stage", "workflow")
        .filter(shop=_key(request).shop, number=number)
        .first()
        if possible
        else None
    )
    if order is None:
        raise HttpError(404, f"No order {number!r} in this shop.")
    return order


def _idempotent(request: HttpRequest, produce: Callable[[], tuple[int, dict]]) -> Status:
    """Run `produce` once per Idempotency-Key; a retry gets the first answer again."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return Status(*produce())
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise HttpError(400, "Idempotency-Key must be 1 to 200 printable characters.")
    shop = _key(request).shop
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.path.encode() + b"\n" + request.body
    ).hexdigest()
    IdempotencyKey.objects.filter(
        created_at__lt=timezone.now() - timedelta(hours=IDEMPOTENCY_HOURS)
    ).delete()
    try:
        with transaction.atomic():
            # Inserted first: a concurrent retry waits on this row, then replays it.
            record = IdempotencyKey.objects.create(shop=shop, key=key, fingerprint=fingerprint)
            status, body = produce()
            record.status, record.body = status, json.dumps(body, default=str)
            record.save(update_fields=["status", "body"])
            return Status(status, body)
    except IntegrityError:
        pass
    record = IdempotencyKey.objects.get(shop=shop, key=key)
    if record.fingerprint != fingerprint:
        raise HttpError(422, "This Idempotency-Key was already used for a different request.")
    return Status(record.status, json.loads(record.body))


def _promise(start: datetime | None, end: datetime | None) -> tuple:
    """One given: a promised time; both: a window. Refused (422) as the service would."""
    start, end = (start or end, end or start)
    try:
        services.check_promise(start, end)
    except services.ActionRefused as refused:
        raise HttpError(422, refused.message) from None
    return start, end


def _act(request: HttpRequest, number: str, act: Callable[[Order], Order]) -> Status:
    _writable(request)

    def produce() -> tuple[int, dict]:
        order = _order(request, number)
        try:
            order = act(order)
        except services.ActionRefused as refused:
            current = refused.order or order
            current.refresh_from_db()
            return 409, {"detail": refused.message, "order": order_payload(current)}
        return 200, order_payload(order)

    return _idempotent(request, produce)


@api.post(
    "/orders",
    response={201: OrderOut, 403: Error, 404: Error, 409: Conflict, **ERRORS},
    summary="Create an order",
)
def create_order(request: HttpRequest, payload: OrderIn) -> Status:
    """Returns the tracking and embed URLs. Send `Idempotency-Key` to retry safely."""
    key = _writable(request)
    start, end = _promise(payload.promised_from, payload.promised_until)
    try:
        phone = phones.normalize(payload.phone, phones.region(key.shop.phone))
    except phones.InvalidPhone as invalid:
        raise HttpError(422, f"phone: {invalid.message}") from None

    def produce() -> tuple[int, dict]:
        try:
            workflow = services.pick_workflow(key.shop, payload.workflow)
        except services.ActionRefused as refused:
            return 404, {"detail": refused.message}
        try:
            order = services.create_order(
                shop=key.shop,
                workflow=workflow,
                number=payload.number,
                customer_name=payload.customer_name,
                phone=phone,
                email=payload.email,
                summary=payload.summary,
                language=payload.language or "",
                promise_start=start,
                promise_end=end,
                by=_by(request),
            )
        except services.ActionRefused as refused:
            return 409, {"detail": refused.message}
        return 201, order_payload(order)

    return _idempotent(request, produce)


@api.get(
    "/orders/{number}", response={200: OrderOut, 404: Error, **ERRORS}, summary="Read one order"
)
def read_order(request: HttpRequest, number: str) -> dict:
    return order_payload(_order(request, number))


@api.get(
    "/orders/{number}/ticket",
    response={404: Error, **ERRORS},
    summary="A printable ticket (HTML) with the QR code of the tracking link",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The ticket, for 58 or 80 mm receipt paper",
                "content": {"text/html": {"schema": {"type": "string"}}},
            }
        }
    },
)
def order_ticket(request: HttpRequest, number: str, width: int = 80) -> HttpResponse:
    if width not in tickets.WIDTHS:
        raise HttpError(422, "width: 58 or 80 (mm of receipt paper).")
    return HttpResponse(tickets.render_ticket(_order(request, number), width))


@api.get("/orders", response={200: OrderPage, **ERRORS}, summary="List orders")
def list_orders(request: HttpRequest, filters: Query[ListFilters]) -> dict:
    """Active and delayed orders by default, oldest first; filter by state and stage."""
    shop = _key(request).shop
    orders = Order.objects.select_related("shop", "stage", "workflow").filter(shop=shop)
    if filters.state == "open":
        orders = orders.filter(state__in=[Order.State.ACTIVE, Order.State.DELAYED])
    else:
        orders = orders.filter(state=filters.state)
    if filters.stage is not None:
        orders = orders.filter(stage__position=filters.stage)
    page, page_size = filters.page, filters.page_size
    paginator = Paginator(orders.order_by("created_at", "pk"), page_size)
    items = paginator.page(page).object_list if page <= paginator.num_pages else []
    return {
        "items": [order_payload(o, history=False) for o in items],
        "count": paginator.count,
        "page": page,
        "pages": paginator.num_pages,
    }


ACTION_RESPONSES = {200: OrderOut, 403: Error, 404: Error, 409: Conflict, **ERRORS}


@api.post("/orders/{number}/advance", response=ACTION_RESPONSES, summary="Advance one stage")
def advance(request: HttpRequest, number: str, payload: VersionIn) -> Status:
    """409 with the current order when `version` is stale (someone moved it first)."""
    return _act(
        request,
        number,
        lambda o: services.advance_order(
            order=o, by=_by(request), expected_version=payload.version
        ),
    )


@api.post("/orders/{number}/undo", response=ACTION_RESPONSES, summary="Undo the last advance")
def undo(request: HttpRequest, number: str, payload: VersionIn) -> Status:
    return _act(
        request,
        number,
        lambda o: services.undo_order(order=o, by=_by(request), expected_version=payload.version),
    )


@api.post("/orders/{number}/cancel", response=ACTION_RESPONSES, summary="Cancel with a reason")
def cancel(request: HttpRequest, number: str, payload: CancelIn) -> Status:
    return _act(
        request,
        number,
        lambda o: services.cancel_order(
            order=o, by=_by(request), expected_version=payload.version, reason=payload.reason
        ),
    )


@api.post("/orders/{number}/delay", response=ACTION_RESPONSES, summary="Report a delay")
def delay(request: HttpRequest, number: str, payload: DelayIn) -> Status:
    if payload.until is not None and payload.until <= timezone.now():
        raise HttpError(422, "until must be in the future.")
    return _act(
        request,
        number,
        lambda o: services.delay_order(
            order=o,
            by=_by(request),
            expected_version=payload.version,
            reason=payload.reason,
            action=payload.action,
            new_time=payload.until,
        ),
    )


@api.post("/orders/{number}/resume", response=ACTION_RESPONSES, summary="End a delay")
def resume(request: HttpRequest, number: str, payload: VersionIn) -> Status:
    return _act(
        request,
        number,
        lambda o: services.resume_order(order=o, by=_by(request), expected_version=payload.version),
    )


@api.post("/orders/{number}/promise", response=ACTION_RESPONSES, summary="Promise a time")
def promise(request: HttpRequest, number: str, payload: PromiseIn) -> Status:
    """A time (one of them), a window (both), or neither to withdraw the promise."""
    start, end = _promise(payload.start, payload.end)
    return _act(
        request,
        number,
        lambda o: services.set_promise(
            order=o,
            by=_by(request),
            expected_version=payload.version,
            start=start,
            end=end,
        ),
    )


@api.post("/orders/{number}/notes", response=ACTION_RESPONSES, summary="Add a note")
def note(request: HttpRequest, number: str, payload: NoteIn) -> Status:
    return _act(
        request,
        number,
        lambda o: services.add_note(
            order=o, by=_by(request), text=payload.text, public=payload.public
        ),
    )
