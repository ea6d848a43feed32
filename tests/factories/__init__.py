"""factory_boy factories shared by every test package."""

import factory
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Organisation, OrganisationType, Role, User, role_group

TEST_PASSWORD = "correct-horse-battery-staple"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Partner agency {n}")
    slug = factory.Sequence(lambda n: f"partner-{n}")
    type = OrganisationType.HOUSING

    @factory.post_generation
    def party(self, create, extracted, **kwargs):
        """Partners are parties to the ISA in force and have acknowledged it,
        or they see no case material; ``party=False`` makes an outsider."""
        if create and extracted is not False:
            from tests.factories.agreements import party_to_stand_in_agreement

            party_to_stand_in_agreement(self)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Example{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*[role_group(Role(r)) for r in extracted])


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "Authenticator app"
    confirmed = True


def three_agencies() -> dict:
    """Agencies A, B and C with a referrer, a signatory and an editor each, a
    coordinator at C and an administrator: the people of an access matrix,
    keyed by (agency letter, role label)."""
    people = {}
    for letter in "ABC":
        organisation = OrganisationFactory(name=f"Agency {letter}")
        for role in (Role.REFERRER, Role.SIGNATORY, Role.EDITOR):
            people[(letter, role.label)] = UserFactory(
                organisation=organisation, roles=[role]
            )
    people[("C", "Coordinator")] = UserFactory(
        organisation=organisation, roles=[Role.COORDINATOR]
    )
    people[("-", "Administrator")] = UserFactory(
        organisation=None, is_superuser=True, is_staff=True
    )
    return people
