"""The data migration that rewrites existing text in NFC (issue 16, item 3)."""

from __future__ import annotations

import unicodedata

import pytest
from django.db import connection

from initiatives.models import Author, Field, Initiative
from sangkien.cleaning import nfc_normalise_columns
from tests.factories import AuthorFactory, FieldFactory, InitiativeFactory

pytestmark = pytest.mark.django_db


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_only_rows_not_in_nfc_are_rewritten(program, unit_tree) -> None:
    nfc_rows = InitiativeFactory.create_batch(3, program=program, unit=unit_tree.gang_thep, title="Cải tiến lò cao")
    odd = InitiativeFactory(program=program, unit=unit_tree.gang_thep)
    Initiative.objects.filter(pk=odd.pk).update(title=nfd("Cải tiến băng tải"), summary=nfd("Giảm\r\nhao phí"))
    with connection.schema_editor() as editor:
        changed = nfc_normalise_columns(Initiative, editor, columns=("title", "summary"))
    assert changed == 1
    odd.refresh_from_db()
    assert (odd.title, odd.summary) == ("Cải tiến băng tải", "Giảm\r\nhao phí")  # NFC only: nothing else moves
    assert set(Initiative.objects.exclude(pk=odd.pk).values_list("title", flat=True)) == {nfc_rows[0].title}
    with connection.schema_editor() as editor:
        assert nfc_normalise_columns(Initiative, editor, columns=("title", "summary")) == 0  # run again: nothing


def test_a_unique_name_whose_nfc_spelling_exists_is_left_alone(program, unit_tree) -> None:
    FieldFactory(name="Hòa nhập số")
    twin = FieldFactory(name="twin")
    lone = FieldFactory(name="lone")
    Field.objects.filter(pk=twin.pk).update(name=nfd("Hòa nhập số"))
    Field.objects.filter(pk=lone.pk).update(name=nfd("Đổi mới sáng tạo"))
    with connection.schema_editor() as editor:
        assert nfc_normalise_columns(Field, editor, columns=("name",)) == 1
    assert Field.objects.get(pk=lone.pk).name == "Đổi mới sáng tạo"
    assert Field.objects.get(pk=twin.pk).name == nfd("Hòa nhập số")


def test_the_python_pass_used_on_sqlite_gives_the_same_result(program, unit_tree, monkeypatch) -> None:
    author = AuthorFactory(initiative=InitiativeFactory(program=program, unit=unit_tree.gang_thep))
    Author.objects.filter(pk=author.pk).update(full_name=nfd("Nguyễn Văn An"))
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with connection.schema_editor() as editor:
        assert nfc_normalise_columns(Author, editor, columns=("full_name", "position")) == 1
    assert Author.objects.get().full_name == "Nguyễn Văn An"
