"""The names of the audit events the files app records, in one place.

The values are stored in the audit log and covered by its hashes: never
change one; add a new member instead (docs/audit.md lists them all).
"""

from enum import StrEnum


class FileAction(StrEnum):
    """The file layer's own housekeeping."""

    STORAGE_SWEPT = "storage.swept"
