"""The demo's withdrawn partner, made through the services: Riverside
Community Trust, a small voluntary group, closed its befriending service.
The coordinator records the withdrawal, every step runs, and its single
point of contact has been sent the certificate link but has not confirmed
yet. It had not acknowledged the agreement, so it never received case
material and its download list is empty. All of it invented."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import Organisation, OrganisationType, Role, User, role_group

from .models import Withdrawal
from .services import withdrawal_record, withdrawal_run

SLUG = "riverside"
NAME = "Riverside Community Trust"


def _person(username, first, last, title, organisation, roles) -> User:
    person, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@example.org",
            "organisation": organisation,
            "job_title": title,
        },
    )
    if created:
        # Nobody signs in as them: they are suspended by the withdrawal.
        person.set_unusable_password()
        person.save(update_fields=["password"])
        person.groups.add(*[role_group(role) for role in roles])
    return person


def demo_withdrawal_seed() -> Withdrawal | None:
    """Make the demo withdrawal once; returns it, or None if it exists."""
    if Withdrawal.objects.filter(organisation__slug=SLUG).exists():
        return None
    trust, _ = Organisation.objects.get_or_create(
        slug=SLUG, defaults={"name": NAME, "type": OrganisationType.VOLUNTARY}
    )
    contact = _person(
        "riverside.contact", "Morgan", "Ellis", "Volunteer coordinator", trust,
        [Role.REFERRER, Role.SIGNATORY],
    )  # fmt: skip
    _person(
        "riverside.volunteer", "Jesse", "Marsh", "Befriending volunteer", trust,
        [Role.REFERRER],
    )  # fmt: skip
    trust.single_point_of_contact = contact
    trust.save(update_fields=["single_point_of_contact"])
    withdrawal = withdrawal_record(
        organisation=trust,
        withdrawn_on=timezone.localdate() - timedelta(days=2),
        reason=(
            "The trust's befriending service closed when its funding ended; "
            "its trustees gave notice under the agreement's exit clause."
        ),
        user=User.objects.get(username="coordinator"),
    )
    return withdrawal_run(withdrawal=withdrawal)
