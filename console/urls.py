from django.urls import path

from . import views

app_name = "console"

urlpatterns = [
    path("", views.shop, name="shop"),
    path("display/new-link/", views.display_rotate, name="display_rotate"),
    path("workflows/", views.workflows, name="workflows"),
    path("workflows/<int:pk>/", views.workflow, name="workflow"),
    path("workflows/<int:pk>/stages/new/", views.stage_add, name="stage_add"),
    path("workflows/<int:pk>/stages/order/", views.stages_reorder, name="stages_reorder"),
    path("stages/<int:pk>/", views.stage_save, name="stage_save"),
    path("stages/<int:pk>/move/<str:direction>/", views.stage_move, name="stage_move"),
    path("stages/<int:pk>/delete/", views.stage_delete, name="stage_delete"),
    path("texts/", views.texts, name="texts"),
    path("texts/<str:kind>/<str:lang>/", views.text, name="text"),
    path("texts/<str:kind>/<str:lang>/preview/", views.text_preview, name="text_preview"),
    path("keys/", views.keys, name="keys"),
    path("keys/<int:pk>/revoke/", views.key_revoke, name="key_revoke"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/rotate/", views.webhook_rotate, name="webhook_rotate"),
    path("webhooks/<int:pk>/toggle/", views.webhook_toggle, name="webhook_toggle"),
    path("deliveries/<int:pk>/again/", views.delivery_retry, name="delivery_retry"),
    path("team/", views.team, name="team"),
    path("team/<int:pk>/role/", views.member_role, name="member_role"),
    path("team/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("numbers/", views.numbers_page, name="numbers"),
]
