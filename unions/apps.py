from __future__ import annotations

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class UnionsConfig(AppConfig):
    name = "unions"
    verbose_name = _("Union hierarchy")

    def ready(self) -> None:
        # Here, in the lowest app: the units' names are the first columns declared with the
        # Vietnamese collation, and SQLite needs it from their migration on.
        from sangkien.collation import register_vietnamese_collation

        connection_created.connect(register_vietnamese_collation, dispatch_uid="vietnamese_collation")

        from django.db.models.signals import m2m_changed

        from unions.models import User
        from unions.permissions import forget_groups

        m2m_changed.connect(forget_groups, sender=User.groups.through, dispatch_uid="forget_groups")
