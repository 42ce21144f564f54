from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from initiatives.models import StatusChange
from questions.models import Page
from questions.services import question_answer, question_ask
from tests.factories import InitiativeFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_public_list_shows_valid_initiatives_and_hides_confidential_details(
    client: Client, program, field, unit_tree
) -> None:
    InitiativeFactory(program=program, unit=unit_tree.rang_dong, status="valid", field=field,
                      title="Đèn LED tiết kiệm điện", summary="Tóm tắt công khai", value_vnd=5_000_000)  # fmt: skip
    InitiativeFactory(program=program, unit=unit_tree.gang_thep, status="valid", is_confidential=True,
                      title="Công thức luyện thép bí mật", summary="Chi tiết mật", value_vnd=9_000_000)  # fmt: skip
    InitiativeFactory(program=program, unit=unit_tree.gang_thep, status="submitted", title="Chưa duyệt")
    for initiative in program.initiatives.all():
        initiative.refresh_search_text([])
        initiative.save()
    page = client.get(reverse("public_list")).content.decode()
    assert "Đèn LED tiết kiệm điện" in page and "Tóm tắt công khai" in page and "5.000.000 đ" in page
    assert "Công thức luyện thép bí mật" in page and "9.000.000 đ" in page
    assert "Chi tiết mật" not in page and "Gang thép" not in page
    assert "Chưa duyệt" not in page
    searched = client.get(reverse("public_list"), {"q": "den led"}).content.decode()
    assert "Đèn LED" in searched and "bí mật" not in searched
    by_unit = client.get(reverse("public_list"), {"unit": "CTVN"}).content.decode()
    assert "Đèn LED" in by_unit and "bí mật" not in by_unit  # a unit filter never finds a confidential one
    by_field = client.get(reverse("public_list"), {"field": field.pk}).content.decode()
    assert "Đèn LED" in by_field and "bí mật" not in by_field


def test_the_guide_page_comes_from_a_migration_and_is_editable(client: Client) -> None:
    page = client.get(reverse("page", args=["huong-dan"])).content.decode()
    assert "Hướng dẫn cập nhật sáng kiến" in page and "Lưu nháp" in page
    Page.objects.filter(slug="huong-dan").update(body="<script>x</script> Nội dung mới")
    page = client.get(reverse("page", args=["huong-dan"])).content.decode()
    assert "Nội dung mới" in page and "<script>x</script>" not in page


def test_public_pages_run_a_bounded_number_of_queries(client: Client, program, unit_tree,
                                                      django_assert_max_num_queries) -> None:  # fmt: skip
    InitiativeFactory.create_batch(3, program=program, unit=unit_tree.gang_thep, status="valid")
    with django_assert_max_num_queries(5):
        client.get(reverse("public_list"))
    InitiativeFactory.create_batch(30, program=program, unit=unit_tree.gang_thep, status="valid")
    with django_assert_max_num_queries(5):
        client.get(reverse("public_list"))


def test_board_metrics_show_backlog_and_median_times(client: Client, program, unit_tree, reviewer, officer) -> None:
    now = timezone.now()
    for hours in (2, 4, 30):  # first reviews after 2 h, 4 h and 30 h: median 4 h
        initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep, status="valid",
                                       submitted_at=now - dt.timedelta(hours=hours + 1))  # fmt: skip
        StatusChange.objects.create(initiative=initiative, from_status="submitted", to_status="valid", by=reviewer,
                                    at=now - dt.timedelta(hours=1))  # fmt: skip
    InitiativeFactory.create_batch(2, program=program, unit=unit_tree.gang_thep)
    question = question_ask(unit=unit_tree.thep, by=officer, subject="Hỏi", body="?")
    question_answer(question=question, answer="Đáp", by=reviewer, is_public=False)
    client.force_login(reviewer)
    page = client.get(reverse("board_metrics")).content.decode()
    assert '<th scope="row">Đã gửi</th><td>2</td>' in page
    assert '<th scope="row">Hợp lệ</th><td>3</td>' in page
    assert "0 ngày 4 giờ" in page
    client.force_login(UserFactory(username="canbo.x", unit=unit_tree.thep))
    assert client.get(reverse("board_metrics")).status_code == 302
    # Staff without a board or leadership role sees no figures (nor the whole country's).
    client.force_login(UserFactory(username="nhanvien", is_staff=True))
    assert client.get(reverse("board_metrics")).status_code == 403


def test_a_confidential_initiative_cannot_be_traced_to_its_unit_or_authors(client: Client, program, unit_tree) -> None:
    from tests.factories import AuthorFactory

    secret = InitiativeFactory(program=program, unit=unit_tree.bia, status="valid", is_confidential=True,
                               title="Quy trình mật")  # fmt: skip
    AuthorFactory(initiative=secret, full_name="Phạm Văn Mật")
    secret.refresh_search_text(["Phạm Văn Mật"])
    secret.save()
    assert "Quy trình mật" in client.get(reverse("public_list")).content.decode()
    assert "Quy trình mật" not in client.get(reverse("public_list"), {"unit": "HN-BIA"}).content.decode()
    assert "Quy trình mật" not in client.get(reverse("public_list"), {"q": "pham van mat"}).content.decode()


def test_a_scoped_board_member_can_not_move_an_initiative_and_sees_its_own_metrics(
    client: Client, program, unit_tree
) -> None:
    from tests.conftest import role_group
    from unions.permissions import REVIEWERS_GROUP

    hanoi_board = UserFactory(username="ban.hanoi", unit=unit_tree.ha_noi, is_staff=True)
    hanoi_board.groups.add(role_group(REVIEWERS_GROUP))
    mine = InitiativeFactory(program=program, unit=unit_tree.bia)
    InitiativeFactory.create_batch(3, program=program, unit=unit_tree.gang_thep)
    client.force_login(hanoi_board)
    page = client.get(reverse("admin:initiatives_initiative_change", args=[mine.pk])).content.decode()
    assert 'name="unit"' not in page  # read-only for a scoped board
    metrics = client.get(reverse("board_metrics")).content.decode()
    assert '<th scope="row">Đã gửi</th><td>1</td>' in metrics
