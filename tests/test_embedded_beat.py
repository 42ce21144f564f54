"""The periodic jobs of `make run` (sangkien.embedded_beat): the beat schedule run in a thread of
the development server, on short fake schedules and a fake clock (no sleeping but for the loop's
own test, a second or so)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time

import pytest
from celery.schedules import schedule
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from leaderboard.models import LeaderboardSnapshot
from leaderboard.snapshots import leaderboard_snapshot, snapshot_instant
from sangkien.celery import app
from sangkien.embedded_beat import MAX_SLEEP_SECONDS, EmbeddedBeat
from tests.factories import InitiativeFactory, UserFactory

runs: list[str] = []


@app.task(name="tests.embedded_beat.count")
def count(label: str = "") -> None:
    runs.append(label)


@app.task(name="tests.embedded_beat.fail")
def fail() -> None:
    raise RuntimeError("the mail server is down")


@pytest.fixture(autouse=True)
def no_connection_left_open(django_db_blocker: DjangoDbBlocker) -> None:
    """Each job closes the connections it finds stale, as the worker does; these tests touch no
    database, so one left open by an earlier test (in whatever order the run takes them) would count
    as database access here: close it first."""
    with django_db_blocker.unblock():
        connections.close_all()


class Clock:
    """A clock the test moves: the fake schedules ask it the time."""

    def __init__(self) -> None:
        self.now = timezone.localtime().replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture(autouse=True)
def no_runs() -> None:
    runs.clear()


def every(clock: Clock, minutes: float) -> schedule:
    return schedule(run_every=dt.timedelta(minutes=minutes), nowfun=clock)


def test_a_due_entry_runs_once_in_its_period() -> None:
    clock = Clock()
    beat = EmbeddedBeat(
        app=app, schedule={"count": {"task": "tests.embedded_beat.count", "schedule": every(clock, 5), "args": ["a"]}}
    )
    assert beat.tick() == MAX_SLEEP_SECONDS  # first due one period after the start, as with beat
    assert runs == []
    clock.advance(minutes=5)
    beat.tick()
    assert runs == ["a"]
    clock.advance(minutes=4, seconds=50)  # a second tick within the period
    assert beat.tick() == pytest.approx(10)  # the seconds until it is due again
    assert runs == ["a"]
    clock.advance(seconds=10)
    beat.tick()
    assert runs == ["a", "a"]


def test_a_failing_task_is_logged_and_the_other_jobs_go_on(caplog) -> None:
    clock = Clock()
    beat = EmbeddedBeat(
        app=app,
        schedule={
            "fail": {"task": "tests.embedded_beat.fail", "schedule": every(clock, 1)},
            "missing": {"task": "tests.embedded_beat.no_such_task", "schedule": every(clock, 1)},
            "count": {"task": "tests.embedded_beat.count", "schedule": every(clock, 1), "kwargs": {"label": "b"}},
        },
    )
    with caplog.at_level(logging.INFO, logger="sangkien.embedded_beat"):
        for _minute in range(2):
            clock.advance(minutes=1)
            beat.tick()
    assert runs == ["b", "b"]
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failures] == [
        "Periodic job fail (tests.embedded_beat.fail) failed; it runs again when next due.",
        "Periodic job missing: no task named tests.embedded_beat.no_such_task.",
    ] * 2
    assert "the mail server is down" in failures[0].exc_text


def test_the_thread_keeps_running_the_jobs_through_failures(caplog) -> None:
    tenth = dt.timedelta(seconds=0.1)
    beat = EmbeddedBeat(
        app=app,
        schedule={
            "fail": {"task": "tests.embedded_beat.fail", "schedule": tenth},
            "count": {"task": "tests.embedded_beat.count", "schedule": tenth},
        },
    )
    thread, stop = beat.start()
    deadline = time.monotonic() + 5
    while len(runs) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=5)
    assert len(runs) >= 3
    assert not thread.is_alive()
    assert sum("tests.embedded_beat.fail" in r.getMessage() for r in caplog.records) >= 2


def test_the_production_schedule_is_read_as_beat_reads_it(settings) -> None:
    beat = EmbeddedBeat(app=app, schedule=settings.CELERY_BEAT_SCHEDULE)
    assert set(beat.entries) == set(settings.CELERY_BEAT_SCHEDULE)
    assert beat.entries["leaderboard-snapshot-midnight"].kwargs == {"prune": True, "verify": True}
    assert 0 < beat.tick() <= 30  # nothing due at the start; it looks again within 30 s


@pytest.mark.django_db(transaction=True)  # the job runs as in the server's thread: on its own, committed
def test_after_a_tick_the_dashboard_shows_the_new_snapshot(client: Client, program, unit_tree) -> None:
    this_hour = snapshot_instant(hourly=True)
    InitiativeFactory(program=program, unit=unit_tree.gang_thep, submitted_at=this_hour - dt.timedelta(hours=3))
    leaderboard_snapshot(program=program, at=this_hour - dt.timedelta(hours=2))  # what seed_demo left
    client.force_login(UserFactory(username="admin", is_superuser=True, is_staff=True))

    def as_of() -> str:
        page = client.get(reverse("dashboard")).content.decode()
        return " ".join(re.search(r"data-as-of>(.*?)[·<]", page, re.S).group(1).split())

    old = timezone.localtime(this_hour - dt.timedelta(hours=2))
    assert as_of() == f"Tính đến {old:%H:%M} ngày {old:%d/%m/%Y}"
    clock = Clock()
    beat = EmbeddedBeat(
        app=app,
        schedule={"snapshot": {"task": "initiatives.snapshot_leaderboard", "schedule": every(clock, 60)}},
    )
    clock.advance(hours=1)
    beat.tick()
    new = timezone.localtime(this_hour)
    assert LeaderboardSnapshot.objects.latest("taken_at").taken_at == this_hour
    assert as_of() == f"Tính đến {new:%H:%M} ngày {new:%d/%m/%Y}"


def test_the_loop_stops_when_asked_even_with_nothing_due() -> None:
    beat = EmbeddedBeat(app=app, schedule={})
    stop = threading.Event()
    thread = threading.Thread(target=beat.run, args=(stop,))
    thread.start()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
