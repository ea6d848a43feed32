"""Run once after restoring the database from a dump (docs/operations.md)."""

from django.core.management.base import BaseCommand, CommandError

from accounts.services import accounts_after_restore


class Command(BaseCommand):
    help = (
        "After a restore: spend every unused backup code, refuse every "
        "authenticator code shown before now, and sign everyone out. With "
        "--reset-authenticators, remove every second factor so everyone enrols "
        "again (for a dump that may have been exposed). Audited."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-authenticators",
            action="store_true",
            help="Remove every authenticator and backup code: everyone sets "
            "up their second factor again at their next sign-in.",
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Confirm: this signs everyone out and spends their backup codes.",
        )

    def handle(self, *args, **options):
        if not options["yes"]:
            raise CommandError(
                "This signs everyone out and spends every backup code. Run it "
                "only on a restored copy, with --yes."
            )
        counts = accounts_after_restore(
            reset_authenticators=options["reset_authenticators"]
        )
        self.stdout.write(
            f"Signed out {counts['users_signed_out']} people "
            f"({counts['sessions_deleted']} stored sessions deleted); spent "
            f"{counts['backup_codes_spent']} unused backup codes."
        )
        if options["reset_authenticators"]:
            self.stdout.write(
                f"Removed {counts['authenticators_removed']} authenticators: "
                "everyone sets up their second factor again when they sign in."
            )
        else:
            self.stdout.write(
                f"Moved {counts['authenticators_advanced']} authenticators past "
                "every code shown before now. Tell people to get new backup "
                "codes from their account page."
            )
