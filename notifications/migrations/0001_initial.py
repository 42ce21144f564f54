# The notifications app's models, moved out of the initiatives app (app split, issue 14): their tables
# stay as they are (db_table); only Django's state moves, and their content types with it, so that
# permissions, group grants and admin history follow them.

import django.db.models.deletion
from django.db import migrations, models

from sangkien.app_moves import move_content_types


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("initiatives", "0023_notification_next_attempt"),
        ("unions", "0002_search_trigram_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[("status_change", "Status change"), ("answer", "Answer to a question")],
                                max_length=20,
                                verbose_name="kind",
                            ),
                        ),
                        ("object_id", models.PositiveBigIntegerField(verbose_name="object id")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                        ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent at")),
                        ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="attempts")),
                        ("last_error", models.TextField(blank=True, verbose_name="last error")),
                        ("next_attempt_at", models.DateTimeField(blank=True, null=True, verbose_name="next attempt")),
                        (
                            "unit",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="unions.union",
                                verbose_name="unit",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "notification",
                        "verbose_name_plural": "notifications",
                        "db_table": "initiatives_notification",
                        "ordering": ["-created_at"],
                        "indexes": [
                            models.Index(fields=["sent_at", "created_at"], name="notification_pending"),
                            models.Index(
                                condition=models.Q(("sent_at__isnull", True)),
                                fields=["next_attempt_at"],
                                name="notification_due",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        move_content_types(old_app="initiatives", new_app="notifications", models=["notification"]),
    ]
