"""The largest legitimate import files, part by part: what the SPREADSHEET_* limits must admit.

Writes 130,000 units (long names) and 20,000 initiatives (summaries of 250-450 words), each as
openpyxl writes it (inline strings) and as Excel does (a shared-strings table), prints every big
part's unpacked size and ratio, and times `read_rows` (the guard included) over each:

    .venv/bin/python bench/spreadsheet_limits.py        (bench/README.md §8)
"""

from __future__ import annotations

import random
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import _django  # noqa: F401  (the project on the path, Django set up)

# isort: split

import openpyxl
from openpyxl.utils import get_column_letter

from initiatives.imports import HEADER as INITIATIVE_HEADER
from sangkien.spreadsheets import TableSpec, read_rows
from tests.spreadsheet_bombs import MAIN, _package_parts
from unions.imports import HEADER as UNIT_HEADER

VOCABULARY = (
    "cải tiến quy trình sản xuất giảm tiêu hao nguyên liệu nâng cao năng suất lao động an toàn vệ sinh "
    "môi trường tiết kiệm điện năng chuyển đổi số quản lý kho vật tư thiết bị dây chuyền tự động hóa "
    "đóng gói công nhân người lao động doanh nghiệp hiệu quả kinh tế giá trị làm lợi ứng dụng phần mềm "
    "theo dõi bảo trì máy móc phòng chống dịch bệnh y tế giáo dục đào tạo kỹ năng thời gian thao tác"
)
WORDS = VOCABULARY.split()


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def unit_rows(count: int = 130_000) -> list[tuple]:
    rng = random.Random(1)
    return [
        (f"G{i:06d}", f"Công đoàn {text(rng, rng.randint(8, 20))} số {i}", "Cơ sở", f"S{rng.randint(1, 1500):05d}",
         rng.randint(5, 5000), f"Cụm thi đua số {rng.randint(1, 30):02d}")
        for i in range(count)
    ]  # fmt: skip


def initiative_rows(count: int = 20_000) -> list[tuple]:
    rng = random.Random(2)
    return [
        (f"G{rng.randint(1, 120_000):06d}", text(rng, rng.randint(8, 25)), "Kỹ thuật – sản xuất", "Giải pháp kỹ thuật",
         "Nguyễn Văn An (60%); Trần Thị Bình (40%)", text(rng, rng.randint(250, 450)), "15/03/2022",
         rng.randint(0, 10**9))
        for _ in range(count)
    ]  # fmt: skip


def as_openpyxl(path: Path, header: tuple[str, ...], rows: list[tuple]) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)


def as_excel(path: Path, header: tuple[str, ...], rows: list[tuple]) -> None:
    """Shared strings and Excel's row attributes, as Excel saves a sheet."""
    index: dict[str, int] = {}
    out = []
    for number, row in enumerate([header, *rows], start=1):
        cells = []
        for column, value in enumerate(row, start=1):
            ref = f"{get_column_letter(column)}{number}"
            if isinstance(value, str):
                cells.append(f'<c r="{ref}" t="s"><v>{index.setdefault(value, len(index))}</v></c>')
            elif value is not None:
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        out.append(f'<row r="{number}" spans="1:{len(header)}" x14ac:dyDescent="0.25">{"".join(cells)}</row>')
    ac = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in _package_parts().items():
            archive.writestr(name, content)
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}" xmlns:x14ac="{ac}"><sheetData>'
            + "".join(out)
            + "</sheetData></worksheet>",
        )
        archive.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'
            + "".join(f"<si><t>{escape(value)}</t></si>" for value in index)
            + "</sst>",
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for label, header, rows, max_rows in (
            ("130,000 units", UNIT_HEADER, unit_rows(), 200_000),
            ("20,000 initiatives", INITIATIVE_HEADER, initiative_rows(), 20_000),
        ):
            for how, write in (("openpyxl", as_openpyxl), ("as Excel writes", as_excel)):
                path = Path(folder) / "file.xlsx"
                write(path, header, rows)
                parts = [info for info in zipfile.ZipFile(path).infolist() if info.file_size > 100_000]
                sizes = ", ".join(
                    f"{info.filename} {info.file_size / 1e6:.1f} MB ({info.file_size / info.compress_size:.1f})"
                    for info in parts
                )
                started = time.perf_counter()
                read = read_rows(path, spec=TableSpec(headers=header), max_bytes=2**30, max_rows=max_rows)
                count = sum(1 for _row in read)
                print(
                    f"{label}, {how}: {path.stat().st_size / 1e6:.1f} MB; {sizes}; "
                    f"read_rows {time.perf_counter() - started:.1f} s for {count:,} rows"
                )


if __name__ == "__main__":
    main()
