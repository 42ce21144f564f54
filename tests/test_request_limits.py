"""Request bodies are capped per URL before Django reads them (issue 12, item 4), through Django's
test client; tests/test_request_limits_server.py sends the red-team bodies to a real gunicorn."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Iterator

import pytest
from django import forms
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from initiatives.models import Attachment, Initiative
from sangkien.request_limits import MAX_FILES_PER_UPLOAD, UPLOAD_LIMITS, body_limit, largest_body_limit
from tests.conftest import PDF
from tests.factories import FieldFactory, PhaseFactory, ProgramFactory, UserFactory
from tests.forms import post_form
from tests.initiatives.test_views import form_data

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


def url_names_and_views(patterns: list | None = None, namespace: str = "") -> Iterator[tuple[str, object]]:
    """Every named URL of the project with its view, namespaced as reverse() spells it."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_names_and_views(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry.callback


def reads_uploaded_files(view: object, depth: int = 2) -> bool:
    """Whether a view's own code (not a base class's), or a helper of its module that it calls,
    reads request.FILES."""
    view = getattr(view, "view_class", None) or inspect.unwrap(view)
    try:
        if "FILES" in inspect.getsource(view):
            return True
    except (OSError, TypeError):
        return False
    code, module_globals = getattr(view, "__code__", None), getattr(view, "__globals__", {})
    helpers = [module_globals.get(name) for name in (code.co_names if code and depth else ())]
    return any(
        reads_uploaded_files(helper, depth - 1)
        for helper in helpers
        if inspect.isfunction(helper) and helper.__module__ == view.__module__
    )


def admin_views_with_file_fields(site: admin.AdminSite = admin.site) -> set[str]:
    """The add and change views of every admin whose form (or an inline's) has a file field."""
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    found = set()
    for model, model_admin in site._registry.items():
        form_classes = [model_admin.get_form(request)]
        form_classes += [inline.get_formset(request).form for inline in model_admin.get_inline_instances(request)]
        if any(isinstance(field, forms.FileField) for form in form_classes for field in form.base_fields.values()):
            app, model_name = model._meta.app_label, model._meta.model_name
            found |= {f"admin:{app}_{model_name}_add", f"admin:{app}_{model_name}_change"}
    return found


def test_every_url_that_accepts_files_has_an_explicit_cap_and_no_other_does() -> None:
    """A new upload view or admin file field must be added to UPLOAD_LIMITS, or this fails."""
    views = dict(url_names_and_views())
    uploads = {name for name, view in views.items() if reads_uploaded_files(view)} | admin_views_with_file_fields()
    assert uploads == set(UPLOAD_LIMITS)
    assert {"initiatives:create", "initiatives:import", "admin:unions_union_import"} <= uploads  # the scan sees them


def test_the_scan_would_see_an_admin_that_edits_a_file() -> None:
    site = admin.AdminSite(name="scan")
    site.register(Attachment)
    assert admin_views_with_file_fields(site) == {
        "admin:initiatives_attachment_add",
        "admin:initiatives_attachment_change",
    }


# Middleware that may run before the cap: each only adds headers or redirects, none reads the body.
READS_NO_BODY = {
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
}


def test_the_cap_runs_before_any_middleware_that_could_read_the_body(settings) -> None:
    position = settings.MIDDLEWARE.index("sangkien.request_limits.RequestBodyLimitMiddleware")
    assert set(settings.MIDDLEWARE[:position]) <= READS_NO_BODY
    assert position < settings.MIDDLEWARE.index("django.middleware.csrf.CsrfViewMiddleware")


def test_caps_come_from_the_upload_settings(settings) -> None:
    settings.REQUEST_BODY_MAX_BYTES = 1 * MiB
    settings.INITIATIVE_ATTACHMENT_MAX_BYTES = 10 * MiB
    settings.INITIATIVE_IMPORT_MAX_BYTES = 20 * MiB
    settings.UNION_IMPORT_MAX_BYTES = 50 * MiB
    assert body_limit("login") == body_limit(None) == 1 * MiB
    assert body_limit("initiatives:create") == body_limit("initiatives:edit") == (MAX_FILES_PER_UPLOAD * 10 + 1) * MiB
    assert body_limit("questions:create") == 11 * MiB
    assert body_limit("initiatives:import") == 21 * MiB
    assert body_limit("admin:unions_union_import") == 51 * MiB
    assert largest_body_limit() == 101 * MiB


def post_declaring(client: Client, url: str, length: int, **extra: str) -> object:
    """A multipart POST whose Content-Length claims `length` bytes; only a few are there to read."""
    body = b"--x\r\n" + b"a" * 4096
    return client.generic(
        "POST", url, body, content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(length), **extra
    )


def post_file_of_total_size(client: Client, url: str, size: int) -> object:
    """A real multipart POST of exactly `size` bytes: one file field padded to fit."""
    head = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.xlsx"\r\n\r\n'
    tail = b"\r\n--x--\r\n"
    body = head + b"a" * (size - len(head) - len(tail)) + tail
    return client.generic("POST", url, body, content_type="multipart/form-data; boundary=x")


def test_an_anonymous_oversized_login_post_is_refused_with_413_before_anything_reads_it(
    client: Client, django_assert_num_queries
) -> None:
    with django_assert_num_queries(0):  # no session, no user, no database
        response = post_declaring(client, reverse("login"), 1024 * MiB)
    assert response.status_code == 413
    page = response.content.decode().replace("\xa0", " ")
    assert "Dữ liệu gửi lên quá lớn" in page
    assert "1,0 GB" in page and "1,0 MB" in page and "nên chưa có gì được lưu" in page
    assert 'class="navbar' in page and "Đăng nhập" in page  # the portal's layout
    assert f'href="{reverse("login")}"' in page  # back to the form


def test_an_officers_oversized_import_is_refused_before_the_form_reads_it(
    client: Client, officer, django_assert_num_queries
) -> None:
    client.force_login(officer)
    with django_assert_num_queries(0):
        response = post_declaring(client, reverse("initiatives:import"), 1024 * MiB)
    assert response.status_code == 413
    assert "Quay lại biểu mẫu" in response.content.decode()


@pytest.mark.parametrize(
    ("url_name", "setting"),
    [("initiatives:import", "INITIATIVE_IMPORT_MAX_BYTES"), ("admin:unions_union_import", "UNION_IMPORT_MAX_BYTES")],
)
def test_an_import_body_up_to_its_cap_reaches_the_form_and_one_byte_more_does_not(
    client: Client, settings, url_name: str, setting: str
) -> None:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    settings.REQUEST_BODY_MAX_BYTES = 8 * 1024
    setattr(settings, setting, 24 * 1024)
    assert post_file_of_total_size(client, reverse(url_name), 32 * 1024).status_code == 200  # the form's answer
    response = post_file_of_total_size(client, reverse(url_name), 32 * 1024 + 1)
    assert response.status_code == 413
    assert "vượt quá mức 32,0 KB" in response.content.decode().replace("\xa0", " ")
    assert post_file_of_total_size(client, reverse("admin:unions_union_add"), 8 * 1024 + 1).status_code == 413


@pytest.fixture
def program_and_field(db: None) -> tuple:
    program = ProgramFactory()
    PhaseFactory(program=program, number=1, starts_on=dt.date(2022, 1, 8), ends_on=dt.date(2023, 9, 1))
    return program, FieldFactory()


def test_attachments_within_the_form_cap_are_saved_and_the_same_body_elsewhere_is_refused(
    client: Client, officer, program_and_field, unit_tree, settings
) -> None:
    _, field = program_and_field
    settings.INITIATIVE_ATTACHMENT_MAX_BYTES = 64 * 1024
    settings.REQUEST_BODY_MAX_BYTES = 32 * 1024
    client.force_login(officer)
    pdf = PDF + b"%" * (63 * 1024)  # each file under its 64 KiB limit
    files = [SimpleUploadedFile(f"phu-luc-{n}.pdf", pdf, content_type="application/pdf") for n in range(3)]
    response = post_form(client, "initiatives:create", {**form_data(unit_tree.gang_thep, field), "attachments": files})
    assert response.status_code == 302
    assert Attachment.objects.count() == 3
    for upload in files:
        upload.seek(0)
    response = client.post(reverse("questions:create"), {"subject": "Hỏi", "body": "?", "attachment": files})
    assert response.status_code == 413  # one attachment's worth only
    eleven = [SimpleUploadedFile(f"p{n}.pdf", pdf) for n in range(MAX_FILES_PER_UPLOAD + 1)]
    response = client.post(
        reverse("initiatives:create"), {**form_data(unit_tree.gang_thep, field), "attachments": eleven}
    )
    assert response.status_code == 413
    assert Initiative.objects.count() == 1


@pytest.mark.parametrize("path", ["//evil.example/", "/\\evil.example/", "/\t/evil.example/"])
def test_the_back_link_never_leaves_the_portal(client: Client, path: str) -> None:
    response = post_declaring(client, "/", 2 * MiB, PATH_INFO=path)
    assert response.status_code == 413
    links = [part.split('"', 1)[0] for part in response.content.decode().split('href="')[1:]]
    back = next(link for link in links if "evil" in link)
    assert back.startswith("/") and not back.startswith(("//", "/\\")) and "\t" not in back


def test_nginx_s_own_413_shows_the_portal_page_with_the_refused_url_s_cap(client: Client) -> None:
    response = client.get(reverse("too_large"), HTTP_X_ORIGINAL_URI="/initiatives/import/?lan=2")
    assert response.status_code == 413
    page = response.content.decode().replace("\xa0", " ")
    assert "Dữ liệu gửi lên quá lớn" in page and "vượt quá mức 21,0 MB" in page
    assert 'href="/initiatives/import/"' in page
    page = client.get(reverse("too_large")).content.decode().replace("\xa0", " ")
    assert "vượt quá mức 1,0 MB" in page and "Quay lại biểu mẫu" not in page
