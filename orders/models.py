"""Shops, their workflows and stages, orders and the append-only order history.

Nothing here changes an order's stage or state: that is orders.services' job.
"""

import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

LANGUAGE_CHOICES = [("ru", "Русский"), ("en", "English")]

# Public tokens: 18 random bytes = 144 bits, URL-safe, 24 characters.
TOKEN_BYTES = 18
TOKEN_PATTERN = r"[A-Za-z0-9_-]{24}"  # noqa: S105 (a regex, not a secret)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value})


def _localized(obj: models.Model, field: str, language: str | None = None) -> str:
    """The field in the given (or active) language, falling back to the other one."""
    lang = (language or get_language() or "ru")[:2]
    other = "en" if lang == "ru" else "ru"
    return getattr(obj, f"{field}_{lang}", "") or getattr(obj, f"{field}_{other}", "")


class Shop(models.Model):
    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    website = models.URLField(_("website"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=120, blank=True)
    language = models.CharField(
        _("default language"), max_length=2, choices=LANGUAGE_CHOICES, default="ru"
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Moscow", validators=[validate_timezone]
    )
    brand_color = models.CharField(
        _("brand colour"),
        max_length=7,
        default="#c0392b",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #c0392b."))],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def phone_href(self) -> str:
        return "tel:" + "".join(ch for ch in self.phone if ch.isdigit() or ch == "+")


class Membership(models.Model):
    """A staff member of a shop; a user may belong to several shops."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "shop"], name="membership_unique_user_shop")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.shop}"


class Workflow(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="workflows")
    key = models.SlugField(_("key"), max_length=40)
    name_ru = models.CharField(_("name (Russian)"), max_length=120, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    # Shown to the customer on the final stage (care instructions, warranty, pickup rules).
    aftercare_ru = models.TextField(_("aftercare memo (Russian)"), max_length=1000, blank=True)
    aftercare_en = models.TextField(_("aftercare memo (English)"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("workflow")
        verbose_name_plural = _("workflows")
        ordering = ["shop", "key"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "key"], name="workflow_unique_shop_key")
        ]

    def __str__(self) -> str:
        return f"{self.shop}: {self.name}"

    @property
    def name(self) -> str:
        return _localized(self, "name") or self.key

    @property
    def aftercare(self) -> str:
        return _localized(self, "aftercare")


class Stage(models.Model):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="stages")
    position = models.PositiveSmallIntegerField(_("position"))
    name_ru = models.CharField(_("name (Russian)"), max_length=80, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=80, blank=True)
    text_ru = models.CharField(_("customer text (Russian)"), max_length=300, blank=True)
    text_en = models.CharField(_("customer text (English)"), max_length=300, blank=True)
    expected_minutes = models.PositiveIntegerField(_("expected minutes"), default=0)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["workflow", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "position"], name="stage_unique_workflow_position"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _localized(self, "name") or str(self.position)

    @property
    def text(self) -> str:
        return _localized(self, "text")


class Order(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("active")
        DELAYED = "delayed", _("delayed")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders")
    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="orders")
    number = models.CharField(_("order number"), max_length=40)
    # Public and unguessable; never the primary key, never derived from it.
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    customer_name = models.CharField(_("customer name"), max_length=80)
    # Private contact: never rendered on public pages.
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    # When the current stage was reached (moving forward): the ETA counts from here.
    stage_since = models.DateTimeField(null=True, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.ACTIVE)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)
    # A promise made to the customer (a time: start == end; or a window); it wins over the ETA.
    promise_start = models.DateTimeField(_("promised from"), null=True, blank=True)
    promise_end = models.DateTimeField(_("promised by"), null=True, blank=True)
    # An honest delay: why, what the shop is doing about it, and the new time.
    delay_reason = models.CharField(_("delay reason"), max_length=200, blank=True)
    delay_action = models.CharField(_("what we are doing"), max_length=200, blank=True)
    delay_until = models.DateTimeField(_("new time"), null=True, blank=True)
    # Copy of the newest event's kind, so the board knows what Undo may do without a query.
    last_action = models.CharField(max_length=12, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "number"], name="order_unique_shop_number")
        ]
        indexes = [models.Index(fields=["shop", "state", "created_at"], name="order_board_idx")]

    def __str__(self) -> str:
        return f"{self.shop.slug} #{self.number}"

    @property
    def customer_first_name(self) -> str:
        parts = self.customer_name.split()
        return parts[0] if parts else ""

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.COMPLETED, self.State.CANCELLED)

    @property
    def is_delayed(self) -> bool:
        return self.state == self.State.DELAYED


class OrderEvent(models.Model):
    """Append-only history. (order, version) is unique: no change is recorded twice."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        ADVANCED = "advanced", _("advanced")
        COMPLETED = "completed", _("completed")
        UNDONE = "undone", _("undone")
        CANCELLED = "cancelled", _("cancelled")
        DELAYED = "delayed", _("delayed")
        RESUMED = "resumed", _("resumed")
        NOTE = "note", _("note")
        PROMISED = "promised", _("promised")
        PROBLEM = "problem", _("problem reported")
        FEEDBACK = "feedback", _("feedback")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_name = models.CharField(max_length=150, blank=True)
    text = models.CharField(max_length=500, blank=True)
    # Staff-only notes are never rendered on a public page, the embed or a customer socket.
    public = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["order", "version"]
        constraints = [
            models.UniqueConstraint(fields=["order", "version"], name="event_unique_order_version")
        ]

    def __str__(self) -> str:
        return f"{self.order} v{self.version} {self.kind}"


# Events that move an order forward onto a stage (the stage's arrival time).
FORWARD_KINDS = (OrderEvent.Kind.CREATED, OrderEvent.Kind.ADVANCED, OrderEvent.Kind.COMPLETED)


class Feedback(models.Model):
    """One per order, from the customer, after the last stage; editable for a short while."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="feedback")
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.CharField(_("comment"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order}: {self.rating}/5"
