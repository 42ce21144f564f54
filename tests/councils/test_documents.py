"""A closed round's documents (issue 20, item 4): the council's minutes and the cover submission to
the level above, as PDF and .docx in Vietnamese administrative style. Their text, read back, holds
every nominee, every member's points per criterion and total, the means and the ranking with no
glyph missing; a confidential initiative shows its title, never its unit, authors or summary; the
submission lists the selected only; each is built once, one builder at a time, in the background by
a real worker."""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import subprocess
import time
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from django.core.cache import cache
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from councils import documents, services
from councils.models import Member, Nomination, SelectionRound
from councils.tasks import build_document, enqueue_documents
from initiatives.models import Initiative
from sangkien.official_documents import FONTS, date_line
from tests.councils.council import Council, build_council, nominate, score
from tests.factories import AuthorFactory, InitiativeFactory, UnionFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET_UNIT = "Công đoàn Nhà máy Cán thép Lưu Xá"
SECRET_AUTHOR = "Lương Thị Mật"
SECRET_SUMMARY = "Hợp kim chịu nhiệt theo công thức riêng của nhà máy"
SECRET_TITLE = "Khuôn đúc chịu nhiệt thế hệ mới"
CLOSED_AT = dt.datetime(2026, 4, 5, 9, 30, tzinfo=dt.UTC)  # 16:30 in Hà Nội, the same day


def flat(text: str) -> str:
    """NFC, every run of white space one space: a cell's wrapped lines read as one."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def pdf_text(path: Path) -> str:
    return flat(" ".join(page.extract_text() for page in PdfReader(path).pages))


def docx_text(path: Path) -> str:
    """Every paragraph, in tables too (the header's, the signatures'), in document order."""
    body = docx.Document(str(path)).element.body
    return flat(" ".join(Paragraph(node, None).text for node in body.iter(qn("w:p"))))


def text_of(path: Path) -> str:
    return pdf_text(path) if path.suffix == ".pdf" else docx_text(path)


@dataclass
class Closed:
    council: Council
    round: SelectionRound
    nominations: dict[str, Nomination]  # by title
    sheets: dict[tuple[str, str], list[int]]  # (title, member) → points per criterion
    absent: str


@pytest.fixture
def closed(unit_tree, program) -> Closed:
    """Four nominations to Thép's round (quota 2): three of Gang thép, one confidential of Lưu Xá (put
    forward by Thép's officer, so that Lưu Xá is named nowhere else). A member declares a conflict
    on one before scoring; a spread calls for the reserve as third scorer; one member is absent."""
    council = build_council(unit_tree, program, initiatives=3, quota=2)
    Initiative.objects.filter(pk=council.initiatives[0].pk).update(
        summary="Giảm 12% lượng than cốc mỗi mẻ luyện", value_vnd=1_250_000_000
    )
    luu_xa = UnionFactory(code="THEP-LUUXA", name=SECRET_UNIT, parent=unit_tree.thep)
    secret = InitiativeFactory(
        program=program,
        unit=luu_xa,
        title=SECRET_TITLE,
        status=Initiative.Status.VALID,
        is_confidential=True,
        summary=SECRET_SUMMARY,
        value_vnd=350_000_000,
    )
    AuthorFactory(initiative=secret, full_name=SECRET_AUTHOR, workplace="Xưởng đúc", share_percent=Decimal(100))
    absentee = UserFactory(username="vangmat", last_name="Ngô", first_name="Văn Vắng", unit=unit_tree.thep)
    services.member_appoint(
        user=council.secretary_officer, selection_round=council.round, account=absentee, role=Member.Role.MEMBER
    )
    nominations = {i.title: nominate(council, i) for i in council.initiatives}
    nominations[SECRET_TITLE] = nominate(council, secret, council.secretary_officer)
    services.round_start_scoring(user=council.secretary, selection_round=council.round)
    services.member_mark_absent(
        user=council.chair, selection_round=council.round, member_id=council.member_of(absentee).pk
    )
    chair, secretary, member, reserve = council.chair, council.secretary, council.member, council.reserve
    # Vũ Văn Viên declares a conflict on Lò cao before scoring: it does not score it.
    services.conflict_declare(
        user=member,
        nomination=nominations["Lò cao tiết kiệm than"],
        member_id=council.member_of(member).pk,
        reason="Từng hướng dẫn nhóm tác giả",
    )
    plan = {
        "Lò cao tiết kiệm than": {chair: [25, 35, 25], secretary: [25, 35, 20]},
        "Băng tải tự động": {chair: [28, 38, 28], secretary: [26, 36, 27], member: [27, 37, 26]},
        "Sổ tay an toàn điện tử": {chair: [15, 20, 15], secretary: [14, 22, 16], member: [25, 30, 25]},
        SECRET_TITLE: {chair: [27, 36, 27], secretary: [26, 35, 26], member: [25, 34, 25]},
    }
    for title, by_user in plan.items():
        for user, points in by_user.items():
            score(council, user, nominations[title], points)
    # Sổ tay: 50, 52, 80 are 30 apart: the reserve scores it too.
    services.extra_scorer_assign(
        user=chair, nomination=nominations["Sổ tay an toàn điện tử"], member_id=council.member_of(reserve).pk
    )
    score(council, reserve, nominations["Sổ tay an toàn điện tử"], [15, 20, 15])
    plan["Sổ tay an toàn điện tử"][reserve] = [15, 20, 15]
    services.round_close(user=chair, selection_round=council.round, place="Thái Nguyên", submission_number="15")
    SelectionRound.objects.filter(pk=council.round.pk).update(closed_at=CLOSED_AT)
    found = SelectionRound.objects.get(pk=council.round.pk)
    for nomination in nominations.values():
        nomination.refresh_from_db()
    sheets = {
        (title, user.get_full_name()): points for title, by_user in plan.items() for user, points in by_user.items()
    }
    return Closed(council, found, nominations, sheets, absentee.get_full_name())


RANKING = [  # rank, title, nominated by, mean, result
    (1, "Băng tải tự động", "Công đoàn Công ty CP Gang thép Thái Nguyên", "91,00", "Được chọn"),
    (2, SECRET_TITLE, "Công đoàn Tổng Công ty Thép Việt Nam", "87,00", "Được chọn"),
    (3, "Lò cao tiết kiệm than", "Công đoàn Công ty CP Gang thép Thái Nguyên", "82,50", "Không được chọn"),
    (4, "Sổ tay an toàn điện tử", "Công đoàn Công ty CP Gang thép Thái Nguyên", "58,00", "Không được chọn"),
]


def test_the_round_closed_as_the_documents_expect(closed: Closed) -> None:
    ranked = sorted(closed.nominations.values(), key=lambda n: n.rank or 0)
    assert [(n.rank, n.initiative.title, f"{n.mean}".replace(".", ","), n.result) for n in ranked] == [
        (rank, title, mean, "selected" if result == "Được chọn" else "not_selected")
        for rank, title, _unit, mean, result in RANKING
    ]


def test_the_date_line_writes_day_and_month_as_the_decree_does() -> None:
    assert date_line(dt.date(2026, 4, 5), "Thái Nguyên") == "Thái Nguyên, ngày 05 tháng 4 năm 2026"
    assert date_line(dt.date(2026, 2, 28), "Hà Nội") == "Hà Nội, ngày 28 tháng 02 năm 2026"
    assert date_line(dt.date(2026, 12, 1), "") == "Ngày 01 tháng 12 năm 2026"


@pytest.mark.parametrize("name", ["minutes.pdf", "minutes.docx"])
def test_the_minutes_hold_every_nominee_every_members_points_the_means_and_the_ranking(
    closed: Closed, name: str, caplog
) -> None:
    caplog.set_level(logging.WARNING)
    text = text_of(documents.build(closed.round, name))
    for expected in (
        "CÔNG ĐOÀN TỔNG CÔNG TY THÉP VIỆT NAM",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Thái Nguyên, ngày 05 tháng 4 năm 2026",
        closed.round.name,
        "01 triệu sáng kiến",
        "Tính mới, tính sáng tạo (/30) Hiệu quả, lợi ích (/40) Khả năng nhân rộng (/30)",
        "Từng hướng dẫn nhóm tác giả",
        closed.absent,
    ):
        assert expected in text, expected
    for criterion in closed.council.criteria:
        for band in criterion.bands.all():
            assert f"{band.low}–{band.high}: {band.label}" in text
    # Each sheet's row: the member, the points per criterion, the total.
    for (title, member), points in closed.sheets.items():
        assert title in text
        row = " ".join([member, *map(str, points), str(sum(points))])
        assert row in text, (title, row)
    for rank, title, unit, mean, result in RANKING:
        assert f"{rank} {title} {unit} {mean} {result}" in text, title
    # The council's officers sign.
    for name_of in ("Hoàng Văn Chủ", "Đỗ Thị Ký", "Vũ Văn Viên", "Bùi Thị Ba"):
        assert name_of in text
    assert "\ufffd" not in text
    assert not [r for r in caplog.records if "glyph" in r.getMessage().lower()]
    cmap = TTFont(FONTS / "LiberationSerif-Regular.ttf").getBestCmap()
    assert [ch for ch in set(text) if not ch.isspace() and ord(ch) not in cmap] == []


def test_the_docx_is_an_a4_page_with_the_decrees_margins_in_times_new_roman_13(closed: Closed) -> None:
    document = docx.Document(str(documents.build(closed.round, "minutes.docx")))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = (section.left_margin, section.right_margin, section.top_margin, section.bottom_margin)
    assert [round(margin.mm) for margin in margins] == [30, 15, 20, 20]
    normal = document.styles["Normal"]
    assert (normal.font.name, normal.font.size.pt) == ("Times New Roman", 13)
    assert {table.style.name for table in document.tables} >= {"Table Grid"}


def test_the_chairs_decision_on_a_tie_is_in_the_minutes(closed: Closed) -> None:
    SelectionRound.objects.filter(pk=closed.round.pk).update(tie_break="Chủ tịch chọn “Băng tải tự động”.")
    closed.round.refresh_from_db()
    assert "Chủ tịch chọn “Băng tải tự động”." in pdf_text(documents.build(closed.round, "minutes.pdf"))


@pytest.mark.parametrize("name", ["submission.pdf", "submission.docx"])
def test_the_cover_submission_lists_the_selected_only_in_rank_order(closed: Closed, name: str) -> None:
    text = text_of(documents.build(closed.round, name))
    for expected in (
        "CÔNG ĐOÀN TỔNG CÔNG TY THÉP VIỆT NAM",
        "Số: 15/TTr",
        "Thái Nguyên, ngày 05 tháng 4 năm 2026",
        "Công đoàn Công Thương Việt Nam",  # the level above, to which it is sent
        "Trần Thị Bình (100%)",
        "12/QĐ-HĐSK",
        "01/12/2022",
        "350.000.000 đ",  # a confidential initiative's benefit is public
        "Hoàng Văn Chủ",
    ):
        assert expected in text, expected
    first, second = text.index("Băng tải tự động"), text.index(SECRET_TITLE)
    assert first < second
    assert "91,00" in text and "87,00" in text
    for title in ("Lò cao tiết kiệm than", "Sổ tay an toàn điện tử"):
        assert title not in text
    assert "82,50" not in text and "Giảm 12% lượng than cốc" not in text


@pytest.mark.parametrize("name", list(documents.KINDS))
def test_a_confidential_initiative_shows_its_title_never_its_unit_authors_or_summary(closed: Closed, name: str) -> None:
    text = text_of(documents.build(closed.round, name))
    assert SECRET_TITLE in text and "Thông tin cần bảo mật" in text
    for hidden in (SECRET_UNIT, SECRET_AUTHOR, SECRET_SUMMARY, "Lưu Xá"):
        assert hidden not in text, hidden


def test_a_document_is_built_once_and_a_second_builder_is_told_to_wait(closed: Closed) -> None:
    built = documents.build(closed.round, "minutes.pdf")
    assert built == documents.path_of(closed.round, "minutes.pdf") and built.parent == documents.folder(closed.round)
    stamp = built.stat().st_mtime_ns
    assert documents.build(closed.round, "minutes.pdf") == built and built.stat().st_mtime_ns == stamp
    docx_path = documents.path_of(closed.round, "submission.docx")
    with open(docx_path.with_name(f".{docx_path.name}.lock"), "a") as held:  # another builder at work
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(documents.Busy):
            documents.build(closed.round, "submission.docx")
        assert not docx_path.exists()
    assert documents.build(closed.round, "submission.docx").exists()


def test_a_document_reads_the_round_in_a_fixed_number_of_queries(closed: Closed, django_assert_max_num_queries) -> None:
    """The round, its rubric and bands, council, nominations with their authors, conflicts, third
    scorers, sheets and scores: one query each, however many nominations and sheets."""
    for compose in (documents.compose_minutes, documents.compose_submission):
        with django_assert_max_num_queries(10):
            compose(closed.round)


def test_only_a_closed_round_has_documents(council: Council) -> None:
    with pytest.raises(ValueError, match="closed"):
        documents.build(council.round, "minutes.pdf")
    assert not documents.folder(council.round).exists()
    assert build_document.run(council.round.pk, "minutes.pdf") == "nothing"


def test_the_download_names_are_vietnamese_with_no_slash(closed: Closed) -> None:
    SelectionRound.objects.filter(pk=closed.round.pk).update(name="Đợt 1/2026")
    closed.round.refresh_from_db()
    names = {documents.download_name(closed.round, name) for name in documents.KINDS}
    assert len(names) == 4 and not any("/" in name for name in names)
    assert all("Đợt 1-2026" in name for name in names)
    assert {name.rsplit(".", 1)[1] for name in names} == {"pdf", "docx"}


def test_a_build_that_failed_is_marked_for_the_page(closed: Closed, monkeypatch) -> None:
    def broken(selection_round: SelectionRound, name: str) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(documents, "build", broken)
    with pytest.raises(OSError):
        build_document.run(closed.round.pk, "minutes.docx")
    assert cache.get(documents.FAILED_KEY.format(pk=closed.round.pk, name="minutes.docx")) is True


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_four_documents_once_the_round_closes(
    celery_worker_process: subprocess.Popen, settings, unit_tree, program
) -> None:
    settings.MEDIA_ROOT = celery_worker_process.media_root  # where the worker writes
    council = build_council(unit_tree, program, initiatives=2, quota=1)
    nominations = [nominate(council, initiative) for initiative in council.initiatives]
    services.round_start_scoring(user=council.secretary, selection_round=council.round)
    for nomination, points in zip(nominations, ([28, 38, 28], [20, 30, 20]), strict=True):
        for user in (council.chair, council.secretary, council.member):
            score(council, user, nomination, points)
    closed = services.round_close(user=council.chair, selection_round=council.round)
    enqueue_documents(closed)  # no transaction here: queued at once
    paths = [documents.path_of(closed, name) for name in documents.KINDS]
    deadline = time.monotonic() + 120
    while not all(path.exists() for path in paths):
        assert time.monotonic() < deadline, "the worker did not build the documents"
        time.sleep(0.3)
    minutes, submission = pdf_text(paths[0]), docx_text(paths[3])
    assert "1 Lò cao tiết kiệm than Công đoàn Công ty CP Gang thép Thái Nguyên 94,00 Được chọn" in minutes
    assert "Lò cao tiết kiệm than" in submission and "Băng tải tự động" not in submission
