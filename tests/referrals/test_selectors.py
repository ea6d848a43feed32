"""Who sees which referral, what is withheld from them, and repeat referrals."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from accounts.models import Role
from referrals.answers import WITHHELD_ANONYMOUS, WITHHELD_NOT_DISCLOSED, all_answers
from referrals.models import Referral, ReferralDraft
from referrals.selectors import (
    earlier_referrals,
    redaction_for,
    referral_for,
    referrals_visible_to,
)
from referrals.services import draft_start, referral_submit
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import acknowledge, agreement_tree
from tests.factories.referrals import complete_answers, person, share

pytestmark = pytest.mark.django_db


def quick_referral(user, **options) -> Referral:
    """A submitted referral, its draft filled in one go (faster than by section)."""
    draft = draft_start(user=user)
    ReferralDraft.objects.filter(pk=draft.pk).update(
        answers=complete_answers(**options)
    )
    return referral_submit(draft=draft, user=user)[0]


class World:
    """Three organisations: A and B refer, A's referral is shared with C."""

    def __init__(self):
        self.a, self.b, self.c = (OrganisationFactory() for _ in range(3))
        self.a_referrer = UserFactory(organisation=self.a, roles=[Role.REFERRER])
        self.b_referrer = UserFactory(organisation=self.b, roles=[Role.REFERRER])
        self.from_a = quick_referral(self.a_referrer)
        self.from_b = quick_referral(self.b_referrer)
        share(self.from_a, self.c)
        self.names = {self.from_a.pk: "A", self.from_b.pk: "B"}

    def seen_by(self, user) -> set[str]:
        return {self.names[r.pk] for r in referrals_visible_to(user)}


@pytest.fixture
def world():
    return World()


# Who, and what they see: A's referral, B's referral, or neither.
LADDER = [
    ("a colleague referrer at A", "a", {"roles": [Role.REFERRER]}, {"A"}),
    ("a referrer at B", "b", {"roles": [Role.REFERRER]}, {"B"}),
    ("a referrer at C, shared A's", "c", {"roles": [Role.REFERRER]}, {"A"}),
    ("a referrer elsewhere", None, {"roles": [Role.REFERRER]}, set()),
    ("a coordinator", None, {"roles": [Role.COORDINATOR]}, {"A", "B"}),
    ("a coordinator at C", "c", {"roles": [Role.COORDINATOR]}, {"A", "B"}),
    ("a signatory at A", "a", {"roles": [Role.SIGNATORY]}, set()),
    ("an editor at A", "a", {"roles": [Role.EDITOR]}, set()),
    ("a signatory at C", "c", {"roles": [Role.SIGNATORY]}, set()),
    ("a person at A with no role", "a", {"roles": []}, set()),
    (
        "a referrer and signatory at A",
        "a",
        {"roles": [Role.REFERRER, Role.SIGNATORY]},
        {"A"},
    ),
    ("an administrator", "none", {"roles": [], "is_superuser": True}, set()),
    ("an administrator at A", "a", {"roles": [], "is_superuser": True}, set()),
    (
        "an inactive referrer at A",
        "a",
        {"roles": [Role.REFERRER], "is_active": False},
        set(),
    ),
    (
        "an inactive coordinator",
        None,
        {"roles": [Role.COORDINATOR], "is_active": False},
        set(),
    ),
]


class TestVisibility:
    @pytest.mark.parametrize(
        ("who", "where", "options", "sees"), LADDER, ids=[row[0] for row in LADDER]
    )
    def test_who_sees_what(self, world, who, where, options, sees):
        if where == "none":
            options = {**options, "organisation": None}
        elif where is not None:
            options = {**options, "organisation": getattr(world, where)}
        user = UserFactory(**options)
        assert world.seen_by(user) == sees
        for referral in (world.from_a, world.from_b):
            name = world.names[referral.pk]
            if name in sees:
                assert referral_for(user, referral.reference) == referral
            else:
                # 404, never 403: a 403 would confirm the reference exists.
                with pytest.raises(Http404):
                    referral_for(user, referral.reference)

    def test_nobody_signed_in_sees_nothing(self, world):
        assert world.seen_by(AnonymousUser()) == set()

    def test_an_unknown_reference_is_not_found(self, world):
        coordinator = UserFactory(roles=[Role.COORDINATOR])
        with pytest.raises(Http404):
            referral_for(coordinator, "CM-1999-0001")

    def test_unsharing_hides_it_again(self, world):
        referrer_at_c = UserFactory(organisation=world.c, roles=[Role.REFERRER])
        world.from_a.shares.all().delete()
        assert world.seen_by(referrer_at_c) == set()

    def test_each_referral_is_listed_once(self, world):
        # Shared with its own organisation as well as C: still one row.
        share(world.from_a, world.a)
        assert referrals_visible_to(world.a_referrer).count() == 1

    def test_an_organisation_with_an_overdue_isa_sees_none(self, world, settings):
        _, isa, _, _ = agreement_tree(organisations=[world.a, world.b, world.c])
        acknowledge(isa.latest_version, world.b)
        acknowledge(isa.latest_version, world.c)
        settings.AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS = -1
        coordinator_at_a = UserFactory(organisation=world.a, roles=[Role.COORDINATOR])
        coordinator_at_b = UserFactory(organisation=world.b, roles=[Role.COORDINATOR])
        referrer_at_c = UserFactory(organisation=world.c, roles=[Role.REFERRER])

        assert world.seen_by(world.a_referrer) == set()
        assert world.seen_by(coordinator_at_a) == set()
        with pytest.raises(Http404):
            referral_for(world.a_referrer, world.from_a.reference)
        # Organisations that have acknowledged are not affected.
        assert world.seen_by(world.b_referrer) == {"B"}
        assert world.seen_by(coordinator_at_b) == {"A", "B"}
        assert world.seen_by(referrer_at_c) == {"A"}

        acknowledge(isa.latest_version, world.a)
        assert world.seen_by(world.a_referrer) == {"A"}


class TestRedaction:
    @pytest.fixture
    def flagged(self):
        referrer = UserFactory(roles=[Role.REFERRER])
        answers_with = {
            "people": [
                person(0, role="victim", name="Val Victim"),
                person(1, role="witness", name="Wyn Witness"),
                person(2, role="causing_harm", name="Harry Harm"),
            ],
            "do_not_disclose": True,
            "anonymous_source": True,
        }
        referral = quick_referral(referrer, **answers_with)
        other = OrganisationFactory()
        share(referral, other)
        return referral, referrer, other

    def test_coordinators_and_the_referring_organisation_see_everything(self, flagged):
        referral, referrer, _ = flagged
        colleague = UserFactory(
            organisation=referrer.organisation, roles=[Role.REFERRER]
        )
        coordinator = UserFactory(roles=[Role.COORDINATOR])
        assert redaction_for(referrer, referral) is None
        assert redaction_for(colleague, referral) is None
        assert redaction_for(coordinator, referral) is None

    def test_other_organisations_get_the_flags(self, flagged):
        referral, _, other = flagged
        outsider = UserFactory(organisation=other, roles=[Role.REFERRER])
        assert redaction_for(outsider, referral) == {
            "do_not_disclose": True,
            "anonymous_source": True,
        }

    def test_nothing_is_hidden_when_nothing_is_flagged(self):
        referral = quick_referral(UserFactory(roles=[Role.REFERRER]))
        outsider = UserFactory(roles=[Role.REFERRER])
        share(referral, outsider.organisation)
        assert redaction_for(outsider, referral) is None

    def test_what_other_organisations_are_shown(self, flagged):
        referral, _, other = flagged
        outsider = UserFactory(organisation=other, roles=[Role.REFERRER])
        sections = all_answers(
            referral.answers, redact=redaction_for(outsider, referral)
        )
        people = next(s for s in sections if s.section.slug == "people")
        victim, witness, harm = (
            {row.label: row.value for row in group.rows} for group in people.groups
        )
        # The victim's contact details are withheld, not their name.
        assert victim["Full name"] == "Val Victim"
        for label in (
            "Address",
            "Postcode",
            "Safe contact number",
            "GP surgery",
            "Who is safe to speak to about them?",
        ):
            assert victim[label] == WITHHELD_NOT_DISCLOSED
        # An anonymous source's witnesses are withheld entirely, but for their part.
        assert witness["Their part in the case"] == "Witness"
        assert witness["Full name"] == WITHHELD_ANONYMOUS
        assert witness["Address"] == WITHHELD_ANONYMOUS
        # The person causing harm is not protected from themselves.
        assert harm["Full name"] == "Harry Harm"
        assert harm["Address"] == "Flat 3, 12 Example Road"
        shown = repr(sections)
        assert "Wyn Witness" not in shown

    def test_the_referring_organisation_is_shown_everything(self, flagged):
        referral, referrer, _ = flagged
        sections = all_answers(
            referral.answers, redact=redaction_for(referrer, referral)
        )
        shown = repr(sections)
        assert "Wyn Witness" in shown
        assert "Withheld" not in shown


class TestEarlierReferrals:
    @pytest.fixture
    def referrer(self):
        return UserFactory(roles=[Role.REFERRER])

    def about(self, referrer, name, born=(2, 1, 1980), days_ago=0, **extra):
        referral = quick_referral(
            referrer, people=[person(0, name=name, born=born, **extra)]
        )
        if days_ago:
            Referral.objects.filter(pk=referral.pk).update(
                submitted_at=referral.submitted_at - timedelta(days=days_ago)
            )
            referral.refresh_from_db()
        return referral

    @pytest.mark.parametrize(
        "written", ["Mary-Jane O'Brien", "OBRIEN, mary jane", "mary  jane  o’brien"]
    )
    def test_the_same_person_is_found_however_the_name_is_written(
        self, referrer, written
    ):
        earlier = self.about(referrer, "Mary-Jane O'Brien", days_ago=30)
        now = self.about(referrer, written)
        (found,) = earlier_referrals(now)
        assert found.person_name == "Mary-Jane O'Brien"
        assert found.reference == earlier.reference
        assert found.submitted_at == earlier.submitted_at
        assert found.status == "Submitted"

    def test_within_twelve_months_only(self, referrer):
        self.about(referrer, "Sam Jones", days_ago=400)
        within = self.about(referrer, "Sam Jones", days_ago=360)
        now = self.about(referrer, "Sam Jones")
        assert [e.reference for e in earlier_referrals(now)] == [within.reference]

    def test_newest_first(self, referrer):
        older = self.about(referrer, "Sam Jones", days_ago=200)
        newer = self.about(referrer, "Sam Jones", days_ago=20)
        now = self.about(referrer, "Sam Jones")
        assert [e.reference for e in earlier_referrals(now)] == [
            newer.reference,
            older.reference,
        ]

    def test_a_different_date_of_birth_is_a_different_person(self, referrer):
        self.about(referrer, "Sam Jones", born=(3, 1, 1980), days_ago=10)
        assert earlier_referrals(self.about(referrer, "Sam Jones")) == []

    def test_a_different_name_is_a_different_person(self, referrer):
        self.about(referrer, "Sam Jonas", days_ago=10)
        assert earlier_referrals(self.about(referrer, "Sam Jones")) == []

    def test_without_a_date_of_birth_nothing_is_matched(self, referrer):
        self.about(referrer, "Sam Jones", born=None, age="46", days_ago=10)
        now = self.about(referrer, "Sam Jones", born=None, age="46")
        assert earlier_referrals(now) == []

    def test_later_referrals_are_not_earlier_ones(self, referrer):
        first = self.about(referrer, "Sam Jones", days_ago=10)
        self.about(referrer, "Sam Jones")
        assert earlier_referrals(first) == []

    def test_found_across_organisations(self, referrer):
        # Coordinators see every referral, so repeats count whoever made them.
        elsewhere = UserFactory(roles=[Role.REFERRER])
        earlier = self.about(elsewhere, "Sam Jones", days_ago=10)
        now = self.about(referrer, "Sam Jones")
        assert [e.reference for e in earlier_referrals(now)] == [earlier.reference]

    def test_the_stored_date_of_birth_is_the_one_typed(self, referrer):
        referral = self.about(referrer, "Sam Jones", born=(29, 2, 1980))
        assert referral.people.get().date_of_birth == date(1980, 2, 29)
