from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from emulation import views as emulation_views
from initiatives import views as initiative_views
from leaderboard import views as leaderboard_views
from questions import views as question_views
from sangkien import views

admin.site.site_header = _("Innovation initiatives – programme administration")
admin.site.site_title = _("Sáng kiến")
admin.site.index_title = _("Administration")

# The paths are the portal's public addresses: they stay as they are when code moves between apps.
urlpatterns = [
    path("", views.home, name="home"),
    path("initiatives/questions/", include("questions.urls")),
    path("initiatives/", include("initiatives.urls")),
    path("dashboard/", leaderboard_views.dashboard, name="dashboard"),
    path("dashboard/unit/<str:code>/", leaderboard_views.dashboard_unit, name="dashboard_unit"),
    # Evidence: any snapshot with its history, exactly as it was; the list of those kept as evidence.
    path("dashboard/evidence/", leaderboard_views.dashboard_evidence, name="dashboard_evidence"),
    path("dashboard/as-of/<int:snapshot_id>/", leaderboard_views.dashboard_as_of, name="dashboard_as_of"),
    path(
        "dashboard/unit/<str:code>/as-of/<int:snapshot_id>/",
        leaderboard_views.dashboard_unit_as_of,
        name="dashboard_unit_as_of",
    ),
    path("", include("honours.urls")),  # /vinh-danh/ and /dashboard/honours/
    path("", include("councils.urls")),  # /sang-kien-tieu-bieu/ and /councils/
    path("api/", include("api.urls")),  # /api/v1/…
    path("exports/", emulation_views.exports, name="exports"),
    path("exports/initiatives/", emulation_views.list_exports, name="list_exports"),
    path("exports/<int:pk>/status/", emulation_views.export_status, name="export_status"),
    path("exports/<int:pk>/retry/", emulation_views.export_retry, name="export_retry"),
    path("exports/<int:pk>/download/", emulation_views.export_download, name="export_download"),
    path("hoi-dap/", question_views.faq, name="faq"),
    path("sang-kien/", initiative_views.public_list, name="public_list"),
    path("sang-kien/<int:pk>/", initiative_views.public_detail, name="public_detail"),
    path("trang/<slug:slug>/", question_views.page, name="page"),
    # The accounts' pages in the portal's layout. No self-service password reset: an officer's
    # password is reset by the board in the admin (an anonymous form that mails any address would be
    # one more way to probe accounts, and mail waits in the outbox, not in a request).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(template_name="registration/account_password_change.html"),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/account_password_change_done.html"),
        name="password_change_done",
    ),
    path("admin/board-metrics/", views.board_metrics, name="board_metrics"),  # before the admin
    path("admin/", admin.site.urls),
    path("healthz/", views.healthz, name="healthz"),
    path("livez/", views.livez, name="livez"),
    path("errors/too-large/", views.too_large, name="too_large"),  # nginx's 413 page (deploy/nginx.conf)
]
