"""The text helpers every app stores and compares text with (issue 16, items 3 and 4)."""

from __future__ import annotations

import unicodedata

import pytest

from sangkien.text import clean_text, fold, fold_key, parse_vnd


def test_clean_text_stores_nfc_without_invisible_characters_or_odd_spaces() -> None:
    nfd = unicodedata.normalize("NFD", "Công đoàn Điện lực")
    assert clean_text(f"\ufeff {nfd}\u200b\u00a0\u2009 Hà\u00adNội \u2060") == "Công đoàn Điện lực HàNội"
    assert unicodedata.is_normalized("NFC", clean_text(nfd))


def test_clean_text_can_keep_line_breaks() -> None:
    text = unicodedata.normalize("NFD", "\ufeff Dòng 1\r\n  - Dòng 2\u200b\rDòng 3 \n")
    assert clean_text(text, multiline=True) == "Dòng 1\n  - Dòng 2\nDòng 3"
    assert clean_text("Dòng 1\nDòng 2") == "Dòng 1 Dòng 2"


def test_fold_reads_a_windows_1258_d_with_stroke_read_as_latin_1() -> None:
    mangled = "Đông đoàn".encode("cp1258").decode("latin-1")
    assert mangled == "\u00d0ông \u00f0oàn"
    assert fold("\u00d0ông \u00f0oàn") == fold("Đông đoàn") == "dong doan"
    assert fold("a\u200bb") == "ab"


@pytest.mark.parametrize(
    ("one", "other"),
    [("Hoà Bình", "Hòa Bình"), ("Hòa Bình", unicodedata.normalize("NFD", "Hòa Bình")),
     ("Kỹ thuật - sản xuất", "Kỹ thuật – sản xuất"),
     ("An toàn, vệ sinh lao động", "An toàn vệ sinh lao động"), ("Khối A/B.", "khối a b"), ("\u00d0ổi mới", "Đổi mới")],
)  # fmt: skip
def test_fold_key_ignores_tone_placement_normal_form_and_punctuation(one: str, other: str) -> None:
    assert fold_key(one) == fold_key(other)


@pytest.mark.parametrize(
    ("text", "amount"),
    [("10.000.000", 10_000_000), ("10,000,000", 10_000_000), ("10 000 000 đ", 10_000_000), ("10000000", 10_000_000),
     ("10.000.000,00", 10_000_000), ("10,000,000.00", 10_000_000), ("10000000,0", 10_000_000),
     ("1,5 tỷ", 1_500_000_000),
     ("1.5 tỷ", 1_500_000_000), ("2 tỉ", 2_000_000_000), ("10 triệu", 10_000_000), ("10,5 triệu đồng", 10_500_000),
     ("1 tỷ 200 triệu", 1_200_000_000), ("500 nghìn", 500_000), ("500 ngàn", 500_000), ("1.500", 1_500),
     ("1,500", 1_500), ("10\u00a0000\u00a0000 VNĐ", 10_000_000),
     # Three digits after the separator group thousands before a scale word too.
     ("1.500 triệu", 1_500_000_000), ("2.000 nghìn", 2_000_000), ("1,234 nghìn", 1_234_000)],
)  # fmt: skip
def test_parse_vnd_reads_amounts_as_they_are_written(text: str, amount: int) -> None:
    assert parse_vnd(text) == amount


@pytest.mark.parametrize(
    "text",
    ["", "-", "1,5", "1.5", "10.000.000,50", "10.000.000,000", "1.000,000.00", "1,2345 nghìn", "mười triệu", "10²",
     "10 triệu rưỡi", "-10.000", "9" * 5000],
)  # fmt: skip
def test_parse_vnd_refuses_what_is_not_whole_dong(text: str) -> None:
    assert parse_vnd(text) is None
