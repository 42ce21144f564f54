"""Evidence (issue 18, item 3): a kept snapshot's dashboard and drill-downs re-render exactly as
they were, whatever was renamed, moved, reviewed, returned, added or retargeted since and whatever
pruning dropped; only leadership and the board see them."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from initiatives import counting
from initiatives.models import Field, Initiative, Phase, Program, Target
from leaderboard import dashboard as board
from leaderboard import evidence
from leaderboard.models import LeaderboardSnapshot
from leaderboard.snapshots import leaderboard_prune, leaderboard_snapshot, materialize, pin
from leaderboard.tasks import materialize_snapshot
from tests.conftest import ROLES, role_group
from tests.factories import InitiativeFactory, UserFactory
from tests.leaderboard.test_history import has_partition
from unions.models import EmulationCluster, Union
from unions.permissions import LEADERSHIP_GROUP
from unions.services import union_save

pytestmark = pytest.mark.django_db

S = Initiative.Status
REASON = "Quyết định khen thưởng số 12/QĐ-CĐCT"


def banner(when: str, reason: str = "") -> str:
    """The evidence banner as the portal's language says it ("Số liệu tính đến 02/01/2023 08:00
    (lưu làm căn cứ: …)" once the translations of /work/notes/po_history-evidence.json are in)."""
    with translation.override("vi"):
        if reason:
            text = _("Figures as of %(when)s (kept as evidence: %(reason)s)") % {"when": when, "reason": reason}
        else:
            text = _("Figures as of %(when)s") % {"when": when}
    return escape(text)


def main(page: str) -> str:
    """The page's main region as the comparison reads it. Three things legitimately differ and are
    taken out: the evidence banner (with the blank lines its include leaves around it, hence the
    strip), and in every link the `as-of/<id>/` that keeps an evidence page's links on its snapshot
    (the rest of the address, query string included, must match). Everything else must be equal:
    headings, the "as of" line and the movement since the previous snapshot, the filters, figures,
    ranks, arrows, targets, names, codes, breadcrumbs, charts and tables, the rank history."""
    region = re.search(r'<main id="main"[^>]*>(.*)</main>', page, re.S).group(1)
    region = re.sub(r"<div[^>]*data-as-of-banner.*?</div>", "", region, flags=re.S)
    return re.sub(r"as-of/\d+/", "", region).strip()


def pages(data, unit_tree) -> list[str]:
    """The pages compared: the dashboard and a tier-2 unit, plain and under a field (its grassroots
    children then counted live, or from the mirror) and an emulation cluster, a superior unit and a
    grassroots one under a field (their weekly series and fields counted live, or from the mirror)."""
    technical, management, cluster = data["technical"].pk, data["management"].pk, data["cluster_a"].pk
    dashboard = reverse("dashboard")
    unit = lambda code: reverse("dashboard_unit", args=[code])  # noqa: E731
    return [
        dashboard,
        f"{dashboard}?field={management}",
        f"{dashboard}?field={technical}&phase={data['phase2'].pk}",
        f"{dashboard}?cluster={cluster}",
        f"{dashboard}?cluster={cluster}&field={management}",
        unit("CTVN"),
        f"{unit('CTVN')}?field={management}",
        f"{unit('CTVN')}?cluster={cluster}&field={management}",
        f"{unit('CTVN-THEP')}?field={technical}",
        f"{unit('THEP-TISCO')}?field={technical}",
        unit("CTVN-RANGDONG"),
    ]


def as_of(address: str, snapshot: LeaderboardSnapshot) -> str:
    path, _, query = address.partition("?")
    return f"{path}as-of/{snapshot.pk}/" + (f"?{query}" if query else "")


def leadership(username: str, unit: Union | None) -> Client:
    user = UserFactory(username=username, unit=unit, is_staff=True)
    user.groups.add(role_group(LEADERSHIP_GROUP))
    client = Client()
    client.force_login(user)
    return client


def test_a_pinned_snapshot_renders_as_it_was_after_changes_snapshots_and_pruning(data, unit_tree, settings) -> None:
    program, now = data["program"], data["now"]
    national, province = leadership("lanhdao.tld", None), leadership("lanhdao.congthuong", unit_tree.cong_thuong)
    previous, _ = leaderboard_snapshot(program=program, at=now - dt.timedelta(hours=1))
    # Between the two: submissions that move ranks (the arrows compare S with the one before it).
    for unit, n in ((unit_tree.bia, 3), (unit_tree.gang_thep, 2), (data["dien"], 1)):
        InitiativeFactory.create_batch(
            n, program=program, unit=unit, phase=data["phase2"], field=data["management"], submitted_at=now
        )
    snapshot, _ = leaderboard_snapshot(program=program, at=now)
    assert snapshot.previous == previous
    live = {
        (who, address): main(client.get(address).content.decode())
        for who, client in (("national", national), ("province", province))
        for address in pages(data, unit_tree) + ([reverse("dashboard_unit", args=["HN"])] if who == "national" else [])
    }

    # Afterwards: renamed, recoded, moved and reclustered units, reviews, returns and resubmissions, new
    # initiatives (one of them dated before S), a changed target.
    rang_dong = Union.objects.get(pk=unit_tree.rang_dong.pk)
    rang_dong.name, rang_dong.short_name = "Công đoàn Rạng Đông (tên mới)", "Rạng Đông mới"
    union_save(unit=rang_dong)
    Union.objects.filter(pk=unit_tree.rang_dong.pk).update(cluster=data["cluster_a"])
    Union.objects.filter(pk=unit_tree.bia.pk).update(cluster=None)
    thep = Union.objects.get(pk=unit_tree.thep.pk)
    thep.code, thep.parent = "HN-THEP", Union.objects.get(pk=unit_tree.ha_noi.pk)
    union_save(unit=thep)
    reviewed = list(Initiative.objects.filter(status=S.SUBMITTED).order_by("pk").values_list("pk", flat=True)[:3])
    Initiative.objects.filter(pk=reviewed[0]).update(status=S.VALID, value_vnd=40_000_000)
    Initiative.objects.filter(pk=reviewed[1]).update(status=S.RETURNED)
    returned = Initiative.objects.filter(status=S.RETURNED).exclude(pk=reviewed[1]).first()
    Initiative.objects.filter(pk=returned.pk).update(status=S.SUBMITTED, submitted_at=now + dt.timedelta(minutes=5))
    Initiative.objects.filter(pk=reviewed[2]).update(field=data["technical"])
    counting.mark([*reviewed, returned.pk])
    InitiativeFactory.create_batch(
        4, program=program, unit=unit_tree.rang_dong, field=data["management"], submitted_at=now + dt.timedelta(hours=2)
    )
    InitiativeFactory(
        program=program, unit=unit_tree.bia, field=data["technical"], submitted_at=now - dt.timedelta(days=3)
    )
    Target.objects.filter(program=program, unit=unit_tree.cong_thuong).update(quantity=25)
    # And the programme's settings: its target and end, a phase's name and dates, a field's and a
    # cluster's names (the filters, the progress line, the charts and the targets under a phase).
    Program.objects.filter(pk=program.pk).update(
        target=program.target + 500, ends_on=program.ends_on + dt.timedelta(days=30)
    )
    phase2 = data["phase2"]
    Phase.objects.filter(pk=phase2.pk).update(
        name="Giai đoạn 2 (đổi tên)", starts_on=phase2.starts_on + dt.timedelta(days=10)
    )
    Field.objects.filter(pk=data["management"].pk).update(name="Quản lý (đổi tên)")
    EmulationCluster.objects.filter(pk=data["cluster_a"].pk).update(name="Cụm A (đổi tên)")
    board.forget_filter_choices()
    # Five more hourly snapshots, then a prune that keeps only the pinned S and the one before it
    # of that day (and the latest of the last day).
    pin(snapshot, REASON)
    later = [leaderboard_snapshot(program=program, at=now + dt.timedelta(hours=hour))[0] for hour in range(1, 6)]
    settings.LEADERBOARD_KEEP_ALL_DAYS = 1
    assert leaderboard_prune(program=program, now=now + dt.timedelta(days=1, hours=3)) == 2
    assert set(LeaderboardSnapshot.objects.values_list("pk", flat=True)) == {
        previous.pk, snapshot.pk, *(s.pk for s in later[2:])
    }  # fmt: skip
    assert not has_partition(snapshot) and not has_partition(previous)

    # A request does not rebuild them (seconds nationally, behind any snapshot under way): it
    # queues the rebuild and says so; the page reloads itself.
    waiting = national.get(as_of(reverse("dashboard"), snapshot))
    assert waiting.status_code == 202
    text = waiting.content.decode()
    assert "Đang chuẩn bị số liệu" in text and '<meta http-equiv="refresh" content="5">' in text
    assert banner("02/01/2023 08:00", REASON) in text
    assert not has_partition(snapshot)
    assert materialize_snapshot(snapshot.pk) == 2  # the snapshots queue's worker: S and its previous
    assert materialize_snapshot(snapshot.pk) == 0  # a second request's task finds them there

    started, addresses = time.perf_counter(), len(live)
    for who, client in (("national", national), ("province", province)):
        for address in [address for (whose, address) in live if whose == who]:
            page = client.get(as_of(address, snapshot))
            assert page.status_code == 200, (who, address)
            content = page.content.decode()
            assert banner("02/01/2023 08:00", REASON) in content
            assert main(content) == live[who, address], f"{who} {address}"
    seconds = time.perf_counter() - started
    print(f"\n{addresses} evidence pages (the first materializes S and its previous) in {seconds:.2f} s")
    # What the pages showed is not what the units are now.
    now_page = national.get(as_of(reverse("dashboard_unit", args=["CTVN"]), snapshot)).content.decode()
    assert "Bóng đèn - Phích nước Rạng Đông" in now_page and "tên mới" not in now_page
    assert (
        "đổi tên" not in now_page
        and "đổi tên" in national.get(reverse("dashboard_unit", args=["CTVN"])).content.decode()
    )
    assert national.get(as_of(reverse("dashboard_unit", args=["HN-THEP"]), snapshot)).status_code == 404
    assert has_partition(snapshot) and has_partition(previous)
    # Shown, they stay a day: the next snapshot cools only the others.
    leaderboard_snapshot(program=program, at=now + dt.timedelta(hours=6))
    assert has_partition(snapshot) and has_partition(previous) and not has_partition(later[2])
    # Each source the frozen pages switch now gives something else read live: the pages above would
    # have differed had they read the units or the initiatives as they are now.
    cache.clear()  # the live counts at S cached by the live renders above
    live_now, frozen = board.Snapshots(snapshot, previous), board.Snapshots(snapshot, previous, frozen=True)
    technical, management = board.Filters(field=data["technical"]), board.Filters(field=data["management"])
    in_cluster = board.Filters(field=data["management"], cluster=data["cluster_a"])

    def seen(code: str) -> Union:
        return evidence.unit(snapshot, code=code)

    def both(read) -> tuple:
        return read(live_now, lambda code: Union.objects.get(code=code)), read(frozen, seen)

    for name, read in {
        "grassroots under a field": lambda snaps, get: lines(
            board.block_rankings(snaps=snaps, scope=get("TLD"), filters=technical)[Union.Level.GRASSROOTS]
        ),
        "grassroots of a cluster under a field": lambda snaps, get: lines(
            board.block_rankings(snaps=snaps, scope=get("TLD"), filters=in_cluster)[Union.Level.GRASSROOTS]
        ),
        "children under a field": lambda snaps, get: lines(
            board.children_ranking(program=program, snaps=snaps, unit=get("CTVN"), filters=management)
        ),
        "a grassroots unit's fields": lambda snaps, get: (
            board.unit_figures(
                snaps=snaps,
                unit=get("THEP-TISCO"),
                filters=board.Filters(),
                fields=[data["technical"], data["management"]],
            ).by_field
        ),
        "the weekly series below tier 2": lambda snaps, get: board.weekly_series(
            snaps=snaps, unit=get("CTVN-THEP" if snaps.frozen else "HN-THEP"), filters=board.Filters()
        ),
    }.items():
        now_read, frozen_read = both(read)
        assert now_read != frozen_read, name


def lines(standings: list[board.Standing]) -> list[tuple]:
    return [(s.unit.code, s.unit.name, s.submitted, s.valid, s.target, s.rank, s.previous_rank) for s in standings]


def test_materialize_rebuilds_a_pinned_snapshot_and_its_previous_quickly(data, unit_tree) -> None:
    program, now = data["program"], data["now"]
    taken = [leaderboard_snapshot(program=program, at=now + dt.timedelta(hours=hour))[0] for hour in range(6)]
    for snapshot in taken:
        snapshot.refresh_from_db()
    cold = [snapshot for snapshot in taken if not snapshot.hot]
    assert len(cold) == 3 and not any(has_partition(snapshot) for snapshot in taken)
    seconds = []
    for snapshot in cold:
        started = time.perf_counter()
        assert materialize(snapshot)
        seconds.append(time.perf_counter() - started)
    print(f"\nmaterialize on the test data: {', '.join(f'{s * 1000:.0f} ms' for s in seconds)}")
    assert max(seconds) < 5


# ------------------------------------------------------------------------------------------------
# Who sees evidence


SEES_EVIDENCE = {
    "other_reviewer",
    "own_reviewer",
    "national_reviewer",
    "province_leadership",
    "national_leadership",
    "superuser",
}
# Công Thương's unit as it was: not Hà Nội's board's.
SEES_CONG_THUONG = SEES_EVIDENCE - {"other_reviewer"}


def test_only_leadership_and_the_board_see_evidence_within_their_subtree(data, unit_tree, roles) -> None:
    snapshot, _ = leaderboard_snapshot(program=data["program"], at=data["now"])
    pin(snapshot, REASON)
    addresses = {
        "dashboard": (reverse("dashboard_as_of", args=[snapshot.pk]), SEES_EVIDENCE),
        "unit": (reverse("dashboard_unit_as_of", args=["CTVN", snapshot.pk]), SEES_CONG_THUONG),
        "list": (reverse("dashboard_evidence"), SEES_EVIDENCE),
    }
    wrong = []
    for role in ROLES:
        client = Client()
        if roles[role] is not None:
            client.force_login(roles[role])
        for name, (address, allowed) in addresses.items():
            response = client.get(address)
            expected = 302 if role == "anonymous" else 200 if role in allowed else 403
            if response.status_code != expected:
                wrong.append(f"{role} {name}: {response.status_code}, expected {expected}")
            if expected == 302 and not response["Location"].startswith(reverse("login")):
                wrong.append(f"{role} {name}: redirected to {response['Location']}")
        # The live dashboard links to the list for those who may open it.
        if role != "anonymous":
            linked = "data-evidence-link" in client.get(reverse("dashboard")).content.decode()
            if linked != (role in SEES_EVIDENCE):
                wrong.append(f"{role}: the dashboard's link to the evidence shown={linked}")
    assert not wrong, "\n".join(wrong)


def test_an_unknown_snapshot_or_one_without_history_is_not_found(data, unit_tree, leader, client) -> None:
    snapshot, _ = leaderboard_snapshot(program=data["program"], at=data["now"])
    # A snapshot from before the history: nothing can show it as it was.
    old = LeaderboardSnapshot.objects.create(
        program=data["program"], taken_at=data["now"] - dt.timedelta(days=1), seq=0
    )
    client.force_login(leader)
    assert client.get(reverse("dashboard_as_of", args=[snapshot.pk + 1000])).status_code == 404
    assert client.get(reverse("dashboard_as_of", args=[old.pk])).status_code == 404
    assert client.get(reverse("dashboard_unit_as_of", args=["CTVN", old.pk])).status_code == 404
    assert client.get(reverse("dashboard_unit_as_of", args=["KHONG-CO", snapshot.pk])).status_code == 404
    assert client.get(reverse("dashboard_unit_as_of", args=["CTVN", snapshot.pk])).status_code == 200


def test_the_evidence_list_shows_the_pinned_snapshots_with_their_reasons(data, unit_tree, leader, client) -> None:
    # The midnight closing phase 1 pins itself; a decision pins another.
    phase_end, _ = leaderboard_snapshot(program=data["program"], at=timezone.make_aware(dt.datetime(2022, 6, 1, 0)))
    ordinary, _ = leaderboard_snapshot(program=data["program"], at=timezone.make_aware(dt.datetime(2022, 6, 1, 1)))
    cited, _ = leaderboard_snapshot(program=data["program"], at=timezone.make_aware(dt.datetime(2022, 6, 1, 2)))
    pin(cited, REASON)
    client.force_login(leader)
    page = client.get(reverse("dashboard_evidence")).content.decode()
    rows = re.findall(r'<tr><td><a href="([^"]+)">([^<]+)</a></td><td>([^<]*)</td></tr>', page)
    assert rows == [
        (reverse("dashboard_as_of", args=[cited.pk]), "01/06/2022 02:00", REASON),
        (reverse("dashboard_as_of", args=[phase_end.pk]), "01/06/2022 00:00", "hết Giai đoạn 1"),
    ]
    assert reverse("dashboard_as_of", args=[ordinary.pk]) not in page
    assert banner("01/06/2022 00:00", "hết Giai đoạn 1") in client.get(rows[1][0]).content.decode()
    unpinned = client.get(reverse("dashboard_as_of", args=[ordinary.pk])).content.decode()
    assert f"<strong>{banner('01/06/2022 01:00')}</strong>" in unpinned  # no reason given


def test_an_evidence_page_runs_a_fixed_number_of_queries_and_never_reuses_a_live_body(
    data, unit_tree, leader, client, django_assert_num_queries
) -> None:
    leaderboard_snapshot(program=data["program"], at=data["now"] - dt.timedelta(hours=1))
    snapshot, _ = leaderboard_snapshot(program=data["program"], at=data["now"])
    client.force_login(leader)
    # The live pages of the same snapshot first: their bodies are cached, and must not be served
    # as the evidence's (whose links stay on the snapshot).
    dashboard = reverse("dashboard_as_of", args=[snapshot.pk])
    unit_page = reverse("dashboard_unit_as_of", args=["CTVN", snapshot.pk])
    for live, frozen in ((reverse("dashboard"), dashboard), (reverse("dashboard_unit", args=["CTVN"]), unit_page)):
        assert client.get(live).status_code == 200
        link = reverse("dashboard_unit_as_of", args=["CTVN-THEP", snapshot.pk])
        assert f'href="{link}' in client.get(frozen).content.decode()
    field = data["management"].pk
    cache.clear()  # the bodies rendered above
    client.force_login(leader)
    client.get(reverse("dashboard_evidence"))  # the session, the account's groups and the programme cached
    # Both snapshots are hot (in the current rows). Cached, 5 queries: the account, the snapshot
    # with its programme and previous, whether it has history, the scope as the snapshot saw it and
    # the units above it (the programme's phases, fields and clusters are the snapshot's own).
    # Rendered, the body's own reads: the unit's rows, its weeks, each block and the previous ranks,
    # or its children as seen, their rows in both snapshots and the rank history; under a field
    # the mirror's counts. (Three fewer than when the rows were partitions and the filters' choices
    # were read live: no asking whether each snapshot's partition exists, no phases; and on the
    # first page, after the cache was cleared, no fields and clusters.)
    for address, rendered in (
        (dashboard, 10),
        (f"{dashboard}?field={field}", 11),
        (unit_page, 11),
        (f"{unit_page}?field={field}", 13),
    ):
        with django_assert_num_queries(rendered):
            assert client.get(address).status_code == 200
        with django_assert_num_queries(5):
            assert client.get(address).status_code == 200
