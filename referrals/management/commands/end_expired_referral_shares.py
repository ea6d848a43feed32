"""End shares of cases past their end date: run it daily, from cron."""

from django.core.management.base import BaseCommand

from referrals.services import referral_shares_end_expired


class Command(BaseCommand):
    help = (
        "End every share of a case with another organisation whose end date "
        "has passed. The selectors already ignore such shares; this records "
        "the end, in the share and in the audit log."
    )

    def handle(self, *args, **options):
        count = referral_shares_end_expired()
        noun = "share" if count == 1 else "shares"
        self.stdout.write(f"Ended {count} referral {noun} past their end date.")
