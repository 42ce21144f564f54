"""Kombu's Redis transport for the Celery worker, with one fix (issue 13): an acknowledgement that
fails no longer stops the worker for good.

The worker acknowledges a task on Redis after running it (acks_late). With a read timeout on its
connection (settings, "Redis down or hung"), a Redis that hangs longer than that makes the ack
raise; kombu's Redis QoS then never forgets the message locally, so it keeps holding one of the
worker's prefetch slots (CELERY_WORKER_PREFETCH_MULTIPLIER × concurrency), and a worker whose slots
are all held never fetches again, although Redis answers (measured: no task for minutes after a
6 s freeze, until someone restarted the worker). Here a failed ack or reject still frees the slot:
the message itself stays in Redis's unacked set and is delivered again after the visibility
timeout, which the tasks, all idempotent, allow. Selected for the worker only (sangkien.celery).
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis


class QoS(redis.QoS):
    def ack(self, delivery_tag: Any) -> None:
        try:
            super().ack(delivery_tag)
        except Exception:
            # kombu's own "forget it here", which super() did not reach (private: not in celery-types).
            self._quick_ack(delivery_tag)  # type: ignore[attr-defined]
            raise

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        try:
            super().reject(delivery_tag, requeue=requeue)
        except Exception:
            self._quick_ack(delivery_tag)  # type: ignore[attr-defined]  # as above
            raise


class Channel(redis.Channel):
    QoS = QoS


class Transport(redis.Transport):
    Channel = Channel
