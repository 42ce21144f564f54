"""Text is stored in NFC, without invisible characters, from the admin, the site and the services
alike; the board cannot make a look-alike of a cluster or a field (issue 16, item 3)."""

from __future__ import annotations

import unicodedata

import pytest
from django.test import Client
from django.urls import reverse

from initiatives.models import Author, Field, Initiative
from questions.models import Question
from tests.factories import EmulationClusterFactory, FieldFactory, UserFactory
from tests.forms import post_form
from tests.initiatives.test_views import form_data
from unions.models import EmulationCluster, Union
from unions.services import union_create

pytestmark = pytest.mark.django_db


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.fixture
def board_client(client: Client) -> Client:
    client.force_login(UserFactory(username="quantri", is_staff=True, is_superuser=True))
    return client


def test_the_admin_stores_a_cluster_name_in_nfc_without_invisible_characters(board_client: Client) -> None:
    name = f"\ufeff{nfd('Cụm thi đua Hòa Bình')}\u00a0\u200b"
    response = board_client.post(reverse("admin:unions_emulationcluster_add"), {"name": name, "description": ""})
    assert response.status_code == 302
    assert EmulationCluster.objects.get().name == "Cụm thi đua Hòa Bình"


@pytest.mark.parametrize(
    ("url", "existing"),
    [("admin:unions_emulationcluster_add", "Cụm thi đua Hòa Bình – Sơn La"),
     ("admin:initiatives_field_add", "An toàn, vệ sinh lao động")],
)  # fmt: skip
def test_the_admin_refuses_a_look_alike_of_a_cluster_or_a_field(board_client: Client, url: str, existing: str) -> None:
    model = EmulationCluster if "cluster" in url else Field
    (EmulationClusterFactory if model is EmulationCluster else FieldFactory)(name=existing)
    look_alike = "cụm thi đua Hoà Bình - Sơn La" if model is EmulationCluster else "An toàn vệ sinh lao động"
    response = board_client.post(reverse(url), {"name": look_alike, "position": 0, "is_active": "on"})
    assert response.status_code == 200
    assert f"“{look_alike}” đã có với tên “{existing}”" in response.content.decode()
    assert model.objects.count() == 1


def test_a_cluster_can_be_saved_again_under_its_own_name(board_client: Client) -> None:
    cluster = EmulationClusterFactory(name="Khối doanh nghiệp")
    response = board_client.post(
        reverse("admin:unions_emulationcluster_change", args=[cluster.pk]),
        {"name": "Khối Doanh nghiệp", "description": ""},
    )
    assert response.status_code == 302
    cluster.refresh_from_db()
    assert cluster.name == "Khối Doanh nghiệp"


def test_the_site_stores_initiatives_and_authors_in_nfc(client: Client, officer, program, field, unit_tree) -> None:
    client.force_login(officer)
    data = form_data(
        unit_tree.gang_thep,
        field,
        title=f"\u200b{nfd('Cải tiến dây chuyền cán thép')}\u00a0",
        summary=nfd("Giảm thời gian\r\ndừng máy."),
        **{"authors-0-full_name": nfd("Nguyễn\u00a0Văn An\ufeff"), "authors-1-full_name": nfd("Trần Thị Bình")},
    )
    post_form(client, "initiatives:create", data)
    initiative = Initiative.objects.get()
    assert (initiative.title, initiative.summary) == ("Cải tiến dây chuyền cán thép", "Giảm thời gian\ndừng máy.")
    assert list(Author.objects.order_by("order").values_list("full_name", flat=True)) == [
        "Nguyễn Văn An",
        "Trần Thị Bình",
    ]
    assert Initiative.objects.search("nguyen van an").get() == initiative


def test_the_site_stores_questions_in_nfc(client: Client, officer, unit_tree) -> None:
    client.force_login(officer)
    post_form(client, "questions:create", {"subject": nfd("Hỏi về\u00a0giá trị"), "body": nfd("Tính thế nào?\r\n")})
    assert Question.objects.values_list("subject", "body").get() == ("Hỏi về giá trị", "Tính thế nào?")


def test_services_store_unit_codes_and_names_in_nfc(unit_tree) -> None:
    unit = union_create(
        code="\ufeffHN-01\u200b", name=nfd("Công đoàn  Điện lực"), level=Union.Level.GRASSROOTS, parent=unit_tree.thep
    )
    unit.refresh_from_db()
    assert (unit.code, unit.name) == ("HN-01", "Công đoàn Điện lực")
    assert unit.path == f"{unit_tree.thep.path}HN-01/"


def test_search_treats_a_latin_1_d_with_stroke_as_d(unit_tree) -> None:
    # "Ð" (U+00D0) is what Windows-1258 "Đ" becomes when a file is read as Latin-1.
    unit = union_create(code="HN-02", name="Công \u00f0oàn \u00d0iện lực", level="grassroots", parent=unit_tree.thep)
    assert list(Union.objects.search("Đoàn Điện")) == [unit]
    assert list(Union.objects.search("\u00d0iện lực")) == [unit]
