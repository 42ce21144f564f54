from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from initiatives.models import Initiative, StatusChange
from initiatives.services import (
    AttachmentUpload,
    AuthorData,
    InitiativeStateError,
    duplicates_of,
    initiative_save_draft,
    initiative_submit,
)
from tests.conftest import PDF

pytestmark = pytest.mark.django_db
AUTHORS = [AuthorData("Nguyễn Văn An", Decimal(60)), AuthorData("Trần Thị Bình", Decimal(40))]


def new_initiative(program, unit, field, **fields) -> Initiative:
    return Initiative(
        program=program,
        unit=unit,
        title=fields.pop("title", "Cải tiến lò nung thủy tinh"),
        field=field,
        kind=Initiative.Kind.TECHNICAL,
        summary="Giảm tiêu hao khí đốt.",
        description="Thực trạng và giải pháp.",
        first_applied_on=dt.date(2022, 3, 1),
        **fields,
    )


def test_create_a_draft_then_submit_it(program, field, unit_tree, officer) -> None:
    draft = initiative_save_draft(
        initiative=new_initiative(program, unit_tree.gang_thep, field), authors=AUTHORS, by=officer
    )
    assert draft.status == Initiative.Status.DRAFT
    assert draft.created_by == officer
    assert draft.submitted_at is None
    assert not StatusChange.objects.exists()
    assert Initiative.objects.search("nguyen van an").get() == draft  # authors are searchable

    upload = AttachmentUpload(SimpleUploadedFile("thuyet-minh.pdf", PDF), "application/pdf")
    submitted = initiative_submit(initiative=draft, authors=AUTHORS, attachments=[upload], by=officer)
    submitted.refresh_from_db()
    assert submitted.status == Initiative.Status.SUBMITTED
    assert submitted.submitted_at is not None
    change = StatusChange.objects.get()
    assert (change.from_status, change.to_status, change.by) == ("draft", "submitted", officer)
    attachment = submitted.attachments.get()
    assert attachment.original_name == "thuyet-minh.pdf"
    assert "thuyet-minh" not in attachment.file.name  # stored under a random name
    assert attachment.file.read() == PDF


def test_the_phase_is_the_one_the_submission_falls_in(program, field, unit_tree, officer, monkeypatch) -> None:
    in_phase_two = timezone.make_aware(dt.datetime(2022, 7, 1, 9, 0))
    monkeypatch.setattr(timezone, "now", lambda: in_phase_two)
    submitted = initiative_submit(
        initiative=new_initiative(program, unit_tree.gang_thep, field), authors=AUTHORS, by=officer
    )
    assert submitted.phase.number == 2


def test_a_returned_initiative_is_completed_and_resubmitted(program, field, unit_tree, officer, reviewer) -> None:
    initiative = initiative_submit(
        initiative=new_initiative(program, unit_tree.gang_thep, field), authors=AUTHORS, by=officer
    )
    # The board returns it (issue 4 brings the review service; the row change is the same).
    Initiative.objects.filter(pk=initiative.pk).update(status=Initiative.Status.RETURNED)
    StatusChange.objects.create(
        initiative=initiative, from_status="submitted", to_status="returned", by=reviewer,
        at=timezone.now(), reason="Bổ sung số liệu giá trị làm lợi.",
    )  # fmt: skip
    initiative.refresh_from_db()
    assert initiative.is_editable
    initiative.value_vnd = 50_000_000
    initiative_submit(initiative=initiative, authors=AUTHORS, by=officer)
    initiative.refresh_from_db()
    assert (initiative.status, initiative.value_vnd) == (Initiative.Status.SUBMITTED, 50_000_000)
    assert list(initiative.status_changes.values_list("to_status", flat=True)) == ["submitted", "returned", "submitted"]


def test_a_submitted_initiative_cannot_be_saved_or_submitted_again(program, field, unit_tree, officer) -> None:
    initiative = initiative_submit(
        initiative=new_initiative(program, unit_tree.gang_thep, field), authors=AUTHORS, by=officer
    )
    stale = Initiative.objects.get(pk=initiative.pk)
    stale.status = Initiative.Status.DRAFT  # a second tab still showing the draft
    with pytest.raises(InitiativeStateError):
        initiative_save_draft(initiative=stale, authors=AUTHORS, by=officer)
    with pytest.raises(InitiativeStateError):
        initiative_submit(initiative=stale, authors=AUTHORS, by=officer)
    assert StatusChange.objects.count() == 1


def test_duplicates_are_the_same_title_in_the_same_unit_and_programme(program, field, unit_tree, officer) -> None:
    first = initiative_submit(
        initiative=new_initiative(program, unit_tree.gang_thep, field, title="Cải tiến Lò Nung"),
        authors=AUTHORS,
        by=officer,
    )
    same = new_initiative(program, unit_tree.gang_thep, field, title="cải tiến lò nung")
    assert duplicates_of(initiative=same) == [first]
    other_unit = new_initiative(program, unit_tree.thep, field, title="Cải tiến lò nung")
    assert duplicates_of(initiative=other_unit) == []
    longer = new_initiative(program, unit_tree.gang_thep, field, title="Cải tiến lò nung số 2")
    assert duplicates_of(initiative=longer) == []


def test_submission_rules_hold_whoever_calls_the_service(program, field, unit_tree, officer) -> None:
    from django.core.exceptions import ValidationError

    incomplete = new_initiative(program, unit_tree.gang_thep, field, title="Thiếu tỷ lệ")
    incomplete.summary = ""
    with pytest.raises(ValidationError) as caught:
        initiative_submit(initiative=incomplete, authors=[AuthorData("An", Decimal(90))], by=officer)
    assert set(caught.value.message_dict) == {"summary", "__all__"}
    assert not Initiative.objects.exists()
