"""What the public API answers, field by field (the OpenAPI schema is generated from these)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.urls import reverse
from rest_framework import serializers

from honours.models import HonourDecision, HonourEntry
from initiatives.forms import MAX_AUTHORS
from initiatives.models import MAX_VALUE_VND, Author, Initiative, StatusChange
from questions.models import Question


class PhaseSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class FieldSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="What an initiative's `field` is given by when it is submitted.")
    name = serializers.CharField()


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
    fields = FieldSerializer(many=True, help_text="The fields (lĩnh vực) an initiative may be filed under.")  # type: ignore[assignment]  # a declared field: the metaclass takes it out of the class


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


def _absolute(context: Mapping[str, Any], path: str) -> str:
    request: Any = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


class HonourDecisionSerializer(serializers.ModelSerializer[HonourDecision]):
    """An issued honours decision: who issued it, when, for which period and units, from the figures
    of which instant, by which rule; whether a later decision corrected it."""

    count_by = serializers.CharField(source="count", help_text="submitted or valid initiatives")
    margin = serializers.IntegerField(help_text="How far above its target a leading unit must be.")
    corrects = serializers.IntegerField(source="corrects_id", allow_null=True, help_text="The decision it corrects.")
    superseded = serializers.BooleanField(help_text="A later decision corrected it.")
    url = serializers.SerializerMethodField()
    pdf = serializers.SerializerMethodField()
    xlsx = serializers.SerializerMethodField()

    class Meta:
        model = HonourDecision
        fields: tuple[str, ...] = (
            "id", "number", "issuer_name", "place", "signed_on", "signer", "period_label", "period_token",
            "scope_name", "taken_at", "count_by", "margin", "corrects", "superseded", "url", "pdf", "xlsx",
        )  # fmt: skip

    def get_url(self, decision: HonourDecision) -> str:
        return _absolute(self.context, reverse("honours:public_decision", args=[decision.pk]))

    def get_pdf(self, decision: HonourDecision) -> str:
        return _absolute(self.context, reverse("honours:document", args=[decision.pk, "pdf"]))

    def get_xlsx(self, decision: HonourDecision) -> str:
        return _absolute(self.context, reverse("honours:document", args=[decision.pk, "xlsx"]))


class HonourEntrySerializer(serializers.ModelSerializer[HonourEntry]):
    """A unit the decision honours, with its figures as the decision's snapshot counted them."""

    group = serializers.CharField(source="group_name", help_text="Its level block, or cluster within it.")

    class Meta:
        model = HonourEntry
        fields = ("group", "level", "cluster_name", "unit_code", "unit_name", "count", "target")


class HonourDecisionDetailSerializer(HonourDecisionSerializer):
    honoured = HonourEntrySerializer(many=True, help_text="The units it honours, in its order.")

    class Meta(HonourDecisionSerializer.Meta):
        fields: tuple[str, ...] = (*HonourDecisionSerializer.Meta.fields, "honoured")


class AuthorSerializer(serializers.ModelSerializer[Author]):
    class Meta:
        model = Author
        fields = ("full_name", "position", "workplace", "share_percent")


class StatusChangeSerializer(serializers.ModelSerializer[StatusChange]):
    """A step of its life: from, to, when, and the reason the officers see (never the board's note)."""

    class Meta:
        model = StatusChange
        fields = ("from_status", "to_status", "at", "reason")


class UnitInitiativeSerializer(serializers.ModelSerializer[Initiative]):
    """An initiative of the token's unit or a unit under it, whatever its status, with its authors
    and its status history."""

    field = serializers.CharField(source="field.name", allow_null=True, default=None)
    unit = UnitSerializer()
    authors = AuthorSerializer(many=True)
    history = StatusChangeSerializer(source="status_changes", many=True)
    url = serializers.SerializerMethodField(help_text="Its page for the unit's officers.")

    class Meta:
        model = Initiative
        fields = (
            "id", "title", "status", "unit", "field", "kind", "summary", "value_vnd", "is_confidential",
            "recognition_number", "recognition_date", "submitted_at", "updated_at", "authors", "history", "url",
        )  # fmt: skip

    def get_url(self, initiative: Initiative) -> str:
        return _absolute(self.context, reverse("initiatives:detail", args=[initiative.pk]))


class SnapshotSerializer(serializers.Serializer):
    """A published snapshot: the latest, or one kept as evidence (and why)."""

    id = serializers.IntegerField()
    taken_at = serializers.DateTimeField(help_text="The instant its figures are as of.")
    kept_because = serializers.CharField(source="pinned_reason", help_text="Why it is kept; empty for the latest.")


class StandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True)
    previous_rank = serializers.IntegerField(allow_null=True, help_text="In the snapshot before it.")
    unit_code = serializers.CharField()
    unit_name = serializers.CharField()
    submitted = serializers.IntegerField()
    valid = serializers.IntegerField()
    value_vnd = serializers.IntegerField()
    participating = serializers.IntegerField(help_text="Members taking part.")
    target = serializers.IntegerField(help_text="Its target for the period chosen.")


class BlockSerializer(serializers.Serializer):
    level = serializers.CharField()
    name = serializers.CharField()
    rows = StandingSerializer(many=True)


class LeaderboardSerializer(serializers.Serializer):
    snapshot = SnapshotSerializer()
    phase = serializers.IntegerField(allow_null=True)
    field = serializers.IntegerField(allow_null=True)
    cluster = serializers.IntegerField(allow_null=True)
    blocks = BlockSerializer(many=True)


# ---------------------------------------------------------------------------------------------
# Saving or submitting an initiative (POST /api/v1/unit/initiatives/). These describe the body and
# the refusal in the schema only: the body is checked by the site's own form (api.submissions).


def _text(help_text: str = "", *, max_length: int | None = None, required: bool = False) -> serializers.CharField:
    return serializers.CharField(
        help_text=help_text, max_length=max_length, required=required, allow_blank=not required, allow_null=not required
    )


class AuthorWriteSerializer(serializers.Serializer):
    """An author (tác giả) and their share of the initiative."""

    full_name = _text(max_length=200)
    position = _text(max_length=200)
    workplace = _text(max_length=300)
    share_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal(100),
        coerce_to_string=False,
        allow_null=True,
        required=False,
        help_text="Their share in %, e.g. 60 or 33.33 (also as text: “33,33”); the shares add up to 100.",
    )


class InitiativeWriteSerializer(serializers.Serializer):
    """An initiative as an officer fills the site's form: "submit": false saves it as a draft ("Lưu
    nháp": only the title is needed), true submits it to the review board ("Gửi": also unit, field,
    kind, summary, description, first applied on, and authors whose shares add up to 100). A field
    left out, empty or null is left empty; other keys are not read."""

    title = _text(max_length=500, required=True)
    unit = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=32,
        help_text="The code of the unit (mã đơn vị): the token's own or one under it; the token's if left out.",
    )
    field = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The id of its field (lĩnh vực): the ids the leaderboards' `field` filter takes.",
    )
    kind = serializers.ChoiceField(
        choices=Initiative.Kind.choices, required=False, allow_null=True, allow_blank=True, help_text="Loại giải pháp."
    )
    summary = _text()
    description = _text("Current state and the solution.")
    scope = _text("Scope of application.")
    first_applied_on = serializers.DateField(
        required=False, allow_null=True, help_text="Within the programme's dates (also as dd/mm/yyyy)."
    )
    effectiveness = _text()
    value_vnd = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=MAX_VALUE_VND,
        help_text="Value benefit (giá trị làm lợi) in đồng (also as text: “10.000.000”).",
    )
    is_confidential = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="Contains confidential information: the public pages show only its title, field and value benefit.",
    )
    recognition_number = _text("The number of the decision recognising it.", max_length=100)
    recognition_date = serializers.DateField(required=False, allow_null=True)
    recognition_level = serializers.ChoiceField(
        choices=Initiative.RecognitionLevel.choices, required=False, allow_null=True, allow_blank=True
    )
    authors = serializers.ListField(child=AuthorWriteSerializer(), required=False, max_length=MAX_AUTHORS)
    submit = serializers.BooleanField(
        required=False, allow_null=True, help_text="true: submit it (“Gửi”); false or left out: save a draft."
    )
    confirm_duplicate = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="Submit even though the unit already submitted an initiative with this title in the programme.",
    )


def _messages(help_text: str = "") -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), required=False, help_text=help_text)


class AuthorErrorSerializer(serializers.Serializer):
    full_name = _messages()
    position = _messages()
    workplace = _messages()
    share_percent = _messages()
    non_field_errors = _messages("The row is not an object.")


class SubmissionErrorSerializer(serializers.Serializer):
    """Why the initiative was not saved, in Vietnamese, as the site's form says it: the messages of
    each field of the body that is wrong (a field without error is left out)."""

    detail = serializers.CharField(
        required=False, help_text="A request refused as a whole: not JSON, or without a valid Idempotency-Key."
    )
    title = _messages()
    unit = _messages()
    field = _messages()
    kind = _messages()
    summary = _messages()
    description = _messages()
    scope = _messages()
    first_applied_on = _messages()
    effectiveness = _messages()
    value_vnd = _messages()
    is_confidential = _messages()
    recognition_number = _messages()
    recognition_date = _messages()
    recognition_level = _messages()
    submit = _messages()
    confirm_duplicate = _messages()
    authors = AuthorErrorSerializer(
        many=True,
        required=False,
        help_text="One object per author given, in order: the messages of that author's fields ({} if none).",
    )
    non_field_errors = _messages(
        "What concerns the body as a whole or the authors taken together: at least one author to submit, "
        "their shares adding up to 100%, at most 20 of them."
    )
