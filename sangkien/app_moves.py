"""Migrations that move models from one app to another without touching their tables.

The models keep their tables (`db_table`); the migrations move only Django's record of them
(`SeparateDatabaseAndState`), and this module's operation moves their content types, so that
every permission, group grant and admin history entry (which point at a content type by id)
follows the model to its new app.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import migrations

if TYPE_CHECKING:
    from django.apps.registry import Apps
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def move_content_types(*, old_app: str, new_app: str, models: Iterable[str]) -> migrations.RunPython:
    """Relabel the content types of `models` (lower-case model names) from `old_app` to `new_app`,
    keeping their ids; reversible."""
    names = tuple(models)

    def relabel(apps: Apps, source: str, target: str) -> None:
        content_type = apps.get_model("contenttypes", "ContentType")
        for name in names:
            old = content_type.objects.filter(app_label=source, model=name).first()
            if old is None:
                continue  # a database where Django never recorded it: it will be created afresh
            # A stray row for the new label (made by a run that stopped halfway) hands its
            # permissions to the old one, which keeps the ids everything else points at.
            stray = content_type.objects.filter(app_label=target, model=name).first()
            if stray is not None:
                permission = apps.get_model("auth", "Permission")
                taken = set(permission.objects.filter(content_type=old).values_list("codename", flat=True))
                permission.objects.filter(content_type=stray).exclude(codename__in=taken).update(content_type=old)
                stray.delete()
            old.app_label = target
            old.save(update_fields=["app_label"])

    def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        relabel(apps, old_app, new_app)

    def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        relabel(apps, new_app, old_app)

    return migrations.RunPython(forwards, backwards, elidable=False)
