"""The admin as a work queue: after acting on a row opened from a filtered, sorted changelist, the
reviewer moves on to the row that follows it in that same list, and the action is in the admin's
history ("Hoạt động của tôi").

The list is the one the admin preserved for the change page (`_changelist_filters`): its filters,
search and ordering are applied by Django's own ChangeList, so "the same list" means exactly what
the reviewer saw. The row that follows is found by a keyset seek on the list's ordering (the rows
after this one's sort key), never by counting or paging through the list: one indexed query
whatever the queue's length.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, SuspiciousOperation
from django.db.models import F, Model, OrderBy, Q, QuerySet
from django.http import HttpRequest, QueryDict
from django.urls import reverse

if TYPE_CHECKING:
    # The mixin goes in front of a ModelAdmin, whose hooks its super() calls reach.
    from django.contrib.admin import ModelAdmin
    from django.contrib.admin.views.main import ChangeList
    from django.db.models.options import Options

    ModelAdminBase = ModelAdmin[Any]
else:
    ModelAdminBase = object


def log_changes(*, user_id: int, objects: Iterable[Model], message: str) -> None:
    """Admin history rows (CHANGE) for `objects`, against each one's concrete model: a proxy's
    page (the review queue's, the pending questions') is gone once the row leaves it, and the
    history links to the page that lasts."""
    LogEntry.objects.bulk_create(
        LogEntry(
            user_id=user_id,
            content_type=ContentType.objects.get_for_model(obj),  # concrete model, cached
            object_id=str(obj.pk),
            object_repr=str(obj)[:200],
            action_flag=CHANGE,
            change_message=message,
        )
        for obj in objects
    )


@dataclass(frozen=True)
class _Key:
    path: str
    descending: bool
    nulls_last: bool


def _expand(opts: Any, name: str, descending: bool, nulls: bool | None, depth: int = 0) -> list[_Key] | None:
    """The columns `order_by(name)` sorts on, as Django expands them: a foreign key sorts by its
    model's own ordering, or by its id. None for what a seek cannot follow (a transform, a
    reverse or many-valued relation)."""
    if depth > 4:
        return None
    parts = name.split("__")
    model_opts = opts
    field = None
    for index, part in enumerate(parts):
        try:
            field = model_opts.pk if part == "pk" else model_opts.get_field(part)
        except FieldDoesNotExist:
            return None
        if field.many_to_many or field.one_to_many or (field.is_relation and not field.concrete):
            return None
        if field.is_relation and index < len(parts) - 1:
            model_opts = field.related_model._meta
    if field is not None and field.is_relation and field.related_model._meta.ordering:
        keys: list[_Key] = []
        for item in field.related_model._meta.ordering:
            if not isinstance(item, str) or item == "?":
                return None
            sub = _expand(opts, f"{name}__{item.lstrip('-')}", descending != item.startswith("-"), nulls, depth + 1)
            if sub is None:
                return None
            keys += sub
        return keys
    # PostgreSQL's defaults: NULLs sort last going up, first going down.
    return [_Key(name, descending, (not descending) if nulls is None else nulls)]


def ordering_keys(queryset: QuerySet) -> list[_Key] | None:
    """The sort key of an ordered queryset, column by column, ending on the primary key."""
    opts = queryset.model._meta
    keys: list[_Key] = []
    for item in queryset.query.order_by or opts.ordering:
        if isinstance(item, str):
            if item == "?":
                return None
            expanded = _expand(opts, item.lstrip("-"), item.startswith("-"), None)
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            nulls = True if item.nulls_last else False if item.nulls_first else None
            # F.name: set by F() itself, missing from django-stubs.
            expanded = _expand(opts, item.expression.name, item.descending, nulls)  # type: ignore[attr-defined]
        elif isinstance(item, F):
            expanded = _expand(opts, item.name, False, None)  # type: ignore[attr-defined]
        else:
            return None
        if expanded is None:
            return None
        # A column sorted on again further on (the admin adds its ordering twice) changes nothing.
        keys += [key for key in expanded if key.path not in {known.path for known in keys}]
    if not any(key.path in ("pk", opts.pk.name) for key in keys):
        keys.append(_Key("pk", False, True))
    return keys


def after(keys: list[_Key], values: tuple) -> Q:
    """The rows sorted after the row whose key is `values`."""
    result = Q(pk__in=[])
    equal = Q()
    for key, value in zip(keys, values, strict=True):
        if value is None:
            beyond = Q(pk__in=[]) if key.nulls_last else Q(**{f"{key.path}__isnull": False})
            same = Q(**{f"{key.path}__isnull": True})
        else:
            beyond = Q(**{f"{key.path}__{'lt' if key.descending else 'gt'}": value})
            if key.nulls_last:
                beyond |= Q(**{f"{key.path}__isnull": True})
            same = Q(**{key.path: value})
        result |= equal & beyond
        equal &= same
    return result


class _RowsOnly:
    """A ChangeList that stops once its queryset is built: no count, no page."""

    def get_results(self, request: HttpRequest) -> None:
        pass


class WorkQueueAdminMixin(ModelAdminBase):
    """For a ModelAdmin whose change page ends with a decision: where to go next, and the history
    against the row's own model."""

    # Django's returns the entry it made, which its callers ignore; this one makes it with bulk_create.
    def log_change(self, request: HttpRequest, obj: Model, message: str | list) -> None:  # type: ignore[override]
        user_id = request.user.pk
        assert user_id is not None  # the admin serves signed-in accounts only
        log_changes(
            user_id=user_id,
            objects=[obj],
            message=json.dumps(message) if isinstance(message, list) else message,
        )

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        changelist = super().get_changelist(request, **kwargs)
        if getattr(request, "_rows_only", False):
            return type("RowsOnly", (_RowsOnly, changelist), {})
        return changelist

    def preserved_list(self, request: HttpRequest) -> QuerySet | None:
        """The rows of the changelist the object was opened from (its filters, search and
        ordering), as the changelist builds them; None if its query string no longer makes one."""
        filters = QueryDict(self.get_preserved_filters(request)).get("_changelist_filters", "")
        list_request = copy.copy(request)
        list_request.GET = QueryDict(filters)
        list_request._rows_only = True  # type: ignore[attr-defined]  # read back by get_changelist() above
        try:
            return self.get_changelist_instance(list_request).queryset
        except (IncorrectLookupParameters, SuspiciousOperation):
            return None

    def next_in_list(self, request: HttpRequest, obj: Model, *, waiting: Any) -> int | None:
        """The first row after `obj` in the list it was opened from that `waiting(rows)` keeps
        (still to act on, and the account may act on it)."""
        rows = self.preserved_list(request)
        if rows is None:
            return None
        keys = ordering_keys(rows)
        if keys is not None:
            values = rows.model._base_manager.filter(pk=obj.pk).values_list(*(key.path for key in keys)).first()
            rows = rows.filter(after(keys, values)) if values is not None else rows
        return waiting(rows.exclude(pk=obj.pk)).values_list("pk", flat=True).first()

    def change_url(self, request: HttpRequest, pk: int) -> str:
        """The change page of row `pk`, keeping the list it was opened from."""
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[pk])
        return self._keeping_list(request, url)

    def list_url(self, request: HttpRequest) -> str:
        """The list the object was opened from, with its filters."""
        return self._keeping_list(request, reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))

    def _keeping_list(self, request: HttpRequest, url: str) -> str:
        context: dict[str, Options[Any] | str] = {
            "preserved_filters": self.get_preserved_filters(request),
            "opts": self.opts,
        }
        return add_preserved_filters(context, url)
