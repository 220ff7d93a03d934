"""Admin for shop owners and operators.

Order state is read-only here; admin actions change it through the services,
so the admin obeys the same locking, versioning, history and broadcast.
"""

from django import forms
from django.contrib import admin, messages
from django.core.validators import MaxValueValidator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .forms import cleaned_phone
from .models import (
    Delivery,
    Feedback,
    Membership,
    MessageTemplate,
    Order,
    OrderEvent,
    Shop,
    Stage,
    WebhookEndpoint,
    Workflow,
)
from .placeholders import PLACEHOLDERS
from .workflow_templates import TEMPLATES, copy_workflow, free_key, install_template
from .workflows import MAX_POSITION, STAGE_FIELDS, make_room, settle


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


class MessageTemplateInline(admin.StackedInline):
    model = MessageTemplate
    extra = 0
    verbose_name_plural = _("message texts (empty: the built-in defaults)")

    def get_formset(self, request: HttpRequest, obj: object = None, **kwargs: object) -> object:
        formset = super().get_formset(request, obj, **kwargs)
        names = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        formset.form.base_fields["body"].help_text = _(
            "Placeholders: %(names)s. A line whose placeholder has no value is left out; "
            "the tracking and unsubscribe links are added when missing."
        ) % {"names": names}
        return formset


class WebhookEndpointInline(admin.TabularInline):
    model = WebhookEndpoint
    extra = 0
    # The signing secret is made on creation and shown once, in a message.
    fields = ["url", "active"]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "phone", "language", "timezone"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, MessageTemplateInline, WebhookEndpointInline]
    actions = ["install_templates"]

    def save_formset(self, request: HttpRequest, form: object, formset, change: bool) -> None:  # noqa: ANN001
        super().save_formset(request, form, formset, change)
        for endpoint in formset.new_objects if formset.model is WebhookEndpoint else []:
            self.message_user(
                request,
                _(
                    "The signing secret of %(url)s is %(secret)s — copy it now: "
                    "it is never shown again."
                )
                % {"url": endpoint.url, "secret": endpoint.secret},
                messages.WARNING,
            )

    @admin.action(description=_("Add all built-in workflows (pizza, café, shop, …)"))
    def install_templates(self, request: HttpRequest, queryset: QuerySet[Shop]) -> None:
        for shop in queryset:
            for key in TEMPLATES:
                install_template(shop, key)
        self.message_user(request, _("Built-in workflows added; edit them freely."))


class StageInline(admin.TabularInline):
    model = Stage
    extra = 1
    fields = ["position", *STAGE_FIELDS]

    def get_formset(self, request: HttpRequest, obj: object = None, **kwargs: object) -> object:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.base_fields["position"].max_value = MAX_POSITION
        formset.form.base_fields["position"].validators.append(MaxValueValidator(MAX_POSITION))
        return formset


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ["__str__", "shop", "key"]
    list_filter = ["shop"]
    fields = ["shop", "key", "name_ru", "name_en", "aftercare_ru", "aftercare_en"]
    inlines = [StageInline]
    actions = ["duplicate"]

    def save_formset(self, request: HttpRequest, form: object, formset, change: bool) -> None:  # noqa: ANN001
        if formset.model is not Stage:
            return super().save_formset(request, form, formset, change)
        # Stages move out of each other's way first: a swap never collides.
        make_room(form.instance)
        super().save_formset(request, form, formset, change)
        settle(form.instance)
        return None

    @admin.action(description=_("Duplicate the selected workflows"))
    def duplicate(self, request: HttpRequest, queryset: QuerySet[Workflow]) -> None:
        for workflow in queryset:
            copy_workflow(workflow, free_key(workflow.shop, workflow.key))
        self.message_user(request, _("Copies created; rename and edit them."))


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ["version", "kind", "stage", "by_name", "text", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class OrderAdminForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = services.EDITABLE_DETAILS

    def clean_phone(self) -> str:
        # Refused here, with the form shown again as typed, rather than by the
        # service after the form was accepted.
        return cleaned_phone(self.cleaned_data["phone"], self.instance.shop)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    form = OrderAdminForm
    list_display = ["number", "shop", "customer_name", "stage", "state", "version", "created_at"]
    list_filter = ["shop", "state"]
    search_fields = ["number", "customer_name"]
    readonly_fields = [
        "shop",
        "workflow",
        "stage",
        "state",
        "version",
        "token",
        "cancel_reason",
        "unsubscribed_at",
        "last_action",
        "created_at",
        "updated_at",
    ]
    fields = [
        "shop",
        "workflow",
        "number",
        "customer_name",
        "phone",
        "email",
        "summary",
        "language",
        *readonly_fields[2:],
    ]
    inlines = [OrderEventInline]
    actions = ["advance", "undo", "cancel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Orders are created through the staff board, the API or create_order.
        return False

    def save_model(self, request: HttpRequest, obj: Order, form: object, change: bool) -> None:
        # Through the service, like every change of an order: a version, an event
        # naming the fields, and a push to its tracker and board.
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.edit_details(order=obj, by=request.user, changes=changes)
        except services.ActionRefused as refused:
            self.message_user(request, refused.message, messages.ERROR)

    def _apply(self, request: HttpRequest, queryset: QuerySet[Order], action, **extra: str) -> None:  # noqa: ANN001
        done = 0
        for order in queryset:
            try:
                action(order=order, by=request.user, expected_version=order.version, **extra)
                done += 1
            except services.ActionRefused as refused:
                self.message_user(request, refused.message, messages.WARNING)
        self.message_user(request, ngettext("%d order changed.", "%d orders changed.", done) % done)

    @admin.action(description=_("Advance to the next stage"))
    def advance(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(request, queryset, services.advance_order)

    @admin.action(description=_("Undo the last step"))
    def undo(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(request, queryset, services.undo_order)

    @admin.action(description=_("Cancel (reason: cancelled by the shop)"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(
            request, queryset, services.cancel_order, reason=str(_("Cancelled by the shop"))
        )


@admin.register(OrderEvent)
class OrderEventAdmin(admin.ModelAdmin):
    list_display = ["order", "version", "kind", "stage", "by_name", "created_at"]
    list_filter = ["kind"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["order", "rating", "comment", "updated_at"]
    list_filter = ["rating", "order__shop"]
    readonly_fields = ["order", "rating", "comment", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log: what was sent, retried or given up, and why."""

    list_display = [
        "created_at",
        "channel",
        "recipient",
        "order",
        "status",
        "attempts",
        "last_error",
    ]
    list_filter = ["status", "channel", "shop"]
    search_fields = ["recipient", "order__number"]
    date_hierarchy = "created_at"
    actions = ["retry_now"]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Retry now (also failed ones)"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = queryset.exclude(status=Delivery.Status.SENT).update(
            status=Delivery.Status.PENDING, next_attempt_at=timezone.now(), locked_until=None
        )
        self.message_user(
            request, ngettext("%d delivery queued.", "%d deliveries queued.", count) % count
        )
