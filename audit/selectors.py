"""Reading the audit log: every reader goes through ``audit_events``."""

from django.db.models import QuerySet

from .models import AuditEvent
from .services import audit_chain_pending

# How long a reader waits for a writer that is chaining at that moment. A lock
# held longer (a stuck transaction) is the health check's and verify_audit's
# to report; the reader then sees the events chained so far.
READ_WAIT_SECONDS = 1.0


def audit_events() -> QuerySet[AuditEvent]:
    """The audit log, including every event recorded before the call.

    Events recorded by other writers may still be waiting to join the chain
    (audit.services.audit_record): they are chained first, so a reader never
    misses an event whose request has already answered.
    """
    audit_chain_pending(wait=READ_WAIT_SECONDS)
    return AuditEvent.objects.all()
