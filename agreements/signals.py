"""Signals the agreements app sends for apps that build on it.

Agreements know nothing of referrals or meetings (dependencies point one
way): when a new ISA version drops organisations, the apps holding case
material listen and withdraw it (docs/features.md, "Who sees what").
"""

from django.dispatch import Signal

# Sent inside the publishing transaction with ``version`` and
# ``organisation_ids``: the signatories of the previous version of the same
# ISA that the new version no longer names.
organisations_dropped = Signal()
