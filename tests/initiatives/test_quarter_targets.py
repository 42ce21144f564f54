"""Quarter targets (issue 19, item 1): the rule that gives every unit a target for a quarter, its
admin and its import from a sheet `Mã đơn vị | Quý | Chỉ tiêu`."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from initiatives.models import QuarterTarget
from initiatives.quarter_imports import import_quarter_targets
from initiatives.quarters import Quarter, derived_target, parse_quarter, programme_quarters
from initiatives.selectors import quarter_targets
from sangkien.spreadsheets import SpreadsheetError
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db


def sheet(*rows: tuple, header: tuple = ("Mã đơn vị", "Quý", "Chỉ tiêu")) -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    page = book.active
    page.append(["Chỉ tiêu sáng kiến theo quý năm 2022"])  # a title row, as boards' files have
    page.append(list(header))
    for row in rows:
        page.append(list(row))
    data = BytesIO()
    book.save(data)
    return SimpleUploadedFile("chi-tieu-quy.xlsx", data.getvalue())


# The programme runs from 08/01/2022 to 01/09/2023: 602 days, 83 of them in Q1/2022 and 63 in Q3/2023.


def test_a_quarter_without_its_own_target_takes_its_days_share_of_the_programme_target(program) -> None:
    quarters = programme_quarters(program)
    assert [q.label() for q in (quarters[0], quarters[-1])] == ["quý 1/2022", "quý 3/2023"] and len(quarters) == 7
    shares = [derived_target(602, program=program, quarter=q) for q in quarters]
    assert shares == [83, 91, 92, 92, 90, 91, 63] and sum(shares) == 602
    assert derived_target(602, program=program, quarter=Quarter(2023, 4)) == 0  # after the programme
    assert derived_target(1, program=program, quarter=Quarter(2022, 2)) == 0  # 91/602 of one, rounded
    assert derived_target(4, program=program, quarter=Quarter(2022, 2)) == 1  # 0.60: half up


def test_an_assigned_quarter_target_wins_over_the_share(program, unit_tree) -> None:
    TargetFactory(program=program, unit=unit_tree.thep, quantity=602)
    TargetFactory(program=program, unit=unit_tree.bia, quantity=1204)
    QuarterTarget.objects.create(program=program, unit=unit_tree.thep, year=2022, quarter=2, quantity=10)
    q2 = Quarter(2022, 2)
    assert quarter_targets(program, q2) == {unit_tree.thep.pk: 10, unit_tree.bia.pk: 182}
    assert quarter_targets(program, Quarter(2022, 3), unit_ids=[unit_tree.thep.pk]) == {unit_tree.thep.pk: 92}
    assert quarter_targets(program, q2, unit_ids=[unit_tree.gang_thep.pk]) == {}  # no target at all


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Quý 1/2023", (2023, 1)),
        ("quý IV/2022", (2022, 4)),
        ("Q2/2023", (2023, 2)),
        ("q3-2022", (2022, 3)),
        ("1/2023", (2023, 1)),
        ("01/2023", (2023, 1)),
        ("Quý I năm 2023", (2023, 1)),
        ("2023-Q1", (2023, 1)),
        ("2023 quý 2", (2023, 2)),
        ("Qúy 3/2022", (2022, 3)),
        ("5/2023", None),
        ("Quý 1", None),
        ("Quý 1/23", None),
        ("2023", None),
        ("", None),
    ],
)
def test_a_quarter_is_read_as_offices_write_it(text: str, expected: tuple[int, int] | None) -> None:
    quarter = parse_quarter(text)
    assert (quarter.year, quarter.number) == expected if expected else quarter is None


def test_the_import_creates_then_updates_and_keeps_what_the_file_does_not_name(program, unit_tree) -> None:
    result = import_quarter_targets(
        sheet(("CTVN-THEP", "Quý 1/2022", 12), ("CTVN-THEP", "Q2/2022", "1.250"), ("HN-BIA", "3/2022", 0)),
        program=program,
    )
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    result = import_quarter_targets(
        sheet(("CTVN-THEP", "quý 2/2022", 1300), ("HN-BIA", "Quý 3/2022", 0)), program=program
    )
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    kept = set(QuarterTarget.objects.values_list("unit__code", "year", "quarter", "quantity"))
    assert kept == {("CTVN-THEP", 2022, 1, 12), ("CTVN-THEP", 2022, 2, 1300), ("HN-BIA", 2022, 3, 0)}


def test_a_wrong_row_imports_nothing_and_says_what_is_wrong_in_vietnamese(program, unit_tree) -> None:
    QuarterTarget.objects.create(program=program, unit=unit_tree.thep, year=2022, quarter=1, quantity=5)
    rows = [
        ("CTVN-THEP", "Quý 1/2022", 99),  # good, but the file has errors: not written
        ("KHONG-CO", "Quý 1/2022", 3),
        ("CTVN-BIA", "Quý 5/2022", 3),
        ("HN-BIA", dt.datetime(2022, 2, 1), 3),  # "2/2022" typed, made a date by Excel
        ("HN-BIA", "Quý 4/2023", 3),  # after the programme
        ("HN-BIA", "Quý 1/2022", "mười"),
        ("HN-BIA", "Quý 2/2022", -1),
        ("HN-BIA", "Quý 3/2022", None),
        ("", "Quý 2/2022", 1),
        ("CTVN-THEP", "Q1/2022", 7),  # the same unit and quarter twice
    ]
    with pytest.raises(SpreadsheetError) as raised:
        import_quarter_targets(sheet(*rows), program=program)
    messages = "\n".join(raised.value.messages)
    for expected in (
        "Không có đơn vị nào mã “KHONG-CO”",
        "“Quý 5/2022” không phải là một quý",
        "Excel đã đổi ô này thành ngày (01/02/2022)",
        "Quý này nằm ngoài thời gian chương trình (08/01/2022 – 01/09/2023): quý 4/2023",
        "Thiếu chỉ tiêu",
        "“mười” không phải là một số nguyên",
        "“-1” không phải là một số nguyên",
        "Thiếu mã đơn vị",
        "Chỉ tiêu của CTVN-THEP cho quý 1/2022 đã có ở dòng 3",
    ):
        assert expected in messages, messages
    assert list(QuarterTarget.objects.values_list("quantity", flat=True)) == [5]


def test_a_province_board_imports_only_the_targets_of_the_units_under_it(
    client: Client, program, unit_tree, roles
) -> None:
    client.force_login(roles["own_reviewer"])  # Công Thương's board
    address = reverse("admin:initiatives_quartertarget_import")
    for row in (("HN-BIA", "Quý 1/2022", 3), ("CTVN", "Quý 1/2022", 1)):  # another province's; its own
        response = client.post(address, {"program": program.pk, "file": sheet(row)})
        assert response.status_code == 200 and response.context["errors"], row
    assert not QuarterTarget.objects.exists()
    response = client.post(address, {"program": program.pk, "file": sheet(("CTVN-THEP", "Quý 1/2022", 3))})
    assert response.status_code == 302
    assert list(QuarterTarget.objects.values_list("unit__code", "quantity")) == [("CTVN-THEP", 3)]
    template = client.get(reverse("admin:initiatives_quartertarget_import_template"))
    headers = [cell.value for cell in next(openpyxl.load_workbook(BytesIO(template.content)).active.iter_rows())]
    assert headers == ["Mã đơn vị", "Quý", "Chỉ tiêu"]


def test_a_file_with_more_rows_than_allowed_is_refused_whole(program, unit_tree, settings) -> None:
    settings.QUARTER_TARGET_IMPORT_MAX_ROWS = 2
    rows = [("CTVN-THEP", f"Quý {n}/2022", n) for n in (1, 2, 3)]
    with pytest.raises(SpreadsheetError) as raised:
        import_quarter_targets(sheet(*rows), program=program)
    assert "Tệp có hơn 2 dòng chỉ tiêu" in "\n".join(raised.value.messages)
    assert not QuarterTarget.objects.exists()


def test_the_admin_refuses_a_quarter_outside_the_programme(client: Client, program, unit_tree, roles) -> None:
    client.force_login(roles["own_reviewer"])
    data = {"program": program.pk, "unit": unit_tree.thep.pk, "year": 2021, "quarter": 4, "quantity": 3}
    response = client.post(reverse("admin:initiatives_quartertarget_add"), data)
    assert response.status_code == 200
    assert (
        "Quý này nằm ngoài thời gian chương trình (08/01/2022 – 01/09/2023): quý 4/2021." in response.content.decode()
    )
    data["year"] = 2022
    assert client.post(reverse("admin:initiatives_quartertarget_add"), data).status_code == 302
    assert list(QuarterTarget.objects.values_list("year", "quarter", "quantity")) == [(2022, 4, 3)]
