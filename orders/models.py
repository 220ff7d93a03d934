"""Shops, their workflows and stages, orders and the append-only order history.

Nothing here changes an order's stage or state: that is orders.services' job.
"""

import re
import secrets
import threading
import zoneinfo
from collections import OrderedDict
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import phones
from .destinations import RefusedDestination, check_url
from .placeholders import unknown_placeholders

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


ORIGIN_RE = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")


def parse_origins(text: str) -> list[str]:
    return [line.strip().rstrip("/").lower() for line in text.splitlines() if line.strip()]


def validate_origins(text: str) -> None:
    bad = [origin for origin in parse_origins(text) if not ORIGIN_RE.match(origin)]
    if bad:
        raise ValidationError(
            _("Not an origin (scheme://host[:port], no path): %(bad)s"),
            params={"bad": ", ".join(bad)},
        )


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
    # Russian messages speak as "ты" or "вы", as the shop speaks to its customers.
    address_form = models.CharField(
        _("form of address (Russian)"),
        max_length=8,
        choices=[("vy", _("formal (вы)")), ("ty", _("informal (ты)"))],
        default="vy",
    )
    # Origins allowed to frame the embedded tracker and lookup form, one per line.
    embed_origins = models.TextField(
        _("sites that may embed the tracker"),
        blank=True,
        help_text=_("One origin per line, e.g. https://shop.example. Empty: not embeddable."),
        validators=[validate_origins],
    )
    # The in-store display's secret link (/s/<slug>/display/<token>/): a TV needs no
    # sign-in; the owner makes a new link to retire an old one.
    display_token = models.CharField(max_length=32, default=new_token, editable=False)
    display_clear_minutes = models.PositiveSmallIntegerField(
        _("minutes a collected order stays on the display"),
        default=2,
        validators=[MaxValueValidator(60)],
    )
    # A notice for every customer until a time ("Deliveries are running late because
    # of snow until 14:00"), on every tracker, embed and display of the shop
    # (orders.announcements). On the shop itself, so pages that read the shop with
    # the order pay nothing more for it.
    notice = models.CharField(_("notice for customers"), max_length=200, blank=True)
    notice_until = models.DateTimeField(_("notice until"), null=True, blank=True)
    notice_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A short hash of the shop's logo (ShopLogo), empty without one: pages link the
    # logo by it, so a new logo is a new address and the old one can be cached for good.
    logo_hash = models.CharField(max_length=16, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def phone_href(self) -> str:
        return phones.href(self.phone, phones.region(self.phone))

    @property
    def frame_origins(self) -> list[str]:
        return parse_origins(self.embed_origins)


class ShopLogo(models.Model):
    """The shop's logo image, apart from the shop so that pages reading the shop never
    carry its bytes. PNG, JPEG or WebP, checked by its first bytes (never SVG, which
    can carry script)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="logo")
    content_type = models.CharField(max_length=16)
    data = models.BinaryField()

    def __str__(self) -> str:
        return f"{self.shop}: {self.content_type}"


class Membership(models.Model):
    """A member of a shop's team; a user may belong to several shops.

    Staff work the board; owners also run the shop's console (settings, workflows,
    texts, keys, webhooks, the team, the numbers)."""

    class Role(models.TextChoices):
        STAFF = "staff", _("staff (the board)")
        OWNER = "owner", _("owner (the board and the console)")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.STAFF)

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
    # What the customer may do from the tracker: cancel while the order is at this
    # stage or an earlier one (empty: never), and say "got it, all good" at pickup
    # or after the last stage.
    customer_cancel_until = models.ForeignKey(
        "Stage",
        verbose_name=_("customers may cancel up to stage"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    customer_confirms = models.BooleanField(_("customers confirm receipt"), default=False)
    # A new value whenever any of its stages changes (stages_changed): what a tap's
    # cached stage list goes by (Order.workflow_stages). Random, not a counter, so
    # no two versions of any workflow ever share one, rolled-back ones included.
    stages_token = models.CharField(
        max_length=32, default=partial(secrets.token_hex, 16), editable=False
    )

    class Meta:
        verbose_name = _("workflow")
        verbose_name_plural = _("workflows")
        ordering = ["shop", "key"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "key"], name="workflow_unique_shop_key")
        ]

    def __str__(self) -> str:
        return f"{self.shop}: {self.name}"

    def save(self, *args: object, **kwargs: object) -> None:
        # Saving an edited workflow never writes back the stages_token it was read
        # with: a stage changed meanwhile has replaced it (stages_changed).
        if self.pk is not None and not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "stages_token"
            ]
        super().save(*args, **kwargs)

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
    # A milestone the customer hears about ("out for delivery", "ready for pickup").
    notify = models.BooleanField(_("notify the customer"), default=False)
    # The shop waits for the customer here ("ready for pickup"): the order stays on
    # the board however long that takes, and waiting is not the kitchen being late.
    waits_for_customer = models.BooleanField(_("waiting for the customer"), default=False)

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

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="orders", verbose_name=_("shop")
    )
    workflow = models.ForeignKey(
        Workflow, on_delete=models.PROTECT, related_name="orders", verbose_name=_("workflow")
    )
    number = models.CharField(_("order number"), max_length=40)
    # Public and unguessable; never the primary key, never derived from it.
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    customer_name = models.CharField(_("customer name"), max_length=80)
    # Private contact: never rendered on public pages.
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    # An optional line on what was ordered, for the confirmation ("2 pizzas, 1 cola").
    summary = models.CharField(_("summary"), max_length=200, blank=True)
    # The customer's language for messages; empty: the shop's default.
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGE_CHOICES, blank=True)
    # Set when the customer follows the unsubscribe link: no more messages.
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="+", verbose_name=_("stage")
    )
    # When the current stage was reached (moving forward): the ETA counts from here.
    stage_since = models.DateTimeField(null=True, blank=True)
    # The stage_since that the last forward step replaced: where an undo returns to.
    previous_stage_since = models.DateTimeField(null=True, blank=True, editable=False)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.ACTIVE)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)
    # When the customer first opened the tracking page or its embed (the owner's
    # numbers count it); not a change of the order: no version, no event.
    opened_at = models.DateTimeField(_("tracking link first opened"), null=True, blank=True)
    # A promise made to the customer (a time: start == end; or a window); it wins over the ETA.
    promise_start = models.DateTimeField(_("promised from"), null=True, blank=True)
    promise_end = models.DateTimeField(_("promised by"), null=True, blank=True)
    # An honest delay: why, what the shop is doing about it, and the new time.
    delay_reason = models.CharField(_("delay reason"), max_length=200, blank=True)
    delay_action = models.CharField(_("what we are doing"), max_length=200, blank=True)
    delay_until = models.DateTimeField(_("new time"), null=True, blank=True)
    # Copy of the newest event's kind, so the board knows what Undo may do without a query.
    last_action = models.CharField(max_length=12, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "number"], name="order_unique_shop_number")
        ]
        indexes = [
            models.Index(fields=["shop", "state", "created_at"], name="order_board_idx"),
            # The owner's numbers: a shop's orders of a period.
            models.Index(fields=["shop", "created_at"], name="order_period_idx"),
        ]

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

    @property
    def message_language(self) -> str:
        return self.language or self.shop.language

    def workflow_stages(self) -> list["Stage"]:
        """The stages of the order's workflow in order: a tap finds its next stage in
        them and answers with them. Kept per process by the workflow's stages_token,
        which every change of its stages replaces, so a tap reads them only after a
        change. Shared between requests: never change these instances."""
        cached = self.__dict__.get("_workflow_stages")
        if cached is None or cached[0] != self.workflow_id:
            key = (self.workflow_id, self.workflow.stages_token)
            with _STAGES_LOCK:
                stages = _STAGES.get(key)
            if stages is None:
                stages = list(Stage.objects.filter(workflow_id=self.workflow_id))
                with _STAGES_LOCK:
                    _STAGES[key] = stages
                    while len(_STAGES) > _STAGES_MAX:
                        _STAGES.popitem(last=False)
            cached = self.__dict__["_workflow_stages"] = (self.workflow_id, stages)
        return cached[1]

    def use_listed_stage(self) -> "Order":
        """Take the order's stage from its workflow's stage list (no read of its own
        when the list is known); returns the order."""
        self.stage = next(s for s in self.workflow_stages() if s.pk == self.stage_id)
        return self


# Workflows' stage lists by (workflow, stages_token), the oldest dropped first.
_STAGES: OrderedDict[tuple[int, str], list[Stage]] = OrderedDict()
_STAGES_MAX = 1_000
_STAGES_LOCK = threading.Lock()


def stages_changed(workflow_id: int) -> None:
    """Call after changing a workflow's stages without Stage.save() or delete()
    (bulk and queryset writes): taps read the new list from then on."""
    Workflow.objects.filter(pk=workflow_id).update(stages_token=secrets.token_hex(16))


@receiver([post_save, post_delete], sender=Stage)
def _stage_written(sender: type, instance: Stage, **kwargs: object) -> None:
    stages_changed(instance.workflow_id)


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
        SEEN = "seen", _("alert seen")
        UNSUBSCRIBED = "unsubscribed", _("messages stopped")
        EDITED = "edited", _("details edited")
        CONFIRMED = "confirmed", _("confirmed by the customer")
        OPENED = "opened", _("tracking link opened")

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order")
    )
    version = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("what happened"), max_length=12, choices=Kind.choices)
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="+", verbose_name=_("stage")
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_name = models.CharField(_("by"), max_length=150, blank=True)
    text = models.CharField(_("text"), max_length=500, blank=True)
    # Staff-only notes are never rendered on a public page, the embed or a customer socket.
    public = models.BooleanField(default=True)
    # A "seen" event: the problem report or rating it acknowledges.
    # Done by the customer from the tracker (a cancellation, a confirmation): the
    # board alerts the staff to these.
    by_customer = models.BooleanField(default=False)
    acknowledges = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

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


class MessageKind(models.TextChoices):
    """What a customer message is about: one message per such change, never more."""

    CREATED = "created", _("confirmation")
    MILESTONE = "milestone", _("milestone stage reached")
    DELAYED = "delayed", _("delay")
    CANCELLED = "cancelled", _("cancellation")


class MessageTemplate(models.Model):
    """A shop's own wording for one kind of message in one language (defaults otherwise)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="message_templates")
    kind = models.CharField(_("message"), max_length=12, choices=MessageKind.choices)
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGE_CHOICES)
    subject = models.CharField(_("e-mail subject"), max_length=150)
    body = models.TextField(_("e-mail text"), max_length=2000)
    sms = models.CharField(_("SMS text"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("message text")
        verbose_name_plural = _("message texts")
        ordering = ["shop", "kind", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "kind", "language"], name="message_unique_shop_kind_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.shop}: {self.get_kind_display()} ({self.language})"

    def clean(self) -> None:
        for field in ("subject", "body", "sms"):
            unknown = unknown_placeholders(getattr(self, field))
            if unknown:
                raise ValidationError(
                    {
                        field: _("Unknown placeholders: %(names)s")
                        % {"names": ", ".join("{" + n + "}" for n in unknown)}
                    }
                )


class WebhookEndpoint(models.Model):
    """A shop's own system that hears about every order change, signed with the secret."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(
        _("signing secret"), max_length=64, default=partial(secrets.token_urlsafe, 32)
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["shop", "pk"]

    def __str__(self) -> str:
        return self.url

    def clean(self) -> None:
        try:
            check_url(self.url)
        except RefusedDestination as refused:
            raise ValidationError({"url": str(refused)}) from None


class Delivery(models.Model):
    """The outbox: one message or webhook call, written in the same transaction as the
    change it reports, so nothing is lost; also the delivery log shown in the admin."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        SMS = "sms", _("SMS")
        WEBHOOK = "webhook", _("webhook")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed (gave up)")
        SKIPPED = "skipped", _("skipped")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OrderEvent, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    # One delivery per change, channel and endpoint: a retry of the change cannot add one.
    dedupe_key = models.CharField(max_length=80, unique=True)
    recipient = models.CharField(_("recipient"), max_length=500)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("content"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # A worker's claim; a crashed worker's claim simply runs out.
    locked_until = models.DateTimeField(null=True, blank=True)
    # Set when an attempt starts and cleared when its outcome is recorded: found set
    # at the next claim, it says the last attempt was cut off (the worker died
    # mid-send), so the message may already have arrived once.
    started_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient}"


class RateCounter(models.Model):
    """A fixed-window counter shared by every process (lookup attempts, API calls)."""

    key = models.CharField(max_length=200)
    window = models.BigIntegerField()  # Unix time of the window's start
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="ratecounter_unique_key_window")
        ]
        indexes = [models.Index(fields=["window"], name="ratecounter_window_idx")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window}: {self.count}"
