from django.urls import path, re_path

from . import views_public, views_staff

app_name = "orders"

urlpatterns = [
    path("t/<str:token>/", views_public.track, name="track"),
    path("t/<str:token>/embed/", views_public.embed, name="embed"),
    path("t/<str:token>/unsubscribe/", views_public.unsubscribe, name="unsubscribe"),
    path("track/", views_public.lookup, name="lookup"),
    path("track/<slug:slug>/", views_public.lookup, name="shop_lookup"),
    path("track/<slug:slug>/embed/", views_public.lookup, {"embed": True}, name="lookup_embed"),
    path("t/<str:token>/progress/", views_public.track_progress, name="track_progress"),
    re_path(r"^t/(?P<token>[^/]+)/qr\.(?P<kind>svg|png)$", views_public.track_qr, name="track_qr"),
    path("t/<str:token>/feedback/", views_public.track_feedback, name="track_feedback"),
    path("t/<str:token>/problem/", views_public.track_problem, name="track_problem"),
    path("t/<str:token>/cancel/", views_public.track_cancel, name="track_cancel"),
    path("t/<str:token>/confirm/", views_public.track_confirm, name="track_confirm"),
    path("s/<slug:slug>/logo/", views_public.shop_logo, name="shop_logo"),
    path("s/<slug:slug>/display/<str:token>/", views_public.display, name="display"),
    path("staff/login/", views_staff.StaffLoginView.as_view(), name="login"),
    path("staff/logout/", views_staff.StaffLogoutView.as_view(), name="logout"),
    path("staff/", views_staff.board_home, name="board"),
    path("staff/<slug:slug>/", views_staff.board, name="shop_board"),
    path("staff/<slug:slug>/board/", views_staff.board_partial, name="board_partial"),
    path("staff/<slug:slug>/orders/new/", views_staff.order_create, name="create"),
    path("staff/<slug:slug>/history/", views_staff.history, name="history"),
    path("staff/<slug:slug>/announce/", views_staff.announce, name="announce"),
    path("staff/orders/<int:pk>/", views_staff.order_detail, name="order"),
    path("staff/orders/<int:pk>/ticket/", views_staff.order_ticket, name="ticket"),
    path("staff/orders/<int:pk>/seen/<int:version>/", views_staff.alert_seen, name="seen"),
    path("staff/orders/<int:pk>/advance/", views_staff.order_advance, name="advance"),
    path("staff/orders/<int:pk>/undo/", views_staff.order_undo, name="undo"),
    path("staff/orders/<int:pk>/cancel/", views_staff.order_cancel, name="cancel"),
    path("staff/orders/<int:pk>/delay/", views_staff.order_delay, name="delay"),
    path("staff/orders/<int:pk>/resume/", views_staff.order_resume, name="resume"),
    path("staff/orders/<int:pk>/note/", views_staff.order_note, name="note"),
    path("staff/orders/<int:pk>/promise/", views_staff.order_promise, name="promise"),
]
