from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from api.views import api

from .views import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="orders:board", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("orders.urls")),
]
