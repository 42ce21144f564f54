"""What the public API answers, field by field (the OpenAPI schema is generated from these)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from initiatives.models import Initiative
from questions.models import Question


class PhaseSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class ProgrammeSerializer(serializers.Serializer):
    """The programme the portal runs, and how far it is towards its target."""

    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    target = serializers.IntegerField(help_text="The programme's target number of initiatives.")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    submitted = serializers.IntegerField(help_text="Initiatives submitted (every one but drafts).")
    valid = serializers.IntegerField(help_text="Initiatives the board found valid.")
    percent = serializers.FloatField(help_text="Submitted initiatives as a share of the target, capped at 100.")
    phases = PhaseSerializer(many=True)


class UnitSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class InitiativeSerializer(serializers.ModelSerializer[Initiative]):
    """A published (valid, not confidential) initiative, as its public page shows it."""

    field = serializers.CharField(source="field.name", allow_null=True, default=None)
    unit = UnitSerializer()
    kind = serializers.CharField(source="get_kind_display")
    url = serializers.SerializerMethodField(help_text="Its page on the portal.")

    class Meta:
        model = Initiative
        fields = (
            "id",
            "title",
            "field",
            "kind",
            "unit",
            "summary",
            "effectiveness",
            "value_vnd",
            "first_applied_on",
            "submitted_at",
            "url",
        )

    def get_url(self, initiative: Initiative) -> str:
        path = reverse("public_detail", args=[initiative.pk])
        request: Any = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class AnswerSerializer(serializers.ModelSerializer[Question]):
    """A question the board answered in public (the asker's name and unit are never published)."""

    class Meta:
        model = Question
        fields = ("id", "subject", "body", "answer", "answered_at")


class ErrorSerializer(serializers.Serializer):
    """Why a request was refused."""

    detail = serializers.CharField()
