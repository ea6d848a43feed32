"""Signals the referrals app sends for apps that build on it.

Referrals know nothing of meetings (dependencies point one way), so when a
case closes the referrals app asks its listeners which organisations must
keep access for now (the meetings app answers: those owning open actions).
"""

from django.dispatch import Signal

# Sent while a case closes, with ``referral``; each receiver returns a set of
# organisation ids whose shares stay in force until their work is done.
shares_kept_on_close = Signal()

# Sent while a case is disposed of (``referrals.retention``), with ``referral``,
# inside the disposal's transaction, before the referral's own rows go. Each
# app holding the case's content elsewhere (meetings: agenda items, actions,
# packs; documents: shared files) deletes it and returns a
# ``referrals.retention.Destroyed`` saying what it destroyed, for the
# tombstone's counts and hash.
case_disposing = Signal()

# Sent when a submitted referral's answer is corrected
# (``referrals.services.amending``), with ``referral`` and ``amendment``,
# inside the correction's transaction. Each app showing the case's answers
# elsewhere brings them up to date (meetings: rebuilds the packs that showed
# the old value) and returns the organisation ids it gave the case to, which
# are told of the correction (UK GDPR Article 19).
case_amended = Signal()

# Sent by the daily disposal run (``referrals.retention.retention_apply``)
# after the cases, with ``schedule`` (the ISA periods in force), ``today``,
# ``dry_run`` and ``authorised_by``. Each app keeping records on a period of
# their own (documents: shared-file records; meetings: packs, minutes and
# attendance) disposes of those due, except what a legal hold keeps, and
# returns a ``referrals.retention.RecordsDisposed`` saying what it destroyed,
# or in a dry run what it would.
records_disposing = Signal()

# Sent when coordinators open the *Retention and disposal* page, with
# ``schedule`` (or None) and ``today``. Each app answers with a
# ``referrals.retention.RetentionSection``: its records due within
# ``RETENTION_REVIEW_DAYS`` and what it has destroyed, drawn by its own
# template, so the page shows everything that goes next.
retention_sections = Signal()
