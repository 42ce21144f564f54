"""`manage.py runportal`: Django's development server with the periodic jobs of production.

`make run` has no Redis and no worker (tasks run eagerly), so no `celery beat` either, and the
dashboard stayed at the snapshot `seed_demo` took. This runs `runserver` (the staticfiles one, as
`manage.py runserver` is) and, in a thread of the serving process, the jobs of
`CELERY_BEAT_SCHEDULE` when they are due (sangkien.embedded_beat): the hourly leaderboard snapshot,
the resend of owed e-mail, the nightly clean-ups.

Why a thread and not `celery worker --beat --pool=solo` on kombu's filesystem transport beside the
server: that is a second process to start, watch and stop with the server, and a queue folder to
create and clean, only to run in another process what eager mode already runs in this one. The
thread uses celery's own schedule objects to decide what is due and `task.apply()` to run it, as
every other task runs under `make run`; it needs nothing installed and dies with the server.

Development only: with DEBUG off it refuses (production runs gunicorn, workers and `celery beat`,
README "Production"); with a broker configured the tasks belong to that broker's beat and worker,
so it serves without running them. Under the autoreloader the jobs run in the serving child
process only, once, and start again with it after a code change.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.management.commands.runserver import Command as RunserverCommand
from django.core.management.base import CommandError

from sangkien.celery import app
from sangkien.embedded_beat import EmbeddedBeat


def periodic_jobs_wanted() -> bool:
    """The embedded jobs run in development without a broker, the `make run` defaults."""
    return settings.DEBUG and not settings.CELERY_BROKER_URL


class Command(RunserverCommand):
    help = "Serve the portal for development and run the periodic jobs of CELERY_BEAT_SCHEDULE in the same process."

    beat: EmbeddedBeat | None = None
    stop_periodic_jobs: threading.Event | None = None

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "runportal is the development server: with DEBUG off, serve with gunicorn and run the "
                "periodic jobs with `celery -A sangkien beat` (README, Production)."
            )
        super().handle(*args, **options)

    def inner_run(self, *args: Any, **options: Any) -> None:
        # Runs in the process that serves (the autoreloader's child, or the only one with --noreload).
        self.start_periodic_jobs()
        super().inner_run(*args, **options)

    def start_periodic_jobs(self) -> threading.Thread | None:
        if not periodic_jobs_wanted():
            self.stdout.write(
                "A Celery broker is configured: the periodic jobs are left to `celery -A sangkien beat` "
                "and its workers."
            )
            return None
        self.beat = EmbeddedBeat(app=app, schedule=settings.CELERY_BEAT_SCHEDULE)
        thread, self.stop_periodic_jobs = self.beat.start()
        names = ", ".join(sorted(self.beat.entries))
        self.stdout.write(f"Periodic jobs run in this process when due (CELERY_BEAT_SCHEDULE): {names}.")
        return thread
