# The questions app's models, moved out of the initiatives app (app split, issue 14): their tables
# stay as they are (db_table); only Django's state moves, and their content types with it, so that
# permissions, group grants and admin history follow them.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import questions.models
from sangkien.app_moves import move_content_types


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("initiatives", "0023_notification_next_attempt"),
        ("unions", "0002_search_trigram_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Page",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("slug", models.SlugField(max_length=80, unique=True, verbose_name="slug")),
                        ("title", models.CharField(max_length=200, verbose_name="title")),
                        ("body", models.TextField(verbose_name="content")),
                        ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                    ],
                    options={
                        "verbose_name": "page",
                        "verbose_name_plural": "pages",
                        "db_table": "initiatives_page",
                    },
                ),
                migrations.CreateModel(
                    name="Question",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("subject", models.CharField(max_length=300, verbose_name="subject")),
                        ("body", models.TextField(verbose_name="question")),
                        (
                            "attachment",
                            models.FileField(
                                blank=True,
                                max_length=200,
                                upload_to=questions.models.question_attachment_path,
                                verbose_name="attachment",
                            ),
                        ),
                        ("attachment_name", models.CharField(blank=True, max_length=255, verbose_name="file name")),
                        ("attachment_type", models.CharField(blank=True, max_length=100, verbose_name="content type")),
                        ("asked_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="asked at")),
                        ("answer", models.TextField(blank=True, verbose_name="answer")),
                        ("answered_at", models.DateTimeField(blank=True, null=True, verbose_name="answered at")),
                        ("answer_seen_at", models.DateTimeField(blank=True, null=True, verbose_name="answer seen at")),
                        (
                            "is_public",
                            models.BooleanField(
                                default=False,
                                help_text="Shown in the public FAQ, without the asker's name.",
                                verbose_name="public in the FAQ",
                            ),
                        ),
                        ("search_text", models.TextField(blank=True, editable=False)),
                        (
                            "answered_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="answered by",
                            ),
                        ),
                        (
                            "asked_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="asked by",
                            ),
                        ),
                        (
                            "initiative",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="questions",
                                to="initiatives.initiative",
                                verbose_name="initiative",
                            ),
                        ),
                        (
                            "unit",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="questions",
                                to="unions.union",
                                verbose_name="unit",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "question",
                        "verbose_name_plural": "questions",
                        "db_table": "initiatives_question",
                        "ordering": ["-asked_at", "-pk"],
                    },
                ),
                migrations.CreateModel(
                    name="PendingQuestion",
                    fields=[],
                    options={
                        "verbose_name": "question awaiting an answer",
                        "verbose_name_plural": "questions awaiting an answer",
                        "proxy": True,
                        "indexes": [],
                        "constraints": [],
                    },
                    bases=("questions.question",),
                ),
                migrations.AddIndex(
                    model_name="question",
                    index=models.Index(fields=["answered_at", "asked_at"], name="question_waiting"),
                ),
                migrations.AddConstraint(
                    model_name="question",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("is_public", False), ("answered_at__isnull", False), _connector="OR"),
                        name="question_public_only_when_answered",
                    ),
                ),
            ],
            database_operations=[],
        ),
        move_content_types(old_app="initiatives", new_app="questions", models=["question", "pendingquestion", "page"]),
    ]
