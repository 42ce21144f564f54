from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeaderboardConfig(AppConfig):
    name = "leaderboard"
    verbose_name = _("Leaderboard")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from initiatives.models import Field
        from leaderboard import snapshots  # noqa: F401  (connects drop_partition)
        from leaderboard.dashboard import forget_filter_choices, forget_snapshots
        from leaderboard.models import LeaderboardSnapshot
        from unions.models import EmulationCluster

        for event, signal in (("save", post_save), ("delete", post_delete)):
            signal.connect(forget_snapshots, sender=LeaderboardSnapshot, dispatch_uid=f"forget-snapshots-{event}")
            for model in (Field, EmulationCluster):
                uid = f"forget-choices-{model.__name__}-{event}"
                signal.connect(forget_filter_choices, sender=model, dispatch_uid=uid)
