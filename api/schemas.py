"""Request and response shapes: validated on the way in, documented in the OpenAPI schema."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictInt,
)

# No control characters (PostgreSQL refuses NUL; none belongs in these fields), and,
# when required, at least one visible character. In the schema, so clients see it.
SINGLE_LINE = r"^[^\x00-\x1f]*$"
SINGLE_LINE_REQUIRED = r"^[^\x00-\x1f]*[^\x00-\x20][^\x00-\x1f]*$"
MULTI_LINE_REQUIRED = r"^[^\x00-\x09\x0b-\x1f]*[^\x00-\x20][^\x00-\x09\x0b-\x1f]*$"


def _email(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("not an e-mail address") from None
    return value


EMAIL = r"^$|^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$"


def text(max_length: int, required: bool = False, multi_line: bool = False) -> object:
    pattern = SINGLE_LINE_REQUIRED if required else SINGLE_LINE
    if multi_line:
        pattern = MULTI_LINE_REQUIRED
    return Annotated[
        str,
        Field(min_length=int(required), max_length=max_length, pattern=pattern),
        AfterValidator(str.strip),
    ]


def _iso_text(value: object) -> object:
    # Only ISO 8601 text: pydantic would also read a number as Unix seconds.
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date-time with a time zone, as text")
    return value


def _utc(value: datetime) -> datetime:
    # The same moment in UTC. A client may write any offset ISO 8601 allows (up to
    # ±23:59), but PostgreSQL stores none beyond ±15:59; and a moment that falls
    # outside years 1-9999 once in UTC is no moment at all.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date-time out of range") from None


Moment = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_utc)]

MAX_NUMBER = 40

Version = Annotated[StrictInt, Field(ge=0, le=2**31 - 1, description="The version you last saw")]


class Strict(Schema):
    # Unknown fields are an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class OrderIn(Strict):
    number: text(MAX_NUMBER, required=True) = Field(
        description="The shop's own order number (unique per shop)"
    )
    customer_name: text(80, required=True) = Field(description="Shown by first name on the tracker")
    phone: text(32) = Field(
        "",
        description="Read in the shop's country unless it starts with +country code; "
        "stored and returned in E.164 (+79001234567). Not a phone number there: 422",
    )
    email: Annotated[str, Field(max_length=254, pattern=EMAIL), AfterValidator(_email)] = ""
    summary: text(200) = Field("", description="One line on what was ordered")
    workflow: text(40) | None = Field(None, description="Workflow key; default: the first")
    language: Literal["ru", "en"] | None = Field(
        None, description="Language of the customer's messages; default: the shop's"
    )
    promised_from: Moment | None = Field(
        None, description="Alone: a promised time; with promised_until: a window's start"
    )
    promised_until: Moment | None = Field(
        None, description="A promised time, or with promised_from the end of a window"
    )


class ListFilters(Schema):
    state: Literal["open", "active", "delayed", "completed", "cancelled"] = Field(
        "open", description="open: active and delayed"
    )
    stage: int | None = Field(None, ge=1, le=1000, description="A stage position")
    page: int = Field(1, ge=1, le=10**6)
    page_size: int = Field(50, ge=1, le=200)


class VersionIn(Strict):
    version: Version


class CancelIn(VersionIn):
    reason: text(200, required=True)


class DelayIn(VersionIn):
    reason: text(200, required=True)
    action: text(200) = ""
    until: Moment | None = Field(None, description="The new time, in the future")


class PromiseIn(VersionIn):
    start: Moment | None = Field(None, description="Alone: a promised time")
    end: Moment | None = Field(None, description="Both empty: withdraw the promise")


class NoteIn(Strict):
    text: text(500, required=True, multi_line=True)
    public: StrictBool = Field(True, description="False: staff only, never shown to the customer")


class StageOut(Schema):
    position: int
    count: int
    name: str
    name_ru: str
    name_en: str


class PromiseOut(Schema):
    start: datetime | None
    end: datetime | None


class DelayOut(Schema):
    reason: str
    action: str
    until: datetime | None


class EventOut(Schema):
    version: int
    kind: str
    stage: str
    at: datetime
    text: str


class OrderOut(Schema):
    number: str
    token: str
    customer_name: str
    summary: str
    workflow: str
    state: Literal["active", "delayed", "completed", "cancelled"]
    version: int
    stage: StageOut
    eta: datetime | None
    promise: PromiseOut | None
    delay: DelayOut | None
    cancel_reason: str | None
    tracking_url: str
    embed_url: str
    qr_svg_url: str = Field(description="The tracking link's QR code, SVG, to print on a receipt")
    qr_png_url: str = Field(description="The same QR code as a PNG image")
    created_at: datetime
    updated_at: datetime
    history: list[EventOut] = Field(default_factory=list, description="Customer-visible only")


class OrderPage(Schema):
    items: list[OrderOut]
    count: int
    page: int
    pages: int


class Error(Schema):
    detail: str


class Conflict(Schema):
    detail: str
    order: OrderOut | None = None


class Invalid(Schema):
    detail: str
    errors: list[dict] = Field(default_factory=list)
