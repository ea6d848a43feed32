"""The demo's incident, made through the services: a temporary housing
officer's laptop, signed in to the portal, is stolen. A housing caseworker
reports it naming one of housing's cases; the coordinator sets it high and
under investigation and, as containment, deactivates the officer's account.
The 72-hour clock is still running. All of it invented, in our own words.
"""

from datetime import timedelta

from django.utils import timezone

from accounts.models import Organisation, User
from referrals.models import Referral

from .models import Containment, Incident, Severity, Status
from .services import Target, containment_take, incident_report, incident_triage

TEMPORARY_OFFICER = "housing.temporary"


def demo_incidents_seed() -> Incident | None:
    """Make the demo incident once; returns it, or None if it exists."""
    reporter = User.objects.get(username="housing.referrer")
    if Incident.objects.filter(reported_by=reporter).exists():
        return None
    coordinator = User.objects.get(username="coordinator")
    housing = Organisation.objects.get(slug="housing")
    officer, _ = User.objects.get_or_create(
        username=TEMPORARY_OFFICER,
        defaults={
            "first_name": "Robin",
            "last_name": "Temporary",
            "email": f"{TEMPORARY_OFFICER}@example.org",
            "organisation": housing,
            "job_title": "Temporary housing officer",
        },
    )
    officer.set_unusable_password()
    officer.save(update_fields=["password"])
    case = Referral.objects.filter(organisation=housing).order_by("pk").first()
    incident = incident_report(
        user=reporter,
        what_happened=(
            "A temporary housing officer's laptop was taken from their car "
            "overnight. The portal was left signed in on it, with a case open."
        ),
        discovered_at=timezone.now() - timedelta(hours=20),
        happened_on=timezone.localdate() - timedelta(days=1),
        referrals=[case] if case else [],
    )
    incident_triage(
        incident=incident,
        user=coordinator,
        severity=Severity.HIGH,
        status=Status.INVESTIGATING,
    )
    containment_take(
        incident=incident,
        user=coordinator,
        action=Containment.DEACTIVATE_USER,
        target=Target(person=officer),
        reason="The stolen laptop was signed in as this account.",
    )
    return incident
