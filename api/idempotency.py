"""`Idempotency-Key`: a write through the API done once, however often it is sent.

The client names each write with a key of its own (a UUID, say) and sends any retry of it with the
same key. The key is claimed (api.models.IdempotentRequest, unique per token) in the write's own
transaction before anything is written, and the answer is stored with it:
- a retry of a write that succeeded gets its answer again (the same status and body, and
  `Idempotent-Replayed: true`) and writes nothing;
- the same key with another request (another body, or another operation): 422;
- a refused request (the form's errors, 400) leaves nothing behind: its claim is rolled back with the
  rest, and the client may correct the body and send it again with the same key;
- two requests with the same key at once: the second waits for the first's transaction (the unique
  constraint), then answers as a retry; if the first still runs after CLAIM_WAIT, 409 (try again).
Keys are kept for KEEP, then pruned (api.tasks.prune_idempotency_keys, hourly)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

from django.db import IntegrityError, OperationalError, connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request

from api.models import ApiToken, IdempotentRequest
from initiatives.models import Initiative

HEADER = "Idempotency-Key"
# Visible ASCII (no spaces), 1 to 200 characters: a UUID, a ULID, a hash or the client's own id.
PATTERN = r"^[!-~]{1,200}$"
_KEY = re.compile(PATTERN)
KEEP = dt.timedelta(days=1)
# How long a request waits for another with the same key before it is answered 409 (PostgreSQL's
# lock_timeout for its claim only): a write takes milliseconds, so this one is stuck.
CLAIM_WAIT = dt.timedelta(seconds=5)
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout ends a wait


class Taken(Exception):
    """Another request with the same key was answered first (its transaction committed meanwhile)."""


class StillRunning(APIException):
    status_code = 409
    default_detail = gettext_lazy(
        "A request with this Idempotency-Key is still being processed: send it again in a few seconds."
    )
    default_code = "idempotency_key_in_use"


class KeyReused(APIException):
    status_code = 422
    default_detail = gettext_lazy(
        "This Idempotency-Key was used for a different request: give each new request a new key."
    )
    default_code = "idempotency_key_reused"


def key_of(request: Request) -> str:
    """The request's key, or 400."""
    key = request.headers.get(HEADER, "")
    if not _KEY.match(key):
        raise ValidationError(
            {
                "detail": _(
                    "Give an Idempotency-Key header: 1 to 200 visible ASCII characters (a UUID, say), "
                    "the same for every retry of this request."
                )
            }
        )
    return key


def request_digest(request: Request) -> str:
    """The request as a retry repeats it: its operation and its body read as JSON (so a retry whose
    client spaced or ordered the keys otherwise is the same request)."""
    body = json.dumps(request.data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def answered(*, token: ApiToken, key: str, digest: str) -> IdempotentRequest | None:
    """The answer a request with this key got, if one did; 422 if it was another request."""
    found = IdempotentRequest.objects.filter(token=token, key=key).first()
    if found is not None and found.digest != digest:
        raise KeyReused
    return found


def claim(*, token: ApiToken, key: str, digest: str) -> IdempotentRequest:
    """Claim the key: the first statement of the caller's transaction (so that on Taken or
    StillRunning nothing else is rolled back with it, and no savepoint is needed). Waits, at most
    CLAIM_WAIT, for a request with the same key still being written."""
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:
            milliseconds = int(CLAIM_WAIT.total_seconds() * 1000)
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{milliseconds}ms"])
        try:
            claimed = IdempotentRequest.objects.create(token=token, key=key, digest=digest)
        except IntegrityError as error:
            raise Taken from error
        except OperationalError as error:
            if getattr(error.__cause__, "pgcode", None) == LOCK_NOT_AVAILABLE:  # psycopg2's name for SQLSTATE
                raise StillRunning from error
            raise
        if postgresql:
            cursor.execute("SET LOCAL lock_timeout TO DEFAULT")  # the write itself waits as it always did
    return claimed


def record(claimed: IdempotentRequest, *, status: int, response: bytes, initiative: Initiative) -> None:
    """The answer to the claimed request, in its transaction."""
    IdempotentRequest.objects.filter(pk=claimed.pk).update(
        status=status, response=response.decode(), initiative=initiative
    )


def retried(*, token: ApiToken, key: str, digest: str) -> IdempotentRequest:
    """After Taken: the answer of the request that took the key first."""
    found = answered(token=token, key=key, digest=digest)
    if found is None:  # pruned in between: the client retried after a day
        raise StillRunning
    return found


def prune() -> int:
    """Forget the keys older than KEEP; returns how many."""
    deleted, _by_model = IdempotentRequest.objects.filter(created_at__lt=timezone.now() - KEEP).delete()
    return deleted
