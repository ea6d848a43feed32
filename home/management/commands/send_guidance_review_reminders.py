from django.core.management.base import BaseCommand

from home.services import guidance_review_reminders_send


class Command(BaseCommand):
    help = (
        "Email the owners of guidance that is past its review date, once per "
        "review date. Run it daily (cron or a scheduler)."
    )

    def handle(self, *args, **options):
        sent = guidance_review_reminders_send()
        self.stdout.write(f"Sent {sent} reminder{'s' if sent != 1 else ''}.")
