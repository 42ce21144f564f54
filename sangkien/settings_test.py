"""Settings for the test suite: the real PostgreSQL and Redis of the machine, tuned for speed."""

from __future__ import annotations

import os

from sangkien.settings import *  # noqa: F403
from sangkien.settings import BASE_DIR, CELERY_TASK_ROUTES, INSTALLED_APPS, env, redis_cache_config

if "demo" not in INSTALLED_APPS:  # the suite seeds demo data whatever DJANGO_DEBUG says
    INSTALLED_APPS = [*INSTALLED_APPS, "demo"]

# pytest-django creates its own database ("test_" + NAME) next to this one.
DATABASES = {
    "default": env.db("TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/sangkien"),
}
# A Celery worker the tests start shares the test database with pytest-django, which empties it with
# TRUNCATE after each transactional test. A task still running then (an e-mail owed by a review the
# test made) can deadlock with that TRUNCATE; with a short deadlock_timeout the worker's connection
# notices first and gives way (its task fails and is tried again), never the run's teardown.
if "TEST_CELERY_QUEUE" in os.environ:
    DATABASES["default"]["OPTIONS"] = {"options": "-c deadlock_timeout=50ms"}

# A Redis database of its own so tests never touch a developer's queues.
CELERY_BROKER_URL = env("TEST_CELERY_BROKER_URL", default="redis://127.0.0.1:6379/14")
# The tests read results (production keeps none); the fault tests' servers run without, as production.
CELERY_RESULT_BACKEND = env("TEST_CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL) or None
CELERY_TASK_ALWAYS_EAGER = False
# A queue of this test run's own, so two runs on one machine never take each other's tasks;
# the worker the tests start is given the same name through the environment.
CELERY_TASK_DEFAULT_QUEUE = env("TEST_CELERY_QUEUE", default=f"sangkien-test-{os.getpid()}")
# The routed queues too ("sangkien-test-123-mail"…): the tests' worker consumes them all.
CELERY_TASK_ROUTES = {
    task: {**route, "queue": f"{CELERY_TASK_DEFAULT_QUEUE}-{route['queue']}"}
    for task, route in CELERY_TASK_ROUTES.items()
}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A local cache; the fault tests (tests/faults) give their servers a Redis one of their own.
CACHES = {"default": redis_cache_config(env.cache("TEST_CACHE_URL", default="locmemcache://"))}
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
if _smtp_port := env.int("TEST_SMTP_PORT", default=0):  # a worker sending to a test's own mail server
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": _smtp_port, "use_tls": False,
                        "timeout": env.float("EMAIL_TIMEOUT", default=5)},
        }
    }  # fmt: skip
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The worker the tests start is told the folder of its run (tests/conftest.py).
MEDIA_ROOT = env.path("TEST_MEDIA_ROOT", default=BASE_DIR / ".test-media")
LOGGING = {"version": 1, "disable_existing_loggers": False}
