"""Signals the referrals app sends for apps that build on it.

Referrals know nothing of meetings (dependencies point one way), so when a
case closes the referrals app asks its listeners which organisations must
keep access for now (the meetings app answers: those owning open actions).
"""

from django.dispatch import Signal

# Sent while a case closes, with ``referral``; each receiver returns a set of
# organisation ids whose shares stay in force until their work is done.
shares_kept_on_close = Signal()
