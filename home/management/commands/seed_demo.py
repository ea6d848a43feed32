"""Load the demo partnership: organisations, people in each role, authenticators,
the published agreements with some acknowledgements, referrals at every
stage of screening, and two meetings (one held, one with papers issued).

Idempotent: running it again changes nothing and prints the same logins.
Refuses to run unless the settings allow demo data (never in production).
"""

import json
import os
import shlex
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import override_settings

from accounts.demo import demo_governance_seed, demo_people_seed
from agreements.demo import demo_agreements_seed
from documents.demo import demo_documents_seed
from home.demo import demo_guidance_seed
from incidents.demo import demo_incidents_seed
from meetings.demo import demo_meetings_seed
from notices.demo import demo_notices_seed
from partners.demo import demo_withdrawal_seed
from referrals.demo import demo_referrals_seed
from referrals.retention_demo import demo_retention_seed
from rights.demo import demo_person_index_seed, demo_sar_seed


class Command(BaseCommand):
    help = "Load demo organisations and users (development and test only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", help="Print the logins as JSON for scripts."
        )

    def handle(self, *args, **options):
        # With --json stdout carries only the logins, so progress goes to stderr.
        self._progress = self.stderr if options["json"] else self.stdout
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "Demo data is not allowed with these settings (production?). "
                "Use portal.settings.dev."
            )
        if not settings.DEMO_PASSWORD:
            raise CommandError("Set DJANGO_DEMO_PASSWORD to the demo password.")
        # The referral services email the referrer and coordinators once the
        # transaction commits. Demo mail would only flood the console (and break
        # --json on stdout), so it goes nowhere.
        with (
            override_settings(
                EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"
            ),
            transaction.atomic(),
        ):
            logins = self._step(
                "Organisations, people and authenticators", demo_people_seed
            )
            self._step(
                "Protocol and agreements, with acknowledgements", demo_agreements_seed
            )
            references = self._step("Referrals at every stage", demo_referrals_seed)
            meetings = self._step("Meetings and their packs", demo_meetings_seed)
            shares = self._step("Shared files", demo_documents_seed)
            guidance = self._step("Guidance pages", demo_guidance_seed)
            old_cases = self._step(
                "Closed cases due for disposal, one on legal hold",
                demo_retention_seed,
            )
            incident = self._step(
                "A data incident under investigation", demo_incidents_seed
            )
            review = self._step(
                "An access review in progress and an account request",
                demo_governance_seed,
            )
            notices = self._step("What's new, some of it read", demo_notices_seed)
            self._step(
                "A withdrawn partner, its certificate waiting", demo_withdrawal_seed
            )
            index = self._step(
                "Person index for the data protection officer",
                demo_person_index_seed,
            )
            sar = self._step("A subject access request in progress", demo_sar_seed)
        if options["json"]:
            self.stdout.write(json.dumps(logins, indent=2))
        else:
            self._print_table(logins)
            self._print_referrals(references)
            self.stdout.write(f"Created {meetings} demo meetings")
            self.stdout.write(
                f"Created {shares} demo file shares: sign in as police.referrer "
                "and open Shared files to see who has opened them"
            )
            self.stdout.write(f"Created {guidance} demo guidance pages")
            self.stdout.write(
                f"Created {len(old_cases)} closed cases for retention: "
                "/referrals/retention/ lists them for coordinators"
            )
            self.stdout.write(
                f"{notices['notices']} notices in What's new, {notices['read']} "
                "of them read: sign in as police.referrer and open What's new"
            )
            if incident is not None:
                self.stdout.write(
                    f"Created incident {incident.reference}, under investigation "
                    "with one containment action: /incidents/ lists it for "
                    "coordinators"
                )
            self.stdout.write(
                "Partner withdrawal: Riverside Community Trust has withdrawn and "
                "its destruction certificate is waiting; /partners/ lists it "
                "for coordinators"
            )
            self.stdout.write(
                f"Single point of contact: sign in as {review['contact']} and "
                "open /accounts/organisation/ to see the council's people; its "
                "access review (one confirmed, four waiting, deadline "
                f"{review['deadline']:%d %B %Y}) is at "
                "/accounts/organisation/recertification/"
            )
            self.stdout.write(
                f"Indexed {index.rows} mentions of people in {index.records} "
                f"records in {index.seconds:.1f}s: sign in as dpo and open "
                "Data protection to search them"
            )
            if sar is not None:
                reviewed = sum(item.is_reviewed for item in sar.items.all())
                self.stdout.write(
                    f"Subject access request {sar.reference} in progress: "
                    f"{reviewed} of {sar.items.count()} records reviewed, due "
                    f"{sar.due_on:%d %B %Y}; sign in as dpo and open Data "
                    "protection, Subject access requests"
                )

    def _step(self, label, seed):
        """Run one part of the demo, saying what it was and how long it took:
        a few of them take a while, and silence looks like a hang."""
        self._progress.write(f"{label}...", ending="")
        self._progress.flush()
        started = time.monotonic()
        result = seed()
        self._progress.write(f" done in {time.monotonic() - started:.1f}s")
        return result

    def _print_table(self, logins):
        write = self.stdout.write
        write("")
        write(
            self.style.SUCCESS(
                "Demo partnership loaded. Every demo user has the password:"
            )
        )
        write(f"    {logins[0]['password']}")
        write("")
        write(f"{'Username':<26} {'Roles':<26} Organisation")
        write("-" * 90)
        for login in logins:
            roles = ", ".join(login["roles"])
            write(f"{login['username']:<26} {roles:<26} {login['organisation']}")
        write("")
        write("Second factor: add a user to an authenticator app with its otpauth URI,")
        write("or sign in with one of its single-use backup codes:")
        for login in logins:
            write("")
            write(self.style.MIGRATE_HEADING(login["username"]))
            write(f"  otpauth URI:  {login['otpauth_uri']}")
            write(f"  backup codes: {' '.join(login['backup_codes'])}")
        write("")
        write(f"Or print the current 6-digit code: {demo_code_command()}")

    def _print_referrals(self, references):
        write = self.stdout.write
        write("")
        if references:
            write(
                self.style.SUCCESS(
                    f"Created {len(references)} demo referrals "
                    f"({references[0]} to {references[-1]}) and a draft for "
                    "police.referrer."
                )
            )
        else:
            write("Created 0 demo referrals: the demo referrals are already loaded.")


def demo_code_command() -> str:
    """The demo_code command as it can be typed from the project folder: with
    the Python running this command (the virtualenv's), not a bare ``python``."""
    python = Path(sys.executable)
    relative = os.path.relpath(python, settings.BASE_DIR)
    if not relative.startswith(".."):
        python = Path(relative)
    return f"{shlex.quote(str(python))} manage.py demo_code USERNAME"
