"""Abuse limits on heavy work (issue 12, item 8).

Red team: 30 export requests in 1.5 s were all queued and built, and a national workbook takes
about 75 s of a worker. Now an export identical to one queued or running is that one, and an
account has at most EXPORT_MAX_ACTIVE_PER_USER exports queued or running and
EXPORT_MAX_PER_HOUR started (new or retried) per hour. The officers' list export is a job under
the same limits (tests/emulation/test_list_exports.py).
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from redis import Redis

from emulation.models import ExportJob, ExportStart
from emulation.workbook import run_job
from sangkien.celery import app
from tests.factories import EmulationClusterFactory, UserFactory

REFUSED_ACTIVE = "Bạn đang có 2 tệp xuất đang được tạo: hãy chờ một tệp xong rồi mới yêu cầu tệp khác."
REUSED = "Tệp xuất giống hệt đã được yêu cầu lúc"


def ask(client: Client, unit: str = "CTVN", **options: object):
    return client.post(reverse("exports"), {"unit": unit, "level": "", "cluster": "", "phase": "", **options})


def page_text(response) -> str:
    return response.content.decode()


@pytest.fixture
def leader_client(client: Client, leader) -> Client:
    client.force_login(leader)
    return client


@pytest.fixture
def burst_queue() -> Iterator[Callable[[], int]]:
    """The test's tasks go to a Redis queue of their own that no worker reads: the jobs stay
    queued, as they do behind a 75-second national workbook, and the test counts the messages
    that really reached the broker (a session's worker, if one runs, never takes them)."""
    redis = Redis.from_url(django_settings.CELERY_BROKER_URL)
    original = app.conf.task_routes
    name = f"{app.conf.task_default_queue}-burst"
    reroute({**original, "initiatives.build_emulation_export": {"queue": name}})
    yield lambda: redis.llen(name)
    reroute(original)
    redis.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")


def reroute(routes: dict) -> None:
    """Route the tasks by `routes` from now on (Celery prepares its router once)."""
    app.conf.task_routes = routes
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)  # the cached router, rebuilt from the new routes


def at_once(requests: list[tuple[Client, dict]]) -> list:
    """POST every (client, form) to the export page at the same instant, each from its own thread
    and database connection, as 30 browser tabs or a script would."""
    start = threading.Barrier(len(requests))

    def post(client: Client, data: dict):
        try:
            start.wait()
            return client.post(reverse("exports"), data)
        finally:
            connection.close()  # this thread's connection

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(lambda request: post(*request), requests))


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# -- 30 requests at once ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_thirty_identical_requests_at_once_queue_and_build_one_workbook(
    program, unit_tree, leader, reviewer, burst_queue
) -> None:
    """Leadership and the board of Công Thương, 15 tabs each, all asking for the same export."""
    form = {"unit": "CTVN", "level": "", "cluster": "", "phase": ""}
    responses = at_once([(logged_in(user), form) for user in (leader, reviewer) * 15])
    assert [r.status_code for r in responses] == [302] * 30
    job = ExportJob.objects.get()
    assert (job.scope, job.status) == (unit_tree.cong_thuong, ExportJob.Status.QUEUED)
    assert burst_queue() == 1  # one message reached Redis
    assert ExportStart.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_thirty_different_requests_at_once_start_only_the_concurrent_limit(
    program, unit_tree, leader, burst_queue, settings
) -> None:
    settings.EXPORT_MAX_PER_HOUR = 100
    clusters = [EmulationClusterFactory(name=name).pk for name in ("Cụm A", "Cụm B")]
    phases = list(program.phases.values_list("pk", flat=True))
    choices = itertools.product(["CTVN", "CTVN-THEP"], ["", "tier2", "superior", "grassroots"],
                                ["", *clusters], ["", *phases])  # fmt: skip
    forms = [{"unit": u, "level": lv, "cluster": c, "phase": p} for u, lv, c, p in itertools.islice(choices, 30)]
    responses = at_once([(logged_in(leader), form) for form in forms])

    assert sorted(r.status_code for r in responses) == [302] * 2 + [429] * 28
    assert all(REFUSED_ACTIVE in page_text(r) for r in responses if r.status_code == 429)
    assert ExportJob.objects.count() == 2 == django_settings.EXPORT_MAX_ACTIVE_PER_USER
    assert burst_queue() == 2
    assert ExportStart.objects.filter(user=leader).count() == 2


# -- an identical export is followed, not started again ------------------------------------------


@pytest.mark.django_db
def test_an_identical_export_being_built_is_followed_until_it_is_done(leader_client, program, unit_tree) -> None:
    assert ask(leader_client).status_code == 302
    job = ExportJob.objects.get()
    again = leader_client.post(reverse("exports"), {"unit": "ctvn"}, follow=True)
    assert REUSED in page_text(again) and "đang được tạo: tiến độ hiển thị bên dưới" in page_text(again)
    assert ExportJob.objects.get() == job
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, heartbeat_at=timezone.now())
    ask(leader_client)
    assert ExportJob.objects.get() == job  # running with a live worker: still the same one

    # Another level, cluster, phase or unit is another export.
    phase = program.phases.first()
    ask(leader_client, phase=phase.pk)
    assert ExportJob.objects.count() == 2
    # Once done, asking again counts afresh (the figures are as of the new moment).
    ExportJob.objects.update(status=ExportJob.Status.DONE)
    ask(leader_client)
    assert ExportJob.objects.count() == 3


@pytest.mark.django_db
def test_a_colleague_of_the_subtree_follows_the_same_export(client: Client, program, unit_tree, leader) -> None:
    client.force_login(leader)
    ask(client)
    board = UserFactory(username="ban.tw", is_superuser=True, is_staff=True)  # the whole country
    client.force_login(board)
    page = client.post(reverse("exports"), {"unit": "CTVN"}, follow=True)
    assert REUSED in page_text(page)
    job = ExportJob.objects.get()
    assert job.requested_by == leader
    assert client.get(reverse("export_status", args=[job.pk])).status_code == 200  # and may see it


@pytest.mark.django_db
def test_a_stopped_job_is_neither_followed_nor_counted(leader_client, program, unit_tree, settings) -> None:
    ask(leader_client)
    ask(leader_client, unit="CTVN-THEP")
    long_ago = timezone.now() - dt.timedelta(seconds=settings.EXPORT_STALE_SECONDS + 1)
    ExportJob.objects.filter(scope__code="CTVN").update(requested_at=long_ago)  # no worker took it
    ExportJob.objects.filter(scope__code="CTVN-THEP").update(status=ExportJob.Status.RUNNING, heartbeat_at=long_ago)
    page = leader_client.post(reverse("exports"), {"unit": "CTVN"}, follow=True)
    assert "Đã đưa yêu cầu xuất vào hàng đợi" in page_text(page)  # a dead worker locks no account out
    assert ExportJob.objects.filter(scope__code="CTVN").count() == 2
    assert ExportStart.objects.count() == 3


# -- the limits ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_third_export_waits_until_one_of_two_is_done(leader_client, program, unit_tree) -> None:
    assert ask(leader_client).status_code == 302
    assert ask(leader_client, unit="CTVN-THEP").status_code == 302
    refused = ask(leader_client, level="grassroots")
    assert refused.status_code == 429
    assert REFUSED_ACTIVE in page_text(refused)
    assert 'value="grassroots" selected' in page_text(refused)  # the form keeps what was chosen
    assert ExportJob.objects.count() == 2
    run_job(ExportJob.objects.get(scope__code="CTVN-THEP").pk)
    assert ask(leader_client, level="grassroots").status_code == 302
    assert ExportJob.objects.count() == 3


@pytest.mark.django_db
def test_the_hourly_limit_counts_new_exports_and_retries(leader_client, leader, program, unit_tree, settings) -> None:
    settings.EXPORT_MAX_PER_HOUR = 3
    ask(leader_client)
    ask(leader_client, unit="CTVN-THEP")
    ExportJob.objects.update(status=ExportJob.Status.FAILED)
    failed = ExportJob.objects.get(scope__code="CTVN")
    leader_client.post(reverse("export_retry", args=[failed.pk]))
    failed.refresh_from_db()
    assert failed.status == ExportJob.Status.QUEUED
    assert ExportStart.objects.filter(user=leader).count() == 3

    refused = ask(leader_client, level="grassroots")
    assert refused.status_code == 429
    first = ExportStart.objects.order_by("at").first().at
    again = timezone.localtime(first + dt.timedelta(hours=1))
    assert (
        f"Bạn đã yêu cầu 3 lần xuất trong một giờ qua, mức tối đa cho phép: bạn có thể yêu cầu lại từ {again:%H:%M}."
        in page_text(refused)
    )
    other = ExportJob.objects.get(scope__code="CTVN-THEP")
    page = leader_client.post(reverse("export_retry", args=[other.pk]), follow=True)
    assert "Bạn đã yêu cầu 3 lần xuất trong một giờ qua" in page_text(page)
    other.refresh_from_db()
    assert other.status == ExportJob.Status.FAILED  # a refused retry changes nothing

    ExportStart.objects.update(at=timezone.now() - dt.timedelta(minutes=61))
    assert ask(leader_client, level="grassroots").status_code == 302


@pytest.mark.django_db
def test_the_limits_are_per_account(client: Client, program, unit_tree, leader, reviewer, settings) -> None:
    settings.EXPORT_MAX_ACTIVE_PER_USER = 1
    client.force_login(leader)
    ask(client)
    assert ask(client, unit="CTVN-THEP").status_code == 429
    client.force_login(reviewer)
    assert ask(client, unit="CTVN-THEP").status_code == 302


@pytest.mark.django_db
def test_a_retry_of_an_export_that_is_being_built_again_follows_that_one(leader_client, program, unit_tree) -> None:
    ask(leader_client)
    failed = ExportJob.objects.get()
    ExportJob.objects.update(status=ExportJob.Status.FAILED)
    ask(leader_client)  # asked again instead of retried
    page = leader_client.post(reverse("export_retry", args=[failed.pk]), follow=True)
    assert REUSED in page_text(page)
    failed.refresh_from_db()
    assert failed.status == ExportJob.Status.FAILED
    assert ExportStart.objects.count() == 2


@pytest.mark.django_db
def test_a_job_that_is_done_cannot_be_retried(leader_client, program, unit_tree) -> None:
    ask(leader_client)
    job = ExportJob.objects.get()
    run_job(job.pk)
    page = leader_client.post(reverse("export_retry", args=[job.pk]), follow=True)
    assert "Không thể chạy lại: tệp đã xong hoặc đang được tạo." in page_text(page)
    assert ExportStart.objects.count() == 1
