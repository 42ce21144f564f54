"""Drop-downs of model rows read with one plain query (issue 17).

Django's ModelChoiceField reads its choices with `QuerySet.iterator()`, which on PostgreSQL opens a
server-side cursor (DECLARE … WITH HOLD, FETCH, CLOSE: three round trips and a result materialised
at the commit) for a list of a dozen fields or two phases, on every page with a filter bar. These
lists are short, so one ordinary SELECT is cheaper; the exports keep their cursors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator


class ListedModelChoiceIterator(ModelChoiceIterator):
    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        assert self.queryset is not None  # a ModelChoiceField always has one
        for obj in self.queryset:
            yield self.choice(obj)


class ListedModelChoiceField(forms.ModelChoiceField):
    iterator = ListedModelChoiceIterator
