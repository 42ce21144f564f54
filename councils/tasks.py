"""Building a closed round's documents in the background (queue "exports")."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.core.cache import cache

from councils import documents
from councils.models import SelectionRound
from sangkien.queueing import enqueue_on_commit

# A round of a few hundred nominations takes seconds; the limit only stops a build that hangs.
BUILD_TIME_LIMIT = 10 * 60
logger = logging.getLogger(__name__)


@shared_task(bind=True, name="councils.build_document", acks_late=True, max_retries=6, time_limit=BUILD_TIME_LIMIT)
def build_document(self: Task, round_id: int, name: str) -> str:
    """Idempotent: a document already there is left as it is; one being built by another worker is
    looked at again later (its lock goes stale if that worker died)."""
    selection_round = SelectionRound.objects.filter(pk=round_id).first()
    if selection_round is None or not selection_round.is_closed or name not in documents.KINDS:
        return "nothing"
    try:
        documents.build(selection_round, name)
    except documents.Busy:
        raise self.retry(countdown=30) from None
    except Exception:
        # The page stops waiting and says so (for as long as a queued build is not asked again).
        cache.set(documents.FAILED_KEY.format(pk=round_id, name=name), True, BUILD_TIME_LIMIT)
        logger.exception("Could not build the %s of selection round %s", name, round_id)
        raise
    return "built"


def enqueue_document(selection_round: SelectionRound, name: str) -> None:
    """Queue the build of one of the round's documents once the transaction commits (asked for
    before it was there)."""
    enqueue_on_commit(build_document, selection_round.pk, name)


def enqueue_documents(selection_round: SelectionRound) -> None:
    """Queue the build of the round's four documents once the transaction commits (the round has
    just closed): they are there by the time anyone asks for them."""
    for name in documents.KINDS:
        enqueue_document(selection_round, name)
