from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import phones
from .models import LANGUAGE_CHOICES, Order, Shop, Workflow


def cleaned_phone(value: str, shop: Shop) -> str:
    """A customer's phone as stored (orders/phones.py), or the form's error for it."""
    try:
        return phones.normalize(value, phones.region(shop.phone))
    except phones.InvalidPhone as invalid:
        raise forms.ValidationError(invalid.message) from None


class OrderCreateForm(forms.Form):
    number = forms.CharField(label=_("Order number"), max_length=40)
    customer_name = forms.CharField(label=_("Customer name"), max_length=80)
    phone = forms.CharField(label=_("Phone (optional)"), max_length=32, required=False)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    summary = forms.CharField(
        label=_("What was ordered (optional, for the confirmation)"), max_length=200, required=False
    )
    language = forms.ChoiceField(
        label=_("Language of messages"),
        choices=[("", _("The shop's default")), *LANGUAGE_CHOICES],
        required=False,
    )
    workflow = forms.ModelChoiceField(label=_("Workflow"), queryset=Workflow.objects.none())

    def __init__(self, shop: Shop, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.shop = shop
        workflows = shop.workflows.all()
        self.fields["workflow"].queryset = workflows
        self.fields["workflow"].label_from_instance = lambda w: w.name
        if workflows[:1]:
            self.fields["workflow"].initial = workflows[0].pk
        for name in ("number", "customer_name", "phone", "email", "summary"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        self.fields["phone"].widget.attrs["inputmode"] = "tel"

    def clean_number(self) -> str:
        number = self.cleaned_data["number"].strip()
        if Order.objects.filter(shop=self.shop, number=number).exists():
            raise forms.ValidationError(_("This order number is already in use."))
        return number

    def clean_phone(self) -> str:
        return cleaned_phone(self.cleaned_data["phone"], self.shop)


class VersionForm(forms.Form):
    """Every action carries the version the tablet saw."""

    version = forms.IntegerField(min_value=0, max_value=2**31 - 1)


class CancelForm(VersionForm):
    reason = forms.CharField(label=_("Reason for the customer"), max_length=200)


def _next_occurrence(moment: time) -> datetime:
    """A wall-clock time in the active (shop's) time zone: today, or tomorrow if passed."""
    now = timezone.localtime()
    candidate = timezone.make_aware(datetime.combine(now.date(), moment))
    return candidate if candidate > now else candidate + timedelta(days=1)


class DelayForm(VersionForm):
    reason = forms.CharField(label=_("Why is it late?"), max_length=200)
    action = forms.CharField(label=_("What are we doing about it?"), max_length=200, required=False)
    new_time = forms.TimeField(label=_("New time (optional)"), required=False)

    def clean_new_time(self) -> datetime | None:
        moment = self.cleaned_data.get("new_time")
        return _next_occurrence(moment) if moment else None


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=500)
    public = forms.BooleanField(label=_("Show to the customer"), required=False)


class PromiseForm(VersionForm):
    """A promised time (only "until") or window; all empty withdraws the promise."""

    day = forms.DateField(label=_("Day"), required=False)
    start = forms.TimeField(label=_("From"), required=False)
    end = forms.TimeField(label=_("Until"), required=False)

    def clean(self) -> dict:
        data = super().clean()
        day, start, end = data.pop("day", None), data.get("start"), data.get("end")
        if not (day or start or end):
            data["start"] = data["end"] = None
            return data
        if end is None:
            raise forms.ValidationError(_("Give at least the time it will be ready by."))
        day = day or timezone.localdate()
        data["end"] = timezone.make_aware(datetime.combine(day, end))
        data["start"] = timezone.make_aware(datetime.combine(day, start)) if start else data["end"]
        return data


class FeedbackForm(forms.Form):
    rating = forms.IntegerField(label=_("Rating"), min_value=1, max_value=5)
    comment = forms.CharField(label=_("Comment (optional)"), max_length=1000, required=False)


class ProblemForm(forms.Form):
    text = forms.CharField(label=_("What went wrong?"), max_length=500)


class CustomerCancelForm(forms.Form):
    reason = forms.CharField(label=_("Why? (optional)"), max_length=200, required=False)


class ConfirmForm(forms.Form):
    pass


class LookupForm(forms.Form):
    number = forms.CharField(label=_("Order number"), max_length=40)
    contact = forms.CharField(label=_("Phone or e-mail given with the order"), max_length=254)
