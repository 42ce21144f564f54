"""The national check for copied initiatives (issue 21, item 3): initiatives.likeness, on the
officer's submit, on the board's review page, the "trùng lặp" decision and the duplicate groups."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from initiatives import likeness
from initiatives.models import Fingerprint, Initiative, SimilarGroup, StatusChange
from initiatives.tasks import group_similar
from tests.factories import InitiativeFactory, UserFactory
from tests.forms import admin_change_data, post_form
from tests.initiatives.test_views import form_data
from unions.permissions import REVIEWERS_GROUP

from ..conftest import role_group

pytestmark = pytest.mark.django_db

TITLE = "Cải tiến hệ thống làm mát khuôn đúc phôi thép"
SUMMARY = (
    "Lắp thêm bộ trao đổi nhiệt dạng tấm và van điều tiết tự động cho mạch nước làm mát khuôn đúc, "
    "giúp nhiệt độ khuôn ổn định, giảm nứt phôi và tiết kiệm 18% lượng nước tuần hoàn mỗi năm."
)
# The same, typed without diacritics (and "đ" as "d"), as offices often do.
FOLDED_COPY = (
    "Cai tien he thong lam mat khuon duc phoi thep",
    "Lap them bo trao doi nhiet dang tam va van dieu tiet tu dong cho mach nuoc lam mat khuon duc, "
    "giup nhiet do khuon on dinh, giam nut phoi va tiet kiem 18% luong nuoc tuan hoan moi nam.",
)
NEAR_COPY = (TITLE, SUMMARY.replace("18%", "20%").replace("mỗi năm", "hằng năm"))
UNRELATED = (
    "Số hóa sổ theo dõi an toàn điện tại trạm biến áp",
    "Thay sổ giấy bằng ứng dụng trên điện thoại để ghi kết quả kiểm tra định kỳ và cảnh báo quá hạn.",
)


def submitted(unit, title: str = TITLE, summary: str = SUMMARY, **fields) -> Initiative:
    initiative = InitiativeFactory(unit=unit, title=title, summary=summary, **fields)
    likeness.remember([initiative])
    return initiative


def board_of(unit, username: str) -> object:
    user = UserFactory(username=username, unit=unit, is_staff=True)
    user.groups.add(role_group(REVIEWERS_GROUP))
    return user


def test_the_likeness_folds_diacritics_and_d() -> None:
    assert likeness.pairs(TITLE, SUMMARY) == likeness.pairs(*FOLDED_COPY)
    assert likeness.bands(likeness.pairs(TITLE, SUMMARY)) == likeness.bands(likeness.pairs(*FOLDED_COPY))
    assert 0.6 < likeness.resemblance(likeness.pairs(TITLE, SUMMARY), likeness.pairs(*NEAR_COPY)) < 0.9
    assert likeness.resemblance(likeness.pairs(TITLE, SUMMARY), likeness.pairs(*UNRELATED)) < 0.05
    assert likeness.bands(frozenset()) is None  # a text without a word has no fingerprint


def test_the_check_finds_copies_anywhere_in_the_country_with_unit_status_and_degree(
    unit_tree, officer, django_assert_num_queries
) -> None:
    original = submitted(unit_tree.bia)  # another branch (Hà Nội): the officer of Thép cannot open it
    near = submitted(unit_tree.rang_dong, *NEAR_COPY, status=Initiative.Status.VALID)
    submitted(unit_tree.bia, *UNRELATED)
    InitiativeFactory(unit=unit_tree.bia, title=TITLE, summary=SUMMARY, status=Initiative.Status.DRAFT)

    with django_assert_num_queries(2):  # the bands' candidates, then their rows with their unit
        found = likeness.similar(title=FOLDED_COPY[0], summary=FOLDED_COPY[1], viewer=officer)

    assert [(item.initiative, item.percent, item.shown) for item in found] == [
        (original, 100, True),
        (near, round(likeness.resemblance(likeness.pairs(*FOLDED_COPY), likeness.pairs(*NEAR_COPY)) * 100), True),
    ]
    assert found[0].initiative.unit.name == unit_tree.bia.name
    assert found[1].initiative.get_status_display() == "Hợp lệ"
    # The initiative being edited is not its own copy.
    assert [
        item.initiative for item in likeness.similar(title=TITLE, summary=SUMMARY, viewer=officer, exclude=original.pk)
    ] == [near]


def test_submitting_a_copy_asks_first_then_submits_and_fingerprints(
    client: Client, officer, program, field, unit_tree
) -> None:
    original = submitted(unit_tree.rang_dong, program=program, field=field)
    client.force_login(officer)
    data = form_data(unit_tree.gang_thep, field, title=NEAR_COPY[0], summary=NEAR_COPY[1])

    asked = post_form(client, "initiatives:create", data)

    assert asked.status_code == 200
    assert not Initiative.objects.exclude(pk=original.pk).exists()  # nothing written yet
    page = asked.content.decode()
    assert "Kiểm tra trùng lặp toàn quốc" in page
    assert original.title in page and unit_tree.rang_dong.name in page and "Đã gửi" in page

    confirmed = post_form(client, "initiatives:create", {**data, "confirm_duplicate": "on"})

    copy = Initiative.objects.exclude(pk=original.pk).get()
    assert confirmed.status_code == 302 and copy.status == Initiative.Status.SUBMITTED
    assert Fingerprint.objects.filter(initiative=copy, grouped=False).exists()


def test_an_unlike_initiative_is_submitted_without_a_question(
    client: Client, officer, program, field, unit_tree
) -> None:
    submitted(unit_tree.rang_dong, program=program, field=field)
    client.force_login(officer)

    response = post_form(
        client, "initiatives:create", form_data(unit_tree.gang_thep, field, title=UNRELATED[0], summary=UNRELATED[1])
    )

    assert response.status_code == 302
    assert Initiative.objects.filter(title=UNRELATED[0], status=Initiative.Status.SUBMITTED).exists()


def test_a_confidential_copy_of_another_branch_shows_neither_its_content_nor_its_unit(
    client: Client, officer, program, field, unit_tree
) -> None:
    secret = submitted(unit_tree.bia, program=program, field=field, is_confidential=True)
    client.force_login(officer)

    page = post_form(
        client, "initiatives:create", form_data(unit_tree.gang_thep, field, title=NEAR_COPY[0], summary=NEAR_COPY[1])
    ).content.decode()

    assert "sáng kiến mật của nhánh khác" in page
    assert unit_tree.bia.name not in page and "18%" not in page
    assert page.count(TITLE) == 1  # what the officer typed, in the form; never the secret's own title
    (found,) = likeness.similar(title=TITLE, summary=SUMMARY, viewer=board_of(unit_tree.ha_noi, "bhn"))
    assert (found.initiative, found.shown) == (secret, True)  # its own branch's board sees it whole


def test_the_board_sees_the_check_and_rejects_a_copy_linking_the_original(client: Client, officer, unit_tree) -> None:
    original = submitted(unit_tree.rang_dong)
    copy = submitted(unit_tree.gang_thep, *NEAR_COPY)
    reviewer = board_of(unit_tree.cong_thuong, "bancspl")
    client.force_login(reviewer)
    change = reverse("admin:initiatives_initiative_change", args=[copy.pk])

    page = client.get(change).content.decode()

    assert "Các sáng kiến giống nhất đã gửi trên toàn quốc" in page
    assert reverse("admin:initiatives_initiative_change", args=[original.pk]) in page
    assert f'name="duplicate_of" value="{original.pk}"' in page

    review = reverse("admin:initiatives_initiative_review", args=[copy.pk])
    refused = client.post(review, {"decision": "valid", "duplicate_of": original.pk}, follow=True)
    assert "Sáng kiến trùng lặp chỉ được trả lại hoặc không công nhận" in refused.content.decode()
    unrelated = submitted(unit_tree.rang_dong, *UNRELATED)  # not in the list: may not be named, nor probed
    for named in (unrelated.pk, copy.pk, 10**9, "abc"):
        refused = client.post(review, {"decision": "rejected", "duplicate_of": named, "reason": "x"}, follow=True)
        assert (
            "Hãy chọn bản gốc trong danh sách các sáng kiến giống, đã gửi trước sáng kiến này."
            in refused.content.decode()
        )
    copy.refresh_from_db()
    assert copy.status == Initiative.Status.SUBMITTED  # none of these decided anything

    client.post(review, {"decision": "rejected", "duplicate_of": original.pk, "reason": ""})

    copy.refresh_from_db()
    decision = StatusChange.objects.get(initiative=copy, to_status=Initiative.Status.REJECTED)
    assert copy.status == Initiative.Status.REJECTED
    assert decision.duplicate_of == original
    assert decision.reason == f"Trùng lặp với sáng kiến số {original.pk} đã gửi trước."

    client.force_login(officer)
    detail = client.get(copy.get_absolute_url()).content.decode()
    assert "Trùng lặp với:" in detail and original.title in detail and unit_tree.rang_dong.name in detail


def test_the_officer_of_a_copy_rejected_for_a_confidential_original_elsewhere_sees_only_its_number(
    client: Client, officer, unit_tree
) -> None:
    original = submitted(unit_tree.bia, is_confidential=True)
    copy = submitted(unit_tree.gang_thep, *NEAR_COPY)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    client.post(
        reverse("admin:initiatives_initiative_review", args=[copy.pk]),
        {"decision": "returned", "duplicate_of": original.pk, "reason": ""},
    )

    client.force_login(officer)
    detail = client.get(copy.get_absolute_url()).content.decode()

    assert f"sáng kiến mật số {original.pk} của nhánh khác" in detail
    assert unit_tree.bia.name not in detail and "18%" not in detail


# -- Duplicate groups ---------------------------------------------------------------------------

WORDS = [f"tu{number}" for number in range(60)]


def shifted(start: int) -> tuple[str, str]:
    """Forty words from `start`: texts 2 apart are 86% alike (near-copies), 4 apart 78% (not)."""
    return "Sáng kiến", " ".join(WORDS[start : start + 40])


def test_near_copies_form_groups_that_merge_and_settle(unit_tree) -> None:
    first = submitted(unit_tree.rang_dong, *shifted(0))
    first_copy = submitted(unit_tree.bia, *shifted(0))
    other = submitted(unit_tree.gang_thep, *shifted(4))
    other_copy = submitted(unit_tree.thep, *shifted(4))
    submitted(unit_tree.bia, *UNRELATED)

    assert group_similar() == 5
    groups = list(SimilarGroup.objects.order_by("pk"))
    assert [(group.first, group.size) for group in groups] == [(first, 2), (other, 2)]

    bridge = submitted(unit_tree.bia, *shifted(2))  # like both, which are not like each other
    assert group_similar() == 1

    group = SimilarGroup.objects.get()
    assert (group.first, group.size) == (first, 5)
    assert set(Initiative.objects.filter(fingerprint__group=group)) == {first, first_copy, other, other_copy, bridge}
    assert group_similar() == 0  # idempotent: nothing left to group

    bridge.title, bridge.summary = UNRELATED[0], "Một nội dung khác hẳn."
    bridge.save()
    likeness.remember([bridge])  # its text changed (the admin): it leaves the group
    group_similar()

    assert sorted(group.size for group in SimilarGroup.objects.all()) == [2, 2]


def test_the_board_lists_duplicate_groups_largest_first_within_its_subtree(client: Client, unit_tree) -> None:
    for unit in (unit_tree.rang_dong, unit_tree.gang_thep, unit_tree.thep):
        submitted(unit, *shifted(0))
    secret = submitted(unit_tree.bia, *shifted(8), is_confidential=True)
    submitted(unit_tree.ha_noi, *shifted(8))
    group_similar()
    large, small = SimilarGroup.objects.order_by("-size")

    national = UserFactory(username="board", is_staff=True)
    national.groups.add(role_group(REVIEWERS_GROUP))
    client.force_login(national)
    listing = client.get(reverse("admin:initiatives_similargroup_changelist")).content.decode()
    assert listing.index(reverse("admin:initiatives_similargroup_change", args=[large.pk])) < listing.index(
        reverse("admin:initiatives_similargroup_change", args=[small.pk])
    )
    assert f"Sáng kiến mật số {secret.pk}" in listing

    client.force_login(board_of(unit_tree.cong_thuong, "bct"))
    listing = client.get(reverse("admin:initiatives_similargroup_changelist")).content.decode()
    assert reverse("admin:initiatives_similargroup_change", args=[large.pk]) in listing
    assert reverse("admin:initiatives_similargroup_change", args=[small.pk]) not in listing
    assert client.get(reverse("admin:initiatives_similargroup_change", args=[small.pk])).status_code == 302

    members = client.get(reverse("admin:initiatives_similargroup_change", args=[large.pk])).content.decode()
    for initiative in Initiative.objects.filter(fingerprint__group=large):
        assert reverse("admin:initiatives_initiative_change", args=[initiative.pk]) in members


def test_initiatives_submitted_before_the_check_are_fingerprinted_and_grouped_by_a_command(unit_tree) -> None:
    older = [InitiativeFactory(unit=unit_tree.bia, title=TITLE, summary=SUMMARY) for _ in range(3)]
    draft = InitiativeFactory(unit=unit_tree.bia, title=TITLE, summary=SUMMARY, status=Initiative.Status.DRAFT)
    out = StringIO()

    call_command("fingerprint_initiatives", "--group", stdout=out)

    assert set(Fingerprint.objects.values_list("initiative_id", flat=True)) == {item.pk for item in older}
    assert not Fingerprint.objects.filter(initiative=draft).exists()
    assert SimilarGroup.objects.get().size == 3
    assert "3 initiatives fingerprinted, 3 grouped" in out.getvalue()

    call_command("fingerprint_initiatives", stdout=out)  # again: nothing left to do
    assert "0 initiatives fingerprinted" in out.getvalue()


def test_a_confidential_first_member_of_another_branch_stays_hidden_on_the_group_page(
    client: Client, unit_tree
) -> None:
    secret = submitted(unit_tree.bia, is_confidential=True)
    submitted(unit_tree.gang_thep, *NEAR_COPY)
    submitted(unit_tree.gang_thep)
    group_similar()
    group = SimilarGroup.objects.get()
    assert (group.first, group.size) == (secret, 3)
    client.force_login(board_of(unit_tree.cong_thuong, "bct"))

    for url in (
        reverse("admin:initiatives_similargroup_changelist"),
        reverse("admin:initiatives_similargroup_change", args=[group.pk]),
        reverse("admin:initiatives_similargroup_history", args=[group.pk]),
    ):
        page = client.get(url).content.decode()
        # Only the two copies of its own branch, on the group's page; the secret original nowhere.
        assert page.count(TITLE) == (2 if url.endswith("/change/") else 0), url
        assert (
            unit_tree.bia.name not in page
            and reverse("admin:initiatives_initiative_change", args=[secret.pk]) not in page
        )
    assert (
        f"Nhóm trùng lặp số {group.pk}"
        in client.get(reverse("admin:initiatives_similargroup_change", args=[group.pk])).content.decode()
    )


def test_a_reviewer_who_may_not_decide_still_sees_the_check(client: Client, unit_tree) -> None:
    original = submitted(unit_tree.rang_dong)
    copy = submitted(unit_tree.gang_thep, *NEAR_COPY)
    reviewer = board_of(unit_tree.cong_thuong, "bancspl")
    copy.editors.add(reviewer)  # edited it: another member of the board decides
    client.force_login(reviewer)

    page = client.get(reverse("admin:initiatives_initiative_change", args=[copy.pk])).content.decode()

    assert reverse("admin:initiatives_initiative_change", args=[original.pk]) in page
    assert 'id="similar-none"' not in page and 'name="duplicate_of"' not in page


def test_every_write_path_keeps_the_fingerprint_of_the_text_it_saves(
    client: Client, officer, program, field, unit_tree
) -> None:
    from initiatives.imports import import_initiatives
    from initiatives.services import AuthorData, initiative_save_draft
    from tests.initiatives.test_import_initiatives import good_row, workbook

    imported = import_initiatives(workbook([good_row(title=TITLE, summary=SUMMARY)]), user=officer, program=program)
    row = Initiative.objects.get(title=TITLE)
    assert imported and Fingerprint.objects.get(initiative=row).band_0 == likeness.fingerprint_fields(row)["band_0"]

    returned = submitted(unit_tree.gang_thep, *UNRELATED, program=program, field=field)
    Initiative.objects.filter(pk=returned.pk).update(status=Initiative.Status.RETURNED)
    returned.refresh_from_db()
    returned.summary = SUMMARY  # the officer rewrites it and saves a draft: the check sees the new text at once
    initiative_save_draft(initiative=returned, authors=[AuthorData(full_name="An", share_percent=100)], by=officer)
    assert [item.initiative for item in likeness.similar(title=TITLE, summary=SUMMARY, viewer=officer)][:1] == [row]
    assert Fingerprint.objects.get(initiative=returned).band_0 == likeness.fingerprint_fields(returned)["band_0"]

    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(superuser)
    url = reverse("admin:initiatives_initiative_change", args=[row.pk])
    data = admin_change_data(client, url)
    client.post(url, {**data, "title": UNRELATED[0], "summary": UNRELATED[1]})
    row.refresh_from_db()
    assert row.title == UNRELATED[0]
    assert Fingerprint.objects.get(initiative=row).band_0 == likeness.fingerprint_fields(row)["band_0"]


def test_an_unchanged_text_keeps_its_group_and_costs_one_read(unit_tree, django_assert_num_queries) -> None:
    first, copy = submitted(unit_tree.rang_dong), submitted(unit_tree.bia)
    group_similar()

    with django_assert_num_queries(1):  # the bands it has: the same, so nothing is written
        likeness.remember([copy])

    assert Fingerprint.objects.get(initiative=copy).grouped and SimilarGroup.objects.get().size == 2
    assert first.pk
