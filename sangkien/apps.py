from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class LoginLockoutConfig(AxesAppConfig):
    """django-axes under a name the admin can show in Vietnamese (its own label is "Axes")."""

    verbose_name = _("Login lockouts")


class PortalAdminConfig(AdminConfig):
    """django.contrib.admin with the portal's admin site (sangkien.admin_site)."""

    default_site = "sangkien.admin_site.PortalAdminSite"
