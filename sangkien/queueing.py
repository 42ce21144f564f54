"""Queuing a Celery task from a request: after the commit, and never blocking on a broker that is
down or hung (settings, "Redis down or hung")."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from celery import Task

logger = logging.getLogger(__name__)
# What a broker that is down or hung raises when publishing.
BROKER_ERRORS = (OperationalError, RedisError, OSError)

# When this process may try a broker (by URL) again after it failed (time.monotonic()): a request
# that queues many tasks (a bulk review, "send again" on 100 rows) pays one timeout, not one each.
_broker_retry_at: dict[str, float] = {}


def enqueue_on_commit(task: Task[..., Any], *args: object) -> None:
    """Queue `task` once the transaction commits; a broker that is down or hung is logged, never
    raised, and costs at most its timeouts (settings, "Redis down or hung"): the notifications'
    resend job, or an export's retry, queues the row again."""

    def send() -> None:
        broker = task.app.conf.broker_url or ""
        if time.monotonic() < _broker_retry_at.get(broker, 0.0):
            logger.info("Not queuing %s%r: the broker failed moments ago; the row waits for a retry", task.name, args)
            return
        try:
            task.apply_async(args=args, retry=False)
        except Exception as error:  # the broker is down: what was decided stands, its row waits to be queued again
            # Only a broker that failed is left alone for a while (not an eager task's own error).
            if not task.app.conf.task_always_eager and isinstance(error, BROKER_ERRORS):
                _broker_retry_at[broker] = time.monotonic() + settings.REDIS_RETRY_AFTER_SECONDS
            logger.exception("Could not queue %s%r: the broker is down; the row waits for a retry", task.name, args)

    transaction.on_commit(send)
