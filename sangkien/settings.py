"""One settings module for every environment, driven by environment variables.

Defaults work on a fresh clone (SQLite, eager Celery, DEBUG on); production differs only through
the environment (see `.env.example` and `docker-compose.yml`).
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; silently absent on a fresh clone

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# A development key is only acceptable while DEBUG is on: production must set its own.
_DEV_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"
SECRET_KEY = env("DJANGO_SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else environ.Env.NOTSET)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# A refused form gets a Vietnamese page in the portal's layout (Django's own is bare English).
CSRF_FAILURE_VIEW = "sangkien.views.csrf_failure"

INSTALLED_APPS = [
    "sangkien.apps.PortalAdminConfig",  # django.contrib.admin with sangkien.admin_site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "sangkien.apps.LoginLockoutConfig",  # django-axes, see "Request bodies and logins" below
    "unions",
    "initiatives",
    "questions",
    "notifications",
    "leaderboard",
    "emulation",
    "honours",
    "councils",
    "rest_framework",
    "drf_spectacular",
    "api",
]
# seed_demo and seed_scale (the demo app): in development and benches only, never in the production
# image (DJANGO_DEBUG=False) unless asked for.
DEMO_DATA = env.bool("DJANGO_DEMO_DATA", default=DEBUG)
if DEMO_DATA:
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",  # SECURE_CSP below
    "sangkien.request_limits.RequestBodyLimitMiddleware",  # before anything reads the body
    "sangkien.middleware.RejectMalformedMiddleware",  # before the session is loaded
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the lockout page
]

ROOT_URLCONF = "sangkien.urls"
WSGI_APPLICATION = "sangkien.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "questions.context_processors.new_answers",
                "unions.context_processors.access",
            ],
        },
    },
]

# Embedded SQLite when no DATABASE_URL is given; PostgreSQL in tests and production.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # a persistent connection that died is replaced
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "unions.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Vietnamese first; English comes for free from the msgids (LANGUAGE_CODE=en). No LocaleMiddleware:
# many Vietnamese browsers ask for English, and the portal must still speak Vietnamese to them.
LANGUAGE_CODE = env("DJANGO_LANGUAGE_CODE", default="vi")
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# dd/mm/yyyy and 1.000.000 (Django's own "vi" formats use d-m-Y and no grouping).
FORMAT_MODULE_PATH = ["sangkien.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}

# In development WhiteNoise serves straight from the finders; production serves the collected files.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Redis in production (CACHE_URL=rediscache://...), made optional by redis_cache_config below.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Console mail in development; SMTP (configured from the environment) in production.
_SMTP = "django.core.mail.backends.smtp.EmailBackend"
_EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend" if DEBUG else _SMTP
)
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": {
            "host": env("EMAIL_HOST", default="localhost"),
            "port": env.int("EMAIL_PORT", default=587),
            "username": env("EMAIL_HOST_USER", default=""),
            "password": env("EMAIL_HOST_PASSWORD", default=""),
            "use_tls": env.bool("EMAIL_USE_TLS", default=True),
            # Seconds each SMTP step may wait: a silent server costs a mail worker this much per
            # attempt, never more (the queues block below says what happens next).
            "timeout": env.float("EMAIL_TIMEOUT", default=5),
        }
        if _EMAIL_BACKEND == _SMTP
        else {},
    }
}
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="sangkien@localhost")
# The portal's address, for links in e-mails sent by workers (no request to build them from).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Celery: with no broker configured, tasks run eagerly in-process (the `make run` default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
# No result backend unless one is asked for: nothing reads a task's result (status rows track the
# work), and a Redis result backend subscribes to each task's result before the task is published,
# retrying for 20 s when Redis is down (issue 13).
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None) or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Redis down or hung (issue 13) --------------------------------------------------------------
# Redis (broker, cache, and a result backend if one is configured) may refuse connections or
# accept them and never answer. No request waits on it for more than a fraction of a second, and
# everything carries on by itself once it answers again:
# - every Redis client has a connect and a read timeout. Redis on the same host or private network
#   answers these small commands in about a millisecond: REDIS_CONNECT_TIMEOUT (0.25 s) and
#   REDIS_READ_TIMEOUT (0.5 s) are hundreds of times that, and together stay well under the 2 s a
#   request may take. Celery's worker serves no one waiting, and a timeout costs it its
#   connection and redelivers its tasks: it waits REDIS_WORKER_READ_TIMEOUT (5 s) instead
#   (sangkien/celery.py);
# - publishing never retries (the caller logs the failure, and the row waits for the resend job or
#   its page's retry) and, after a failure, a web process leaves the broker alone for
#   REDIS_RETRY_AFTER_SECONDS, so a request that queues many tasks pays one timeout, not one each
#   (sangkien.queueing.enqueue_on_commit);
# - the cache is optional: when it fails the page is computed as if it were empty, the failure is
#   logged once, and the process leaves it alone for REDIS_RETRY_AFTER_SECONDS (sangkien.cache);
# - the worker and beat, started while Redis is down or hung, keep trying to reach it, for ever.
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.25)
REDIS_READ_TIMEOUT = env.float("REDIS_READ_TIMEOUT", default=0.5)
REDIS_WORKER_CONNECT_TIMEOUT = env.float("REDIS_WORKER_CONNECT_TIMEOUT", default=2.0)
REDIS_WORKER_READ_TIMEOUT = env.float("REDIS_WORKER_READ_TIMEOUT", default=5.0)
REDIS_RETRY_AFTER_SECONDS = env.float("REDIS_RETRY_AFTER_SECONDS", default=5.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 0,  # a publisher's first connection: fail at once, not after kombu's ~6 s of retries
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    "socket_timeout": REDIS_READ_TIMEOUT,
}
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # the worker and beat: wait for the broker, never give up
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_CONNECT_TIMEOUT  # a result backend, if one is configured
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_READ_TIMEOUT
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"max_retries": 0}}


def redis_cache_config(config: dict) -> dict:
    """A cache configuration whose Redis (Django's own backend) degrades and times out; any other
    backend unchanged. Timeouts given in CACHE_URL's query string win."""
    if config["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        return config
    timeouts = {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT, "socket_timeout": REDIS_READ_TIMEOUT}
    return {**config, "BACKEND": "sangkien.cache.OptionalRedisCache", "OPTIONS": timeouts | config.get("OPTIONS", {})}


CACHES = {"default": redis_cache_config(CACHES["default"])}
# -------------------------------------------------------------------------------------------------

# Emulation exports: a running job whose worker has not reported for this long is lost (the worker
# died) and may be retried; finished files are deleted after this many days.
EXPORT_STALE_SECONDS = env.int("EXPORT_STALE_SECONDS", default=300)
EXPORT_RETENTION_DAYS = env.int("EXPORT_RETENTION_DAYS", default=7)
# Abuse limits (a national workbook keeps a worker busy for over a minute): an account may have this
# many exports queued or running at once, and start this many (new or retried) in any hour. Asking
# for an export identical to one being built follows that one and counts for neither.
EXPORT_MAX_ACTIVE_PER_USER = env.int("EXPORT_MAX_ACTIVE_PER_USER", default=2)
EXPORT_MAX_PER_HOUR = env.int("EXPORT_MAX_PER_HOUR", default=10)
# An issued honours decision's documents (honours.documents): built when first asked for up to this
# many units honoured (the PDF takes about 3 ms a unit: bench/README.md §11), in the background above
# it (the page says so).
# The open-data and integration API (api/, Django REST framework; its OpenAPI schema by drf-spectacular).
# Public and read-only for now: no session or account is read (no CSRF either), JSON only, each
# client address limited to API_PUBLIC_RATE requests, answers kept API_CACHE_SECONDS in the cache.
API_CACHE_SECONDS = env.int("API_CACHE_SECONDS", default=60)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientAddressThrottle"],
    "DEFAULT_THROTTLE_RATES": {"public": env("API_PUBLIC_RATE", default="120/min")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sáng kiến API",
    "DESCRIPTION": "Open data of the “01 triệu sáng kiến” programme: the programme and its progress, "
    "published initiatives, the public FAQ.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {"InitiativeStatusEnum": "initiatives.models.Initiative.Status"},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.text_without_nul"],
}

HONOURS_DOCUMENT_INLINE_ROWS = env.int("HONOURS_DOCUMENT_INLINE_ROWS", default=500)
# The place an honours decision is signed at, as its form first offers it ("Hà Nội, ngày …").
HONOURS_DEFAULT_PLACE = env("HONOURS_DEFAULT_PLACE", default="Hà Nội")
# The officers' "Xuất Excel" of their list is an export job (counted in the limits above): above
# this many rows it asks for narrower filters (a sheet holds at most 1,048,576 rows; a worker wrote
# the largest tier-2 unit's 31,249 in 9 s on the idle 2-core dev box, in 50 s with the box loaded).
INITIATIVE_LIST_EXPORT_MAX_ROWS = env.int("INITIATIVE_LIST_EXPORT_MAX_ROWS", default=100_000)
# Lists count at most this many rows (sangkien.paging): above it a list says "more than 1,000"
# and its pages stop there; the filters find the rest. Counting 900,000 valid initiatives for the
# public list took 340 ms of PostgreSQL per page (issue 17).
LIST_COUNT_CAP = env.int("LIST_COUNT_CAP", default=1_000)
# Anonymous visitors' public pages are rendered once per this many seconds (sangkien.public_pages).
PUBLIC_PAGE_CACHE_SECONDS = env.int("PUBLIC_PAGE_CACHE_SECONDS", default=60)
# Leaderboard snapshots: all are kept this many days, then only the first (midnight) one of each day.
LEADERBOARD_KEEP_ALL_DAYS = env.int("LEADERBOARD_KEEP_ALL_DAYS", default=7)
# A snapshot counts again only the units touched since the previous one, unless they are more than
# this share of the tree (a large restructuring): then everything is counted, which is cheaper.
LEADERBOARD_INCREMENTAL_MAX_SHARE = env.float("LEADERBOARD_INCREMENTAL_MAX_SHARE", default=0.05)

# The resend job's cadence (the fault tests run it every second).
NOTIFICATION_RESEND_SECONDS = env.float("NOTIFICATION_RESEND_SECONDS", default=60.0)

# Run by `celery beat` in production; under `make run` (no broker) by `manage.py runportal`, in a
# thread of the development server (sangkien.embedded_beat), each task eagerly when it is due.
CELERY_BEAT_SCHEDULE = {
    # Every minute: the owed e-mails whose time to try again has come (a failed send backs off on
    # its row, 1, 2, 4 … minutes up to an hour; a send whose message was lost is due after 2
    # minutes), for at most a minute's work. Safe to rerun: each attempt claims its row with a
    # conditional UPDATE first. A run still queued when the next is due is dropped.
    "resend-pending-notifications": {
        "task": "initiatives.resend_pending_notifications",
        "schedule": NOTIFICATION_RESEND_SECONDS,
        "options": {"expires": NOTIFICATION_RESEND_SECONDS},
    },
    # Every hour on the hour, 01:00-23:00: the leaderboard as of that hour. The instant is the hour
    # itself, so a rerun or a retried task finds the snapshot already taken and changes nothing; a
    # task still queued 50 minutes later is dropped rather than taken as of the wrong hour.
    "leaderboard-snapshot-hourly": {
        "task": "initiatives.snapshot_leaderboard",
        "schedule": crontab(minute=0, hour="1-23"),
        "options": {"expires": 3000},
    },
    # At midnight: the day's closing snapshot ("tính đến 0 giờ"), kept for good and checked against
    # a full recount (repaired where they differ), then the hourly snapshots older than
    # LEADERBOARD_KEEP_ALL_DAYS are pruned; both steps are safe to rerun.
    "leaderboard-snapshot-midnight": {
        "task": "initiatives.snapshot_leaderboard",
        "schedule": crontab(minute=0, hour=0),
        "kwargs": {"prune": True, "verify": True},
        "options": {"expires": 3000},
    },
}

CELERY_BEAT_SCHEDULE["prune-count-marks"] = {
    # Every night at 02:50: the leaderboard's count marks that no snapshot will consume (an inactive
    # programme's) are deleted once older than COUNT_MARK_KEEP_DAYS (leaderboard.history). Safe to rerun.
    "task": "initiatives.prune_count_marks",
    "schedule": crontab(minute=50, hour=2),
}
COUNT_MARK_KEEP_DAYS = env.int("COUNT_MARK_KEEP_DAYS", default=7)

CELERY_BEAT_SCHEDULE["group-similar-initiatives"] = {
    # Every 5 minutes: the duplicate groups of initiatives fingerprinted since (initiatives.likeness),
    # should the task queued after a submission have been lost with the broker. Safe to rerun.
    "task": "initiatives.group_similar",
    "schedule": 300,
    "options": {"expires": 300},
}

CELERY_BEAT_SCHEDULE["prune-form-submissions"] = {
    # Every night at 02:45: the one-time form tokens past their day of validity (initiatives.once)
    # are deleted; an expired token is refused anyway. Safe to rerun.
    "task": "initiatives.prune_form_submissions",
    "schedule": crontab(minute=45, hour=2),
}

CELERY_BEAT_SCHEDULE["prune-idempotency-keys"] = {
    # Every hour at :40: the API's Idempotency-Keys older than a day (api.idempotency.KEEP) are
    # deleted, so a key is kept from 24 to 25 hours. Safe to rerun.
    "task": "api.prune_idempotency_keys",
    "schedule": crontab(minute=40),
}

CELERY_BEAT_SCHEDULE["clean-emulation-exports"] = {
    # Every night at 02:30: emulation workbooks older than EXPORT_RETENTION_DAYS are deleted (the
    # job stays, marked as expired), with any temporary file a dead worker left. Safe to rerun.
    "task": "initiatives.clean_emulation_exports",
    "schedule": crontab(minute=30, hour=2),
}

# -- Queues, workers and redelivery (issue 13) ---------------------------------------------------
# Each kind of work has a queue, and docker-compose.yml a worker service, of its own: a mail server
# that never answers only delays mail, a long export only other exports. The default queue
# ("celery") carries what is left (the health-check ping). A worker started without `-Q` takes the
# default queue only, so every queue named here needs a worker (README, "Production").
CELERY_TASK_ROUTES = {
    "initiatives.send_notification": {"queue": "mail"},
    "initiatives.resend_pending_notifications": {"queue": "mail"},
    "initiatives.build_emulation_export": {"queue": "exports"},
    "initiatives.clean_emulation_exports": {"queue": "exports"},
    "initiatives.snapshot_leaderboard": {"queue": "snapshots"},
    "leaderboard.materialize": {"queue": "snapshots"},
    "honours.build_document": {"queue": "exports"},
    "councils.build_document": {"queue": "exports"},
    # The duplicate groups: milliseconds after a submission, minutes after a large import or the
    # backfill, which must not hold up the hourly snapshot on the default worker.
    "initiatives.group_similar": {"queue": "exports"},
}
# A task whose worker died before acknowledging it (acks_late: kill -9, out of memory, a lost host)
# goes back on its queue once it has been out this long. It matches an export's stale period, so
# the export delivered again finds its job lost (or about to be: it checks again when the heartbeat
# goes stale) and takes it over; kombu's default is an hour. No task runs nearly as long (a
# national export ~80 s, a snapshot ~10 s, the resend job a minute at most); an export that did
# would be delivered a second time only to find its job busy. Each worker looks for such tasks
# every `unacked_restore_interval` seconds (10; less when the stale period is short, as in tests).
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = EXPORT_STALE_SECONDS
CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_interval"] = max(1, min(10, EXPORT_STALE_SECONDS // 10))
CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_throttle"] = 1
# The outbox is "late" on /healthz/ and in the admin once an owed e-mail is older than this.
MAIL_LATE_MINUTES = env.int("MAIL_LATE_MINUTES", default=15)

# Security: strict by default outside DEBUG; `manage.py check --deploy` is clean with these.
# Sessions are read from the cache and written to both (a page no longer queries django_session);
# with the cache down they are read from the database, as before (sangkien.cache).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)

# Content-Security-Policy, in every environment (so a violation shows up in development first), for
# the portal and the admin alike: only the portal's own scripts, styles and images; no inline script,
# <style> block or style="…" attribute (tests/test_content_security_policy.py scans the templates for
# them, tests/e2e/test_content_security_policy.py loads every main page and fails on any violation). A
# percentage that varies goes through a class (site.css's .pct-N) or an SVG attribute, never a style
# attribute. data: images are Bootstrap's own SVG icons, embedded in its stylesheet.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Portal-specific settings.
UNION_IMPORT_MAX_BYTES = env.int("UNION_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
INITIATIVE_ATTACHMENT_MAX_BYTES = env.int("INITIATIVE_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
INITIATIVE_IMPORT_MAX_BYTES = env.int("INITIATIVE_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
INITIATIVE_IMPORT_MAX_ROWS = env.int("INITIATIVE_IMPORT_MAX_ROWS", default=20_000)
# Hostile spreadsheets (zip bombs, millions of empty rows, XML entities): what an import's .xlsx
# may hold, checked before openpyxl opens it and while it is read (sangkien/xlsx_guard.py). Each
# admits the largest legitimate files with room to spare; their figures are in bench/README.md §8.
UNION_IMPORT_MAX_ROWS = env.int("UNION_IMPORT_MAX_ROWS", default=200_000)  # the national file: ~130,000
# Quarter targets: a quarter for every unit of the nation is ~130,000 rows (a year goes in four files).
QUARTER_TARGET_IMPORT_MAX_BYTES = env.int("QUARTER_TARGET_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
QUARTER_TARGET_IMPORT_MAX_ROWS = env.int("QUARTER_TARGET_IMPORT_MAX_ROWS", default=200_000)
SPREADSHEET_MAX_PARTS = env.int("SPREADSHEET_MAX_PARTS", default=200)  # zip members; Excel writes about 10
SPREADSHEET_MAX_PART_BYTES = env.int("SPREADSHEET_MAX_PART_BYTES", default=128 * 1024 * 1024)  # one, unpacked
SPREADSHEET_MAX_TOTAL_BYTES = env.int("SPREADSHEET_MAX_TOTAL_BYTES", default=256 * 1024 * 1024)  # all, unpacked
SPREADSHEET_MAX_RATIO = env.int("SPREADSHEET_MAX_RATIO", default=100)  # unpacked/packed, parts over 1 MiB
SPREADSHEET_MAX_ELEMENTS_PER_RECORD = env.int("SPREADSHEET_MAX_ELEMENTS_PER_RECORD", default=50_000)  # a row, a text
SPREADSHEET_READ_SECONDS = env.int("SPREADSHEET_READ_SECONDS", default=60)  # under gunicorn's 120 s timeout
# A request may carry a few attachments of the size above.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Request bodies and logins (issue 12) ------------------------------------------------------
# Every request body is refused with 413 before Django reads it when it is longer than its URL
# allows (sangkien.request_limits): an upload URL takes its files' limits above plus this much for
# its other fields; every other URL takes this much only. deploy/nginx.conf sets the same caps per
# URL (tests/test_proxy.py keeps them in step): raise both together.
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=1024 * 1024)

# The client's address is REMOTE_ADDR unless the request comes from one of the portal's own reverse
# proxies, TRUSTED_PROXY_ADDRESSES (addresses or CIDR networks; in docker-compose.yml nginx's fixed
# address on the compose network), and went through TRUSTED_PROXY_COUNT of them (1 in
# docker-compose.yml), each appending the address it saw to X-Forwarded-For: the address that many
# entries from the right is then the client's. Anything left of it was sent by the client and is never
# trusted; nor is the header of a request from any other peer (sangkien/client_address.py). Off by
# default: a direct client could forge the header.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXY_ADDRESSES = env.list("TRUSTED_PROXY_ADDRESSES", default=[])
if TRUSTED_PROXY_COUNT > 0 and not TRUSTED_PROXY_ADDRESSES:
    # Trusting the header from anyone lets a direct client choose its address; trusting it from no one
    # puts every client behind the proxy under the proxy's address, one lockout for all.
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT is set: set TRUSTED_PROXY_ADDRESSES to the proxies' addresses too.")
for _proxy in TRUSTED_PROXY_ADDRESSES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXY_ADDRESSES: {_proxy!r} is not an IP address or network.") from None

# Login lockout (django-axes, database handler: a Redis outage neither breaks nor disables it).
# LOGIN_FAILURE_LIMIT failed logins for one username, or LOGIN_FAILURE_LIMIT_PER_ADDRESS from one
# client address (higher: a whole office may share one address), each within LOGIN_COOLOFF_MINUTES
# of the last, block logging in for that username or address on the site and in the admin until
# LOGIN_COOLOFF_MINUTES pass without another try. A superuser unlocks earlier by deleting the
# "access attempts" in the admin (README, Production).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before the password is checked
    # ModelBackend reading the account's unit with it (one query less on every page). A session
    # opened before it was named here ends once: its owner signs in again.
    "unions.backends.AccountBackend",
]
AXES_HANDLER = "sangkien.lockout.PortalAxesHandler"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own, not the pair
AXES_CLIENT_IP_CALLABLE = "sangkien.client_address.client_address"
AXES_USERNAME_CALLABLE = "sangkien.lockout.login_username"
AXES_USERNAME_FORM_FIELD = "username"  # axes' default, named because login_username reads it
AXES_LOCKOUT_CALLABLE = "sangkien.lockout.lockout_response"
# A successful login clears that username's failures only (PortalAxesHandler), never the address's:
# one valid account would otherwise let an attacker reset the count between guesses at others.
AXES_RESET_ON_SUCCESS = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # fpdf2 subsets the fonts of each PDF through fontTools, which logs every glyph it keeps at INFO
    # (a hundred lines a document): its warnings only.
    "loggers": {"fontTools": {"level": "WARNING"}},
}
