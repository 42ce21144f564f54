"""`manage.py runportal` (`make run`): the development server with the periodic jobs of beat."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.staticfiles.management.commands.runserver import Command as RunserverCommand
from django.core.management import CommandError, call_command

from demo.management.commands.runportal import Command

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_serves_with_runportal() -> None:
    run = ROOT.joinpath("Makefile").read_text().split("\nrun:")[1].split("\n\n")[0]
    assert "manage.py runportal 127.0.0.1:8000" in run
    assert "runserver" not in run


def test_it_refuses_to_run_with_debug_off(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development server"):
        call_command("runportal", "--noreload")


def test_the_serving_process_runs_the_beat_schedule_before_it_serves(settings, monkeypatch) -> None:
    settings.DEBUG, settings.CELERY_BROKER_URL = True, ""
    served = []
    monkeypatch.setattr(RunserverCommand, "inner_run", lambda self, *args, **options: served.append(self.beat))
    command = Command()
    command.inner_run(use_threading=True)
    try:
        assert served == [command.beat]  # started, then the server
        assert set(command.beat.entries) == set(settings.CELERY_BEAT_SCHEDULE)
    finally:
        command.stop_periodic_jobs.set()


def test_with_a_broker_the_jobs_are_left_to_beat(settings, capsys) -> None:
    settings.DEBUG, settings.CELERY_BROKER_URL = True, "redis://127.0.0.1:6379/14"
    command = Command()
    assert command.start_periodic_jobs() is None
    assert command.beat is None
    assert "left to `celery -A sangkien beat`" in capsys.readouterr().out
