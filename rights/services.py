"""Keeping the person index in step with the records it reads.

``record_index`` rewrites one record's rows (the receivers call it on every
save), ``record_unindex`` deletes them, and ``person_index_rebuild`` rewrites
everything: the nightly job, for writes that skip signals (``bulk_create``,
``update``), and after a migration. All of it is derived data: rebuilding
from the records gives the same rows.
"""

import logging
import time
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record

from .audit_actions import RightsAction
from .models import PersonMention
from .sources import SOURCES, Source

logger = logging.getLogger(__name__)

REBUILD_BATCH = 500


def _rows(source: Source, record, source_type: ContentType, now) -> list:
    belongs = source.belongs(record)
    recorded_at = source.recorded_at(record)
    return [
        PersonMention(
            source_type=source_type,
            source_id=record.pk,
            referral_id=belongs.get("referral_id"),
            meeting_id=belongs.get("meeting_id"),
            share_id=belongs.get("share_id"),
            recorded_at=recorded_at,
            indexed_at=now,
            **vars(mention),
        )
        for mention in source.mentions(record)
    ]


def record_index(*, source: Source, record_id: int) -> int:
    """Rewrite the index rows of one record, read afresh; a record that is
    gone loses its rows. Returns how many rows it now has."""
    source_type = ContentType.objects.get_by_natural_key(
        *source.model.lower().split(".")
    )
    with transaction.atomic():
        PersonMention.objects.filter(
            source_type=source_type, source_id=record_id
        ).delete()
        record = source.records().filter(pk=record_id).first()
        if record is None:
            return 0
        rows = _rows(source, record, source_type, timezone.now())
        PersonMention.objects.bulk_create(rows)
    return len(rows)


def record_unindex(*, source: Source, record_id: int) -> int:
    source_type = ContentType.objects.get_by_natural_key(
        *source.model.lower().split(".")
    )
    deleted, _ = PersonMention.objects.filter(
        source_type=source_type, source_id=record_id
    ).delete()
    return deleted


def referral_unindex(*, referral_id: int) -> int:
    """Every row that belongs to a case, whatever record it came from: what a
    disposal takes (``rights.retention``)."""
    deleted, _ = PersonMention.objects.filter(referral_id=referral_id).delete()
    return deleted


@dataclass
class RebuildResult:
    records: int = 0
    rows: int = 0
    seconds: float = 0.0


def person_index_rebuild() -> RebuildResult:
    """Rewrite the whole index from the records, in one transaction so that
    a search never sees it half built. Audited with its counts."""
    started = time.monotonic()
    result = RebuildResult()
    now = timezone.now()
    with transaction.atomic():
        PersonMention.objects.all().delete()
        for source in SOURCES:
            source_type = ContentType.objects.get_by_natural_key(
                *source.model.lower().split(".")
            )
            batch: list[PersonMention] = []
            for record in source.records().iterator(chunk_size=REBUILD_BATCH):
                result.records += 1
                batch += _rows(source, record, source_type, now)
                if len(batch) >= REBUILD_BATCH:
                    PersonMention.objects.bulk_create(batch)
                    result.rows += len(batch)
                    batch = []
            PersonMention.objects.bulk_create(batch)
            result.rows += len(batch)
        result.seconds = time.monotonic() - started
        audit_record(
            action=RightsAction.INDEX_REBUILT,
            detail={"count": result.records, "rows": result.rows},
        )
    logger.info(
        "Person index rebuilt: %s records, %s rows in %.1fs",
        result.records,
        result.rows,
        result.seconds,
    )
    return result
