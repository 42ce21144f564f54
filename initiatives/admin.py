from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from initiatives import likeness
from initiatives.forms import VNDField
from initiatives.models import (
    Attachment,
    Author,
    Field,
    Fingerprint,
    Initiative,
    Phase,
    Program,
    QuarterTarget,
    ReviewQueue,
    SimilarGroup,
    StatusChange,
    Target,
)
from initiatives.quarter_imports import import_quarter_targets
from initiatives.quarter_imports import template_workbook as quarter_template_workbook
from initiatives.quarters import Quarter
from initiatives.services import (
    InitiativeStateError,
    initiative_record_editor,
    initiative_refresh_search_text,
    initiative_review,
    initiatives_review,
)
from sangkien.admin_labels import LabelledInlineMixin
from sangkien.admin_lists import LargeListAdminMixin
from sangkien.admin_queues import WorkQueueAdminMixin, log_changes
from sangkien.search import FoldedSearchMixin
from sangkien.spreadsheets import SPREADSHEET_ACCEPT, Layout
from sangkien.text import format_vnd, parse_id
from unions.admin import SubtreeFilter
from unions.admin_imports import SpreadsheetImportAdminMixin
from unions.admin_scoping import ProgrammeWideAdminMixin, ProgrammeWideInline, RecordAdminMixin, ScopedAdminMixin
from unions.http import account
from unions.models import Union, User
from unions.permissions import (
    in_scope,
    is_national,
    may_review,
    may_set_target,
    restrict,
    reviewable,
    sees_initiative_content,
    target_units,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django_stubs_ext import StrOrPromise


class PhaseInline(ProgrammeWideInline):
    model = Phase
    extra = 0


@admin.register(Program)
class ProgramAdmin(ProgrammeWideAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "target", "starts_on", "ends_on", "is_active")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)
    inlines = [PhaseInline]


@admin.register(Field)
class FieldAdmin(ProgrammeWideAdminMixin, admin.ModelAdmin):
    list_display = ("name", "position", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("name",)


@admin.register(Target)
class TargetAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("unit", "program", "quantity", "kind")
    list_filter = ("program", "kind")
    list_select_related = ("unit", "program")
    autocomplete_fields = ("unit",)
    search_fields = ("unit__code",)
    show_full_result_count = False

    def may_act(self, user: User | AnonymousUser, obj: Target) -> bool:
        return may_set_target(user, obj.unit)

    def unit_choices(self, user: User | AnonymousUser) -> QuerySet[Union]:
        return target_units(user)


class QuarterTargetImportForm(forms.Form):
    program = forms.ModelChoiceField(label=_("Programme"), queryset=Program.objects.order_by("-starts_on"))
    file = forms.FileField(
        label=_("Quarter targets spreadsheet (.xlsx, .xlsm, .xls or .ods)"),
        widget=forms.ClearableFileInput(attrs={"accept": SPREADSHEET_ACCEPT}),
    )


@admin.register(QuarterTarget)
class QuarterTargetAdmin(SpreadsheetImportAdminMixin, LargeListAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Chỉ tiêu quý, assigned by the level above as a unit's programme target is (the same policy);
    a quarter without one takes its share of the programme target (initiatives.quarters)."""

    list_display = ("unit", "program", "quarter_label", "quantity")
    list_filter = ("program", "year", "quarter")
    list_select_related = ("unit", "program")
    autocomplete_fields = ("unit",)
    search_fields = ("unit__code",)
    show_full_result_count = False

    def may_act(self, user: User | AnonymousUser, obj: QuarterTarget) -> bool:
        return may_set_target(user, obj.unit)

    def unit_choices(self, user: User | AnonymousUser) -> QuerySet[Union]:
        return target_units(user)

    @admin.display(description=_("quarter"), ordering="-year")
    def quarter_label(self, obj: QuarterTarget) -> str:
        return Quarter(obj.year, obj.quarter).label()

    import_form = QuarterTargetImportForm
    import_title = _("Import quarter targets from Excel")
    import_template_name = "mau-nhap-chi-tieu-quy.xlsx"

    def import_template_bytes(self) -> bytes:
        return quarter_template_workbook()

    def import_initial(self) -> dict[str, Any]:
        return {"program": Program.objects.filter(is_active=True).order_by("-starts_on").first()}

    def import_file(self, request: HttpRequest, data: dict[str, Any]) -> tuple[str, Layout | None]:
        """Each row held to the policy above (may_set_target)."""
        result = import_quarter_targets(data["file"], program=data["program"], user=account(request))
        message = _("Imported %(created)s new quarter targets, updated %(updated)s, %(unchanged)s unchanged.") % {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }
        return message, result.layout


class AuthorInline(LabelledInlineMixin, admin.TabularInline):
    model = Author
    extra = 0


class AttachmentInline(LabelledInlineMixin, admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ("original_name", "content_type", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Initiative | None = None) -> bool:
        return False  # files are checked by content on the site's form


def _named(initiative: Initiative) -> str:
    """An initiative in an admin column that any reviewer may see, whatever its unit: its title and
    number, or only its number when it is confidential."""
    if initiative.is_confidential:
        return _("Confidential initiative no. %(number)s") % {"number": initiative.pk}
    return f"{initiative.title} (#{initiative.pk})"


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    fk_name = "initiative"
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "by", "reason", "duplicate", "note")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatusChange]:
        return super().get_queryset(request).select_related("by", "duplicate_of")

    @admin.display(description=_("duplicate of"))
    def duplicate(self, change: StatusChange) -> str:
        """The original, by its number; its title only when it is not confidential (this row is
        shown to any reviewer of the copy, who may not see the original's unit)."""
        return "" if change.duplicate_of is None else _named(change.duplicate_of)

    def has_add_permission(self, request: HttpRequest, obj: Initiative | None = None) -> bool:
        return False


class UnitLevelFilter(admin.SimpleListFilter):
    title = _("level")
    parameter_name = "level"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, StrOrPromise]]:
        return list(Union.Level.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        # Only a known level filters: any other value (a typo, a NUL byte) lists nothing.
        if not self.value():
            return queryset
        return queryset.filter(unit__level=self.value()) if self.value() in Union.Level.values else queryset.none()


class PhaseListFilter(admin.RelatedFieldListFilter):
    """The phases with their programme's name (`str(phase)`), read in one query, not one each."""

    def field_choices(self, field: object, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(phase.pk, str(phase)) for phase in Phase.objects.select_related("program")]


class InitiativeSubtreeFilter(SubtreeFilter):
    """`?subtree=<unit id>`: the initiatives of a unit and everything under it."""

    def restrict(self, queryset: Any, unit: Union) -> QuerySet:
        return queryset.in_subtree(unit)


class ReviewForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason the unit will see"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=_("Required to return or reject."),
    )
    note = forms.CharField(
        label=_("Private note of the board"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text=_("Never shown to officers."),
    )


DECISION_LABELS: dict[str, Promise] = {
    Initiative.Status.VALID: _("Valid"),
    Initiative.Status.RETURNED: _("Return for completion"),
    Initiative.Status.REJECTED: _("Not valid"),
}


class InitiativeAdminForm(ModelForm):
    """The site's amount field: "125.500.000" shown and typed as Vietnamese write it. (No Meta:
    the admin builds the form for its model and fields.)"""

    value_vnd = VNDField(
        label=capfirst(Initiative._meta.get_field("value_vnd").verbose_name),
        required=False,
        help_text=_("In đồng, e.g. 10.000.000"),
    )


@admin.register(Initiative)
class InitiativeAdmin(LargeListAdminMixin, WorkQueueAdminMixin, ScopedAdminMixin, FoldedSearchMixin, admin.ModelAdmin):
    form = InitiativeAdminForm
    list_display = ("title", "unit", "field", "status", "submitted_at", "value")
    list_filter: ClassVar[tuple[Any, ...]] = (  # ReviewQueueAdmin lists other filters
        "status",
        UnitLevelFilter,
        InitiativeSubtreeFilter,
        "field",
        ("phase", PhaseListFilter),
        ("submitted_at", admin.DateFieldListFilter),
    )
    list_select_related = ("unit", "field")
    autocomplete_fields = ("unit", "field")
    raw_id_fields = ("created_by",)
    # Who wrote it is kept by the services: nobody removes themselves to review their own work.
    readonly_fields = ("status", "submitted_at", "created_by", "editors", "created_at", "updated_at")
    inlines = [AuthorInline, AttachmentInline, StatusChangeInline]
    actions = ("review_valid", "review_returned", "review_rejected")
    change_form_template = "admin/initiatives/initiative/change_form.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Initiative | None = None) -> tuple[str, ...]:
        """Only a superuser moves an initiative to another unit: a scoped board could move it out
        of its own subtree."""
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else (*fields, "unit")

    def get_fields(self, request: HttpRequest, obj: Initiative | None = None) -> list[Any]:
        """A read-only page shows the amount as money ("125.500.000 đ"), not as a bare number."""
        fields = list(super().get_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            return ["value" if name == "value_vnd" else name for name in fields]
        return fields

    @admin.display(description=capfirst(Initiative._meta.get_field("value_vnd").verbose_name), ordering="value_vnd")
    def value(self, initiative: Initiative) -> str:
        # A read-only callable's None would print as "None" (the admin shows a callable's value as is).
        return self.get_empty_value_display() if initiative.value_vnd is None else format_vnd(initiative.value_vnd)

    def save_model(self, request: HttpRequest, obj: Initiative, form: ModelForm, change: bool) -> None:
        """An edit writes only the fields the form changed, on the locked row: the status, its time
        and phase belong to the review, which another board member may decide meanwhile."""
        if not change:
            return super().save_model(request, obj, form, change)
        Initiative.objects.select_for_update().filter(pk=obj.pk).values_list("pk").first()
        columns = {field.name for field in Initiative._meta.concrete_fields} - set(
            self.get_readonly_fields(request, obj)
        )
        edited = [name for name in form.changed_data if name in columns]
        if edited:
            obj.save(update_fields=[*edited, "updated_at"])
        return None

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: list[BaseInlineFormSet], change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        initiative_refresh_search_text(initiative=form.instance)
        initiative_record_editor(initiative=form.instance, by=account(request))
        texts_changed = not change or {"title", "summary"} & set(form.changed_data)
        if texts_changed and form.instance.status != Initiative.Status.DRAFT:
            likeness.remember([form.instance])  # the national check compares the others with its new text

    def get_urls(self) -> list:
        name = f"{self.opts.app_label}_{self.opts.model_name}_review"
        return [
            path("<int:pk>/review/", self.admin_site.admin_view(self.review_view), name=name),
            *super().get_urls(),
        ]

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = context.get("original")
        if obj is not None and obj.status != Initiative.Status.DRAFT:
            # The national check for copies: the board sees what the officer was shown on submitting;
            # those submitted earlier may be named as the original of a copy.
            context["similar"] = [
                (found, in_scope(request.user, found.initiative.unit), likeness.is_earlier(found, obj))
                for found in likeness.similar_to(obj, viewer=request.user)
            ]
        if obj is not None and obj.status == Initiative.Status.SUBMITTED and self.has_change_permission(request, obj):
            if not may_review(request.user, obj):
                context["review_refused"] = _(
                    "You submitted or edited this initiative: another member of the board must review it."
                )
                return super().render_change_form(request, context, *args, **kwargs)
            context["review_form"] = ReviewForm()
            # The list the page was opened from travels with the decision, which lands on its next row.
            context["review_url"] = self._keeping_list(
                request, reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_review", args=[obj.pk])
            )
            context["decisions"] = list(DECISION_LABELS.items())
        return super().render_change_form(request, context, *args, **kwargs)

    def review_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The object page's three buttons: the same service as the bulk actions. A decision moves
        on to the next initiative of the list the page was opened from (or back to that list)."""
        # Any initiative of the account's scope: one decided meanwhile has left the queue, and the
        # reviewer is told so and moves on rather than meeting a page that no longer exists.
        initiative = get_object_or_404(InitiativeAdmin.get_queryset(self, request), pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, initiative):
            return redirect(self.change_url(request, pk))
        form = ReviewForm(request.POST)
        form.is_valid()
        decision = request.POST.get("decision", "")
        # "Trùng lặp": the original this one copies, one of those the national check lists on the page
        # as submitted earlier (checked again now: no other initiative may be named, or probed).
        chosen = request.POST.get("duplicate_of", "").strip()
        try:
            original = None
            if chosen:
                originals = {
                    found.initiative.pk: found.initiative
                    for found in likeness.similar_to(initiative, viewer=request.user)
                    if likeness.is_earlier(found, initiative)
                }
                original = originals.get(parse_id(chosen) or 0)
                if original is None:
                    raise ValidationError(
                        _("Choose the original among the alike initiatives listed, submitted before this one.")
                    )
            initiative_review(
                initiative=initiative,
                decision=decision,
                by=account(request),
                reason=form.cleaned_data.get("reason", ""),
                note=form.cleaned_data.get("note", ""),
                duplicate_of=original,
            )
        except (InitiativeStateError, ValidationError, ValueError) as error:
            self.message_user(request, "; ".join(getattr(error, "messages", [str(error)])), messages.ERROR)
            initiative.refresh_from_db(fields=["status"])
            if initiative.status == Initiative.Status.SUBMITTED:
                return redirect(self.change_url(request, pk))  # still to decide, by this reviewer or another
            return redirect(self._next_url(request, initiative))
        self.log_change(request, initiative, _("Reviewed: %(decision)s.") % {"decision": DECISION_LABELS[decision]})
        self.message_user(
            request,
            _("“%(title)s”: %(status)s.") % {"title": initiative.title, "status": initiative.get_status_display()},
            messages.SUCCESS,
        )
        return redirect(self._next_url(request, initiative))

    def _next_url(self, request: HttpRequest, initiative: Initiative) -> str:
        """The next initiative of the list still awaiting this reviewer's decision, or the list."""

        def waiting(rows: QuerySet) -> QuerySet:
            return reviewable(rows.filter(status=Initiative.Status.SUBMITTED), request.user)

        pk = self.next_in_list(request, initiative, waiting=waiting)
        return self.list_url(request) if pk is None else self.change_url(request, pk)

    def _review(self, request: HttpRequest, queryset: QuerySet, decision: str) -> HttpResponse | None:
        """Bulk decision: an intermediate page asks for the reason, then each row is claimed."""
        form = ReviewForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                outcome = initiatives_review(
                    ids=list(queryset.values_list("pk", flat=True)),
                    decision=decision,
                    by=account(request),
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                form.add_error("reason", error.message_dict.get("reason", error.messages))
            else:
                decided = Initiative.objects.filter(pk__in=outcome.done).only("pk", "title")
                message = _("Reviewed: %(decision)s.") % {"decision": DECISION_LABELS[decision]}
                log_changes(user_id=account(request).pk, objects=decided, message=message)
                self.message_user(
                    request,
                    _("%(done)s initiatives marked “%(decision)s”.")
                    % {"done": len(outcome.done), "decision": DECISION_LABELS[decision]},
                    messages.SUCCESS,
                )
                left = (
                    (
                        outcome.own,
                        _(
                            "%(count)s were submitted or edited by you and were left for another member "
                            "of the board to review."
                        ),
                    ),
                    (
                        outcome.skipped,
                        _(
                            "%(count)s were no longer awaiting review (another reviewer acted first) "
                            "and were left as they are."
                        ),
                    ),
                )
                for ids, warning in left:
                    if ids:
                        self.message_user(request, warning % {"count": len(ids)}, messages.WARNING)
                return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "list_url": request.get_full_path(),  # the list with its filters, where the action was taken
            "title": _("Review: %(decision)s") % {"decision": DECISION_LABELS[decision]},
            "form": form,
            "initiatives": queryset.select_related("unit")[:200],
            "count": queryset.count(),
            "action": request.POST.get("action"),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/initiatives/review_decision.html", context)

    @admin.action(description=_("Valid"), permissions=["change"])
    def review_valid(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._review(request, queryset, Initiative.Status.VALID)

    @admin.action(description=_("Return for completion"), permissions=["change"])
    def review_returned(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._review(request, queryset, Initiative.Status.RETURNED)

    @admin.action(description=_("Not valid"), permissions=["change"])
    def review_rejected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._review(request, queryset, Initiative.Status.REJECTED)


@admin.register(ReviewQueue)
class ReviewQueueAdmin(InitiativeAdmin):
    """Hàng chờ duyệt: submitted initiatives, oldest first."""

    list_display = ("title", "unit", "field", "submitted_at", "waiting", "value")
    list_filter = (UnitLevelFilter, InitiativeSubtreeFilter, "field", ("phase", PhaseListFilter))
    ordering = ("submitted_at", "pk")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(status=Initiative.Status.SUBMITTED)

    @admin.display(description=_("waiting"))
    def waiting(self, initiative: Initiative) -> str:
        return timesince(initiative.submitted_at) if initiative.submitted_at else "–"


@admin.register(SimilarGroup)
class SimilarGroupAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Nhóm trùng lặp, largest first: the near-copies the national check joined (likeness.GROUP_FROM).
    A province's board sees the groups with a member in its subtree; a confidential member of
    another branch shows its number and status only."""

    list_display = ("size", "original", "original_unit", "updated_at")
    list_display_links = ("original",)
    # Not the first member as a field: it would print its title, confidential or not, with a link.
    fields = readonly_fields = ("size", "updated_at")
    list_per_page = 50
    show_full_result_count = False
    ordering = ("-size", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[SimilarGroup]:
        rows = super().get_queryset(request).select_related("first__unit")
        if is_national(request.user):
            return rows
        members = restrict(Fingerprint.objects.filter(group__isnull=False), request.user, path="initiative__unit__path")
        return rows.filter(pk__in=members.values("group_id"))

    @admin.display(description=_("first submitted"))
    def original(self, group: SimilarGroup) -> str:
        return "–" if group.first is None else _named(group.first)

    @admin.display(description=_("unit"))
    def original_unit(self, group: SimilarGroup) -> str:
        first = group.first
        return "–" if first is None or first.is_confidential else first.unit.name

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        group = self.get_object(request, object_id)
        members = []
        if group is not None:
            rows = (
                Initiative.objects.filter(fingerprint__group=group)
                .select_related("unit")
                .only("pk", "title", "status", "is_confidential", "submitted_at", "unit__name", "unit__path")
                .order_by("submitted_at", "pk")[: self.MEMBERS_SHOWN]
            )
            members = [
                (row, sees_initiative_content(request.user, row), in_scope(request.user, row.unit)) for row in rows
            ]
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "members": members, "shown": self.MEMBERS_SHOWN}
        )

    MEMBERS_SHOWN = 200
