"""The dashboard tells the truth of its filters (issue 15, item 5): the progress box follows the
phase and field filters, the headings state the real count, and a period that ended shows its
final result. The small tree and its figures are test_leaderboard's (its docstring).

The programme runs 08/01/2022–01/09/2023 (602 days): phase 1 08/01–31/05/2022 (144 days), phase 2
01/06/2022–01/09/2023 (458 days). Công Thương's target is 10: in phase 1 it is 10 × 144/602 = 2.4,
so 2; in phase 2 10 × 458/602 = 7.6, so 8. Công Thương has 3 submitted (1 valid) in phase 1 and 5
(2 valid) in phase 2, 8 (3 valid) in all; the whole tree 10.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leaderboard import dashboard as board
from tests.factories import InitiativeFactory, UnionFactory, UserFactory
from tests.leaderboard.test_leaderboard import snap

pytestmark = pytest.mark.django_db


def text(fragment: str) -> str:
    """What a reader sees of some HTML: its words, without tags, on one line."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def progress_box(page: str) -> str:
    return text(re.search(r"<section[^>]*data-progress.*?</section>", page, re.S).group(0))


def headings(page: str) -> list[str]:
    return [text(h) for h in re.findall(r"<h2[^>]*>.*?</h2>", page, re.S)]


@pytest.fixture
def board_client(client: Client) -> Client:
    client.force_login(UserFactory(username="admin", is_superuser=True, is_staff=True))
    return client


def unit_page(client: Client, code: str, query: str = "") -> str:
    return client.get(reverse("dashboard_unit", args=[code]) + query).content.decode()


def test_without_filters_progress_is_the_whole_programme_s(board_client, data, unit_tree) -> None:
    snap(data)  # 02/01/2023: day 360 of 602
    box = progress_box(unit_page(board_client, "CTVN"))
    assert "Tiến độ so với chỉ tiêu (toàn chương trình)" in box
    assert "Đã gửi 8 sáng kiến trên chỉ tiêu 10" in box
    assert "Trong đó 3 sáng kiến đã được công nhận hợp lệ." in box
    assert "Vượt tiến độ 122 ngày" in box  # 8 of 10 is 482 days' worth of a steady pace


def test_under_a_phase_filter_progress_counts_the_phase_against_its_share_of_the_target(
    board_client,
    data,
    unit_tree,
) -> None:
    snap(data)  # 02/01/2023: phase 2's day 216 of 458
    box = progress_box(unit_page(board_client, "CTVN", f"?phase={data['phase2'].pk}"))
    assert "Tiến độ so với chỉ tiêu (Giai đoạn 2)" in box
    assert "Đã gửi 5 sáng kiến trên chỉ tiêu 8" in box
    assert "Trong đó 2 sáng kiến đã được công nhận hợp lệ." in box
    # The steady pace over the phase's own dates: 8 × 216/458 = 3.8 by now; 5 is 286 days' worth.
    assert "Nếu đều đặn theo kế hoạch, đến nay cần đạt 4." in box
    assert "Vượt tiến độ 70 ngày" in box
    assert "theo tỷ lệ số ngày của giai đoạn" in box  # what the phase's target is


def test_a_phase_that_ended_shows_its_final_result(board_client, data, unit_tree) -> None:
    snap(data)
    box = progress_box(unit_page(board_client, "CTVN", f"?phase={data['phase1'].pk}"))
    assert "Kết quả cuối cùng: 3 sáng kiến, đạt 150 % chỉ tiêu" in box
    assert "Trong đó 1 sáng kiến đã được công nhận hợp lệ." in box
    assert "tiến độ" not in box.replace("Tiến độ so với chỉ tiêu", "")  # neither ahead nor behind
    assert "đến nay cần đạt" not in box


def test_a_programme_that_ended_shows_its_final_result_not_days_behind(board_client, data, unit_tree) -> None:
    snap(data, at=timezone.make_aware(dt.datetime(2026, 11, 30, 10)))  # three years after its end
    dashboard = progress_box(board_client.get(reverse("dashboard")).content.decode())
    assert "Kết quả cuối cùng: 10 sáng kiến, đạt 0,0 % chỉ tiêu" in dashboard  # of 1.000.000: as the bar writes it
    assert "Chậm tiến độ" not in dashboard
    box = progress_box(unit_page(board_client, "CTVN"))
    assert "Kết quả cuối cùng: 8 sáng kiến, đạt 80 % chỉ tiêu" in box
    assert "Chậm tiến độ" not in box
    assert "đến nay cần đạt" not in box
    # A unit without a target: its final count, still no schedule.
    hanoi = progress_box(unit_page(board_client, "HN"))
    assert "Kết quả cuối cùng: 2 sáng kiến; đơn vị chưa được giao chỉ tiêu." in hanoi
    assert "tiến độ" not in hanoi.replace("Tiến độ so với chỉ tiêu", "")


def test_a_phase_not_started_yet_says_when_it_starts(board_client, data, unit_tree) -> None:
    snap(data, at=timezone.make_aware(dt.datetime(2022, 4, 1, 9)))
    box = progress_box(unit_page(board_client, "CTVN", f"?phase={data['phase2'].pk}"))
    assert "Đã gửi 0 sáng kiến trên chỉ tiêu 8" in box
    assert "Giai đoạn này bắt đầu ngày 01/06/2022." in box
    assert "tiến độ" not in box.replace("Tiến độ so với chỉ tiêu", "")


def test_under_a_field_filter_progress_shows_the_counts_without_a_share_of_the_target(
    board_client,
    data,
    unit_tree,
) -> None:
    snap(data)
    page = unit_page(board_client, "CTVN", f"?field={data['technical'].pk}")
    box = progress_box(page)
    # Kỹ thuật in Công Thương: Gang thép's 3 (1 valid), Rạng Đông's 2 valid.
    assert "Sáng kiến lĩnh vực Kỹ thuật (toàn chương trình)" in box
    assert "Đã gửi 5 sáng kiến, trong đó 3 sáng kiến hợp lệ" in box
    assert "Chỉ tiêu được giao cho cả chương trình, không theo lĩnh vực" in box
    assert "chỉ tiêu 10" not in box and "%" not in box and "tiến độ" not in box.replace("Tiến độ", "")
    assert 'role="progressbar"' not in re.search(r"<section[^>]*data-progress.*?</section>", page, re.S).group(0)
    both = progress_box(unit_page(board_client, "CTVN", f"?field={data['technical'].pk}&phase={data['phase1'].pk}"))
    assert "Sáng kiến lĩnh vực Kỹ thuật (Giai đoạn 1)" in both
    assert "Đã gửi 3 sáng kiến, trong đó 1 sáng kiến hợp lệ" in both


def test_the_ranking_s_target_follows_the_filters(board_client, data, unit_tree) -> None:
    snap(data)

    def ctvn_row(page: str) -> list[str]:
        row = re.search(r"<tr>(?:(?!</tr>).)*>CTVN</span>(?:(?!</tr>).)*</tr>", page, re.S).group(0)
        return [text(cell) for cell in re.findall(r"<td[^>]*>.*?</td>", row, re.S)]

    dashboard = reverse("dashboard")
    whole = ctvn_row(board_client.get(dashboard).content.decode())
    assert whole[3:] == ["8", "3", "22.000.000", "2", "10", "80,0%"]
    phase1 = board_client.get(f"{dashboard}?phase={data['phase1'].pk}").content.decode()
    assert ctvn_row(phase1)[3:] == ["3", "1", "10.000.000", "1", "2", "150,0%"]  # 2: the phase's share of 10
    assert "Chỉ tiêu giai đoạn" in phase1
    field = board_client.get(f"{dashboard}?field={data['technical'].pk}").content.decode()
    assert ctvn_row(field)[3:] == ["5", "3", "22.000.000", "2"]  # no target column under a field
    assert "% chỉ tiêu" not in field


def test_the_headings_state_the_real_number_of_units_ranked(board_client, data, unit_tree) -> None:
    snap(data)
    titles = headings(board_client.get(reverse("dashboard")).content.decode())
    assert "2 đơn vị dẫn đầu: Khối liên đoàn lao động tỉnh, thành phố và công đoàn ngành trung ương" in titles
    assert "1 đơn vị dẫn đầu: Khối công đoàn cấp trên trực tiếp cơ sở" in titles
    assert "3 đơn vị dẫn đầu: Khối công đoàn cơ sở" in titles
    assert not [title for title in titles if title.startswith("10 ")]
    for i in range(12):
        unit = UnionFactory(code=f"HN-X{i}", name=f"Công đoàn số {i}", parent=unit_tree.ha_noi)
        InitiativeFactory(program=data["program"], unit=unit, submitted_at=data["now"])
    snap(data, at=data["now"] + dt.timedelta(hours=1))
    titles = headings(board_client.get(reverse("dashboard")).content.decode())
    assert "10 đơn vị dẫn đầu: Khối công đoàn cơ sở" in titles  # 15 ranked, ten shown


def test_progress_knows_when_its_period_ended_or_has_not_started() -> None:
    start, end = dt.date(2022, 1, 1), dt.date(2022, 12, 31)

    def on(day: dt.date) -> board.Progress:
        return board.Progress(submitted=3000, target=3650, as_of=day, starts_on=start, ends_on=end)

    assert on(dt.date(2021, 12, 31)).not_started and not on(dt.date(2021, 12, 31)).ended
    assert not on(end).ended and not on(start).not_started
    assert on(dt.date(2023, 1, 1)).ended
    assert round(on(dt.date(2023, 1, 1)).share) == 82
    assert board.Progress(submitted=5, target=4, as_of=end, starts_on=start, ends_on=end).share == 125.0
