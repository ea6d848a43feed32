"""Delete notices older than ``NOTICE_RETENTION_DAYS`` (daily, jobs.schedule)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from notices.services import notices_delete_old


class Command(BaseCommand):
    help = "Delete What's new notices older than DJANGO_NOTICE_RETENTION_DAYS."

    def handle(self, *args, **options):
        deleted = notices_delete_old()
        self.stdout.write(
            f"Deleted {deleted} notices older than "
            f"{settings.NOTICE_RETENTION_DAYS} days"
        )
