from __future__ import annotations

from io import BytesIO

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from tests.conftest import UnitTree
from tests.factories import EmulationClusterFactory, UnionFactory, UserFactory
from unions.imports import HEADER
from unions.models import Union

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:unions_union_changelist")


@pytest.fixture
def admin_client_(unit_tree: UnitTree, client: Client) -> Client:
    client.force_login(UserFactory(username="quantri", is_staff=True, is_superuser=True))
    return client


def change_form(unit: Union, *, parent: Union, **changes: object) -> tuple[str, dict]:
    """The admin change form of `unit` as submitted with a new parent (and any other changes)."""
    data = {"code": unit.code, "name": unit.name, "level": unit.level, "parent": parent.pk,
            "member_count": unit.member_count, "is_active": "on", **changes}  # fmt: skip
    return reverse("admin:unions_union_change", args=[unit.pk]), data


def listed_codes(response) -> list[str]:
    return sorted(unit.code for unit in response.context["cl"].result_list)


def test_admin_search_finds_units_without_diacritics(admin_client_: Client) -> None:
    response = admin_client_.get(CHANGELIST, {"q": "rang dong"})
    assert listed_codes(response) == ["CTVN-RANGDONG"]
    response = admin_client_.get(CHANGELIST, {"q": "Gang thép"})
    assert listed_codes(response) == ["THEP-TISCO"]


def test_admin_subtree_view_lists_a_unit_and_its_subunits(admin_client_: Client, unit_tree: UnitTree) -> None:
    response = admin_client_.get(CHANGELIST, {"subtree": unit_tree.cong_thuong.pk})
    assert listed_codes(response) == ["CTVN", "CTVN-RANGDONG", "CTVN-THEP", "THEP-TISCO"]
    response = admin_client_.get(CHANGELIST, {"subtree": unit_tree.cong_thuong.pk, "level": "grassroots"})
    assert listed_codes(response) == ["CTVN-RANGDONG", "THEP-TISCO"]


def test_admin_autocomplete_for_parents_folds_diacritics(admin_client_: Client) -> None:
    response = admin_client_.get(
        reverse("admin:autocomplete"),
        {"term": "cong thuong", "app_label": "unions", "model_name": "union", "field_name": "parent"},
    )
    assert [item["text"] for item in response.json()["results"]] == ["Công đoàn Công Thương Việt Nam (CTVN)"]


def test_admin_changelist_runs_a_bounded_number_of_queries(
    admin_client_: Client, unit_tree: UnitTree, django_assert_max_num_queries
) -> None:
    admin_client_.get(CHANGELIST)  # warm the session and content-type caches
    with django_assert_max_num_queries(12):
        small = admin_client_.get(CHANGELIST)
    for number in range(40):
        UnionFactory(code=f"G{number:03d}", name=f"Công đoàn cơ sở {number}", parent=unit_tree.thep)
    with django_assert_max_num_queries(12):
        large = admin_client_.get(CHANGELIST)
    assert len(large.context["cl"].result_list) > len(small.context["cl"].result_list)


def test_moving_a_unit_in_the_admin_moves_its_subtree(admin_client_: Client, unit_tree: UnitTree) -> None:
    thep = unit_tree.thep
    response = admin_client_.post(*change_form(thep, parent=unit_tree.ha_noi))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Union.objects.get(code="THEP-TISCO").path == "TLD/HN/CTVN-THEP/THEP-TISCO/"


def test_the_admin_refuses_a_parent_inside_the_units_own_subtree(admin_client_: Client, unit_tree: UnitTree) -> None:
    thep = unit_tree.thep
    response = admin_client_.post(*change_form(thep, parent=unit_tree.gang_thep))
    assert response.status_code == 200
    assert "Không thể đặt một đơn vị trực thuộc chính nó" in response.content.decode()
    assert Union.objects.get(pk=thep.pk).parent_id == unit_tree.cong_thuong.pk


def test_the_import_template_is_linked_from_the_admin_and_has_the_header(admin_client_: Client) -> None:
    page = admin_client_.get(CHANGELIST).content.decode()
    url = reverse("admin:unions_union_import_template")
    assert f'href="{url}"' in page
    response = admin_client_.get(url)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(BytesIO(response.content)).active
    assert tuple(cell.value for cell in sheet[1]) == HEADER


def test_a_bad_upload_in_the_admin_lists_every_error_and_imports_nothing(admin_client_: Client) -> None:
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(("X1", "Đơn vị X", "Xã", "", 1, ""))
    buffer = BytesIO()
    book.save(buffer)
    buffer.name = "don-vi.xlsx"
    buffer.seek(0)
    response = admin_client_.post(reverse("admin:unions_union_import"), {"file": buffer})
    assert "Dòng 2, cột C (Cấp)" in response.content.decode()
    assert not Union.objects.filter(code="X1").exists()


def test_a_good_upload_in_the_admin_imports_the_units(admin_client_: Client, unit_tree: UnitTree) -> None:
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(("HN-DET", "Công đoàn Công ty Dệt Hà Nội", "Cơ sở", "HN", "1.250", "Khối dệt may"))
    buffer = BytesIO()
    book.save(buffer)
    buffer.name = "don-vi.xlsx"
    buffer.seek(0)
    response = admin_client_.post(reverse("admin:unions_union_import"), {"file": buffer}, follow=True)
    assert "Đã nhập 1 đơn vị mới và cập nhật 0 đơn vị." in response.content.decode()
    unit = Union.objects.get(code="HN-DET")
    assert (unit.path, unit.member_count, unit.cluster.name) == ("TLD/HN/HN-DET/", 1250, "Khối dệt may")


def test_leadership_reads_units_but_cannot_change_or_import(client: Client, leader, unit_tree: UnitTree) -> None:
    client.force_login(leader)
    page = client.get(CHANGELIST).content.decode()
    assert "Công đoàn Công Thương Việt Nam" in page
    assert reverse("admin:unions_union_import") not in page
    thep = unit_tree.thep
    response = client.post(*change_form(thep, parent=unit_tree.cong_thuong, name="Đổi tên"))
    assert response.status_code == 403
    assert Union.objects.get(pk=thep.pk).name != "Đổi tên"
    assert client.get(reverse("admin:unions_union_import")).status_code == 302


def test_an_officer_cannot_open_the_units_admin(client: Client, officer) -> None:
    client.force_login(officer)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_the_permission_pickers_speak_vietnamese(client: Client, unit_tree: UnitTree) -> None:
    """Django stores the default permissions' names in English ("Can add initiative")."""
    client.force_login(UserFactory(username="quantri", is_staff=True, is_superuser=True))
    group = Group.objects.create(name="Nhóm thử")
    body = client.get(f"/admin/auth/group/{group.pk}/change/").content.decode()
    assert "Sáng kiến | sáng kiến | Được thêm sáng kiến" in body
    assert "Can add initiative" not in body


CITIES_IN_ORDER = ["Cần Thơ", "Đà Nẵng", "Hà Nội", "Hải Phòng", "Huế"]
SHUFFLED = ["Huế", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Hà Nội"]


def test_the_clusters_changelist_and_filter_list_names_in_vietnamese_order(admin_client_: Client) -> None:
    for name in SHUFFLED:
        EmulationClusterFactory(name=f"Cụm {name}")
    response = admin_client_.get(reverse("admin:unions_emulationcluster_changelist"))
    assert [cluster.name for cluster in response.context["cl"].result_list] == [f"Cụm {n}" for n in CITIES_IN_ORDER]
    response = admin_client_.get(CHANGELIST)
    (cluster_filter,) = (spec for spec in response.context["cl"].filter_specs if spec.title == "cụm thi đua")
    assert [name for _pk, name in cluster_filter.lookup_choices] == [f"Cụm {n}" for n in CITIES_IN_ORDER]


def test_the_units_changelist_sorted_by_name_follows_vietnamese_order(admin_client_: Client, unit_tree) -> None:
    for number, name in enumerate(SHUFFLED):
        UnionFactory(code=f"CITY{number}", name=name, parent=unit_tree.ha_noi)
    response = admin_client_.get(CHANGELIST, {"subtree": unit_tree.ha_noi.pk, "level": "grassroots", "o": "2"})
    listed = [unit.name for unit in response.context["cl"].result_list]
    assert listed == ["Cần Thơ", unit_tree.bia.name, "Đà Nẵng", "Hà Nội", "Hải Phòng", "Huế"]  # Cần < Công < Đà
