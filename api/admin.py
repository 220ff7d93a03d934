from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "shop",
        "prefix",
        "can_write",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["shop", "can_write"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return ["shop", "name", "can_write"]
        return ["shop", "name", "can_write", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        # A key never moves to another shop.
        return ["shop", *self.readonly_fields] if obj else []

    def save_model(self, request: HttpRequest, obj: ApiKey, form: object, change: bool) -> None:
        raw = None if change else obj.issue()
        super().save_model(request, obj, form, change)
        if raw:
            self.message_user(
                request,
                _(
                    "The new key is %(key)s — copy it now: "
                    "it is stored hashed and never shown again."
                )
                % {"key": raw},
                messages.WARNING,
            )

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, ngettext("%d key revoked.", "%d keys revoked.", count) % count)
