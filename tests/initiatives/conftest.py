from __future__ import annotations

import datetime as dt

import pytest

from initiatives.models import Field, Program
from tests.factories import FieldFactory, PhaseFactory, ProgramFactory

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def program(db: None) -> Program:
    """The open programme with its two phases, as in 2022–2023."""
    program = ProgramFactory(name="01 triệu sáng kiến", slug="01-trieu-sang-kien", target=1_000_000)
    PhaseFactory(
        program=program, number=1, name="Giai đoạn 1", starts_on=dt.date(2022, 1, 8), ends_on=dt.date(2022, 5, 31)
    )
    PhaseFactory(
        program=program, number=2, name="Giai đoạn 2", starts_on=dt.date(2022, 6, 1), ends_on=dt.date(2023, 9, 1)
    )
    return program


@pytest.fixture
def field(db: None) -> Field:
    return FieldFactory(name="Kỹ thuật – sản xuất")
