"""The inputs of the admin's tabular inlines are named for assistive technology: a column header
alone labels nothing (axe: "Form elements must have labels", critical; issue 15, item 4)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import AuthorFactory, InitiativeFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_each_author_input_of_the_review_page_names_its_field_and_row(client: Client) -> None:
    initiative = InitiativeFactory()
    AuthorFactory(initiative=initiative, full_name="Nguyễn Văn An", share_percent=60)
    AuthorFactory(initiative=initiative, full_name="Trần Thị Bình", share_percent=40)
    client.force_login(UserFactory(username="quantri", is_staff=True, is_superuser=True))

    page = client.get(reverse("admin:initiatives_initiative_change", args=[initiative.pk])).content.decode()

    assert 'name="authors-1-full_name"' in page
    second_name = re.search(r'<input[^>]*name="authors-1-full_name"[^>]*>', page).group()
    assert 'aria-label="Họ và tên, tác giả 2"' in second_name
    unlabelled = [
        tag
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*name=\"authors-\d+-[^\"]+\"[^>]*>", page)
        if 'type="hidden"' not in tag and "aria-label=" not in tag
    ]
    assert unlabelled == []
    # The empty row that "Add another" copies is labelled too, without a number.
    empty_name = re.search(r'<input[^>]*name="authors-__prefix__-full_name"[^>]*>', page).group()
    assert 'aria-label="Họ và tên"' in empty_name
