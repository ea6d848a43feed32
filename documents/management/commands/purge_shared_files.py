from django.core.management.base import BaseCommand

from documents.services import shared_files_purge


class Command(BaseCommand):
    help = (
        "Delete the stored files of expired and recalled shares; the rows and "
        "download history stay until the ISA's shared-file period, when "
        "apply_retention destroys them. Run it hourly. Files no row refers "
        "to are deleted by sweep_storage."
    )

    def handle(self, *args, **options):
        purged = shared_files_purge()
        self.stdout.write(f"Deleted {purged} stored file{'s' if purged != 1 else ''}.")
