# Tokens that may submit initiatives (each with an account of its own, which its writes are recorded
# under) and the Idempotency-Key of a write through the API (issue 21, item 1). Existing tokens
# stay read-only: may_write is False and they need no account.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("initiatives", "0033_formsubmission_councils"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="may_write",
            field=models.BooleanField(
                default=False,
                help_text="Otherwise it only reads the initiatives of its unit and the units under it.",
                verbose_name="may submit initiatives",
            ),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="account",
            field=models.OneToOneField(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="account",
            ),
        ),
        migrations.AddConstraint(
            model_name="apitoken",
            constraint=models.CheckConstraint(
                condition=models.Q(("may_write", False), ("account__isnull", False), _connector="OR"),
                name="apitoken_writer_has_account",
            ),
        ),
        migrations.CreateModel(
            name="IdempotentRequest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=200)),
                ("digest", models.CharField(max_length=64)),
                ("status", models.PositiveSmallIntegerField(null=True)),
                ("response", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "initiative",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="initiatives.initiative",
                    ),
                ),
                (
                    "token",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="api.apitoken"),
                ),
            ],
            options={
                "verbose_name": "idempotent request",
                "verbose_name_plural": "idempotent requests",
                "indexes": [models.Index(fields=["created_at"], name="api_idempotent_request_age")],
                "constraints": [models.UniqueConstraint(fields=("token", "key"), name="api_idempotent_request_key")],
            },
        ),
    ]
