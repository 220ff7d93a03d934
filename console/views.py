"""The shop owner's console: one shop at a time, signed in, owners only.

Every view takes its shop from the URL and checks it against the signed-in user's
owner memberships, and every object it touches is looked up within that shop: an
owner of another shop, a staff member, or anybody else gets a 404 and changes
nothing.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from api.models import ApiKey
from orders.consumers import end_staff_sockets, retire_displays
from orders.models import (
    LANGUAGE_CHOICES,
    Delivery,
    Membership,
    MessageKind,
    MessageTemplate,
    Order,
    OrderEvent,
    Shop,
    Stage,
    WebhookEndpoint,
    Workflow,
    new_token,
)
from orders.notifications import default_wording
from orders.placeholders import PLACEHOLDERS, fill
from orders.workflow_templates import TEMPLATES, free_key, install_template
from orders.workflows import move, reorder
from tracker.publicurl import public_base

from . import charts
from .forms import (
    ApiKeyForm,
    MessageTextForm,
    NewMemberForm,
    NewWorkflowForm,
    ReorderForm,
    RoleForm,
    ShopForm,
    StageForm,
    WebhookForm,
    WorkflowForm,
)
from .numbers import PERIODS, numbers

SECTIONS = [
    ("console:shop", gettext_lazy("Shop")),
    ("console:workflows", gettext_lazy("Workflows")),
    ("console:texts", gettext_lazy("Message texts")),
    ("console:keys", gettext_lazy("API keys")),
    ("console:webhooks", gettext_lazy("Webhooks")),
    ("console:team", gettext_lazy("Team")),
    ("console:numbers", gettext_lazy("Numbers")),
]


def owners_only(view: Callable) -> Callable:
    """Signed in, and an owner of the shop in the URL (404 otherwise: nobody learns
    whether another shop exists)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, slug: str, *args: object, **kwargs: object) -> HttpResponse:
        shop = get_object_or_404(
            Shop,
            slug=slug,
            memberships__user=request.user,
            memberships__role=Membership.Role.OWNER,
        )
        with timezone.override(shop.timezone):
            return view(request, shop, *args, **kwargs)

    return wrapped


def _page(
    request: HttpRequest, shop: Shop, template: str, context: dict, status: int | None = None
) -> HttpResponse:
    """A console page; 422 when its form was refused (unless `status` says otherwise)."""
    if status is None:
        form = context.get("form")
        status = 422 if form is not None and form.errors else 200
    context = {"shop": shop, "sections": SECTIONS, **context}
    return render(request, template, context, status=status)


def _saved(request: HttpRequest, text: str, to: str, *args: object) -> HttpResponse:
    messages.success(request, text)
    return redirect(to, *args)


# --- the shop ------------------------------------------------------------------------


@owners_only
@require_http_methods(["GET", "POST"])
def shop(request: HttpRequest, shop: Shop) -> HttpResponse:
    form = ShopForm(request.POST or None, request.FILES or None, instance=shop)
    if request.method == "POST" and form.is_valid():
        form.save()
        return _saved(request, _("Saved."), "console:shop", shop.slug)
    display = public_base() + reverse("orders:display", args=[shop.slug, shop.display_token])
    context = {"form": form, "section": "console:shop", "display_url": display}
    return _page(request, shop, "console/shop.html", context)


@owners_only
@require_POST
def display_rotate(request: HttpRequest, shop: Shop) -> HttpResponse:
    shop.display_token = new_token()
    shop.save(update_fields=["display_token"])
    transaction.on_commit(lambda: retire_displays(shop.pk))  # the old link stops at once
    return _saved(
        request, _("New display link made; the old one no longer works."), "console:shop", shop.slug
    )


# --- workflows -----------------------------------------------------------------------


@owners_only
@require_http_methods(["GET", "POST"])
def workflows(request: HttpRequest, shop: Shop) -> HttpResponse:
    form = NewWorkflowForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        key = form.cleaned_data["template"]
        workflow = install_template(shop, key, as_key=free_key(shop, key))
        return _saved(request, _("Workflow added."), "console:workflow", shop.slug, workflow.pk)
    context = {
        "workflows": shop.workflows.all(),
        "form": form,
        "section": "console:workflows",
        "templates": TEMPLATES,
    }
    return _page(request, shop, "console/workflows.html", context)


def _workflow_page(
    request: HttpRequest,
    shop: Shop,
    workflow: Workflow,
    form: WorkflowForm | None = None,
    stage_forms: dict[int, StageForm] | None = None,
    status: int = 200,
    new_stage: StageForm | None = None,
) -> HttpResponse:
    stages = list(workflow.stages.all())
    given = stage_forms or {}
    rows = [
        (stage, given.get(stage.pk) or StageForm(instance=stage, prefix=f"stage-{stage.pk}"))
        for stage in stages
    ]
    open_orders = Order.objects.filter(workflow=workflow).exclude(
        state__in=[Order.State.COMPLETED, Order.State.CANCELLED]
    )
    context = {
        "workflow": workflow,
        "form": form or WorkflowForm(instance=workflow),
        "rows": rows,
        "order_ids": ",".join(str(s.pk) for s in stages),
        "open_orders": open_orders.count(),
        "new_stage": new_stage or StageForm(prefix="new"),
        "section": "console:workflows",
    }
    return _page(request, shop, "console/workflow.html", context, status)


@owners_only
@require_http_methods(["GET", "POST"])
def workflow(request: HttpRequest, shop: Shop, pk: int) -> HttpResponse:
    workflow = get_object_or_404(Workflow, pk=pk, shop=shop)
    form = WorkflowForm(request.POST or None, instance=workflow)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            return _saved(request, _("Saved."), "console:workflow", shop.slug, workflow.pk)
        return _workflow_page(request, shop, workflow, form=form, status=422)
    return _workflow_page(request, shop, workflow)


@owners_only
@require_POST
def stage_add(request: HttpRequest, shop: Shop, pk: int) -> HttpResponse:
    workflow = get_object_or_404(Workflow, pk=pk, shop=shop)
    form = StageForm(request.POST, prefix="new")
    if not form.is_valid():
        # Shown again as typed, with what is wrong at its field.
        messages.error(
            request, _("The new stage was not added: %(problem)s") % {"problem": _first(form)}
        )
        return _workflow_page(request, shop, workflow, new_stage=form, status=422)
    with transaction.atomic():
        last = workflow.stages.aggregate(last=Max("position"))["last"] or 0
        stage = form.save(commit=False)
        stage.workflow, stage.position = workflow, last + 1
        stage.save()
    return _saved(
        request,
        _("Stage added at the end; move it where it belongs."),
        "console:workflow",
        shop.slug,
        workflow.pk,
    )


def _stage(shop: Shop, pk: int) -> Stage:
    return get_object_or_404(Stage.objects.select_related("workflow"), pk=pk, workflow__shop=shop)


@owners_only
@require_POST
def stage_save(request: HttpRequest, shop: Shop, pk: int) -> HttpResponse:
    stage = _stage(shop, pk)
    form = StageForm(request.POST, instance=stage, prefix=f"stage-{stage.pk}")
    if form.is_valid():
        form.save()
        return _saved(request, _("Stage saved."), "console:workflow", shop.slug, stage.workflow_id)
    return _workflow_page(request, shop, stage.workflow, stage_forms={stage.pk: form}, status=422)


@owners_only
@require_POST
def stage_move(request: HttpRequest, shop: Shop, pk: int, direction: str) -> HttpResponse:
    stage = _stage(shop, pk)
    if direction not in ("up", "down"):
        raise Http404
    move(stage, -1 if direction == "up" else 1)
    return redirect(
        reverse("console:workflow", args=[shop.slug, stage.workflow_id]) + f"#stage-{stage.pk}"
    )


@owners_only
@require_POST
def stages_reorder(request: HttpRequest, shop: Shop, pk: int) -> HttpResponse:
    workflow = get_object_or_404(Workflow, pk=pk, shop=shop)
    form = ReorderForm(request.POST, stages=list(workflow.stages.values_list("pk", flat=True)))
    if not form.is_valid():
        messages.error(request, _first(form))
        return _workflow_page(request, shop, workflow, status=409)
    reorder(workflow, form.cleaned_data["order"])
    return _saved(
        request, _("New order of the stages saved."), "console:workflow", shop.slug, workflow.pk
    )


@owners_only
@require_POST
def stage_delete(request: HttpRequest, shop: Shop, pk: int) -> HttpResponse:
    stage = _stage(shop, pk)
    workflow = stage.workflow
    used = (
        Order.objects.filter(stage=stage).exists()
        or OrderEvent.objects.filter(stage=stage).exists()
    )
    if used:
        messages.error(
            request,
            _("“%(stage)s” has orders in its history, so it stays; rename it instead.")
            % {"stage": stage.name},
        )
    elif workflow.stages.count() <= 2:
        messages.error(request, _("A workflow needs at least two stages."))
    else:
        with transaction.atomic():
            stage.delete()
            reorder(workflow, list(workflow.stages.values_list("pk", flat=True)))
        messages.success(request, _("Stage removed."))
    return redirect("console:workflow", shop.slug, workflow.pk)


def _first(form) -> str:  # noqa: ANN001
    for errors in form.errors.values():
        return errors[0]
    return _("The request was incomplete; please try again.")


# --- message texts -------------------------------------------------------------------


def _text_key(kind: str, lang: str) -> tuple[str, str]:
    if kind not in MessageKind.values or lang not in dict(LANGUAGE_CHOICES):
        raise Http404
    return kind, lang


@owners_only
def texts(request: HttpRequest, shop: Shop) -> HttpResponse:
    own = {(t.kind, t.language) for t in shop.message_templates.all()}
    rows = [
        (kind, label, [(lang, name, (kind, lang) in own) for lang, name in LANGUAGE_CHOICES])
        for kind, label in MessageKind.choices
    ]
    return _page(request, shop, "console/texts.html", {"rows": rows, "section": "console:texts"})


@owners_only
@require_http_methods(["GET", "POST"])
def text(request: HttpRequest, shop: Shop, kind: str, lang: str) -> HttpResponse:
    kind, lang = _text_key(kind, lang)
    instance = MessageTemplate.objects.filter(shop=shop, kind=kind, language=lang).first()
    initial = None if instance else default_wording(shop, kind, lang)
    form = MessageTextForm(
        request.POST or None, instance=instance, initial=initial, kind=kind, language=lang
    )
    if request.method == "POST":
        if "reset" in request.POST:
            MessageTemplate.objects.filter(shop=shop, kind=kind, language=lang).delete()
            return _saved(request, _("Back to the built-in text."), "console:texts", shop.slug)
        if form.is_valid():
            form.instance.shop = shop
            form.save()
            return _saved(request, _("Saved."), "console:texts", shop.slug)
    context = {
        "form": form,
        "kind": kind,
        "kind_label": MessageKind(kind).label,
        "lang": lang,
        "placeholders": PLACEHOLDERS,
        "preview": _preview(
            shop,
            lang,
            form.data
            if form.is_bound
            else form.initial or {f: getattr(instance, f) for f in ("subject", "body", "sms")},
        ),
        "section": "console:texts",
    }
    return _page(request, shop, "console/text.html", context)


def _sample(shop: Shop, lang: str) -> dict[str, str]:
    with translation.override(lang):
        return {
            "name": _("Maria"),
            "number": "1042",
            "shop": shop.name,
            "summary": _("2 × Margherita"),
            "stage": _("In the oven"),
            "stage_text": _("Almost there."),
            "eta": "19:40",
            "reason": _("a busy evening"),
            "action": _("an extra cook is on it"),
            "phone": shop.phone,
            "link": "https://…/t/…/",
        }


def _preview(shop: Shop, lang: str, data) -> dict[str, str]:  # noqa: ANN001
    sample = _sample(shop, lang)
    return {f: fill(str(data.get(f) or ""), sample) for f in ("subject", "body", "sms")}


@owners_only
@require_POST
def text_preview(request: HttpRequest, shop: Shop, kind: str, lang: str) -> HttpResponse:
    _text_key(kind, lang)
    return render(
        request, "console/text.html#preview", {"preview": _preview(shop, lang, request.POST)}
    )


# --- API keys and webhooks -------------------------------------------------------------


@owners_only
@require_http_methods(["GET", "POST"])
def keys(request: HttpRequest, shop: Shop) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    raw = None
    if request.method == "POST" and form.is_valid():
        key = form.save(commit=False)
        key.shop = shop
        raw = key.issue()
        key.save()
        form = ApiKeyForm()
    context = {
        "form": form,
        "keys": ApiKey.objects.filter(shop=shop),
        "raw": raw,
        "section": "console:keys",
    }
    return _page(request, shop, "console/keys.html", context)


@owners_only
@require_POST
def key_revoke(request: HttpRequest, shop: Shop, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=pk, shop=shop)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return _saved(request, _("Key revoked: it no longer works."), "console:keys", shop.slug)


@owners_only
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest, shop: Shop) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        endpoint = form.save(commit=False)
        endpoint.shop = shop
        endpoint.save()
        secret, form = (endpoint, endpoint.secret), WebhookForm()
    return _webhooks_page(request, shop, form, secret)


def _webhooks_page(request: HttpRequest, shop: Shop, form, secret=None) -> HttpResponse:  # noqa: ANN001
    deliveries = (
        Delivery.objects.filter(shop=shop, channel=Delivery.Channel.WEBHOOK)
        .select_related("order")
        .order_by("-created_at")[:30]
    )
    context = {
        "form": form,
        "endpoints": shop.webhooks.all(),
        "secret": secret,
        "deliveries": deliveries,
        "section": "console:webhooks",
    }
    return _page(request, shop, "console/webhooks.html", context)


@owners_only
@require_POST
def webhook_rotate(request: HttpRequest, shop: Shop, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk, shop=shop)
    endpoint.secret = WebhookEndpoint._meta.get_field("secret").get_default()
    endpoint.save(update_fields=["secret"])
    return _webhooks_page(request, shop, WebhookForm(), (endpoint, endpoint.secret))


@owners_only
@require_POST
def webhook_toggle(request: HttpRequest, shop: Shop, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk, shop=shop)
    endpoint.active = not endpoint.active
    endpoint.save(update_fields=["active"])
    done = _("Webhook switched on.") if endpoint.active else _("Webhook switched off.")
    return _saved(request, done, "console:webhooks", shop.slug)


@owners_only
@require_POST
def delivery_retry(request: HttpRequest, shop: Shop, pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery, pk=pk, shop=shop, channel=Delivery.Channel.WEBHOOK)
    if delivery.status != Delivery.Status.SENT or "again" in request.POST:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.PENDING, next_attempt_at=timezone.now(), locked_until=None
        )
    return _saved(request, _("It will be sent again in a moment."), "console:webhooks", shop.slug)


# --- the team ------------------------------------------------------------------------


@owners_only
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest, shop: Shop) -> HttpResponse:
    form = NewMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                username=data["username"],
                password=data["password"],
                email=data["email"],
                first_name=data["first_name"],
            )
            Membership.objects.create(user=user, shop=shop, role=data["role"])
        return _saved(
            request,
            _("%(name)s can sign in now.") % {"name": user.get_username()},
            "console:team",
            shop.slug,
        )
    context = {
        "form": form,
        "members": shop.memberships.select_related("user").order_by("user__username"),
        "roles": Membership.Role.choices,
        "section": "console:team",
    }
    return _page(request, shop, "console/team.html", context)


def _member(shop: Shop, pk: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user"), pk=pk, shop=shop)


def _last_owner(member: Membership) -> bool:
    owners = Membership.objects.filter(shop=member.shop_id, role=Membership.Role.OWNER)
    return member.role == Membership.Role.OWNER and owners.count() == 1


@owners_only
@require_POST
def member_role(request: HttpRequest, shop: Shop, pk: int) -> HttpResponse:
    member = _member(shop, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first(form))
    elif form.cleaned_data["role"] != Membership.Role.OWNER and _last_owner(member):
        messages.error(request, _("The shop needs at least one owner."))
    else:
        member.role = form.cleaned_data["role"]
        member.save(update_fields=["role"])
        messages.success(request, _("Role changed."))
    return redirect("console:team", shop.slug)


@owners_only
@require_POST
def member_remove(request: HttpRequest, shop: Shop, pk: int) -> HttpResponse:
    member = _member(shop, pk)
    if _last_owner(member):
        messages.error(request, _("The shop needs at least one owner."))
        return redirect("console:team", shop.slug)
    member.delete()
    # At once, sockets included: the board they have open closes now.
    transaction.on_commit(lambda: end_staff_sockets(member.user_id, shop.pk))
    messages.success(request, _("%(name)s is no longer in the team.") % {"name": member.user})
    if member.user_id == request.user.pk:
        return redirect("orders:board")
    return redirect("console:team", shop.slug)


# --- numbers -------------------------------------------------------------------------


@owners_only
def numbers_page(request: HttpRequest, shop: Shop) -> HttpResponse:
    period = request.GET.get("period", "7d")
    if period not in PERIODS:
        period = "7d"
    figures = numbers(shop, period)
    context = {
        "period": period,
        "periods": [("today", _("Today")), ("7d", _("7 days")), ("30d", _("30 days"))],
        "n": figures,
        "per_day": charts.columns([(d.strftime("%d.%m"), v) for d, v in figures.per_day]),
        "stage_chart": charts.stage_bars(figures.stage_times),
        "ratings": charts.columns([(f"{r}★", figures.ratings.get(r, 0)) for r in range(1, 6)]),
        "section": "console:numbers",
    }
    return _page(request, shop, "console/numbers.html", context)
