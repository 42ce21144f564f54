"""How the units import reads the values boards actually write (issue 16, item 3)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from sangkien.spreadsheets import SpreadsheetError
from tests.unions.test_import_units import GOOD_ROWS, workbook
from unions.imports import import_units
from unions.levels import LEVEL_NAMES, parse_level
from unions.models import EmulationCluster, Union

pytestmark = pytest.mark.django_db

TOP = [
    ("TLD", "Tổng Liên đoàn Lao động Việt Nam", "Tổng Liên đoàn", "", 0, ""),
    ("HB", "Liên đoàn Lao động tỉnh Hòa Bình", "LĐLĐ tỉnh/thành phố", "TLD", 0, ""),
]


def errors_of(path: Path) -> list[str]:
    with pytest.raises(SpreadsheetError) as caught:
        import_units(path)
    return caught.value.messages


@pytest.mark.parametrize(
    ("typed", "level"),
    [("Cấp cơ sở", "grassroots"), ("CĐCS", "grassroots"), ("cđcs", "grassroots"),
     ("LĐLĐ tỉnh/thành phố", "tier2"), ("LĐLĐ tỉnh, thành phố", "tier2"), ("Công đoàn ngành Trung ương", "tier2"),
     ("LĐLĐ huyện/quận", "superior"), ("LĐLĐ quận - huyện", "superior"), ("Công đoàn Khu công nghiệp", "superior"),
     ("CĐ KCN", "superior"), ("L\u00d0L\u00d0 huyện", "superior"), ("Phường", None)],
)  # fmt: skip
def test_unit_levels_accept_the_names_offices_use(typed: str, level: str | None) -> None:
    assert parse_level(typed) == level


def test_no_level_name_means_two_levels() -> None:
    keys: dict[str | None, str] = {}
    for level, names in LEVEL_NAMES.items():
        for name in names:
            assert keys.setdefault(parse_level(name), level) == level, name


def test_the_import_reads_office_level_names(tmp_path: Path) -> None:
    rows = [*TOP, ("HB-LS", "LĐLĐ huyện Lương Sơn", "LĐLĐ huyện/quận", "HB", 0, ""),
            ("HB-KCN", "Công đoàn các KCN tỉnh", "Công đoàn Khu công nghiệp", "HB", 0, ""),
            ("HB-LS-01", "CĐCS Trường Tiểu học", "CĐCS", "HB-LS", 30, "")]  # fmt: skip
    import_units(workbook(tmp_path, rows))
    assert dict(Union.objects.values_list("code", "level")) == {
        "TLD": "confederation", "HB": "tier2", "HB-LS": "superior", "HB-KCN": "superior", "HB-LS-01": "grassroots",
    }  # fmt: skip


def test_clusters_are_matched_by_a_folded_key_not_duplicated(tmp_path: Path) -> None:
    existing = EmulationCluster.objects.create(name="Cụm thi đua Hòa Bình – Sơn La")
    typed = [
        "Cụm thi đua Hoà Bình - Sơn La",
        unicodedata.normalize("NFD", "cụm thi đua hòa bình—sơn la"),
        "Cụm thi đua Hòa Bình, Sơn La\u00a0",
    ]
    rows = [*TOP, *[(f"CS{n}", f"Công đoàn {n}", "Cơ sở", "HB", 1, name) for n, name in enumerate(typed)]]
    rows += [
        ("CS8", "Công đoàn 8", "Cơ sở", "HB", 1, "Khối A – B"),
        ("CS9", "Công đoàn 9", "Cơ sở", "HB", 1, "khối a-b"),
    ]
    result = import_units(workbook(tmp_path, rows))
    assert result.clusters_created == 1
    assert set(Union.objects.filter(code__in=["CS0", "CS1", "CS2"]).values_list("cluster", flat=True)) == {existing.pk}
    assert Union.objects.get(code="CS8").cluster == Union.objects.get(code="CS9").cluster
    assert EmulationCluster.objects.count() == 2


def test_codes_and_names_are_stored_in_nfc_without_invisible_characters(tmp_path: Path) -> None:
    rows = [
        *TOP,
        ("\ufeffHB-01\u200b", unicodedata.normalize("NFD", "Công\u00a0đoàn  Điện lực"), "Cơ sở", "HB\u00a0", 1, ""),
    ]
    import_units(workbook(tmp_path, rows))
    unit = Union.objects.get(code="HB-01")
    assert unit.name == "Công đoàn Điện lực" and unit.parent.code == "HB"


def test_a_code_that_lost_its_leading_zeros_names_the_code_in_the_portal(tmp_path: Path) -> None:
    import_units(workbook(tmp_path, [*TOP, ("001234", "Công đoàn A", "Cơ sở", "HB", 1, "")]))
    rows = [("1234", "Công đoàn A", "Cơ sở", "HB", 2, ""), ("5678", "Công đoàn B", "Cơ sở", "HB", 2, "")]
    assert errors_of(workbook(tmp_path, rows, name="lan-2.xlsx")) == [
        "Dòng 2, cột A (Mã đơn vị): “1234” có vẻ là mã đã mất các số 0 ở đầu: có phải là “001234”? Hãy định dạng "
        "cột là Văn bản (Text) trong Excel rồi nhập lại mã."
    ]
    assert Union.objects.get(code="001234").member_count == 1


def test_a_code_that_lost_its_leading_zeros_names_the_padding_of_the_file(tmp_path: Path) -> None:
    rows = [*TOP, ("000101", "Công đoàn A", "Cấp trên cơ sở", "HB", 1, ""),
            (1234, "Công đoàn B", "Cơ sở", 101, 1, "")]  # fmt: skip
    errors = errors_of(workbook(tmp_path, rows))
    assert [error.split(":")[0] for error in errors] == [
        "Dòng 5, cột A (Mã đơn vị)",
        "Dòng 5, cột D (Mã đơn vị cấp trên)",
    ]
    assert "có phải là “001234”?" in errors[0] and "có phải là “000101”?" in errors[1]
    assert not Union.objects.exists()


def test_numeric_codes_that_are_real_stay_accepted(tmp_path: Path) -> None:
    rows = [*TOP, ("1234", "Công đoàn A", "Cấp trên cơ sở", "HB", 1, ""), (5678, "Công đoàn B", "Cơ sở", 1234, 1, "")]
    import_units(workbook(tmp_path, rows))
    assert Union.objects.get(code="5678").parent.code == "1234"
    import_units(workbook(tmp_path, rows, name="lan-2.xlsx"))  # they exist now: no hint either


def test_the_good_file_still_imports(tmp_path: Path) -> None:
    assert import_units(workbook(tmp_path, GOOD_ROWS)).created == 5
