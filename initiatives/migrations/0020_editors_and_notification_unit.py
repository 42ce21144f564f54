"""Who wrote an initiative (a board member may not review it) and which unit a notification is
for (a province's board sees only its subtree's outbox); both filled from the rows already there."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery


def fill(apps, schema_editor):
    Initiative = apps.get_model("initiatives", "Initiative")
    StatusChange = apps.get_model("initiatives", "StatusChange")
    Question = apps.get_model("initiatives", "Question")
    Notification = apps.get_model("initiatives", "Notification")
    Editor = Initiative.editors.through
    # Whoever submitted an initiative they did not create wrote it too.
    submitters = (
        StatusChange.objects.filter(to_status="submitted", by__isnull=False)
        .exclude(by_id=F("initiative__created_by_id"))
        .values_list("initiative_id", "by_id")
        .distinct()
        .order_by()
    )
    batch = []
    for initiative_id, user_id in submitters.iterator(chunk_size=5000):
        batch.append(Editor(initiative_id=initiative_id, user_id=user_id))
        if len(batch) == 5000:
            Editor.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    Editor.objects.bulk_create(batch, ignore_conflicts=True)
    Notification.objects.filter(kind="status_change").update(
        unit_id=Subquery(StatusChange.objects.filter(pk=OuterRef("object_id")).values("initiative__unit_id")[:1])
    )
    Notification.objects.filter(kind="answer").update(
        unit_id=Subquery(Question.objects.filter(pk=OuterRef("object_id")).values("unit_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("initiatives", "0019_value_benefit_ceiling"),
        ("unions", "0002_search_trigram_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="initiative",
            name="editors",
            field=models.ManyToManyField(
                blank=True, related_name="edited_initiatives", to=settings.AUTH_USER_MODEL, verbose_name="edited by"
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="unit",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="unions.union",
                verbose_name="unit",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
