"""Writes to initiatives. The site, the admin, the importer and the tasks all call these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from initiatives import counting, likeness
from initiatives.models import Attachment, Author, Initiative, Phase, Program, StatusChange
from notifications.models import Notification
from notifications.services import notify
from sangkien.downloads import download_name
from sangkien.text import fold
from unions.models import User
from unions.permissions import reviewable


class InitiativeStateError(Exception):
    """The initiative is no longer in a state that allows this (someone else acted first)."""


@dataclass(frozen=True)
class AuthorData:
    full_name: str
    share_percent: Decimal
    position: str = ""
    workplace: str = ""


@dataclass(frozen=True)
class AttachmentUpload:
    file: UploadedFile
    content_type: str  # sniffed from the content by the form, not taken from the browser

    @property
    def name(self) -> str:
        """The name kept and shown: the user's base name with the extension of the sniffed type
        (a PDF sent as "bao-cao.hta" is kept as "bao-cao.pdf")."""
        assert self.file.name is not None  # an upload always has a name
        return download_name(self.file.name, content_type=self.content_type)


def phase_on(*, program: Program, day: dt.date) -> Phase | None:
    """The programme's phase that contains `day` (phases are few: read from the prefetch cache)."""
    return next((p for p in program.phases.all() if p.starts_on <= day <= p.ends_on), None)


def initiative_refresh_search_text(*, initiative: Initiative) -> None:
    """Re-fold the searchable text (title and authors' names) after the initiative or its authors change."""
    names = list(initiative.authors.values_list("full_name", flat=True))
    initiative.refresh_search_text(names)
    Initiative.objects.filter(pk=initiative.pk).update(search_text=initiative.search_text)


def _write(
    *, initiative: Initiative, authors: list[AuthorData], attachments: list[AttachmentUpload], by: User
) -> Initiative:
    """Save the fields, authors and new attachments of an initiative an officer may still edit."""
    new = initiative.pk is None
    if new:
        initiative.status = Initiative.Status.DRAFT
        initiative.created_by = by
    else:
        # Lock the row: a reviewer's decision or a second tab must not interleave with this save.
        current = Initiative.objects.select_for_update().only("status").get(pk=initiative.pk)
        if current.status not in (Initiative.Status.DRAFT, Initiative.Status.RETURNED):
            raise InitiativeStateError(_("This initiative has been submitted and can no longer be edited."))
        initiative.status = current.status
    initiative.refresh_search_text([author.full_name for author in authors])
    # The related rows exist (the form and the import picked them from the database, and its foreign
    # keys hold whoever calls) and the check constraints are the database's own: checking them here
    # again cost five queries of every submission (issue 17, item 5).
    initiative.full_clean(exclude=["created_by", "program", "unit", "field", "phase"], validate_constraints=False)
    initiative.save()
    initiative_record_editor(initiative=initiative, by=by)
    if not new:
        initiative.authors.all().delete()
    Author.objects.bulk_create(
        Author(
            initiative=initiative,
            full_name=author.full_name,
            position=author.position,
            workplace=author.workplace,
            share_percent=author.share_percent,
            order=order,
        )
        for order, author in enumerate(authors)
    )
    for upload in attachments:
        assert upload.file.size is not None  # an upload always has a size
        Attachment.objects.create(
            initiative=initiative,
            file=upload.file,
            original_name=upload.name,
            content_type=upload.content_type,
            size=upload.file.size,
            uploaded_by=by,
        )
    return initiative


def initiative_record_editor(*, initiative: Initiative, by: User) -> None:
    """Remember who wrote the initiative: an account that edited it may not review it."""
    if by.pk is not None and by.pk != initiative.created_by_id:
        initiative.editors.add(by)


@transaction.atomic
def initiative_save_draft(
    *,
    initiative: Initiative,
    authors: list[AuthorData],
    attachments: Sequence[AttachmentUpload] = (),
    by: User,
) -> Initiative:
    """Lưu nháp: keep what was typed, whatever is still missing."""
    saved = _write(initiative=initiative, authors=authors, attachments=list(attachments), by=by)
    if saved.status == Initiative.Status.RETURNED:
        likeness.remember([saved])  # still in the national check: with the text it now has (Gửi remembers its own)
    return saved


@transaction.atomic
def initiative_submit(
    *,
    initiative: Initiative,
    authors: list[AuthorData],
    attachments: Sequence[AttachmentUpload] = (),
    by: User,
) -> Initiative:
    """Gửi: save, then move draft/returned → submitted, claiming the row so it happens once."""
    _check_submittable(initiative=initiative, authors=authors)
    with counting.marks_deferred():  # marked once below, with the claim
        _write(initiative=initiative, authors=authors, attachments=list(attachments), by=by)
    now = timezone.now()
    previous = initiative.status
    phase = phase_on(program=initiative.program, day=timezone.localdate(now))
    claimed = Initiative.objects.filter(
        pk=initiative.pk, status__in=[Initiative.Status.DRAFT, Initiative.Status.RETURNED]
    ).update(status=Initiative.Status.SUBMITTED, submitted_at=now, phase=phase)
    if claimed != 1:
        raise InitiativeStateError(_("This initiative has already been submitted."))
    counting.mark([initiative.pk])  # the saved fields and the claim: counted, or moved in time and phase
    StatusChange.objects.create(
        initiative=initiative, from_status=previous, to_status=Initiative.Status.SUBMITTED, by=by, at=now
    )
    initiative.status, initiative.submitted_at, initiative.phase = Initiative.Status.SUBMITTED, now, phase
    likeness.remember([initiative])  # the national check for copies compares the others with it
    return initiative


@transaction.atomic
def attachment_remove(*, attachment: Attachment, by: User) -> None:
    """Delete a file of a draft or returned initiative; the file goes once the row is gone. Removing
    a file is editing: the remover may not review the initiative."""
    initiative = (
        Initiative.objects.select_for_update().only("pk", "status", "created_by").get(pk=attachment.initiative_id)
    )
    if initiative.status not in (Initiative.Status.DRAFT, Initiative.Status.RETURNED):
        raise InitiativeStateError(_("This initiative has been submitted and can no longer be edited."))
    initiative_record_editor(initiative=initiative, by=by)
    attachment.delete()
    transaction.on_commit(lambda: attachment.file.delete(save=False))


# What "Gửi" requires besides the title ("Lưu nháp" requires only the title).
REQUIRED_TO_SUBMIT = ("unit", "field", "kind", "summary", "description", "first_applied_on")


def outside_programme(*, program: Program, day: dt.date) -> str | None:
    """The error when an initiative first applied on `day` is not eligible for the programme."""
    if program.starts_on <= day <= program.ends_on:
        return None
    return _("The programme accepts initiatives first applied between %(start)s and %(end)s.") % {
        "start": date_format(program.starts_on),
        "end": date_format(program.ends_on),
    }


def _check_submittable(*, initiative: Initiative, authors: list[AuthorData]) -> None:
    """The rules of a submission, whoever calls (the form shows the same ones field by field)."""
    errors: dict[str, list[str]] = {}
    for name in REQUIRED_TO_SUBMIT:
        if initiative.serializable_value(name) in (None, ""):
            errors.setdefault(name, []).append(_("This field is required to submit the initiative."))
    applied = initiative.first_applied_on
    if applied and (message := outside_programme(program=initiative.program, day=applied)):
        errors.setdefault("first_applied_on", []).append(message)
    if not authors or sum(author.share_percent for author in authors) != 100:
        errors.setdefault(NON_FIELD_ERRORS, []).append(_("Enter at least one author; the shares must add up to 100%."))
    if errors:
        raise ValidationError(errors)


def duplicates_of(*, initiative: Initiative) -> list[Initiative]:
    """Other non-draft initiatives with the same title (folded) in the same unit and programme."""
    title = fold(initiative.title)
    candidates = (
        Initiative.objects.filter(program_id=initiative.program_id, unit_id=initiative.unit_id)
        .submitted()
        .exclude(pk=initiative.pk)
        .filter(search_text__startswith=title)
        .only("pk", "title", "status", "submitted_at")
    )
    return [other for other in candidates if fold(other.title) == title]


@dataclass(frozen=True, kw_only=True)
class Doubts:
    """What "Gửi" asks the officer to confirm before anything is written (site and API alike)."""

    same_title: list[Initiative]  # the unit's own, same title, same programme
    alike: list[likeness.Likeness]  # the national check for copies, from likeness.ASK_FROM

    def __bool__(self) -> bool:
        return bool(self.same_title or self.alike)


def submission_doubts(*, initiative: Initiative, viewer: User) -> Doubts:
    return Doubts(
        same_title=duplicates_of(initiative=initiative),
        alike=likeness.similar_to(initiative, viewer=viewer, since=likeness.ASK_FROM),
    )


REVIEW_DECISIONS = (Initiative.Status.VALID, Initiative.Status.RETURNED, Initiative.Status.REJECTED)


@dataclass(frozen=True, kw_only=True)
class ReviewOutcome:
    done: list[int]
    skipped: list[int]  # no longer awaiting review: another reviewer acted first
    own: list[int] = field(default_factory=list)  # written by the reviewer: another must decide


def initiative_review(
    *,
    initiative: Initiative,
    decision: str,
    by: User,
    reason: str = "",
    note: str = "",
    duplicate_of: Initiative | None = None,
) -> None:
    """Hợp lệ / Yêu cầu bổ sung / Không hợp lệ: submitted → decision, once.

    The row is claimed with a conditional UPDATE: of two reviewers acting at once exactly one wins,
    and the other gets InitiativeStateError. A return or a rejection needs a reason, which the
    officer sees; the note stays private to the board.
    """
    if duplicate_of is not None:
        if decision == Initiative.Status.VALID:
            raise ValidationError({"duplicate_of": _("A copy is returned or rejected, not accepted as valid.")})
        if duplicate_of.pk == initiative.pk or duplicate_of.status == Initiative.Status.DRAFT:
            raise ValidationError({"duplicate_of": _("Choose an initiative already submitted, other than this one.")})
        if not reason.strip():
            reason = _("Duplicate (trùng lặp) of initiative no. %(number)s, submitted earlier.") % {
                "number": duplicate_of.pk
            }
    outcome = initiatives_review(
        ids=[initiative.pk],
        decision=decision,
        by=by,
        reason=reason,
        note=note,
        duplicate_of=duplicate_of.pk if duplicate_of is not None else None,
    )
    if outcome.own:
        raise InitiativeStateError(
            _(
                "You submitted or edited this initiative, or it is outside your subtree: "
                "another member of the board must review it."
            )
        )
    if outcome.skipped:
        raise InitiativeStateError(_("This initiative is no longer awaiting review: another reviewer has acted on it."))
    initiative.refresh_from_db(fields=["status"])


def initiatives_review(
    *, ids: list[int], decision: str, by: User, reason: str = "", note: str = "", duplicate_of: int | None = None
) -> ReviewOutcome:
    """The same decision for several initiatives (the admin's bulk actions), each claimed on its own."""
    if decision not in REVIEW_DECISIONS:
        raise ValueError(f"not a review decision: {decision!r}")
    reason, note = reason.strip(), note.strip()
    if decision != Initiative.Status.VALID and not reason:
        raise ValidationError({"reason": _("Give the reason the unit will see.")})
    # No one reviews what they submitted or edited (nor what lies outside their subtree).
    unit_ids = dict(reviewable(Initiative.objects.filter(pk__in=ids), by).values_list("pk", "unit_id"))
    allowed = set(unit_ids)
    own = [pk for pk in ids if pk not in allowed]
    done, skipped = [], []
    for pk in ids:
        if pk not in allowed:
            continue
        with transaction.atomic():
            claimed = Initiative.objects.filter(pk=pk, status=Initiative.Status.SUBMITTED).update(status=decision)
            if claimed != 1:
                skipped.append(pk)
                continue
            counting.mark([pk])  # valid or not changes its valid count and value
            change = StatusChange.objects.create(
                initiative_id=pk,
                from_status=Initiative.Status.SUBMITTED,
                to_status=decision,
                by=by,
                at=timezone.now(),
                reason=reason,
                note=note,
                duplicate_of_id=duplicate_of,
            )
            notify(kind=Notification.Kind.STATUS_CHANGE, object_id=change.pk, unit_id=unit_ids[pk])
            done.append(pk)
    return ReviewOutcome(done=done, skipped=skipped, own=own)
