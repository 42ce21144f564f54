"""Celery beat's schedule, run in a thread of the development server (`manage.py runportal`).

`make run` has no broker: tasks queued by the portal run eagerly in the request, but nothing
publishes the periodic ones, so the dashboard stayed at the snapshot `seed_demo` took. This runs
the same `CELERY_BEAT_SCHEDULE`, with celery's own schedule objects deciding what is due
(`crontab`, `schedule`/timedelta: `ScheduleEntry.is_due()`), and each due task eagerly in this
thread (`task.apply()`), as the eager mode runs every other task. Production keeps `celery beat`.

Like beat started without a saved state, an entry is first due one period after the start (a
crontab at its next time): a restart of the server never runs everything at once. A task that
fails, or an entry naming no known task, is logged and the loop goes on; a run that takes longer
than a period delays the next one rather than running twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping
from typing import Any

from celery import Celery
from celery.beat import ScheduleEntry
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

# The longest the loop sleeps between two looks at the schedule (celery beat's default is 300 s):
# short enough that a stop is noticed quickly, long enough to cost nothing.
MAX_SLEEP_SECONDS = 30.0


class EmbeddedBeat:
    """The entries of a beat schedule and the loop that runs them when due."""

    def __init__(self, *, app: Celery, schedule: Mapping[str, Mapping[str, Any]]) -> None:
        self.app = app
        app.loader.import_default_modules()  # every app's tasks, as a worker imports them
        self.entries = {
            name: ScheduleEntry(
                name=name,
                task=entry["task"],
                schedule=entry["schedule"],
                args=tuple(entry.get("args", ())),
                kwargs=dict(entry.get("kwargs", {})),
                options=dict(entry.get("options", {})),
                app=app,
            )
            for name, entry in schedule.items()
        }

    def tick(self) -> float:
        """Run every entry that is due, one after the other; return the seconds until the next
        one is due (at most MAX_SLEEP_SECONDS)."""
        wait = MAX_SLEEP_SECONDS
        for name, entry in list(self.entries.items()):
            due, next_in = entry.is_due()
            if due:
                # Marked as run before it runs, as beat marks an entry when it publishes it: a
                # failing task waits for its next time instead of being retried on every tick.
                self.entries[name] = next(entry)
                self.run_entry(entry)
                _due, next_in = self.entries[name].is_due()
            wait = min(wait, next_in)
        return max(wait, 0.0)

    def run_entry(self, entry: ScheduleEntry) -> None:
        """Run one entry's task here and now; log its failure, never raise it."""
        task = self.app.tasks.get(entry.task) if entry.task else None
        if task is None:
            logger.error("Periodic job %s: no task named %s.", entry.name, entry.task)
            return
        started = dt.datetime.now()
        close_old_connections()  # what the worker does around each task (celery's Django fixup)
        try:
            result = task.apply(args=entry.args, kwargs=entry.kwargs)
            if result.failed():  # when the eager mode does not propagate errors
                raise result.result
        except Exception:
            logger.exception("Periodic job %s (%s) failed; it runs again when next due.", entry.name, entry.task)
        else:
            seconds = (dt.datetime.now() - started).total_seconds()
            logger.info("Periodic job %s (%s) done in %.1f s.", entry.name, entry.task, seconds)
        finally:
            close_old_connections()

    def run(self, stop: threading.Event) -> None:
        """Tick until `stop` is set; nothing a tick does ends the loop."""
        try:
            while not stop.is_set():
                try:
                    wait = self.tick()
                except Exception:  # a schedule that cannot say when it is due: look again later
                    logger.exception("Periodic jobs: the schedule could not be read.")
                    wait = MAX_SLEEP_SECONDS
                stop.wait(wait)
        finally:
            connections.close_all()

    def start(self) -> tuple[threading.Thread, threading.Event]:
        """Run the loop in a daemon thread (it ends with the process); set the event to stop it."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), name="embedded-beat", daemon=True)
        thread.start()
        return thread, stop
