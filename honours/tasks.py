"""Building a large decision's documents in the background (queue "exports")."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.core.cache import cache

from honours import documents
from honours.models import HonourDecision

BUILD_TIME_LIMIT = 10 * 60  # 5,000 units take 16 s (bench/README.md §11)
logger = logging.getLogger(__name__)


@shared_task(bind=True, name="honours.build_document", acks_late=True, max_retries=6, time_limit=BUILD_TIME_LIMIT)
def build_document(self: Task, decision_id: int, kind: str) -> str:
    """Idempotent: a document already there is left as it is; one being built by another worker is
    looked at again later (its lock goes stale if that worker died)."""
    decision = HonourDecision.objects.select_related("program", "corrects").filter(pk=decision_id).first()
    if decision is None or not decision.is_issued or kind not in documents.KINDS:
        return "nothing"
    try:
        documents.build(decision, kind)
    except documents.Busy:
        raise self.retry(countdown=30) from None
    except Exception:
        # The page stops waiting and says so (for as long as a queued build is not asked again).
        cache.set(documents.FAILED_KEY.format(pk=decision_id, kind=kind), True, BUILD_TIME_LIMIT)
        logger.exception("Could not build the %s of honours decision %s", kind, decision_id)
        raise
    return "built"
