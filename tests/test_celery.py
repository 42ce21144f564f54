from __future__ import annotations

import subprocess

from sangkien.celery import ping


def test_a_task_round_trips_through_redis_and_a_real_worker(celery_worker_process: subprocess.Popen) -> None:
    result = ping.delay("xin chào")
    reply = result.get(timeout=60)
    assert reply["payload"] == "xin chào"
    # Run by the worker process, not eagerly in this one.
    assert reply["worker"].startswith("test-")
    assert celery_worker_process.poll() is None
