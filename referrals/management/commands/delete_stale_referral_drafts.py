"""Delete referral drafts left untouched too long: run it daily, from cron."""

from django.conf import settings
from django.core.management.base import BaseCommand

from referrals.services import drafts_delete_stale


class Command(BaseCommand):
    help = (
        "Delete unsubmitted referral drafts, and files attached to them, that "
        "nobody has changed for DJANGO_REFERRAL_DRAFT_RETENTION_DAYS days "
        "(default 90). Each deletion is in the audit log."
    )

    def handle(self, *args, **options):
        count = drafts_delete_stale()
        noun = "draft" if count == 1 else "drafts"
        self.stdout.write(
            f"Deleted {count} referral {noun} unchanged for "
            f"{settings.REFERRAL_DRAFT_RETENTION_DAYS} days."
        )
