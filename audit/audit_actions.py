"""The names of the audit events the audit app records, in one place.

The values are stored in the audit log and covered by its hashes: never
change one; add a new member instead (docs/audit.md lists them all).
"""

from enum import StrEnum


class AuditAction(StrEnum):
    """The audit app's own events: reads of personal data and the log's screens."""

    EVENT_VIEWED = "audit.event_viewed"
    LOG_EXPORTED = "audit.log_exported"
    LOG_VIEWED = "audit.log_viewed"
    READ = "read"
    SEGMENT_DESTROYED = "audit.segment_destroyed"
    SEGMENT_SEALED = "audit.segment_sealed"


class AuthAction(StrEnum):
    """Signing in and the second factor. The audit app records sign-ins,
    sign-outs and lockouts from Django's signals; accounts records the rest."""

    ADMIN_REFUSED = "auth.admin_refused"
    AFTER_RESTORE = "auth.after_restore"
    BACKUP_CODES_REPLACED = "auth.backup_codes_replaced"
    BACKUP_CODE_USED = "auth.backup_code_used"
    DEVICE_ENROLLED = "auth.device_enrolled"
    DEVICE_REMOVED = "auth.device_removed"
    LOCKOUT = "auth.lockout"
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    # Event names, not secrets.
    PASSWORD_CHANGED = "auth.password_changed"  # noqa: S105
    PASSWORD_RESET = "auth.password_reset"  # noqa: S105
    PASSWORD_RESET_REQUESTED = "auth.password_reset_requested"  # noqa: S105
    SECOND_FACTOR = "auth.second_factor"
    SESSION_EXPIRED = "auth.session_expired"
