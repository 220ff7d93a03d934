"""The Django admin belongs to the operators who run Tracker, not to shops.

Shop owners and staff work in the console and on the board, which show one shop at
a time. The admin shows every shop at once, so only superusers may enter it: a shop
member who happens to be marked "staff status" still gets the admin's sign-in page.
Operators are created with `manage.py createsuperuser`.
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class OperatorAdminSite(AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser


class OperatorAdminConfig(AdminConfig):
    default_site = "tracker.admin.OperatorAdminSite"
