"""Notices: who is told about each kind of event (and who never is), the
email choices honoured, the unread count, and reading them."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from agreements.models import ChangeType
from audit.models import AuditEvent
from jobs.models import OutgoingEmail
from meetings.models import Meeting, MeetingStatus
from meetings.services import action_add, papers_issue
from notices.models import EmailChoice, Notice, NoticeKind
from notices.selectors import unread_count
from notices.services import (
    email_choices_save,
    notices_mark_all_read,
    notices_record,
)
from referrals.models import ShareReason
from referrals.services import referral_share_grant
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import agreement_tree, publish_change, signatory_for
from tests.factories.documents import shared, upload
from tests.factories.meetings import (
    accepted,
    coordinator,
    meeting,
    on_agenda,
)
from tests.factories.referrals import submitted_referral

pytestmark = pytest.mark.django_db


def told(kind) -> set[int]:
    return set(Notice.objects.filter(kind=kind).values_list("recipient_id", flat=True))


def emailed() -> set[str]:
    return set(OutgoingEmail.objects.values_list("to", flat=True))


@pytest.fixture
def partners():
    """Housing refers; Police is the partner told; Fire is never told."""
    orgs = {name: OrganisationFactory(name=name) for name in
            ("Housing", "Police", "Fire")}  # fmt: skip
    people = SimpleNamespace(
        referrer=UserFactory(organisation=orgs["Housing"], roles=[Role.REFERRER]),
        police=UserFactory(organisation=orgs["Police"], roles=[Role.REFERRER]),
        police_signatory=UserFactory(
            organisation=orgs["Police"], roles=[Role.SIGNATORY]
        ),
        police_left=UserFactory(
            organisation=orgs["Police"], roles=[Role.REFERRER], is_active=False
        ),
        fire=UserFactory(organisation=orgs["Fire"], roles=[Role.REFERRER]),
        boss=coordinator(),
    )
    return SimpleNamespace(orgs=orgs, people=people)


class TestCaseShared:
    def test_each_person_of_the_receiving_organisation_is_told(self, partners):
        p = partners.people
        referral = accepted(submitted_referral(p.referrer), p.boss)
        OutgoingEmail.objects.all().delete()
        referral_share_grant(
            referral=referral,
            organisation=partners.orgs["Police"],
            reason=ShareReason.INFORMATION,
            user=p.boss,
        )
        # The signatory cannot open case pages, so is not told.
        assert told(NoticeKind.CASE_SHARED) == {p.police.pk}
        notice = Notice.objects.get(recipient=p.police)
        assert referral.reference in notice.title
        assert notice.link == referral.get_absolute_url()
        assert emailed() == {p.police.email}
        # The email names the case by reference only, and links to sign in.
        body = OutgoingEmail.objects.get(to=p.police.email).body
        assert "Alex" not in body and "Example" not in body
        assert referral.get_absolute_url() in body


class TestFilesWaiting:
    def test_one_notice_and_one_email_per_person_however_many_files(
        self, partners, django_capture_on_commit_callbacks
    ):
        p = partners.people
        with django_capture_on_commit_callbacks(execute=True):
            share = shared(
                p.referrer,
                [partners.orgs["Police"]],
                files=[upload(f"notes-{n}.pdf") for n in range(3)],
            )
        assert told(NoticeKind.FILES_WAITING) == {p.police.pk}
        assert Notice.objects.get(recipient=p.police).title == (
            "Housing shared 3 files with your organisation"
        )
        assert Notice.objects.get(recipient=p.police).link == share.get_absolute_url()
        assert OutgoingEmail.objects.filter(to=p.police.email).count() == 1
        assert p.fire.email not in emailed() and p.referrer.email not in emailed()


class TestMeetingNotices:
    @pytest.fixture
    def agenda(self, partners):
        p = partners.people
        referral = accepted(submitted_referral(p.referrer), p.boss)
        upcoming = meeting(p.boss)
        item = on_agenda(upcoming, referral, [partners.orgs["Police"]], p.boss)
        return SimpleNamespace(meeting=upcoming, item=item, referral=referral)

    def test_papers_issued_tells_the_invited_organisations_only(
        self, partners, agenda, monkeypatch, django_capture_on_commit_callbacks
    ):
        # The packs themselves are the meetings tests' (they render PDFs).
        packs = [SimpleNamespace(organisation=o) for o in
                 (partners.orgs["Housing"], partners.orgs["Police"])]  # fmt: skip
        monkeypatch.setattr("meetings.services.packs_build", lambda meeting: packs)
        p = partners.people
        with django_capture_on_commit_callbacks(execute=True):
            papers_issue(meeting=agenda.meeting, user=p.boss)
        assert told(NoticeKind.PAPERS_ISSUED) == {p.referrer.pk, p.police.pk}
        assert p.fire.email not in emailed()

    def test_an_action_tells_its_owner_organisation(self, partners, agenda):
        p = partners.people
        # Actions are recorded once papers are out (the packs are not needed).
        Meeting.objects.filter(pk=agenda.meeting.pk).update(
            status=MeetingStatus.PAPERS_ISSUED
        )
        action = action_add(
            item=agenda.item,
            owner=partners.orgs["Police"],
            officer="Duty sergeant",
            description="Visit the address",
            due=timezone.localdate() + timedelta(days=7),
            user=p.boss,
        )
        assert told(NoticeKind.ACTION_ASSIGNED) == {p.police.pk}
        notice = Notice.objects.get(recipient=p.police, kind=NoticeKind.ACTION_ASSIGNED)
        assert notice.link == reverse("meetings:update_action", args=[action.pk])
        assert "Visit the address" not in notice.title


class TestVersionToAcknowledge:
    def test_a_material_version_emails_each_signatory_with_the_deadline(self):
        protocol, isa, organisations, officer = agreement_tree(
            effective=date(2026, 1, 6)
        )
        signers = [signatory_for(org) for org in organisations]
        referrer = UserFactory(organisation=organisations[0], roles=[Role.REFERRER])
        outsider = signatory_for(OrganisationFactory())
        # Someone who would rather not be emailed is emailed all the same.
        OutgoingEmail.objects.all().delete()
        publish_change(isa, officer, number="2.0", change_type=ChangeType.MATERIAL)
        assert told(NoticeKind.VERSION_TO_ACKNOWLEDGE) == {s.pk for s in signers}
        assert emailed() == {s.email for s in signers}
        assert referrer.email not in emailed() and outsider.email not in emailed()
        email = OutgoingEmail.objects.get(to=signers[0].email)
        assert "ISA-1" in email.subject
        assert (
            "Acknowledge version 2.0 of ISA-1 by"
            in Notice.objects.get(recipient=signers[0]).title
        )
        # The deadline, and none of the agreement's text.
        assert "by " in email.body
        assert "To keep victims safe" not in email.body

    def test_an_editorial_version_tells_nobody(self):
        protocol, isa, organisations, officer = agreement_tree()
        for org in organisations:
            signatory_for(org)
        publish_change(isa, officer, number="1.1", change_type=ChangeType.EDITORIAL)
        assert told(NoticeKind.VERSION_TO_ACKNOWLEDGE) == set()


class TestEmailChoices:
    def test_email_off_still_lists_the_notice_but_sends_no_email(self, partners):
        p = partners.people
        email_choices_save(user=p.police, choices={NoticeKind.CASE_SHARED: False})
        referral = accepted(submitted_referral(p.referrer), p.boss)
        OutgoingEmail.objects.all().delete()
        referral_share_grant(
            referral=referral,
            organisation=partners.orgs["Police"],
            reason=ShareReason.INFORMATION,
            user=p.boss,
        )
        assert p.police.pk in told(NoticeKind.CASE_SHARED)
        assert p.police.email not in emailed()

    def test_security_and_agreement_emails_cannot_be_turned_off(self, partners):
        p = partners.people
        with pytest.raises(ValueError):
            email_choices_save(user=p.police, choices={NoticeKind.SECURITY: False})
        assert not EmailChoice.objects.exists()
        notices_record(
            kind=NoticeKind.SECURITY,
            recipients=[p.police],
            title="A new authenticator app was set up for your account",
            link="/account/",
            event="test-security",
        )
        assert emailed() == {p.police.email}

    def test_a_change_of_second_factor_is_a_security_notice(self, partners):
        p = partners.people
        client = verified_client_for(p.police)
        client.post(reverse("accounts:backup_codes_new"))
        notice = Notice.objects.get(recipient=p.police)
        assert notice.kind == NoticeKind.SECURITY
        assert emailed() == {p.police.email}

    def test_the_page_shows_choices_and_saves_them(self, partners):
        p = partners.people
        client = verified_client_for(p.police)
        page = client.get(reverse("notices:email_choices")).content.decode()
        assert "Changes to how you sign in: always on" in page
        assert 'name="security"' not in page
        data = dict.fromkeys(("case_shared", "papers_issued"), "on")
        response = client.post(reverse("notices:email_choices"), data)
        assert response.status_code == 302
        stored = dict(
            EmailChoice.objects.filter(user=p.police).values_list("kind", "email")
        )
        assert stored == {
            "files_waiting": False,
            "action_assigned": False,
            "meeting_invitation": False,
            "referral_withdrawn": False,
            "sar_bundle": False,
        }
        assert AuditEvent.objects.filter(action="notice.email_choices_changed").exists()

    def test_a_null_character_is_refused_with_the_form_again(self, partners):
        client = verified_client_for(partners.people.police)
        response = client.post(
            reverse("notices:email_choices"), {"case_shared": "o\x00n"}
        )
        assert response.status_code == 400
        assert "There is a problem" in response.content.decode()


class TestReading:
    @pytest.fixture
    def inbox(self, partners):
        p = partners.people
        for n in range(3):
            notices_record(
                kind=NoticeKind.FILES_WAITING,
                recipients=[p.police, p.fire],
                title=f"Housing shared {n + 1} files with your organisation",
                link="/files/",
                event=f"test-{n}",
            )
        return p

    def test_unread_count_is_in_the_header(self, inbox):
        client = verified_client_for(inbox.police)
        page = client.get(reverse("notices:index")).content.decode()
        assert "What&#x27;s new (3)" in page or "What's new (3)" in page
        assert unread_count(inbox.police) == 3

    def test_opening_a_notice_marks_it_read_and_follows_its_link(self, inbox):
        client = verified_client_for(inbox.police)
        notice = Notice.objects.filter(recipient=inbox.police).first()
        response = client.get(reverse("notices:open", args=[notice.pk]))
        assert response.status_code == 302 and response["Location"] == "/files/"
        notice.refresh_from_db()
        assert notice.read_at is not None
        assert unread_count(inbox.police) == 2

    def test_the_header_count_follows_reading_and_marking_all_read(self, inbox):
        client = verified_client_for(inbox.police)
        notice = Notice.objects.filter(recipient=inbox.police).first()
        client.get(reverse("notices:open", args=[notice.pk]))
        page = client.get(reverse("notices:index")).content.decode()
        assert "new (2)" in page
        client.post(reverse("notices:mark_all_read"))
        page = client.get(reverse("notices:index")).content.decode()
        assert "new (0)" in page

    def test_the_count_comes_with_the_person_in_one_query(
        self, inbox, django_assert_num_queries
    ):
        from accounts.backends import PartnerBackend

        with django_assert_num_queries(1):
            person = PartnerBackend().get_user(inbox.police.pk)
            assert unread_count(person) == 3
        notices_mark_all_read(user=person)
        assert unread_count(person) == 0  # this request's change shows at once

    def test_another_persons_notice_is_not_found_and_stays_unread(self, inbox):
        client = verified_client_for(inbox.police)
        theirs = Notice.objects.filter(recipient=inbox.fire).first()
        response = client.get(reverse("notices:open", args=[theirs.pk]))
        assert response.status_code == 404
        theirs.refresh_from_db()
        assert theirs.read_at is None
        page = client.get(reverse("notices:index")).content.decode()
        assert page.count(reverse("notices:open", args=[theirs.pk])) == 0

    def test_mark_all_as_read(self, inbox):
        client = verified_client_for(inbox.police)
        response = client.post(reverse("notices:mark_all_read"))
        assert response.status_code == 302
        assert unread_count(inbox.police) == 0
        assert unread_count(inbox.fire) == 3
        assert AuditEvent.objects.filter(action="notice.all_read").count() == 1

    def test_a_repeated_event_tells_nobody_twice(self, inbox):
        made = notices_record(
            kind=NoticeKind.FILES_WAITING,
            recipients=[inbox.police],
            title="Again",
            link="/files/",
            event="test-0",
        )
        assert made == 0
        assert OutgoingEmail.objects.filter(to=inbox.police.email).count() == 3

    def test_a_repeated_event_tells_only_those_not_told_yet(self, inbox, partners):
        newcomer = UserFactory(organisation=partners.orgs["Police"])
        made = notices_record(
            kind=NoticeKind.FILES_WAITING,
            recipients=[inbox.police, newcomer, inbox.police_left],
            title="Again",
            link="/files/",
            event="test-0",
        )
        assert made == 1
        assert Notice.objects.get(recipient=newcomer, event="test-0").title == "Again"
        assert (
            Notice.objects.filter(recipient=inbox.police, event="test-0").count() == 1
        )
        assert OutgoingEmail.objects.filter(to=newcomer.email).count() == 1
        assert OutgoingEmail.objects.filter(to=inbox.police.email).count() == 3
        assert not Notice.objects.filter(recipient=inbox.police_left).exists()

    def test_a_link_out_of_the_portal_is_refused(self, inbox):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError, match="link"):
            notices_record(
                kind=NoticeKind.FILES_WAITING,
                recipients=[inbox.police, inbox.fire],
                title="Elsewhere",
                link="//evil.example/",
                event="test-elsewhere",
            )
        assert not Notice.objects.filter(event="test-elsewhere").exists()
