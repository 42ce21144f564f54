from __future__ import annotations

from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from sangkien.spreadsheets import SpreadsheetError
from unions.imports import HEADER, import_units, parse_level
from unions.models import EmulationCluster, Union

pytestmark = pytest.mark.django_db

GOOD_ROWS = [
    # Children before their parents on purpose: the file order must not matter.
    ("CTVN-RD", "Công đoàn Công ty CP Bóng đèn - Phích nước Rạng Đông", "Cơ sở", "CTVN", 2600, "Khối doanh nghiệp"),
    ("THEP-TN", "Công đoàn Công ty CP Gang thép Thái Nguyên", "cơ   SỞ", "CTVN-THEP", "3.200", "Khối doanh nghiệp"),
    (
        "CTVN-THEP",
        "Công đoàn Tổng Công ty Thép Việt Nam - CTCP",
        "Công đoàn cấp trên trực tiếp cơ sở",
        "CTVN",
        16000,
        "",
    ),
    ("CTVN", "Công đoàn Công Thương Việt Nam", "Cấp tỉnh / ngành", "TLD", 180000.0, ""),
    ("TLD", "Tổng Liên đoàn Lao động Việt Nam", "Tổng Liên đoàn", "", None, ""),
]


def workbook(tmp_path: Path, rows: list[tuple], header: tuple = HEADER, name: str = "don-vi.xlsx") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def import_errors(path: Path) -> list[str]:
    with pytest.raises(SpreadsheetError) as caught:
        import_units(path)
    assert not Union.objects.exists(), "a bad file must import nothing"
    return caught.value.messages


def test_good_file_builds_the_tree_in_any_row_order(tmp_path: Path) -> None:
    result = import_units(workbook(tmp_path, GOOD_ROWS))
    assert (result.created, result.updated, result.clusters_created) == (5, 0, 1)
    gang_thep = Union.objects.get(code="THEP-TN")
    assert gang_thep.path == "TLD/CTVN/CTVN-THEP/THEP-TN/"
    assert gang_thep.level == Union.Level.GRASSROOTS
    assert gang_thep.member_count == 3200
    assert gang_thep.cluster.name == "Khối doanh nghiệp"
    assert Union.objects.get(code="CTVN").level == Union.Level.TIER2
    assert Union.objects.get(code="TLD").member_count == 0
    assert [u.code for u in Union.objects.ancestors(gang_thep)] == ["TLD", "CTVN", "CTVN-THEP"]
    assert Union.objects.search("rang dong").get().code == "CTVN-RD"


def test_reimporting_updates_in_place_and_moves_subtrees(tmp_path: Path) -> None:
    import_units(workbook(tmp_path, GOOD_ROWS))
    ids = dict(Union.objects.values_list("code", "pk"))
    changed = [
        ("HN", "Liên đoàn Lao động thành phố Hà Nội", "Cấp tỉnh/ngành", "TLD", 900000, ""),
        # Thép moves to Hà Nội; its child Gang thép is not in this file but must follow.
        ("CTVN-THEP", "Công đoàn Tổng Công ty Thép Việt Nam", "Cấp trên cơ sở", "HN", 17000, ""),
    ]
    result = import_units(workbook(tmp_path, changed, name="lan-2.xlsx"))
    assert (result.created, result.updated, result.moved) == (1, 1, 1)
    thep = Union.objects.get(code="CTVN-THEP")
    assert thep.pk == ids["CTVN-THEP"]
    assert (thep.name, thep.member_count) == ("Công đoàn Tổng Công ty Thép Việt Nam", 17000)
    assert Union.objects.get(code="THEP-TN").path == "TLD/HN/CTVN-THEP/THEP-TN/"
    assert Union.objects.count() == 6
    # The same file again changes nothing.
    again = import_units(workbook(tmp_path, changed, name="lan-3.xlsx"))
    assert (again.created, again.updated, again.moved) == (0, 0, 0)


@pytest.mark.parametrize(
    ("bad_row", "column", "expected"),
    [
        (("X1", "Đơn vị X", "Cơ sở", "KHONG-CO", 10, ""), "D", "KHONG-CO"),
        (("CTVN", "Trùng mã", "Cơ sở", "TLD", 10, ""), "A", "dòng 5"),
        (("X1", "Đơn vị X", "Phường", "CTVN", 10, ""), "C", "Phường"),
        (("X1", "Đơn vị X", "Cơ sở", "CTVN", "mười", ""), "E", "mười"),
        (("X1", "Đơn vị X", "Cơ sở", "CTVN", -5, ""), "E", "-5"),
        (("X1", "", "Cơ sở", "CTVN", 10, ""), "B", "Thiếu tên"),
        (("X 1", "Đơn vị X", "Cơ sở", "CTVN", 10, ""), "A", "X 1"),
        (("X1", "Đơn vị X", "Tổng Liên đoàn", "CTVN", 10, ""), "C", "Tổng Liên đoàn"),
        (("X1", "Đơn vị X", "Cơ sở", "CTVN", 3_000_000_000, ""), "E", "3000000000"),
        (("X1", "Đơn vị X", "Cơ sở", "CTVN", 10, "C" * 201), "F", "200"),
        (("X1", "Đơn vị X", "Cơ sở", "", 10, ""), "D", "Tổng Liên đoàn"),
        (("CTVN-THEP", "Thép", "Cơ sở", "CTVN", 10, ""), "A", "dòng 4"),
    ],
    ids=["unknown-parent", "duplicate-code", "unknown-level", "bad-number", "negative-number",
         "missing-name", "bad-code", "level-above-parent", "number-too-large", "cluster-too-long",
         "no-parent-below-the-top", "duplicate-of-a-parent"],
)  # fmt: skip
def test_a_bad_row_imports_nothing_and_names_row_and_column(
    tmp_path: Path, bad_row: tuple, column: str, expected: str
) -> None:
    errors = import_errors(workbook(tmp_path, [*GOOD_ROWS, bad_row]))
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"Dòng 7, cột {column} ("), errors[0]
    assert expected in errors[0]


def test_a_cycle_is_reported_on_every_row_in_it(tmp_path: Path) -> None:
    rows = [
        *GOOD_ROWS,
        ("A1", "Đơn vị A", "Cấp trên cơ sở", "B1", 1, ""),
        ("B1", "Đơn vị B", "Cấp trên cơ sở", "A1", 1, ""),
    ]
    errors = import_errors(workbook(tmp_path, rows))
    assert [error.split(":")[0] for error in errors] == [
        "Dòng 7, cột D (Mã đơn vị cấp trên)",
        "Dòng 8, cột D (Mã đơn vị cấp trên)",
    ]
    assert "A1 → B1 → A1" in errors[0] or "B1 → A1 → B1" in errors[0]


def test_moving_a_unit_under_its_own_descendant_is_a_cycle(tmp_path: Path) -> None:
    import_units(workbook(tmp_path, GOOD_ROWS))
    before = list(Union.objects.values_list("code", "path"))
    with pytest.raises(SpreadsheetError) as caught:
        import_units(
            workbook(tmp_path, [("CTVN", "Công đoàn Công Thương", "Cấp tỉnh/ngành", "THEP-TN", 1, "")], name="x.xlsx")
        )
    assert "Dòng 2, cột D" in caught.value.messages[0]
    assert list(Union.objects.values_list("code", "path")) == before


def test_every_bad_row_is_reported_at_once(tmp_path: Path) -> None:
    rows = [*GOOD_ROWS, ("X1", "", "Xã", "NOWHERE", "abc", ""), ("X2", "Đơn vị", "Cơ sở", "NOWHERE", 1, "")]
    errors = import_errors(workbook(tmp_path, rows))
    assert [error.split(":")[0] for error in errors] == [
        "Dòng 7, cột B (Tên đơn vị)",
        "Dòng 7, cột C (Cấp)",
        "Dòng 7, cột E (Số đoàn viên)",
        "Dòng 8, cột D (Mã đơn vị cấp trên)",
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "trống"),
        (b"Ma don vi,Ten don vi\nX,Y\n", "không phải là bảng tính"),
        (b"PK\x03\x04 not really a zip", "không phải là bảng tính"),
    ],
)
def test_a_file_that_is_not_a_workbook_gets_a_clear_message(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "don-vi.xlsx"
    path.write_bytes(content)
    assert expected in import_errors(path)[0]


def test_a_wrong_header_is_named(tmp_path: Path) -> None:
    errors = import_errors(workbook(tmp_path, GOOD_ROWS, header=("Mã", "Tên", "Cấp", "Cấp trên", "Số", "Cụm")))
    assert "Mã đơn vị | Tên đơn vị | Cấp" in errors[0], errors


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path, settings) -> None:
    settings.UNION_IMPORT_MAX_BYTES = 1000
    assert "quá lớn" in import_errors(workbook(tmp_path, GOOD_ROWS))[0]


def test_level_names_are_case_spacing_and_long_form_tolerant() -> None:
    assert parse_level("  cấp TRÊN   cơ sở ") == Union.Level.SUPERIOR
    assert parse_level("Công đoàn cấp trên trực tiếp cơ sở") == Union.Level.SUPERIOR
    assert parse_level("Cấp tỉnh/ngành") == parse_level("cap tinh - nganh") == Union.Level.TIER2
    assert parse_level("Công đoàn cơ sở") == Union.Level.GRASSROOTS
    assert parse_level("Tổng Liên đoàn Lao động Việt Nam") == Union.Level.CONFEDERATION
    assert parse_level("Công đoàn cấp tỉnh, ngành") == parse_level("LĐLĐ tỉnh") == Union.Level.TIER2
    assert parse_level("CĐ cơ sở") == Union.Level.GRASSROOTS
    assert parse_level("Phường") is None


def test_a_new_level_that_clashes_with_existing_subunits_is_refused(tmp_path: Path) -> None:
    import_units(workbook(tmp_path, GOOD_ROWS))
    # Thép's grassroots union (not in this file) stays under it: Thép cannot become grassroots.
    with pytest.raises(SpreadsheetError) as caught:
        import_units(workbook(tmp_path, [("CTVN-THEP", "Thép", "Cơ sở", "CTVN", 1, "")], name="x.xlsx"))
    assert caught.value.messages[0].startswith("Dòng 2, cột C (Cấp): ")
    assert Union.objects.get(code="CTVN-THEP").level == Union.Level.SUPERIOR


def test_children_of_a_row_with_a_bad_code_get_no_second_error(tmp_path: Path) -> None:
    rows = [*GOOD_ROWS, ("X 1", "Đơn vị X", "Cấp trên cơ sở", "CTVN", 1, ""), ("X2", "Con", "Cơ sở", "X 1", 1, "")]
    assert [error.split(":")[0] for error in import_errors(workbook(tmp_path, rows))] == ["Dòng 7, cột A (Mã đơn vị)"]


def test_command_imports_and_prints_a_summary(tmp_path: Path, capsys) -> None:
    call_command("import_units", str(workbook(tmp_path, GOOD_ROWS)))
    assert "Đã nhập 5 đơn vị mới và cập nhật 0 đơn vị (0 đơn vị chuyển cấp trên, 1 cụm thi đua mới)" in (
        capsys.readouterr().out
    )
    assert Union.objects.count() == 5
    assert EmulationCluster.objects.filter(name="Khối doanh nghiệp").exists()


def test_command_exits_non_zero_and_prints_every_error(tmp_path: Path, capsys) -> None:
    path = workbook(tmp_path, [*GOOD_ROWS, ("X1", "Đơn vị X", "Cơ sở", "KHONG-CO", 10, "")])
    with pytest.raises(CommandError):
        call_command("import_units", str(path))
    assert "Dòng 7, cột D (Mã đơn vị cấp trên)" in capsys.readouterr().err
    assert not Union.objects.exists()


def test_the_template_is_a_valid_import_file(tmp_path: Path) -> None:
    from unions.imports import template_workbook

    result = import_units(BytesIO(template_workbook()))
    assert result.created == 3
