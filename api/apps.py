from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("Open data and integration API")

    def ready(self) -> None:
        from api import schema  # noqa: F401  (registers the token's security scheme with drf-spectacular)
