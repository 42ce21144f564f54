"""The officer's page of an initiative: the value benefit says its unit once, and an initiative
submitted outside every phase of the programme says so."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from initiatives.models import Initiative
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(client: Client, officer) -> Client:
    client.force_login(officer)
    return client


def test_the_value_benefit_says_its_unit_once(officer_client, program, unit_tree) -> None:
    initiative = InitiativeFactory(program=program, unit=unit_tree.gang_thep, value_vnd=120_000_000)
    page = officer_client.get(reverse("initiatives:detail", args=[initiative.pk])).content.decode()
    assert "Giá trị làm lợi</dt>" in page and "120.000.000 đ" in page
    assert "Giá trị làm lợi (đồng)" not in page


def test_the_value_benefit_of_the_public_list_says_its_unit_once(client: Client, program, unit_tree) -> None:
    InitiativeFactory(program=program, unit=unit_tree.gang_thep, status=Initiative.Status.VALID, value_vnd=5_000_000)
    page = client.get(reverse("public_list")).content.decode()
    assert "Giá trị làm lợi: 5.000.000 đ" in page
    assert "(đồng)" not in page


def test_an_initiative_submitted_outside_every_phase_says_so(officer_client, program, unit_tree) -> None:
    outside = InitiativeFactory(program=program, unit=unit_tree.gang_thep, phase=None)
    page = officer_client.get(reverse("initiatives:detail", args=[outside.pk])).content.decode()
    assert "Nộp ngoài các giai đoạn của chương trình" in page


def test_a_draft_has_no_phase_yet_and_says_nothing_about_phases(officer_client, program, unit_tree) -> None:
    draft = InitiativeFactory(
        program=program, unit=unit_tree.gang_thep, phase=None, status=Initiative.Status.DRAFT, submitted_at=None
    )
    page = officer_client.get(reverse("initiatives:detail", args=[draft.pk])).content.decode()
    assert "Nộp ngoài các giai đoạn" not in page


def test_an_initiative_in_a_phase_names_it(officer_client, program, unit_tree) -> None:
    inside = InitiativeFactory(program=program, unit=unit_tree.gang_thep, phase=program.phases.get(number=1))
    page = officer_client.get(reverse("initiatives:detail", args=[inside.pk])).content.decode()
    assert "Giai đoạn 1" in page and "Nộp ngoài các giai đoạn" not in page
