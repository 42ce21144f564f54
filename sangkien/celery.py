"""The Celery application, wired the standard way: settings from Django's `CELERY_*` names."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sangkien.settings")

app = Celery("sangkien")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="sangkien.ping", bind=True)
def ping(self, payload: str = "pong") -> dict[str, str]:
    """Health check: echoes its payload with the name of the worker that ran it."""
    return {"payload": payload, "worker": self.request.hostname or "eager"}
