"""Hostile .xlsx files, built on the fly (no big binary is committed): the red team's zip bombs of
issue 12 and the variants a guard must also stop. Used by the import tests and `bench/hostile_uploads.py`.

Each builder writes a workbook that Excel's structure accepts (content types, relationships, a
first sheet whose first row is the import's header) and streams its big part into the zip, so
building a 400 MB part holds a megabyte of it in memory at a time.
"""

from __future__ import annotations

import random
import struct
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CHUNK = 1_000_000


def _content_types() -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{CT}.styles+xml"/>'
        "</Types>"
    )


def _package_parts() -> dict[str, str]:
    return {
        "[Content_Types].xml": _content_types(),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{DOC_RELS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}">'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        ),
    }


def _header_row(header: tuple[str, ...]) -> str:
    """The first row: cell i holds shared string i, the header's i-th name."""
    cells = "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(len(header)))
    return f'<row r="1">{cells}</row>'


def _strings(header: tuple[str, ...]) -> str:
    return "".join(f"<si><t>{escape(name)}</t></si>" for name in header)


def _filler(unit: bytes, total: int, every: int, seed: int) -> Iterator[bytes]:
    """`total` bytes of `unit` repeated, varied every `every` units so that deflate reaches the
    red team's ratio (about 400:1 for strings, 700:1 for rows) rather than its ceiling of 1,000:1."""
    rng = random.Random(seed)
    parts: list[bytes] = []
    for index in range(CHUNK // len(unit)):
        parts.append(unit)
        if index % every == 0:
            parts.append(unit.replace(b"x", str(rng.randrange(1000)).encode()) if b"x" in unit else unit * 3)
    chunk = b"".join(parts)
    written = 0
    while written < total:
        yield chunk
        written += len(chunk)


def _write(
    path: Path, header: tuple[str, ...], *, sheet_rows: Iterable[bytes] = (), strings: Iterable[bytes] = ()
) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in _package_parts().items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'.encode())
            sheet.write(_header_row(header).encode())
            for chunk in sheet_rows:
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
        with archive.open("xl/sharedStrings.xml", "w") as table:
            table.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">{_strings(header)}'.encode())
            for chunk in strings:
                table.write(chunk)
            table.write(b"</sst>")
    return path


def shared_strings_bomb(path: Path, header: tuple[str, ...], *, expanded: int = 100_000_000) -> Path:
    """A valid workbook whose sharedStrings.xml unpacks to `expanded` bytes of tiny strings: about
    260 KB for 100 MB (red team: 253 KiB, 72 s, +563 MiB), about 1 MB for 400 MB (red team: 998 KiB,
    killed at gunicorn's 120 s timeout)."""
    return _write(path, header, strings=_filler(b"<si><t>x</t></si>", expanded, 1000, seed=1))


def empty_rows_bomb(path: Path, header: tuple[str, ...], *, rows: int = 35_000_000) -> Path:
    """The header, then `rows` empty `<row/>` and no <dimension>: about 300 KB (red team: 303 KiB,
    3 GiB of memory)."""
    return _write(path, header, sheet_rows=_filler(b"<row/>", rows * 6, 150, seed=2))


def wide_row_bomb(path: Path, header: tuple[str, ...], *, cells: int = 4_000_000) -> Path:
    """One row of about `cells` empty cells: compressed only ~60:1, so it passes a ratio check,
    yet openpyxl builds the whole row in memory before it yields it."""

    def row() -> Iterator[bytes]:
        yield b'<row r="2">'
        yield from _filler(b'<c r="Zx"/>', cells * 10, 16, seed=3)
        yield b"</row>"

    return _write(path, header, sheet_rows=row())


def entity_bomb(path: Path, header: tuple[str, ...]) -> Path:
    """Shared strings with a DTD: one 1 MB entity used 90 times, under expat's own amplification
    limit (100×), so Python's parser builds a 90 MB string from a file of 300 KB."""
    rng = random.Random(5)
    words = ("sáng", "kiến", "cải", "tiến", "lao", "động", "công", "đoàn", "năng", "suất", "giảm", "chi", "phí")
    entity = " ".join(rng.choice(words) for _ in range(200_000)).encode()  # ~1 MB that deflate cannot shrink 100×
    table = (
        b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE sst [<!ENTITY e "'
        + entity
        + b'">]>'
        + f'<sst xmlns="{MAIN}">{_strings(header)}<si><t>'.encode()
        + b"&e;" * 90
        + b"</t></si></sst>"
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in _package_parts().items():
            archive.writestr(name, text)
        sheet = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>{_header_row(header)}'
        archive.writestr("xl/worksheets/sheet1.xml", sheet + "</sheetData></worksheet>")
        archive.writestr("xl/sharedStrings.xml", table)
    return path


def lying_size_bomb(path: Path, header: tuple[str, ...], *, expanded: int = 200_000_000) -> Path:
    """A styles part whose directory entries declare 1 KB while its deflate stream unpacks to
    `expanded` bytes. zipfile truncates what it returns to the declared size, but its whole-part
    read (which openpyxl uses for styles) inflates the full stream into memory first."""
    _write(path, header)
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in parts.items():
            if name != "xl/styles.xml":
                archive.writestr(name, content)
        with archive.open("xl/styles.xml", "w") as styles:
            styles.write(parts["xl/styles.xml"][:-13])  # up to </styleSheet>
            for chunk in _filler(b"<!-- x -->", expanded, 1000, seed=4):
                styles.write(chunk)
            styles.write(b"</styleSheet>")
    data = bytearray(path.read_bytes())
    _declare_size(data, b"xl/styles.xml", 1024)
    path.write_bytes(bytes(data))
    return path


def _declare_size(data: bytearray, name: bytes, size: int) -> None:
    """Overwrite the uncompressed size of `name` in its local header and central directory entry."""
    # (signature, offset of the uncompressed size, of the name's length, of the name)
    for signature, size_at, length_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            length = struct.unpack_from("<H", data, start + length_at)[0]
            if data[start + name_at : start + name_at + length] == name:
                struct.pack_into("<I", data, start + size_at, size)
            start += 4


BOMBS: dict[str, Callable[..., Path]] = {
    "shared-strings-100MB": shared_strings_bomb,
    "shared-strings-400MB": lambda path, header: shared_strings_bomb(path, header, expanded=400_000_000),
    "empty-rows-35M": empty_rows_bomb,
}
