"""The Celery application, wired the standard way: settings from Django's `CELERY_*` names."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task
from celery.signals import celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sangkien.settings")

app = Celery("sangkien")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@celeryd_init.connect
def _worker_redis(conf: Any, **kwargs: Any) -> None:
    """The worker's Redis, set before it connects (settings, "Redis down or hung"):
    - longer timeouts than a web request's: nobody waits on the worker, and a timeout costs it its
      broker connection and its tasks their delivery, so a slow Redis is better waited for; a hung
      one still fails within seconds. Beat keeps the short ones (it only publishes);
    - kombu's Redis transport with sangkien.broker's fix: an ack that times out frees its slot."""
    from django.conf import settings

    timeouts = {
        "socket_connect_timeout": settings.REDIS_WORKER_CONNECT_TIMEOUT,
        "socket_timeout": settings.REDIS_WORKER_READ_TIMEOUT,
    }
    conf.broker_transport_options = {**conf.broker_transport_options, **timeouts}
    conf.redis_socket_connect_timeout = settings.REDIS_WORKER_CONNECT_TIMEOUT
    conf.redis_socket_timeout = settings.REDIS_WORKER_READ_TIMEOUT
    conf.result_backend_transport_options = {}  # a result backend, if any: Celery's own retries
    if (conf.broker_url or "").startswith("redis://"):
        conf.broker_transport = "sangkien.broker:Transport"


@app.task(name="sangkien.ping", bind=True, time_limit=30)
def ping(self: Task[..., Any], payload: str = "pong") -> dict[str, str]:
    """Health check: echoes its payload with the name of the worker that ran it."""
    return {"payload": payload, "worker": self.request.hostname or "eager"}
