"""Partner withdrawal (issue 22): after it, the organisation's people cannot
sign in, no list or email names it, its packs and case shares are gone, live
file shares to it are recalled, what it downloaded is listed for the
destruction certificate its single point of contact confirms, and running
the withdrawal again changes nothing."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.backends import PartnerBackend
from accounts.models import (
    AccountRequest,
    Organisation,
    RequestStatus,
    Role,
    SuspensionReason,
    User,
    staff_to_email,
)
from accounts.services import GovernanceRefused, account_request_approve
from audit.models import AuditEvent
from documents.models import Share, ShareRecipient
from documents.services import share_create
from documents.tasks import send_share_notifications
from jobs.models import OutgoingEmail
from meetings.models import MeetingPack
from meetings.selectors import organisations_to_invite
from meetings.services import invited_organisations
from meetings.tasks import send_minutes_issued
from partners import services
from partners.models import Step, Withdrawal
from partners.selectors import withdrawn_still_named
from partners.services import (
    WithdrawalRefused,
    withdrawal_record,
    withdrawal_run,
)
from referrals.models import ReferralAmendment, ReferralShare
from referrals.tasks import send_amendment_notifications
from tests.conftest import verified_client_for
from tests.factories import TEST_PASSWORD, UserFactory
from tests.factories.documents import shared, upload
from tests.factories.referrals import share as case_share

from .conftest import downloads_of_every_kind

pytestmark = pytest.mark.django_db

WHY = "The service closed at the end of March."
AMENDMENT_FIELDS = {
    "section": "referrer",
    "field_name": "phone",
    "reason": "Typed wrongly",
    "amended_by_label": "A coordinator",
}


def _withdraw(world, **options):
    withdrawal = withdrawal_record(
        organisation=world.leaving,
        withdrawn_on=timezone.localdate(),
        reason=WHY,
        user=options.get("user", world.boss),
    )
    return withdrawal_run(withdrawal=withdrawal)


def _link(world) -> str:
    """The path of the newest certificate link emailed to the contact (from
    the outbox, or from what was sent once delivery has run)."""
    bodies = [m.body for m in mail.outbox if world.contact.email in m.to]
    bodies += (
        OutgoingEmail.objects.filter(
            to=world.contact.email, subject__startswith="Confirm"
        )
        .order_by("pk")
        .values_list("body", flat=True)
    )
    lines = [line for body in bodies for line in body.splitlines()]
    link = [line for line in lines if "/partners/certificate/" in line][-1]
    return "/partners/" + link.split("/partners/", 1)[1].strip()


def _amendment(referral) -> ReferralAmendment:
    """A correction row as the amending service leaves one."""
    return ReferralAmendment.objects.create(
        referral=referral, version=1, **AMENDMENT_FIELDS
    )


class TestWithdrawalRun:
    def test_every_step_is_done_logged_and_audited(
        self, world, django_capture_on_commit_callbacks
    ):
        pack_file = world.pack.file.name
        assert default_storage.exists(pack_file) or world.pack.file.storage.exists(
            pack_file
        )
        with django_capture_on_commit_callbacks(execute=True):
            withdrawal = _withdraw(world)
        assert withdrawal.is_complete
        assert set(withdrawal.steps) == set(Step.values)
        steps = AuditEvent.objects.filter(action="withdrawal.step_done")
        assert sorted(e.detail["step"] for e in steps) == sorted(Step.values)
        world.leaving.refresh_from_db()
        assert not world.leaving.active
        # Its people cannot sign in, and are told why.
        for person in (world.contact, world.staff):
            person.refresh_from_db()
            assert not person.is_active
            assert person.suspension_reason == SuspensionReason.PARTNER_WITHDRAWN
            assert not PartnerBackend().user_can_authenticate(person)
            answer = Client().post(
                reverse("accounts:login"),
                {"username": person.username, "password": TEST_PASSWORD},
            )
            assert answer.status_code == 400
        # Case shares ended, pending invitations removed.
        assert not ReferralShare.objects.filter(
            organisation=world.leaving, ended_at__isnull=True
        ).exists()
        assert world.leaving not in world.item.invited.all()
        # Packs gone, and their stored files.
        assert not MeetingPack.objects.filter(organisation=world.leaving).exists()
        assert not world.pack.file.storage.exists(pack_file)
        # A share to it alone is recalled; one to others too just loses it.
        world.alone.refresh_from_db()
        assert world.alone.recalled_at is not None
        world.with_others.refresh_from_db()
        assert world.with_others.recalled_at is None
        assert list(world.with_others.recipients.values_list("organisation", flat=True))
        assert not world.with_others.recipients.filter(
            organisation=world.leaving
        ).exists()
        assert withdrawal.steps[Step.FILES_RECALLED]["recalled"] == 1
        assert withdrawal.steps[Step.FILES_RECALLED]["removed"] == 1
        # The single point of contact is sent the certificate link.
        assert "/partners/certificate/" in _link(world)

    def test_users_who_signed_in_before_lose_their_session(self, world):
        client = verified_client_for(world.staff)
        assert client.get("/").status_code == 200
        _withdraw(world)
        response = client.get("/")
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]

    def test_account_requests_waiting_are_rejected_and_none_approved(self, world):
        waiting = AccountRequest.objects.create(
            organisation=world.leaving, requested_by=world.contact,
            first_name="Ash", last_name="Lee", email="ash@example.org",
            role=Role.REFERRER, reason="Joins the team",
        )  # fmt: skip
        _withdraw(world)
        waiting.refresh_from_db()
        assert waiting.status == RequestStatus.REJECTED
        assert waiting.decided_by == world.boss
        late = AccountRequest.objects.create(
            organisation=world.leaving, requested_by=world.contact,
            first_name="Kit", last_name="Ray", email="kit@example.org",
            role=Role.REFERRER, reason="Joins the team",
        )  # fmt: skip
        administrator = UserFactory(is_superuser=True, organisation=None)
        with pytest.raises(GovernanceRefused, match="no longer takes part"):
            account_request_approve(
                account_request=late, administrator=administrator, username="kit"
            )
        assert not User.objects.filter(username="kit").exists()

    def test_running_again_changes_nothing(self, world):
        withdrawal = _withdraw(world)
        events = AuditEvent.objects.count()
        emails = OutgoingEmail.objects.count()
        again = withdrawal_run(withdrawal=withdrawal)
        assert again.steps == withdrawal.steps
        assert AuditEvent.objects.count() == events
        assert OutgoingEmail.objects.count() == emails

    def test_a_run_that_stops_halfway_is_finished_by_running_it_again(self, world):
        withdrawal = withdrawal_record(
            organisation=world.leaving,
            withdrawn_on=timezone.localdate(),
            reason=WHY,
            user=world.boss,
        )
        broken = dict(services.STEPS)
        broken[Step.PACKS_DELETED] = mock.Mock(side_effect=RuntimeError("storage"))
        with (
            mock.patch.object(services, "STEPS", broken),
            pytest.raises(RuntimeError),
        ):
            withdrawal_run(withdrawal=withdrawal)
        withdrawal.refresh_from_db()
        assert not withdrawal.is_complete
        assert Step.CASE_SHARES_ENDED in withdrawal.steps
        assert Step.PACKS_DELETED not in withdrawal.steps
        assert MeetingPack.objects.filter(organisation=world.leaving).exists()
        finished = withdrawal_run(withdrawal=withdrawal)
        assert finished.is_complete
        assert not MeetingPack.objects.filter(organisation=world.leaving).exists()
        steps = AuditEvent.objects.filter(action="withdrawal.step_done")
        assert sorted(e.detail["step"] for e in steps) == sorted(Step.values)

    def test_each_step_audit_holds_no_personal_data(self, world):
        _withdraw(world)
        recorded = AuditEvent.objects.get(action="withdrawal.recorded")
        assert WHY not in str(recorded.detail)
        for event in AuditEvent.objects.filter(action__startswith="withdrawal."):
            assert world.contact.first_name not in str(event.detail)

    def test_only_coordinators_and_administrators_may_withdraw(self, world):
        with pytest.raises(WithdrawalRefused):
            _withdraw(world, user=UserFactory(roles=[Role.REFERRER]))
        admin = UserFactory(organisation=None, is_superuser=True, is_staff=True)
        assert _withdraw(world, user=admin).is_complete

    def test_an_organisation_withdraws_once(self, world):
        _withdraw(world)
        with pytest.raises(WithdrawalRefused, match="already withdrawn"):
            _withdraw(world)

    def test_a_coordinator_cannot_withdraw_their_own_organisation(self, world):
        own = UserFactory(organisation=world.leaving, roles=[Role.COORDINATOR])
        with pytest.raises(WithdrawalRefused, match="your own organisation"):
            _withdraw(world, user=own)


class TestNothingNamesIt:
    def test_not_offered_as_a_recipient_invitee_or_case_share(self, world):
        _withdraw(world)
        assert world.leaving not in organisations_to_invite()
        assert world.leaving not in Organisation.objects.taking_part()
        client = verified_client_for(world.sender)
        page = client.get(reverse("documents:new")).content.decode()
        assert world.leaving.name not in page
        boss = verified_client_for(world.boss)
        access = boss.get(world.case.get_absolute_url() + "access/new/")
        assert access.status_code == 200
        assert world.leaving.name not in access.content.decode()
        meeting_page = boss.get(world.planned.get_absolute_url()).content.decode()
        assert world.leaving.name not in meeting_page

    def test_everyone_on_a_referral_or_meeting_leaves_it_out(self, world):
        _withdraw(world)
        # A stale share row (written directly) must not bring it back.
        case_share(world.case, world.leaving)
        case_share(world.case, UserFactory(roles=[Role.REFERRER]).organisation)
        made, _ = share_create(
            user=world.sender, uploads=[upload()], referral=world.case
        )
        assert world.leaving.pk not in set(
            made.recipients.values_list("organisation", flat=True)
        )
        assert world.leaving not in invited_organisations(world.planned)

    def test_no_fan_out_emails_it(self, world):
        _withdraw(world)
        # Even a person made active again by mistake is not emailed: the
        # organisation itself no longer takes part.
        world.staff.is_active = True
        world.staff.save()
        assert list(staff_to_email(world.leaving)) == []
        # A share that still had it as a recipient row (written directly).
        other = UserFactory(roles=[Role.REFERRER])
        stale = shared(world.sender, [other.organisation])
        ShareRecipient.objects.create(share=stale, organisation=world.leaving)
        OutgoingEmail.objects.all().delete()
        send_share_notifications.call(stale.pk)
        send_minutes_issued.call(world.planned.pk)
        send_amendment_notifications.call(
            _amendment(world.case).pk, [world.leaving.pk, other.organisation_id]
        )
        told = set(OutgoingEmail.objects.values_list("to", flat=True))
        assert other.email in told
        assert not told & {world.staff.email, world.contact.email}
        assert not OutgoingEmail.objects.filter(body__contains=world.leaving.name)


class TestDownloadList:
    def test_every_kind_of_download_is_listed(self, world):
        expected = downloads_of_every_kind(world)
        withdrawal = _withdraw(world)
        listed = {row["kind"]: row for row in withdrawal.downloads}
        assert set(listed) == set(expected)
        for kind, label in expected.items():
            assert label in listed[kind]["label"], (kind, listed[kind])
        assert withdrawal.steps[Step.DOWNLOADS_LISTED]["count"] == len(expected)

    def test_a_shared_file_download_is_counted_once(self, world):
        item = world.alone.files.get()
        from documents.services import file_download_record

        file_download_record(item=item, user=world.staff)
        file_download_record(item=item, user=world.contact)
        withdrawal = _withdraw(world)
        (row,) = withdrawal.downloads
        assert row["times"] == 2

    def test_other_organisations_downloads_are_not_listed(self, world):
        from documents.services import file_download_record

        file_download_record(item=world.with_others.files.get(), user=world.sender)
        assert _withdraw(world).downloads == []


class TestCertificate:
    def test_the_contact_confirms_through_the_emailed_link_once(self, world):
        downloads_of_every_kind(world)
        _withdraw(world)
        link = _link(world)
        client = Client()  # signed out
        page = client.get(link)
        assert page.status_code == 200
        body = page.content.decode()
        assert world.case.reference in body
        refused = client.post(link, {"name": "Sam Example"})
        assert refused.status_code == 400
        body = refused.content.decode()
        assert "govuk-error-summary" in body
        assert "Confirm that everything listed has been destroyed" in body
        assert 'value="Sam Example"' in body
        done = client.post(
            link, {"destroyed": "on", "name": "Sam Example", "role": "Manager"}
        )
        assert done.status_code == 200
        assert "Destruction confirmed" in done.content.decode()
        withdrawal = Withdrawal.objects.get()
        assert withdrawal.certificate_confirmed_at is not None
        assert withdrawal.confirmed_by_name == "Sam Example"
        event = AuditEvent.objects.get(action="withdrawal.certificate_confirmed")
        assert "Sam" not in str(event.detail)
        # The link works once.
        assert client.get(link).status_code == 404

    def test_a_new_link_replaces_the_old_one(self, world):
        withdrawal = _withdraw(world)
        old = _link(world)
        assert services.certificate_send(withdrawal=withdrawal)
        new = _link(world)
        assert new != old
        client = Client()
        assert client.get(old).status_code == 404
        assert client.get(new).status_code == 200

    def test_a_forged_or_expired_link_is_refused(self, world):
        _withdraw(world)
        link = _link(world)
        client = Client()
        assert client.get(link[:-3] + "abc/").status_code == 404
        later = timezone.now() + timedelta(days=services.CERTIFICATE_LINK_DAYS + 1)
        with mock.patch(
            "django.core.signing.time.time", return_value=later.timestamp()
        ):
            assert client.get(link).status_code == 404
        assert (
            AuditEvent.objects.filter(
                action="withdrawal.certificate_link_refused", outcome="denied"
            ).count()
            == 2
        )


class TestPages:
    def test_a_coordinator_withdraws_through_the_form_and_confirmation(self, world):
        client = verified_client_for(world.boss)
        today = timezone.localdate()
        answers = {
            "organisation": world.leaving.pk,
            "withdrawn_on_0": today.day,
            "withdrawn_on_1": today.month,
            "withdrawn_on_2": today.year,
            "reason": WHY,
        }
        confirm = client.post(reverse("partners:new"), answers)
        assert confirm.status_code == 200
        body = confirm.content.decode()
        assert f"You are about to withdraw {world.leaving.name}" in body
        assert "suspend its 2 active accounts" in body
        assert not Withdrawal.objects.exists()  # nothing yet
        done = client.post(reverse("partners:new"), {**answers, "confirmed": "yes"})
        withdrawal = Withdrawal.objects.get()
        assert done.status_code == 302
        assert done["Location"] == withdrawal.get_absolute_url()
        report = client.get(done["Location"]).content.decode()
        for step in Step:
            assert str(step.label) in report
        assert "Not done" not in report
        assert withdrawal.authorised_by == world.boss

    def test_bad_input_is_refused_with_400_and_kept(self, world):
        client = verified_client_for(world.boss)
        response = client.post(
            reverse("partners:new"),
            {"organisation": world.leaving.pk, "reason": WHY, "withdrawn_on_0": "40"},
        )
        assert response.status_code == 400
        body = response.content.decode()
        assert "govuk-error-summary" in body
        assert WHY in body

    @pytest.mark.parametrize("name", ["index", "new"])
    def test_people_without_the_role_are_refused(self, world, name):
        for person in (world.sender, UserFactory(roles=[Role.SIGNATORY])):
            response = verified_client_for(person).get(reverse(f"partners:{name}"))
            assert response.status_code == 403

    def test_the_report_is_refused_to_people_without_the_role(self, world):
        withdrawal = _withdraw(world)
        response = verified_client_for(world.sender).get(withdrawal.get_absolute_url())
        assert response.status_code == 403
        admin = UserFactory(organisation=None, is_superuser=True, is_staff=True)
        assert (
            verified_client_for(admin).get(withdrawal.get_absolute_url()).status_code
            == 200
        )

    def test_running_the_remaining_steps_from_the_report(self, world):
        withdrawal = withdrawal_record(
            organisation=world.leaving,
            withdrawn_on=timezone.localdate(),
            reason=WHY,
            user=world.boss,
        )
        client = verified_client_for(world.boss)
        assert (
            "Run the remaining steps"
            in client.get(withdrawal.get_absolute_url()).content.decode()
        )
        client.post(reverse("partners:run", args=[withdrawal.pk]))
        withdrawal.refresh_from_db()
        assert withdrawal.is_complete


def test_a_share_made_after_withdrawal_cannot_name_it(world):
    _withdraw(world)
    from documents.services import ShareRefused

    with pytest.raises(ShareRefused):
        share_create(
            user=world.sender, uploads=[upload()], organisations=[world.leaving]
        )
    assert Share.objects.filter(recipients__organisation=world.leaving).count() == 1


class TestAgreementPrompt:
    def test_coordinators_are_asked_for_a_version_without_it(self, world):
        assert withdrawn_still_named() == []
        _withdraw(world)
        (named,) = withdrawn_still_named()
        assert named.withdrawal.organisation == world.leaving
        assert named.edit_url.startswith("/admin/pages/")
        home = verified_client_for(world.boss).get("/").content.decode()
        assert f"{world.leaving.name} has withdrawn: publish a new version" in home
        assert named.edit_url in home

    def test_the_next_version_cannot_name_it(self, world):
        _withdraw(world)
        (named,) = withdrawn_still_named()
        admin = UserFactory(organisation=None, is_superuser=True, is_staff=True)
        editor = verified_client_for(admin).get(named.edit_url)
        assert editor.status_code == 200
        body = editor.content.decode()
        offered = set(re.findall(r'name="signatory_organisations" value="(\d+)"', body))
        assert str(world.staying.pk) in offered
        assert str(world.leaving.pk) not in offered
