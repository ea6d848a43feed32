"""Submitting a draft: one referral with a gapless reference, people kept
searchable, files moved across, emails without personal data, an audit trail."""

from datetime import date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from audit.models import AuditEvent
from portal import freshness
from referrals.answers import all_answers
from referrals.models import (
    EventKind,
    ReferenceCounter,
    Referral,
    ReferralDraft,
    ReferralPerson,
    RiskLevel,
    Status,
)
from referrals.services import (
    DraftIncomplete,
    ReferralRefused,
    attachment_add,
    draft_start,
    reference_allocate,
    referral_submit,
)
from referrals.services import drafts as draft_services
from tests.factories import UserFactory
from tests.factories.documents import PDF
from tests.factories.referrals import complete_answers, complete_draft, person

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def referrer():
    return UserFactory(roles=[Role.REFERRER], email="sam.referrer@example.org")


def frozen(*args):
    """Patch the clock: ``with frozen(2027, 3, 1): ...``."""
    moment = datetime(*args, tzinfo=LONDON)
    return mock.patch("django.utils.timezone.now", return_value=moment)


def ready_draft(user, answers=None) -> ReferralDraft:
    """A draft with every section filled in at once.

    Faster than saving it section by section (``complete_draft``, used once
    below for the whole journey); submitting checks every section again anyway.
    """
    draft = draft_start(user=user)
    ReferralDraft.objects.filter(pk=draft.pk).update(
        answers=answers or complete_answers()
    )
    return draft


def submit(user, **answer_options):
    draft = ready_draft(user, complete_answers(**answer_options))
    return referral_submit(draft=draft, user=user)[0]


class TestReferences:
    def test_the_first_referral_of_the_year_is_number_one(self, referrer):
        with frozen(2027, 3, 1, 10, 0):
            referral = submit(referrer)
        assert referral.reference == "CM-2027-0001"
        assert (referral.year, referral.number) == (2027, 1)

    def test_references_follow_on_and_start_again_each_year(self, referrer):
        with frozen(2027, 6, 1, 9, 0):
            first = submit(referrer)
            second = submit(referrer)
        with frozen(2027, 12, 31, 23, 59):
            third = submit(referrer)
        with frozen(2028, 1, 1, 0, 1):
            new_year = submit(referrer)
            next_one = submit(referrer)
        assert [r.reference for r in (first, second, third, new_year, next_one)] == [
            "CM-2027-0001",
            "CM-2027-0002",
            "CM-2027-0003",
            "CM-2028-0001",
            "CM-2028-0002",
        ]
        assert ReferenceCounter.objects.get(year=2027).last_number == 3

    def test_the_public_allocator_never_gives_a_used_number_again(self, referrer):
        # retention_demo uses it to move old cases into the years they were
        # sent; a counter restored from an older backup must not repeat one.
        with frozen(2027, 3, 1, 10, 0):
            submit(referrer)
            submit(referrer)
        ReferenceCounter.objects.filter(year=2027).update(last_number=0)
        assert reference_allocate(year=2027) == (3, "CM-2027-0003")
        assert reference_allocate(year=2019) == (1, "CM-2019-0001")

    def test_a_failed_submit_gives_its_number_back(self, referrer, monkeypatch):
        draft = ready_draft(referrer)
        real_audit = draft_services.audit_record

        def fail_on_submit(**kwargs):
            if kwargs["action"] == "referral.submitted":
                raise RuntimeError("audit log unavailable")
            return real_audit(**kwargs)

        with frozen(2027, 3, 1, 10, 0):
            monkeypatch.setattr(draft_services, "audit_record", fail_on_submit)
            with pytest.raises(RuntimeError):
                referral_submit(draft=draft, user=referrer)
            monkeypatch.setattr(draft_services, "audit_record", real_audit)

            assert not Referral.objects.exists()
            draft.refresh_from_db()
            assert not draft.is_submitted
            assert set(draft.answers) == {
                "eligibility",
                "referrer",
                "referral-type",
                "people",
                "household",
                "risk",
                "actions",
                "consent",
            }

            referral, created = referral_submit(draft=draft, user=referrer)
        assert created
        assert referral.reference == "CM-2027-0001"


class TestSubmitting:
    def test_the_referral_holds_the_cleaned_answers_and_flags(self, referrer):
        draft = complete_draft(
            referrer,
            complete_answers(urgent=True, do_not_disclose=True, anonymous_source=True),
        )
        referral, created = referral_submit(draft=draft, user=referrer)
        assert created
        assert referral.status == Status.SUBMITTED
        assert referral.organisation == referrer.organisation
        assert referral.referrer == referrer
        assert referral.urgent
        assert referral.do_not_disclose
        assert referral.anonymous_source
        assert referral.risk_level == RiskLevel.HIGH
        assert referral.asb_types == ["noise", "criminal_damage"]
        assert referral.answers["people"]["people"][0]["postcode"] == "N1 1XA"
        assert referral.answers["risk"]["incidents"][0]["date"] == "2026-10-14"

    def test_submitting_twice_makes_one_referral(self, referrer):
        draft = ready_draft(referrer)
        first, created = referral_submit(draft=draft, user=referrer)
        again, created_again = referral_submit(draft=draft, user=referrer)
        assert (created, created_again) == (True, False)
        assert again == first
        assert Referral.objects.count() == 1
        assert AuditEvent.objects.filter(action="referral.submitted").count() == 1

    def test_the_draft_is_emptied_and_points_at_its_referral(self, referrer):
        draft = ready_draft(referrer)
        referral, _ = referral_submit(draft=draft, user=referrer)
        draft = ReferralDraft.objects.get(pk=draft.pk)
        assert draft.referral == referral
        assert draft.answers == {}
        assert draft.states == {}

    def test_people_are_kept_as_searchable_rows(self, referrer):
        answers = complete_answers(
            people=[
                person(0, name="Mary-Jane O'Brien", born=(2, 1, 1980)),
                person(1, role="causing_harm", name="Smith, John", born=None, age="40"),
            ]
        )
        referral, _ = referral_submit(
            draft=ready_draft(referrer, answers), user=referrer
        )
        rows = list(
            ReferralPerson.objects.filter(referral=referral).values_list(
                "position", "role", "full_name", "name_key", "date_of_birth", "age"
            )
        )
        assert rows == [
            (
                1,
                "victim",
                "Mary-Jane O'Brien",
                "jane mary obrien",
                date(1980, 1, 2),
                None,
            ),
            (2, "causing_harm", "Smith, John", "john smith", None, 40),
        ]
        assert referral.subject_names == "Mary-Jane O'Brien, Smith, John"

    def test_the_answers_read_back_as_they_were_given(self, referrer):
        answers = complete_answers(
            people=[
                person(0, name="Ann First"),
                person(1, role="at_risk", name="Baby First", born=None, age="0"),
            ]
        )
        referral, _ = referral_submit(
            draft=ready_draft(referrer, answers), user=referrer
        )
        people = next(
            s for s in all_answers(referral.answers) if s.section.slug == "people"
        )
        ann, baby = ({r.label: r.value for r in g.rows} for g in people.groups)
        assert ann["Date of birth"] == "4 July 1970"
        assert ann["Their part in the case"] == "Victim"
        assert ann["Tenure"] == "Council tenant"
        assert ann["Other names they use"] == "Not given"
        # An age of 0 is an answer, not a blank.
        assert baby["Age, if you do not know their date of birth"] == "0"

    def test_attachments_move_to_the_referral(self, referrer):
        draft = ready_draft(referrer)
        upload = SimpleUploadedFile("ra.pdf", PDF)
        attachment = attachment_add(draft=draft, upload=upload, user=referrer)
        referral, _ = referral_submit(draft=draft, user=referrer)
        assert list(referral.attachments.all()) == [attachment]

    def test_an_incomplete_draft_is_refused_with_its_problems(self, referrer):
        draft = draft_start(user=referrer)
        with pytest.raises(DraftIncomplete) as incomplete:
            referral_submit(draft=draft, user=referrer)
        assert len(incomplete.value.problems) == 8
        assert not Referral.objects.exists()
        assert not ReferenceCounter.objects.exclude(last_number=0).exists()

    def test_only_the_author_can_submit(self, referrer):
        colleague = UserFactory(
            organisation=referrer.organisation, roles=[Role.REFERRER]
        )
        draft = ready_draft(referrer)
        with pytest.raises(ReferralRefused, match="Only the person who wrote"):
            referral_submit(draft=draft, user=colleague)
        assert not Referral.objects.exists()

    def test_a_submitted_draft_does_not_hand_its_referral_to_someone_else(
        self, referrer
    ):
        draft = ready_draft(referrer)
        referral_submit(draft=draft, user=referrer)
        stranger = UserFactory(roles=[Role.REFERRER])
        with pytest.raises(ReferralRefused, match="Only the person who wrote"):
            referral_submit(draft=draft, user=stranger)

    def test_the_history_starts_with_the_submission(self, referrer):
        referral = submit(referrer)
        (event,) = referral.events.all()
        assert event.kind == EventKind.SUBMITTED
        assert (event.from_status, event.to_status) == ("", Status.SUBMITTED)
        assert event.actor == referrer
        assert event.actor_label == referrer.get_full_name()
        assert event.organisation_label == str(referrer.organisation)

    def test_the_submission_is_audited_without_personal_data(self, referrer):
        referral = submit(referrer)
        event = AuditEvent.objects.get(action="referral.submitted")
        assert event.actor == referrer
        assert event.object_type == "referrals.referral"
        assert event.object_id == str(referral.pk)
        assert event.detail == {"reference": referral.reference, "urgent": False}


# What must never appear in an email: the people, where they live, how to reach them.
PERSONAL = [
    "Alex Example",
    "Alex",
    "Flat 3",
    "12 Example Road",
    "N1 1XA",
    "07700 900 982",
    "1970",
    "Example Homes",
    "Weekday mornings",
    "neighbour at number 14",
    "Her daughter",
    "Example Road Surgery",
    "Front door kicked",
    "Threats made",
    "no longer leaves",
]


class TestEmails:
    @pytest.fixture
    def coordinators(self):
        return [
            UserFactory(roles=[Role.COORDINATOR], email="coord1@example.org"),
            UserFactory(roles=[Role.COORDINATOR], email="coord2@example.org"),
            UserFactory(
                roles=[Role.COORDINATOR], email="gone@example.org", is_active=False
            ),
            UserFactory(roles=[Role.COORDINATOR], email=""),
        ]

    def submit_and_send(self, referrer, capture, **options):
        draft = ready_draft(referrer, complete_answers(**options))
        with capture(execute=True) as callbacks:
            referral, _ = referral_submit(draft=draft, user=referrer)
        # The one that queues the emails (the others outdate cached pages and,
        # once it has run, hand each queued email to the worker: jobs.mail).
        ours = [
            c
            for c in callbacks
            if c.__module__ not in (freshness.__name__, "jobs.mail")
        ]
        assert len(ours) == 1
        return referral

    def test_the_referrer_and_each_active_coordinator_get_one_email(
        self, referrer, coordinators, mailoutbox, django_capture_on_commit_callbacks
    ):
        referral = self.submit_and_send(referrer, django_capture_on_commit_callbacks)
        recipients = sorted(tuple(m.to) for m in mailoutbox)
        assert recipients == [
            ("coord1@example.org",),
            ("coord2@example.org",),
            ("sam.referrer@example.org",),
        ]
        (to_referrer,) = [m for m in mailoutbox if m.to == [referrer.email]]
        assert to_referrer.subject == f"Referral {referral.reference} received"
        assert referral.reference in to_referrer.body
        assert referral.get_absolute_url() in to_referrer.body
        for message in mailoutbox:
            if message.to != [referrer.email]:
                assert message.subject == f"New CMARAC referral {referral.reference}"
                assert "URGENT" not in message.subject + message.body

    def test_emails_hold_no_personal_data(
        self, referrer, coordinators, mailoutbox, django_capture_on_commit_callbacks
    ):
        self.submit_and_send(referrer, django_capture_on_commit_callbacks, urgent=True)
        assert len(mailoutbox) == 3
        for message in mailoutbox:
            text = f"{message.subject}\n{message.body}"
            for detail in PERSONAL:
                assert detail not in text, (detail, message.to)

    def test_an_urgent_referral_says_so_in_the_coordinators_subject(
        self, referrer, coordinators, mailoutbox, django_capture_on_commit_callbacks
    ):
        referral = self.submit_and_send(
            referrer, django_capture_on_commit_callbacks, urgent=True
        )
        to_coordinators = [m for m in mailoutbox if m.to != [referrer.email]]
        assert len(to_coordinators) == 2
        for message in to_coordinators:
            assert message.subject == (
                f"URGENT: New CMARAC referral {referral.reference}"
            )
            assert message.body.startswith("URGENT")

    def test_nothing_is_sent_if_the_submission_fails(
        self,
        referrer,
        coordinators,
        mailoutbox,
        monkeypatch,
        django_capture_on_commit_callbacks,
    ):
        draft = ready_draft(referrer)
        monkeypatch.setattr(
            draft_services, "_event", mock.Mock(side_effect=RuntimeError("disk full"))
        )
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
        ):
            referral_submit(draft=draft, user=referrer)
        assert callbacks == []
        assert mailoutbox == []

    def test_a_second_submit_sends_nothing_more(
        self, referrer, coordinators, mailoutbox, django_capture_on_commit_callbacks
    ):
        draft = ready_draft(referrer)
        with django_capture_on_commit_callbacks(execute=True):
            referral_submit(draft=draft, user=referrer)
            referral_submit(draft=draft, user=referrer)
        assert len(mailoutbox) == 3
