"""load_scale_data: a tiny scale of the benchmark partnership, loaded once for
the module, has the proportions asked for, reads back through the real forms,
selectors and pages, keeps the audit chain whole, and is refused twice."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Min
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Organisation, Role, User
from agreements.models import Acknowledgement
from agreements.selectors import case_material_access, current_versions
from audit.models import AuditEvent
from audit.services import audit_chain_verify
from bench.peer.management.commands.load_scale_data import Command as LoadScaleData
from bench.scale import SLUG_PREFIX, USERNAME_PREFIX, sizes_for
from documents.models import FileDownload, Share, SharedFile, ShareRecipient
from home.models import GuidancePage
from meetings.models import Action, AgendaItem, Attendance, Meeting, MeetingStatus
from referrals.answers import bind, raw_from_cleaned
from referrals.forms import SECTIONS
from referrals.models import (
    OPEN_STATUSES,
    ReferenceCounter,
    Referral,
    ReferralEvent,
    ReferralPerson,
    ReferralShare,
    Status,
    name_key,
)
from referrals.selectors import earlier_referrals, referrals_visible_to
from tests.conftest import verified_client_for
from tests.factories.referrals import submitted_referral
from tests.shared_setup import rolled_back_after_module

pytestmark = pytest.mark.django_db

# The command lives in the benchmark app, installed only by bench.settings, so
# the tests call it as an object rather than by name.

SCALE = 0.005
SIZES = sizes_for(SCALE)


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """The command run once for the module, inside a transaction rolled back
    after it; returns what it printed and the audit log's size before."""
    with rolled_back_after_module(django_db_blocker):
        events_before = AuditEvent.objects.count()
        out = StringIO()
        call_command(LoadScaleData(), "--scale", str(SCALE), stdout=out)
        yield {"output": out.getvalue(), "events_before": events_before}


def _scale_users(role: Role):
    return User.objects.filter(
        username__startswith=USERNAME_PREFIX, groups__name=role.value
    ).order_by("username")


def _referrer() -> User:
    """A caseworker at the first scale organisation."""
    return (
        _scale_users(Role.REFERRER)
        .filter(organisation__slug=f"{SLUG_PREFIX}001")
        .first()
    )


def _scale_referrals():
    return Referral.objects.filter(organisation__slug__startswith=SLUG_PREFIX)


class TestProportions:
    def test_the_command_reports_each_stage(self, loaded):
        output = loaded["output"]
        stages = ("organisations", "users", "referrals", "meetings",
                  "shared files", "audit events", "agreements", "guidance")  # fmt: skip
        for stage in stages:
            assert stage in output
        assert "Scale data loaded in" in output

    def test_organisations_and_people(self, loaded):
        assert (
            Organisation.objects.filter(slug__startswith=SLUG_PREFIX).count()
            == SIZES.organisations
        )
        users = User.objects.filter(username__startswith=USERNAME_PREFIX)
        assert users.count() == SIZES.users
        assert _scale_users(Role.REFERRER).count() == SIZES.referrers
        assert _scale_users(Role.SIGNATORY).count() == SIZES.organisations
        assert _scale_users(Role.COORDINATOR).count() == SIZES.coordinators
        assert _scale_users(Role.EDITOR).count() == SIZES.editors
        # One hash for everyone, of the demo password; a confirmed device each.
        assert users.values("password").distinct().count() == 1
        assert users.first().check_password("cmarac-demo-2026")
        assert (
            TOTPDevice.objects.filter(user__in=users, confirmed=True).count()
            == SIZES.users
        )
        assert not Organisation.objects.filter(
            slug__startswith=SLUG_PREFIX, single_point_of_contact__isnull=True
        ).exists()

    def test_referrals_people_and_incidents(self, loaded):
        referrals = _scale_referrals()
        assert referrals.count() == SIZES.referrals
        assert (
            ReferralPerson.objects.filter(referral__in=referrals).count()
            == SIZES.referrals * SIZES.people_per_referral
        )
        incidents = sum(len(r.answers["risk"]["incidents"]) for r in referrals)
        assert incidents == SIZES.referrals * SIZES.incidents_per_referral
        statuses = set(referrals.values_list("status", flat=True))
        assert len(statuses) >= 4
        assert statuses & set(OPEN_STATUSES)
        assert statuses & {Status.CLOSED, Status.DECLINED, Status.REDIRECTED}
        # Every referral has its submission in its history, then each step.
        assert not referrals.annotate(n=Count("events")).filter(n=0).exists()
        assert ReferralEvent.objects.filter(referral__in=referrals).count() >= (
            SIZES.referrals
        )

    def test_repeat_flags_follow_the_rule(self, loaded):
        # Set in one statement for the whole load; each agrees with the case
        # page's list of earlier referrals, and some people are referred again.
        referrals = list(_scale_referrals().prefetch_related("people"))
        flagged = {r.reference for r in referrals if r.is_repeat}
        assert flagged == {r.reference for r in referrals if earlier_referrals(r)}
        assert 0 < len(flagged) < len(referrals)

    def test_meetings_agendas_and_actions(self, loaded):
        meetings = Meeting.objects.filter(location__contains="Scaleford")
        assert meetings.count() == SIZES.meetings
        upcoming = meetings.filter(starts_at__gt=timezone.now())
        assert upcoming.count() == SIZES.upcoming_meetings
        assert not upcoming.filter(
            status__in=[MeetingStatus.HELD, MeetingStatus.MINUTES_ISSUED]
        ).exists()
        items = AgendaItem.objects.filter(meeting__in=meetings)
        assert items.exists()
        assert (
            items.values("meeting").annotate(n=Count("pk")).aggregate(m=Max("n"))["m"]
            <= SIZES.cases_per_meeting
        )
        # Cases on an upcoming agenda are accepted; the referring organisation
        # is always invited, and every other invited one has a share.
        for item in items.select_related("referral").prefetch_related("invited"):
            invited = {org.pk for org in item.invited.all()}
            assert item.referral.organisation_id in invited
            shared = set(
                ReferralShare.objects.filter(referral=item.referral).values_list(
                    "organisation_id", flat=True
                )
            )
            assert invited - {item.referral.organisation_id} <= shared
            if item.meeting.starts_at > timezone.now():
                assert item.referral.status == Status.ACCEPTED
        held_items = items.filter(next_review__isnull=False)
        assert (
            Action.objects.filter(agenda_item__in=held_items).count()
            == held_items.count() * SIZES.actions_per_case
        )
        assert Attendance.objects.filter(meeting__in=meetings).exists()

    def test_shared_files_are_real_small_files(self, loaded):
        shares = Share.objects.filter(sender_organisation__slug__startswith=SLUG_PREFIX)
        assert shares.count() == SIZES.shares
        files = SharedFile.objects.filter(share__in=shares)
        assert files.count() == SIZES.shares * SIZES.files_per_share
        assert ShareRecipient.objects.filter(share__in=shares).count() >= shares.count()
        assert FileDownload.objects.filter(file__in=files).exists()
        item = files.first()
        with item.file.open("rb") as handle:
            content = handle.read()
        assert len(content) == item.size == 200
        assert hashlib.sha256(content).hexdigest() == item.sha256

    def test_guidance_pages(self, loaded):
        pages = GuidancePage.objects.live().filter(slug__startswith=SLUG_PREFIX)
        assert pages.count() == SIZES.guidance_pages
        page = pages.first()
        assert page.get_parent().specific_class.__name__ == "GuidanceIndexPage"
        assert page.depth == page.get_parent().depth + 1

    def test_audit_events_chain_from_the_log(self, loaded):
        assert AuditEvent.objects.count() >= loaded["events_before"] + (
            SIZES.audit_events
        )
        assert audit_chain_verify().problems == []
        # Signed with the audit key, as audit_record signs each event.
        assert not AuditEvent.objects.filter(key_id="").exists()
        # In time order, like the events audit_record writes.
        times = list(AuditEvent.objects.order_by("id").values_list("at", flat=True))
        assert times == sorted(times)


class TestConsistency:
    def test_references_follow_the_counter(self, loaded):
        years = (
            _scale_referrals()
            .values("year")
            .annotate(low=Min("number"), high=Max("number"), n=Count("pk"))
        )
        for row in years:
            counter = ReferenceCounter.objects.get(year=row["year"])
            assert counter.last_number >= row["high"]
            assert row["high"] - row["low"] + 1 == row["n"]  # no gaps
        # A referral submitted now takes the next number of this year.
        year = timezone.localdate().year
        last = ReferenceCounter.objects.get(year=year).last_number
        referral = submitted_referral(_referrer())
        assert referral.reference == f"CM-{year}-{last + 1:04d}"

    def test_answers_have_the_shape_the_form_stores(self, loaded):
        for referral in _scale_referrals().order_by("?")[:10]:
            for section in SECTIONS:
                stored = referral.answers[section.slug]
                bound = bind(section, raw_from_cleaned(section, stored))
                assert bound.is_valid(), (referral, section.slug, bound.errors())
                assert bound.cleaned() == stored, (referral, section.slug)
            people = referral.answers["people"]["people"]
            rows = list(referral.people.order_by("position"))
            assert [p.full_name for p in rows] == [p["full_name"] for p in people]
            assert all(p.name_key == name_key(p.full_name) for p in rows)
            assert (
                referral.risk_level
                == (referral.answers["risk"]["fields"]["risk_level"])
            )

    def test_rows_pass_model_validation(self, loaded):
        referrals = _scale_referrals()
        samples = [
            *referrals[:5],
            *ReferralPerson.objects.filter(referral__in=referrals)[:5],
            *ReferralEvent.objects.filter(referral__in=referrals)[:5],
            *ReferralShare.objects.filter(referral__in=referrals)[:5],
            *Meeting.objects.filter(location__contains="Scaleford")[:5],
            *AgendaItem.objects.filter(referral__in=referrals)[:5],
            *Action.objects.filter(referral__in=referrals)[:5],
            *Attendance.objects.filter(organisation__slug__startswith=SLUG_PREFIX)[:5],
            *Share.objects.filter(sender_organisation__slug__startswith=SLUG_PREFIX)[
                :5
            ],
            *SharedFile.objects.filter(
                share__sender_organisation__slug__startswith=SLUG_PREFIX
            )[:5],
            *FileDownload.objects.filter(organisation__slug__startswith=SLUG_PREFIX)[
                :5
            ],
        ]
        for row in samples:
            row.full_clean()

    def test_most_organisations_acknowledged_the_agreements(self, loaded):
        assert current_versions()
        acknowledged = Acknowledgement.objects.filter(
            organisation__slug__startswith=SLUG_PREFIX
        )
        assert acknowledged.values("organisation").distinct().count() >= (
            SIZES.organisations * 0.8
        )
        assert case_material_access(_referrer()).allowed


class TestPages:
    def test_a_referrer_opens_the_dashboard_and_referrals(self, loaded):
        referrer = _referrer()
        client = verified_client_for(referrer)
        home = client.get("/")
        assert home.status_code == 200
        assert "Your organisation&#x27;s open referrals" in home.content.decode()
        visible = referrals_visible_to(referrer)
        own = visible.filter(organisation=referrer.organisation).first()
        shared = visible.exclude(organisation=referrer.organisation).first()
        for referral in filter(None, (own, shared)):
            page = client.get(referral.get_absolute_url())
            assert page.status_code == 200
            assert referral.reference in page.content.decode()
        assert own is not None
        assert client.get("/referrals/").status_code == 200

    def test_a_coordinator_sees_every_referral(self, loaded):
        coordinator = _scale_users(Role.COORDINATOR).first()
        assert referrals_visible_to(coordinator).count() >= SIZES.referrals
        assert verified_client_for(coordinator).get("/").status_code == 200

    def test_a_recipient_downloads_a_shared_file(self, loaded):
        referrer = _referrer()
        item = SharedFile.objects.filter(
            share__recipients__organisation=referrer.organisation,
            share__recalled_at__isnull=True,
            share__expires_at__gt=timezone.now(),
        ).first()
        assert item is not None
        response = verified_client_for(referrer).get(item.get_download_url())
        assert response.status_code == 200
        content = b"".join(response.streaming_content)
        assert hashlib.sha256(content).hexdigest() == item.sha256

    def test_guidance_is_served(self, loaded):
        page = GuidancePage.objects.filter(slug__startswith=SLUG_PREFIX).first()
        response = verified_client_for(_referrer()).get(page.url)
        assert response.status_code == 200
        assert page.title in response.content.decode()


class TestRefusals:
    def test_a_second_run_is_refused(self, loaded):
        before = Referral.objects.count()
        with pytest.raises(CommandError, match="already loaded"):
            call_command(LoadScaleData(), "--scale", str(SCALE), stdout=StringIO())
        assert Referral.objects.count() == before

    def test_the_flag_passes_production_settings(self, loaded, settings):
        settings.DEMO_DATA_ALLOWED = False
        # Past the production check, refused only because it is loaded already.
        with pytest.raises(CommandError, match="already loaded"):
            call_command(
                LoadScaleData(),
                "--scale",
                str(SCALE),
                "--i-know-this-is-not-production",
                stdout=StringIO(),
            )

    def test_production_settings_are_refused(self, settings):
        settings.DEMO_DATA_ALLOWED = False
        before = Organisation.objects.count()
        with pytest.raises(
            CommandError, match="--i-know-this-is-not-production"
        ) as refused:
            call_command(LoadScaleData(), "--scale", str(SCALE), stdout=StringIO())
        assert "DEMO_DATA_ALLOWED" in str(refused.value)
        assert Organisation.objects.count() == before
