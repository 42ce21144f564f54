"""The red-team bodies of issue 12 sent to a real gunicorn over a raw socket: refused at once, and
nothing reaches the disk (Django's upload temp directory is TMPDIR here, FILE_UPLOAD_TEMP_DIR unset)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from tests.servers import Gunicorn, raw_request, run_gunicorn

GiB = 1024**3
MULTIPART_HEAD = b'--x\r\nContent-Disposition: form-data; name="file"; filename="to-lam.xlsx"\r\n\r\n'


@pytest.fixture
def gunicorn(transactional_db: None, tmp_path: Path) -> Iterator[Gunicorn]:
    with run_gunicorn(tmp_path) as server:
        yield server


def post_head(path: str, *, length: int | None, cookie: str = "", chunked: bool = False) -> str:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Connection: close",
        "Content-Type: multipart/form-data; boundary=x",
    ]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    # Any csrftoken cookie makes CSRF read the form for its token: without one it refuses unread.
    lines.append(f"Cookie: csrftoken={'c' * 32}" + (f"; {cookie}" if cookie else ""))
    return "\n".join(lines) + "\n"


def test_an_anonymous_1_gib_login_post_is_refused_at_once_and_never_stored(gunicorn: Gunicorn) -> None:
    """Before: gunicorn's worker read the body into a temporary file until CSRF refused it (7.7 s
    for the whole GiB). Now: 413 after the headers, while the client is still sending."""
    answer = raw_request(
        gunicorn.port,
        post_head("/accounts/login/", length=GiB),
        MULTIPART_HEAD + b"a" * 8192,
        more=b"a" * 65536,
        times=1024,
    )
    assert answer.status == 413
    assert "Dữ liệu gửi lên quá lớn" in answer.body
    assert answer.seconds < 2, answer.seconds
    assert list(gunicorn.upload_dir.iterdir()) == []


def test_an_officers_1_gib_import_is_refused_before_the_form_stores_it(
    gunicorn: Gunicorn, officer, client: Client
) -> None:
    client.force_login(officer)  # a session in the (committed) test database that gunicorn reads
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    answer = raw_request(
        gunicorn.port,
        post_head("/initiatives/import/", length=GiB, cookie=cookie),
        MULTIPART_HEAD + b"a" * 8192,
        more=b"a" * 65536,
        times=1024,
    )
    assert answer.status == 413
    assert "Quay lại biểu mẫu" in answer.body
    assert answer.seconds < 2, answer.seconds
    assert list(gunicorn.upload_dir.iterdir()) == []


def test_a_chunked_body_without_a_length_is_never_read(gunicorn: Gunicorn) -> None:
    """No Content-Length, so Django reads no body at all (its LimitedStream of 0 bytes): CSRF finds
    no token in it and refuses, and the 8 MiB streamed meanwhile go nowhere."""
    chunk = b"10000\r\n" + b"a" * 65536 + b"\r\n"
    answer = raw_request(
        gunicorn.port,
        post_head("/accounts/login/", length=None, chunked=True),
        more=chunk,
        times=128,
    )
    assert answer.status == 403
    assert answer.seconds < 2, answer.seconds
    assert list(gunicorn.upload_dir.iterdir()) == []


def test_a_body_longer_than_its_declared_length_is_cut_at_that_length(gunicorn: Gunicorn) -> None:
    answer = raw_request(
        gunicorn.port,
        post_head("/accounts/login/", length=2000),
        MULTIPART_HEAD + b"a" * 8192,
        more=b"a" * 65536,
        times=128,
    )
    assert answer.status == 403  # CSRF, on the 2,000 bytes declared
    assert answer.seconds < 2, answer.seconds
    assert list(gunicorn.upload_dir.iterdir()) == []
