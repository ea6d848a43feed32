"""Print a demo user's current authenticator code (development only)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Print the current 6-digit code for a demo user's authenticator."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError("Only available with development settings.")
        device = TOTPDevice.objects.filter(
            user__username=username, confirmed=True
        ).first()
        if device is None:
            raise CommandError(f"No authenticator is set up for {username!r}.")
        code = totp(
            device.bin_key,
            step=device.step,
            t0=device.t0,
            digits=device.digits,
            drift=device.drift,
        )
        remaining = device.step - int(time.time() - device.t0) % device.step
        self.stdout.write(f"{code:0{device.digits}d}")
        self.stderr.write(
            f"Valid for {remaining} more seconds. Each code works once; "
            "run this again for the next one."
        )
