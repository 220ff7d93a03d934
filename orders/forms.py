from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Order, Shop, Workflow


class OrderCreateForm(forms.Form):
    number = forms.CharField(label=_("Order number"), max_length=40)
    customer_name = forms.CharField(label=_("Customer name"), max_length=80)
    phone = forms.CharField(label=_("Phone (optional)"), max_length=32, required=False)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    workflow = forms.ModelChoiceField(label=_("Workflow"), queryset=Workflow.objects.none())

    def __init__(self, shop: Shop, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.shop = shop
        workflows = shop.workflows.all()
        self.fields["workflow"].queryset = workflows
        self.fields["workflow"].label_from_instance = lambda w: w.name
        if workflows[:1]:
            self.fields["workflow"].initial = workflows[0].pk
        for name in ("number", "customer_name", "phone", "email"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        self.fields["phone"].widget.attrs["inputmode"] = "tel"

    def clean_number(self) -> str:
        number = self.cleaned_data["number"].strip()
        if Order.objects.filter(shop=self.shop, number=number).exists():
            raise forms.ValidationError(_("This order number is already in use."))
        return number

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        digits = [c for c in phone if c.isdigit()]
        if phone and (len(digits) < 5 or any(c not in "+0123456789 ()-" for c in phone)):
            raise forms.ValidationError(_("Enter a phone number, e.g. +7 900 123-45-67."))
        return phone


class VersionForm(forms.Form):
    """Every action carries the version the tablet saw."""

    version = forms.IntegerField(min_value=0, max_value=2**31 - 1)


class CancelForm(VersionForm):
    reason = forms.CharField(label=_("Reason"), max_length=200)
