from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from initiatives import dashboard_views, export_views
from initiatives import views as initiative_views
from sangkien.views import healthz, too_large

admin.site.site_header = _("Innovation initiatives – programme administration")
admin.site.site_title = _("Sáng kiến")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("", initiative_views.home, name="home"),
    path("initiatives/", include("initiatives.urls")),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/unit/<str:code>/", dashboard_views.dashboard_unit, name="dashboard_unit"),
    path("exports/", export_views.exports, name="exports"),
    path("exports/<int:pk>/status/", export_views.export_status, name="export_status"),
    path("exports/<int:pk>/retry/", export_views.export_retry, name="export_retry"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
    path("hoi-dap/", initiative_views.faq, name="faq"),
    path("sang-kien/", initiative_views.public_list, name="public_list"),
    path("trang/<slug:slug>/", initiative_views.page, name="page"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/board-metrics/", initiative_views.board_metrics_view, name="board_metrics"),  # before the admin
    path("admin/", admin.site.urls),
    path("healthz/", healthz, name="healthz"),
    path("errors/too-large/", too_large, name="too_large"),  # nginx's 413 page (deploy/nginx.conf)
]
