from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from sangkien.text import fold
from tests.conftest import UnitTree
from tests.factories import UnionFactory, UserFactory
from unions.models import Union
from unions.permissions import can_act_in, is_leadership, is_reviewer
from unions.services import union_rebuild_paths, union_save

pytestmark = pytest.mark.django_db


def codes(queryset) -> list[str]:
    return sorted(queryset.values_list("code", flat=True))


def test_subtree_holds_the_unit_and_everything_under_it(unit_tree: UnitTree, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        found = codes(Union.objects.subtree(unit_tree.cong_thuong))
    assert found == ["CTVN", "CTVN-RANGDONG", "CTVN-THEP", "THEP-TISCO"]
    assert codes(Union.objects.descendants(unit_tree.thep)) == ["THEP-TISCO"]
    assert codes(Union.objects.subtree(unit_tree.gang_thep)) == ["THEP-TISCO"]


def test_ancestors_come_root_first_in_one_query(unit_tree: UnitTree, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        chain = [unit.code for unit in Union.objects.ancestors(unit_tree.gang_thep)]
    assert chain == ["TLD", "CTVN", "CTVN-THEP"]
    assert [u.code for u in Union.objects.ancestors(unit_tree.root, include_self=True)] == ["TLD"]


def test_a_code_that_is_a_prefix_of_another_does_not_leak_into_its_subtree(unit_tree: UnitTree) -> None:
    # "HN" is a prefix of "HN2": the path separator keeps them apart.
    UnionFactory(code="HN2", name="Đơn vị khác", level=Union.Level.TIER2, parent=unit_tree.root)
    assert codes(Union.objects.subtree(unit_tree.ha_noi)) == ["HN", "HN-BIA"]


def test_subtree_query_is_a_range_scan_on_the_path_pattern_index(unit_tree: UnitTree) -> None:
    query = Union.objects.subtree(unit_tree.cong_thuong).order_by().values("pk").query
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Django's varchar_pattern_ops index ("…_like"), used as a range condition on the prefix.
    assert re.search(r"(Index (Only )?Scan using|Bitmap Index Scan on) unions_union_path_\w+_like", plan), plan
    assert "Index Cond: (((path)::text ~>=~ 'TLD/CTVN/'::text)" in plan, plan


def test_moving_a_unit_moves_its_whole_subtree(unit_tree: UnitTree) -> None:
    thep = unit_tree.thep
    thep.parent = unit_tree.ha_noi
    union_save(unit=thep)
    gang_thep = Union.objects.get(code="THEP-TISCO")
    assert gang_thep.path == "TLD/HN/CTVN-THEP/THEP-TISCO/"
    assert gang_thep.depth == 4
    assert codes(Union.objects.subtree(unit_tree.ha_noi)) == ["CTVN-THEP", "HN", "HN-BIA", "THEP-TISCO"]
    assert union_rebuild_paths() == 0  # the UPDATE left nothing for a full rebuild to fix


def test_a_unit_cannot_move_under_its_own_subunit(unit_tree: UnitTree) -> None:
    thep = Union.objects.get(code="CTVN-THEP")
    thep.parent = unit_tree.gang_thep
    with pytest.raises(ValidationError):
        union_save(unit=thep)


def test_a_grassroots_union_cannot_have_subunits(unit_tree: UnitTree) -> None:
    with pytest.raises(ValidationError):
        UnionFactory(code="X", name="Tổ công đoàn", level=Union.Level.GRASSROOTS, parent=unit_tree.rang_dong)


def test_a_unit_with_subunits_cannot_drop_to_their_level(unit_tree: UnitTree) -> None:
    thep = Union.objects.get(code="CTVN-THEP")
    thep.level = Union.Level.GRASSROOTS  # Gang thép, a grassroots union, is under it
    with pytest.raises(ValidationError) as caught:
        union_save(unit=thep)
    assert "level" in caught.value.message_dict
    assert Union.objects.get(code="CTVN-THEP").level == Union.Level.SUPERIOR


def test_only_the_confederation_may_stand_without_a_parent(unit_tree: UnitTree) -> None:
    with pytest.raises(ValidationError) as caught:
        UnionFactory(code="ROOT2", name="Đơn vị không có cấp trên", level=Union.Level.TIER2, parent=None)
    assert "parent" in caught.value.message_dict


def test_search_text_is_folded_for_diacritic_free_search(unit_tree: UnitTree) -> None:
    assert fold("Phích nước Rạng Đông") == "phich nuoc rang dong"
    assert codes(Union.objects.search("rang dong")) == ["CTVN-RANGDONG"]
    assert codes(Union.objects.search("RẠNG ĐÔNG")) == ["CTVN-RANGDONG"]
    assert codes(Union.objects.search("ctvn-thep")) == ["CTVN-THEP"]


def test_officer_acts_only_in_its_subtree(unit_tree: UnitTree) -> None:
    officer = UserFactory(unit=unit_tree.thep)
    assert can_act_in(officer, unit_tree.thep)
    assert can_act_in(officer, unit_tree.gang_thep)
    assert not can_act_in(officer, unit_tree.cong_thuong)
    assert not can_act_in(officer, unit_tree.rang_dong)
    assert not can_act_in(UserFactory(unit=None), unit_tree.thep)


def test_role_groups_exist_from_migrations(db: None) -> None:
    from django.contrib.auth.models import Group

    from unions.permissions import LEADERSHIP_GROUP, REVIEWERS_GROUP

    # Read before any fixture could make them: the migrations alone must have.
    granted = {g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()}
    assert {"change_initiative", "change_reviewqueue", "view_union"} <= granted[REVIEWERS_GROUP]
    assert "view_initiative" in granted[LEADERSHIP_GROUP] and "change_initiative" not in granted[LEADERSHIP_GROUP]


def test_roles_are_told_apart(reviewer, leader, officer) -> None:
    assert is_reviewer(reviewer) and not is_leadership(reviewer)
    assert is_leadership(leader) and not is_reviewer(leader)
    assert not is_reviewer(officer) and not is_leadership(officer)
    assert reviewer.has_perm("initiatives.change_initiative")
    assert leader.has_perm("initiatives.view_initiative")
    assert not leader.has_perm("initiatives.change_initiative")
