"""More than three authors: rows are added (by the page's script, or without it by "Thêm dòng tác
giả", which shows the form again with one more row and nothing lost) and the shares' running total
is shown; the server's check of the shares stays the truth."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from initiatives.models import Initiative
from tests.factories import AuthorFactory, InitiativeFactory
from tests.forms import once_field, post_form

pytestmark = pytest.mark.django_db

FIVE_AUTHORS = [
    ("Nguyễn Văn An", "30"),
    ("Trần Thị Bình", "25"),
    ("Lê Văn Cường", "20"),
    ("Phạm Thị Dung", "15"),
    ("Hoàng Văn Em", "10"),
]


@pytest.fixture
def officer_client(client: Client, officer) -> Client:
    client.force_login(officer)
    return client


def authors_data(authors: list[tuple[str, str]], *, rows: int | None = None) -> dict[str, str]:
    data = {"authors-TOTAL_FORMS": str(rows or len(authors)), "authors-INITIAL_FORMS": "0"}
    for index, (name, share) in enumerate(authors):
        data[f"authors-{index}-full_name"] = name
        data[f"authors-{index}-share_percent"] = share
    return data


def full_form(unit, field, **changes: str) -> dict[str, str]:
    return {
        "title": "Cải tiến lò cao số 3",
        "unit": str(unit.pk),
        "field": str(field.pk),
        "kind": "technical",
        "summary": "Giảm tiêu hao than cốc.",
        "description": "Thực trạng và giải pháp.",
        "first_applied_on": "15/03/2022",
        "value_vnd": "10.000.000",
        **changes,
    }


def author_rows(page: str) -> list[int]:
    """The indexes of the author rows the page shows (the script's template row not counted)."""
    return sorted({int(n) for n in re.findall(r'name="authors-(\d+)-full_name"', page)})


def test_a_new_initiative_offers_three_author_rows_and_an_add_button(officer_client, program) -> None:
    page = officer_client.get(reverse("initiatives:create")).content.decode()
    assert author_rows(page) == [0, 1, 2]
    assert 'name="authors-TOTAL_FORMS" value="3"' in page
    assert re.search(r'<button type="submit" name="add_author"[^>]*>Thêm dòng tác giả</button>', page)
    assert re.search(r"<span[^>]*data-author-limit hidden>", page)
    assert "Tổng tỷ lệ đóng góp:" in page
    assert 'src="/static/js/authors.js"' in page


def test_five_authors_are_submitted_and_kept_in_order(officer_client, program, field, unit_tree) -> None:
    data = {**full_form(unit_tree.gang_thep, field), **authors_data(FIVE_AUTHORS), "submit": "1"}
    response = post_form(officer_client, "initiatives:create", data)
    initiative = Initiative.objects.get()
    assert response["Location"] == initiative.get_absolute_url()
    assert [(a.full_name, a.share_percent) for a in initiative.authors.all()] == [
        (name, Decimal(share)) for name, share in FIVE_AUTHORS
    ]


def test_without_javascript_add_author_row_shows_one_more_row_and_keeps_everything_typed(
    officer_client, program, field, unit_tree
) -> None:
    typed = full_form(unit_tree.gang_thep, field, is_confidential="on")
    once = once_field(officer_client, reverse("initiatives:create"))
    data = {**typed, **authors_data(FIVE_AUTHORS[:3], rows=3), "add_author": "1", **once}
    response = officer_client.post(reverse("initiatives:create"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert author_rows(page) == [0, 1, 2, 3]
    assert 'name="authors-TOTAL_FORMS" value="4"' in page
    for name, share in FIVE_AUTHORS[:3]:
        assert f'value="{name}"' in page and f'value="{share}"' in page
    assert 'value="Cải tiến lò cao số 3"' in page and "Thực trạng và giải pháp." in page
    assert 'value="10.000.000"' in page and 'value="15/03/2022"' in page
    assert re.search(r'name="is_confidential"[^>]*checked', page)
    # Nothing was saved or checked: the officer has not sent the form yet.
    assert not Initiative.objects.exists()
    assert "is-invalid" not in page and "Vui lòng sửa" not in page
    assert response.context["once"].value == once["once"]  # the same token: the form is sent once, later

    # The fourth and fifth authors, one more row each time, then "Gửi".
    data = {**typed, **authors_data(FIVE_AUTHORS[:4], rows=4), "add_author": "1", **once}
    page = officer_client.post(reverse("initiatives:create"), data).content.decode()
    assert author_rows(page) == [0, 1, 2, 3, 4]
    data = {**typed, **authors_data(FIVE_AUTHORS), "submit": "1", **once}
    response = officer_client.post(reverse("initiatives:create"), data)
    assert response.status_code == 302
    assert Initiative.objects.get().authors.count() == 5


def test_an_added_row_on_an_existing_draft_keeps_an_unticked_box_unticked(officer_client, program, unit_tree) -> None:
    draft = InitiativeFactory(program=program, unit=unit_tree.gang_thep, status=Initiative.Status.DRAFT,
                              submitted_at=None, is_confidential=True)  # fmt: skip
    AuthorFactory(initiative=draft, full_name="Nguyễn Văn An", share_percent=100)
    data = {"title": draft.title, "unit": str(unit_tree.gang_thep.pk), **authors_data([("Nguyễn Văn An", "100")]),
            "add_author": "1"}  # fmt: skip
    page = officer_client.post(reverse("initiatives:edit", args=[draft.pk]), data).content.decode()
    assert not re.search(r'name="is_confidential"[^>]*checked', page)  # unticked by the officer
    assert author_rows(page) == [0, 1]
    draft.refresh_from_db()
    assert draft.is_confidential  # and nothing saved


def test_add_author_row_stops_at_twenty_rows(officer_client, program, unit_tree) -> None:
    data = {"title": "Hai mươi tác giả", "unit": str(unit_tree.thep.pk), "add_author": "1",
            **authors_data([(f"Tác giả {n}", "5") for n in range(20)])}  # fmt: skip
    page = post_form(officer_client, "initiatives:create", data).content.decode()
    assert author_rows(page) == list(range(20))
    assert re.search(r"<button[^>]*data-add-author disabled>", page)
    assert re.search(r"<span[^>]*data-author-limit>Tối đa 20 tác giả.</span>", page)  # shown, not hidden


def test_the_server_still_refuses_shares_that_do_not_add_up_to_100(officer_client, program, field, unit_tree) -> None:
    authors = [*FIVE_AUTHORS[:4], ("Hoàng Văn Em", "5")]
    data = {**full_form(unit_tree.gang_thep, field), **authors_data(authors), "submit": "1"}
    page = post_form(officer_client, "initiatives:create", data).content.decode()
    assert "phải bằng 100%; hiện đang là 95%" in page
    assert author_rows(page) == [0, 1, 2, 3, 4]
    assert not Initiative.objects.exists()


def test_enter_in_a_field_saves_the_draft_not_add_a_row(officer_client, program) -> None:
    """Without JavaScript, Enter submits with the form's first submit button (HTML's implicit
    submission): it must be a draft save, not "Thêm dòng tác giả", which comes first on the page."""
    page = officer_client.get(reverse("initiatives:create")).content.decode()
    form = page[page.index('<form method="post" enctype="multipart/form-data"') :]
    first_submit = re.search(r'<button type="submit"[^>]*>', form).group()
    assert 'name="draft"' in first_submit
