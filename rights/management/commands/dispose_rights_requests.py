"""Delete the data protection officer's requests whose period has ended
(daily, jobs.schedule; rights.disposal)."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from rights.disposal import rights_requests_dispose


class Command(BaseCommand):
    help = (
        "Delete subject access, objection and erasure requests closed or "
        "decided more than DJANGO_RIGHTS_REQUEST_RETENTION_MONTHS ago."
    )

    def handle(self, *args, **options):
        done = rights_requests_dispose(day=timezone.localdate())
        self.stdout.write(
            f"Deleted {done.access_requests} subject access requests "
            f"({done.bundles} bundles) and {done.other_requests} objection or "
            f"erasure requests older than "
            f"{settings.RIGHTS_REQUEST_RETENTION_MONTHS} months"
        )
