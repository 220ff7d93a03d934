"""The console's forms: what an owner may change of their own shop, and nothing else.

No form here has a shop field: the shop always comes from the URL, checked against
the signed-in owner's memberships.
"""

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.utils.translation import gettext_lazy as _

from api.models import ApiKey
from orders import logos
from orders.destinations import RefusedDestination, check_url
from orders.models import (
    Membership,
    MessageKind,
    MessageTemplate,
    Shop,
    Stage,
    WebhookEndpoint,
    Workflow,
)
from orders.workflow_templates import TEMPLATES
from orders.workflows import STAGE_FIELDS


class ShopForm(forms.ModelForm):
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG, JPEG or WebP, up to 200 KB; shown on the tracking page."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    def clean_logo(self) -> bytes | None:
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        if upload.size > logos.MAX_BYTES:
            raise forms.ValidationError(_("The logo is larger than 200 KB."))
        data = upload.read()
        if logos.image_type(data) is None:
            raise forms.ValidationError(_("The logo must be a PNG, JPEG or WebP image."))
        return data

    def save(self, commit: bool = True) -> Shop:
        shop = super().save(commit)
        if self.cleaned_data.get("logo"):
            logos.set_logo(shop, self.cleaned_data["logo"])
        elif self.cleaned_data.get("remove_logo"):
            logos.set_logo(shop, None)
        return shop

    class Meta:
        model = Shop
        fields = [
            "name",
            "phone",
            "address",
            "website",
            "email",
            "opening_hours",
            "brand_color",
            "language",
            "address_form",
            "timezone",
            "embed_origins",
            "display_clear_minutes",
        ]
        widgets = {
            "brand_color": forms.TextInput(attrs={"type": "color"}),
            "embed_origins": forms.Textarea(attrs={"rows": 3}),
        }


class NewWorkflowForm(forms.Form):
    template = forms.ChoiceField(label=_("Start from"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [
            (key, f"{spec['name_ru']} / {spec['name_en']}") for key, spec in TEMPLATES.items()
        ]


class WorkflowForm(forms.ModelForm):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # This workflow's own stages only.
        self.fields["customer_cancel_until"].queryset = Stage.objects.filter(workflow=self.instance)
        self.fields["customer_cancel_until"].empty_label = _("never")

    class Meta:
        model = Workflow
        fields = [
            "name_ru",
            "name_en",
            "aftercare_ru",
            "aftercare_en",
            "customer_cancel_until",
            "customer_confirms",
        ]
        widgets = {
            "aftercare_ru": forms.Textarea(attrs={"rows": 3}),
            "aftercare_en": forms.Textarea(attrs={"rows": 3}),
        }


class StageForm(forms.ModelForm):
    class Meta:
        model = Stage
        fields = list(STAGE_FIELDS)

    def clean(self) -> dict:
        data = super().clean()
        if not (data.get("name_ru") or data.get("name_en")):
            raise forms.ValidationError(_("Give the stage a name in at least one language."))
        return data


class ReorderForm(forms.Form):
    """The workflow's stage pks in their new order, comma-separated."""

    order = forms.CharField(max_length=2000)

    def __init__(self, *args: object, stages: list[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.stages = stages

    def clean_order(self) -> list[int]:
        try:
            pks = [int(part) for part in self.cleaned_data["order"].split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError(_("Not a list of stages.")) from None
        if sorted(pks) != sorted(self.stages):
            raise forms.ValidationError(
                _("The stages changed meanwhile; reload the page and try again.")
            )
        return pks


class MessageTextForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["subject", "body", "sms"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args: object, kind: str, language: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.instance.kind, self.instance.language = kind, language

    def _get_validation_exclusions(self) -> set:
        # The shop is set by the view; its uniqueness with kind and language holds by
        # construction (one text per kind and language, edited in place).
        return {*super()._get_validation_exclusions(), "shop"}


KINDS = [kind for kind, _label in MessageKind.choices]


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "can_write"]


class WebhookForm(forms.ModelForm):
    class Meta:
        model = WebhookEndpoint
        fields = ["url", "active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            check_url(url)
        except RefusedDestination as refused:
            raise forms.ValidationError(str(refused)) from None
        return url


class NewMemberForm(forms.Form):
    """A new sign-in for a colleague. Existing sign-ins are not offered: a shop
    cannot learn about, or take in, another shop's people."""

    username = forms.CharField(label=_("Sign-in name"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Tell it to your colleague; they sign in with it on the board."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This sign-in name is taken; choose another."))
        return username

    def clean(self) -> dict:
        data = super().clean()
        if data.get("username") and data.get("password"):
            candidate = get_user_model()(username=data["username"], email=data.get("email", ""))
            try:
                password_validation.validate_password(data["password"], candidate)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return data


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)
