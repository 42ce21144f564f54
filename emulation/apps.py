from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmulationConfig(AppConfig):
    name = "emulation"
    verbose_name = _("Emulation")

    def ready(self) -> None:
        from emulation.initiative_lists import INITIATIVE_LIST_KIND
        from emulation.kinds import register
        from emulation.models import ExportJob
        from emulation.workbook import EMULATION_KIND

        register(ExportJob.Kind.EMULATION, EMULATION_KIND)
        register(ExportJob.Kind.INITIATIVE_LIST, INITIATIVE_LIST_KIND)
