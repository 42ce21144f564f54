"""One click, one write: the one-time token a creating form carries.

The page issues a token signed for its user; the POST that saves first records it (a
`FormSubmission` row, in the same transaction as what it creates) with where its result lives. A
repeated POST of the same token, at once or later, creates nothing and is sent to that result. The
row's primary key makes this hold whatever the client does; the page's script only spares the
second request.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib import messages
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from initiatives.models import FormSubmission
from unions.http import AuthenticatedHttpRequest
from unions.models import User

SALT = "sangkien.once"
# A form left open longer than this is refused: its token has expired (the page says to reload).
MAX_AGE = dt.timedelta(days=1)
FIELD = "once"


def issue(*, user: User) -> str:
    """A new token for a form this user is about to fill."""
    return signing.dumps([user.pk, uuid.uuid4().hex], salt=SALT)


def token_of(signed: str | None, *, user: User) -> uuid.UUID | None:
    """The token a POST carries, if it was issued to this user and has not expired."""
    if not signed or len(signed) > 200:
        return None
    try:
        user_pk, key = signing.loads(signed, salt=SALT, max_age=MAX_AGE)
        token = uuid.UUID(key)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return token if user_pk == user.pk else None


def claim(*, token: uuid.UUID, user: User, purpose: str) -> FormSubmission | None:
    """Record the token inside the caller's transaction; None when another POST of the same form
    saved first (if that one is still running, this waits for it to commit or roll back)."""
    try:
        with transaction.atomic():
            return FormSubmission.objects.create(token=token, user=user, purpose=purpose)
    except IntegrityError:
        return None


def first_result(*, token: uuid.UUID) -> str:
    """Where the first POST of this form led."""
    submission = FormSubmission.objects.filter(pk=token).only("result_url").first()
    return submission.result_url if submission else ""


def prune() -> int:
    """Delete the tokens older than they may be posted (MAX_AGE); returns how many."""
    deleted, _ = FormSubmission.objects.filter(created_at__lt=timezone.now() - MAX_AGE).delete()
    return deleted


def record_result(submission: FormSubmission, url: str) -> None:
    submission.result_url = url
    submission.save(update_fields=["result_url"])


class AlreadySent(Exception):
    """Another POST of this form saved first; `url` is what it led to."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


@contextmanager
def once_only(*, token: uuid.UUID, user: User, purpose: str) -> Iterator[FormSubmission]:
    """The transaction a form's write runs in: claimed by its token first, so that of two POSTs of
    one form exactly one writes; the other raises AlreadySent with the first one's result."""
    with transaction.atomic():
        submission = claim(token=token, user=user, purpose=purpose)
        if submission is None:
            raise AlreadySent(first_result(token=token))
        yield submission


@dataclass
class FormToken:
    """The token a form page carries: the one it was posted with if valid, or a new one."""

    value: str
    token: uuid.UUID | None
    expired: bool  # posted without a valid token: nothing may be written

    @classmethod
    def of(cls, request: AuthenticatedHttpRequest) -> FormToken:
        posted = request.POST.get(FIELD) if request.method == "POST" else None
        token = token_of(posted, user=request.user)
        if posted is not None and token is not None:  # token_of() finds none in nothing
            return cls(value=posted, token=token, expired=False)
        return cls(value=issue(user=request.user), token=None, expired=request.method == "POST")


@contextmanager
def once_only_for(
    token: FormToken | None, request: AuthenticatedHttpRequest, purpose: str
) -> Iterator[FormSubmission | None]:
    """The write of a creating form, claimed by its token (no token: an edit, claimed by its row)."""
    if token is None:
        with transaction.atomic():
            yield None
        return
    assert token.token is not None, "a form whose token expired writes nothing"
    with once_only(token=token.token, user=request.user, purpose=purpose) as submission:
        yield submission


def form_expired(request: HttpRequest) -> None:
    messages.error(request, _("This form has expired: what you typed is kept, send it again."))


def already_sent(request: HttpRequest, sent: AlreadySent, fallback: str) -> HttpResponse:
    messages.info(request, _("This form had already been sent: here is what it created."))
    return redirect(sent.url or fallback)
