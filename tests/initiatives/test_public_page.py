"""The public list counts what matches and links each valid initiative to its public page; a
confidential one shows there only its name, field and benefit, and nothing else is public."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from initiatives.models import Initiative
from tests.factories import AuthorFactory, FieldFactory, InitiativeFactory, PhaseFactory, ProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_one(program, field, unit_tree) -> Initiative:
    initiative = InitiativeFactory(
        program=program, unit=unit_tree.rang_dong, field=field, status=Initiative.Status.VALID,
        phase=program.phases.get(number=2), title="Đèn LED tiết kiệm điện", summary="Tóm tắt công khai",
        description="Mô tả bản chất công khai", effectiveness="Giảm 30% điện năng", value_vnd=5_000_000,
    )  # fmt: skip
    AuthorFactory(initiative=initiative, full_name="Nguyễn Văn An", share_percent=100)
    return initiative


@pytest.fixture
def confidential_one(program, unit_tree) -> Initiative:
    initiative = InitiativeFactory(
        program=program, unit=unit_tree.gang_thep, field=FieldFactory(name="Quốc phòng – an ninh"),
        status=Initiative.Status.VALID, is_confidential=True, title="Công thức luyện thép", summary="Chi tiết mật",
        description="Mô tả mật", effectiveness="Hiệu quả mật", scope="Phạm vi mật", value_vnd=9_000_000,
        first_applied_on="2022-03-15", recognition_number="QĐ-MẬT-01",
    )  # fmt: skip
    AuthorFactory(initiative=initiative, full_name="Trần Thị Bí Mật", position="Kỹ sư mật", workplace="Xưởng mật")
    return initiative


def test_the_public_list_says_how_many_initiatives_match(client: Client, program, field, unit_tree, open_one) -> None:
    InitiativeFactory.create_batch(2, program=program, unit=unit_tree.bia, status=Initiative.Status.VALID)
    InitiativeFactory(program=program, unit=unit_tree.bia, status=Initiative.Status.SUBMITTED)
    assert "3 sáng kiến" in client.get(reverse("public_list")).content.decode()
    assert "1 sáng kiến" in client.get(reverse("public_list"), {"field": field.pk}).content.decode()


def test_the_count_uses_the_thousands_separator(client: Client, program, unit_tree, settings) -> None:
    rows = [Initiative(program=program, unit=unit_tree.bia, title=f"Sáng kiến {n}", status=Initiative.Status.VALID,
                       submitted_at="2022-03-15T08:00:00+07:00") for n in range(1385)]  # fmt: skip
    Initiative.objects.bulk_create(rows)
    # Above LIST_COUNT_CAP (1.000) the count stops and says so; below, every initiative is counted.
    assert "Hơn 1.000 sáng kiến" in client.get(reverse("public_list")).content.decode()
    settings.LIST_COUNT_CAP = 2000
    assert "1.385 sáng kiến" in client.get(reverse("public_list") + "?page=1").content.decode()


def test_each_public_row_links_to_its_public_page(client: Client, open_one, confidential_one) -> None:
    page = client.get(reverse("public_list")).content.decode()
    assert f'href="/sang-kien/{open_one.pk}/"' in page
    assert f'href="/sang-kien/{confidential_one.pk}/"' in page


def test_the_public_page_of_an_initiative_shows_what_is_public(client: Client, open_one) -> None:
    response = client.get(reverse("public_detail", args=[open_one.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    for shown in ("Đèn LED tiết kiệm điện", "Kỹ thuật – sản xuất", "Rạng Đông", "Nguyễn Văn An", "Tóm tắt công khai",
                  "Mô tả bản chất công khai", "Giảm 30% điện năng", "Giai đoạn 2"):  # fmt: skip
        assert shown in page, shown
    assert "Giá trị làm lợi</dt>" in page and "5.000.000 đ" in page
    assert "(đồng)" not in page  # the unit is said once, by the value
    assert f'href="{reverse("public_list")}"' in page


def test_a_confidential_initiative_shows_only_its_name_field_and_benefit(
    client: Client, confidential_one, unit_tree
) -> None:
    page = client.get(reverse("public_detail", args=[confidential_one.pk])).content.decode()
    assert "Công thức luyện thép" in page and "Quốc phòng – an ninh" in page and "9.000.000 đ" in page
    for hidden in ("Gang thép", unit_tree.gang_thep.code, "Trần Thị Bí Mật", "Kỹ sư mật", "Xưởng mật",
                   "Chi tiết mật", "Mô tả mật", "Hiệu quả mật", "Phạm vi mật", "15/03/2022", "QĐ-MẬT-01"):  # fmt: skip
        assert hidden not in page, hidden
    assert "thông tin cần bảo mật" in page


@pytest.mark.parametrize(
    "changes",
    [
        {"status": Initiative.Status.DRAFT, "submitted_at": None},
        {"status": Initiative.Status.SUBMITTED},
        {"status": Initiative.Status.RETURNED},
        {"status": Initiative.Status.REJECTED},
        {"program": "other"},
        {"program": "inactive"},
    ],
    ids=["draft", "submitted", "returned", "rejected", "other-programme", "inactive-programme"],
)
def test_only_valid_initiatives_of_the_current_programme_have_a_public_page(
    client: Client, program, unit_tree, changes
) -> None:
    if changes.get("program") == "other":
        # An older programme, still open but not the one the public pages show.
        other = ProgramFactory(name="Chương trình cũ", starts_on="2020-01-01", ends_on="2021-12-31")
        changes = {"program": other, "status": Initiative.Status.VALID}
    elif changes.get("program") == "inactive":
        other = ProgramFactory(name="Chương trình đã đóng", is_active=False)
        changes = {"program": other, "status": Initiative.Status.VALID}
    values = {"program": program, "unit": unit_tree.bia, "title": "Không công khai", **changes}
    initiative = InitiativeFactory(**values)
    shown_on = client.get(reverse("public_list")).content.decode()
    assert "Không công khai" not in shown_on
    assert client.get(reverse("public_detail", args=[initiative.pk])).status_code == 404


def test_an_unknown_initiative_has_no_public_page(client: Client, program) -> None:
    assert client.get("/sang-kien/999999/").status_code == 404


def test_the_public_page_runs_a_fixed_number_of_queries(
    client: Client, open_one, confidential_one, django_assert_num_queries
) -> None:
    AuthorFactory.create_batch(4, initiative=open_one, share_percent=20)
    with django_assert_num_queries(5):  # programme, its phases, the initiative, its authors, its selections
        client.get(reverse("public_detail", args=[open_one.pk]))
    with django_assert_num_queries(2):  # the programme is cached; a confidential one's authors are not read
        client.get(reverse("public_detail", args=[confidential_one.pk]))
    with django_assert_num_queries(0):  # the same page again: from the cache
        client.get(reverse("public_detail", args=[open_one.pk]))


def test_the_public_list_runs_a_fixed_number_of_queries(
    client: Client, program, unit_tree, django_assert_num_queries
) -> None:
    InitiativeFactory.create_batch(3, program=program, unit=unit_tree.bia, status=Initiative.Status.VALID)
    with django_assert_num_queries(5):  # programme, its phases, one count, the field choices, the rows
        client.get(reverse("public_list"))
    InitiativeFactory.create_batch(30, program=program, unit=unit_tree.bia, status=Initiative.Status.VALID)
    with django_assert_num_queries(3):  # the programme and its phases are cached now
        page = client.get(reverse("public_list"), {"q": "cai tien"}).content.decode()
    assert "33 sáng kiến" in page


def test_an_initiative_submitted_outside_every_phase_says_so_on_its_public_page(
    client: Client, program, unit_tree
) -> None:
    initiative = InitiativeFactory(program=program, unit=unit_tree.bia, status=Initiative.Status.VALID, phase=None)
    page = client.get(reverse("public_detail", args=[initiative.pk])).content.decode()
    assert "Nộp ngoài các giai đoạn của chương trình" in page


def test_a_later_programme_replaces_the_public_pages_of_the_earlier_one(client: Client, program, unit_tree) -> None:
    initiative = InitiativeFactory(program=program, unit=unit_tree.bia, status=Initiative.Status.VALID)
    assert client.get(reverse("public_detail", args=[initiative.pk])).status_code == 200
    newer = ProgramFactory(name="Chương trình mới", starts_on="2024-01-01", ends_on="2025-12-31")
    PhaseFactory(program=newer, number=1, starts_on="2024-01-01", ends_on="2025-12-31")
    assert client.get(reverse("public_detail", args=[initiative.pk])).status_code == 404
