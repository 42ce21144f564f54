from __future__ import annotations

import datetime as dt
import subprocess
import time
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from emulation.models import ExportJob
from emulation.tasks import build_emulation_export
from leaderboard.models import LeaderboardSnapshot
from leaderboard.snapshots import rows_of
from leaderboard.tasks import snapshot_leaderboard
from sangkien.celery import ping
from tests.factories import InitiativeFactory, ProgramFactory, UnionFactory, UserFactory
from unions.models import Union


def test_a_task_round_trips_through_redis_and_a_real_worker(celery_worker_process: subprocess.Popen) -> None:
    result = ping.delay("xin chào")
    reply = result.get(timeout=60)
    assert reply["payload"] == "xin chào"
    # Run by the worker process, not eagerly in this one.
    assert reply["worker"].startswith("test-")
    assert celery_worker_process.poll() is None


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_takes_the_leaderboard_snapshot_in_a_real_worker(celery_worker_process: subprocess.Popen) -> None:
    program = ProgramFactory(slug="01-trieu-sang-kien", target=1000)
    unit = UnionFactory(code="G1", name="Công đoàn cơ sở G1", level=Union.Level.GRASSROOTS)
    # Before this hour: the hourly snapshot counts what was submitted up to the hour.
    InitiativeFactory.create_batch(3, program=program, unit=unit, submitted_at=timezone.now() - dt.timedelta(hours=1))
    taken = snapshot_leaderboard.delay().get(timeout=60)
    snapshot = LeaderboardSnapshot.objects.get(pk=taken[0])
    assert snapshot.taken_at.minute == snapshot.taken_at.second == 0  # the hour it ran in
    row = rows_of(snapshot).get(unit=unit, phase_key=0, field_key=0)
    assert (row.submitted, row.rank) == (3, 1)
    # The same hour again, as a retried or duplicated beat task would: nothing changes.
    assert snapshot_leaderboard.delay(at=snapshot.taken_at.isoformat()).get(timeout=60) == taken
    assert LeaderboardSnapshot.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_emulation_workbook(celery_worker_process: subprocess.Popen, settings) -> None:
    settings.MEDIA_ROOT = celery_worker_process.media_root  # where the worker writes
    program = ProgramFactory(slug="01-trieu-sang-kien", target=1000)
    root = UnionFactory(code="TLD", name="Tổng Liên đoàn", level=Union.Level.CONFEDERATION, parent=None)
    tier2 = UnionFactory(code="T1", name="LĐLĐ tỉnh T1", level=Union.Level.TIER2, parent=root)
    unit = UnionFactory(code="G1", name="Công đoàn cơ sở G1", parent=tier2)
    InitiativeFactory.create_batch(3, program=program, unit=unit, submitted_at=timezone.now() - dt.timedelta(hours=1))
    job = ExportJob.objects.create(program=program, scope=root)
    assert build_emulation_export.delay(job.pk).get(timeout=120) == "done"
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.attempts) == ("done", 2, 1)
    workbook = openpyxl.load_workbook(Path(settings.MEDIA_ROOT) / job.file.name)
    grassroots = list(workbook.worksheets[3].iter_rows(values_only=True))
    assert grassroots[1][:2] == ("G1", "Công đoàn cơ sở G1")
    assert grassroots[1][grassroots[0].index("Số sáng kiến đã gửi")] == 3
    # A duplicated message (redelivered after a lost acknowledgement) builds nothing twice.
    assert build_emulation_export.delay(job.pk).get(timeout=60) == "skipped"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_an_officer_s_list_asked_for_on_the_site(
    celery_worker_process: subprocess.Popen, client: Client, settings
) -> None:
    """The request only queues the job (on the "exports" queue, through the broker); the worker's
    file is the one the officer downloads."""
    settings.MEDIA_ROOT = celery_worker_process.media_root
    program = ProgramFactory(slug="01-trieu-sang-kien", target=1000)
    root = UnionFactory(code="TLD", name="Tổng Liên đoàn", level=Union.Level.CONFEDERATION, parent=None)
    tier2 = UnionFactory(code="T1", name="LĐLĐ tỉnh T1", level=Union.Level.TIER2, parent=root)
    unit = UnionFactory(code="G1", name="Công đoàn cơ sở G1", parent=tier2)
    InitiativeFactory.create_batch(3, program=program, unit=unit)
    InitiativeFactory(program=program, unit=UnionFactory(code="G2", parent=root))  # outside the officer's subtree
    client.force_login(UserFactory(username="canbo.t1", unit=tier2))
    assert client.post(reverse("list_exports"))["Location"] == reverse("list_exports")
    job = ExportJob.objects.get()
    deadline = time.monotonic() + 120
    while not client.get(reverse("export_status", args=[job.pk])).json()["finished"]:
        assert time.monotonic() < deadline, "the worker did not build the list"
        time.sleep(0.2)
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.attempts) == ("done", 3, 1)
    download = client.get(reverse("export_download", args=[job.pk]))
    sheet = openpyxl.load_workbook(BytesIO(b"".join(download.streaming_content))).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["G1"] * 3


def test_every_task_of_the_portal_has_a_time_limit() -> None:
    """A task stuck on a hung dependency is killed, never holding a worker for ever."""
    from sangkien.celery import app

    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if name.startswith(("initiatives.", "sangkien."))}
    assert len(ours) >= 7
    assert {name: task.time_limit for name, task in ours.items() if not task.time_limit} == {}
