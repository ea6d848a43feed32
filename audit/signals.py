"""Signals the audit app sends for apps that build on it.

Audit sits below every domain app (docs/architecture.md), so it cannot read
the Information Sharing Agreement that says how long audit events are kept.
It asks instead, and the agreements app answers from the ISA version in
force (``agreements.receivers``).
"""

from django.dispatch import Signal

# Sent with ``on`` (a date) whenever the audit retention period is needed
# (``audit.segments.audit_retention_in_force``). Each receiver returns an
# ``audit.segments.AuditRetention`` for that day, or None when it has no
# period to give; settings.AUDIT_RETENTION_YEARS applies when none does.
audit_retention_asked = Signal()
