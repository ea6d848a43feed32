"""Signals the accounts app sends for apps that build on it.

Accounts know nothing of referrals (dependencies point one way), so when a
session ends while its person was saving a form, the apps that own forms are
asked to keep what was posted; and when the way a person signs in changes,
the notices app tells them (it may not have been their doing).
"""

from django.dispatch import Signal

# Sent when a verified person's session ends for inactivity on a POST whose
# CSRF token has been checked, with ``request`` and ``user`` (the person the
# ended session belonged to), before the session is emptied. A receiver that
# keeps the posted form, in that person's own records only, returns what to
# call it on the sign-in page (a section's title); others return None.
form_posted_after_timeout = Signal()

# Sent inside the change's transaction with ``user`` and ``change`` (one of
# SECOND_FACTOR_CHANGES) when a person's second factor is set up, replaced,
# reset by an administrator, or their backup codes are renewed.
second_factor_changed = Signal()
SECOND_FACTOR_CHANGES = ("enrolled", "removed", "backup_codes_renewed")
