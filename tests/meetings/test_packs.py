"""Per-agency meeting packs: only that agency's cases, redacted, watermarked."""

import io
from datetime import date

import pytest
from pypdf import PdfReader

from audit.models import AuditEvent
from meetings.models import MeetingPack, MeetingStatus
from meetings.services import (
    MeetingRefused,
    agenda_item_invite,
    pack_download,
    packs_build,
    papers_issue,
)
from portal.calendar import working_days_before
from referrals.models import Status
from referrals.services import referral_transition
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import (
    accepted,
    confirmed,
    coordinator,
    meeting,
    on_agenda,
)
from tests.factories.referrals import person, submitted_referral

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _bytes(download) -> bytes:
    return b"".join(download.chunks)


@pytest.fixture
def setup(django_capture_on_commit_callbacks):
    boss = coordinator()
    police, housing, fire = (OrganisationFactory(name=n) for n in
                             ("Police", "Housing", "Fire"))  # fmt: skip
    first = accepted(
        submitted_referral(
            UserFactory(organisation=housing),
            people=[person(0, name="Vera Victim")],
            do_not_disclose=True,
        ),
        boss,
    )
    second = accepted(
        submitted_referral(
            UserFactory(organisation=fire), people=[person(0, name="Other Case")]
        ),
        boss,
    )
    upcoming = meeting(boss)
    on_agenda(upcoming, first, [police], boss)
    on_agenda(upcoming, second, [], boss)
    with django_capture_on_commit_callbacks(execute=True):
        papers_issue(meeting=upcoming, user=boss)
    return {"meeting": upcoming, "police": police, "housing": housing,
            "fire": fire, "first": first, "second": second}  # fmt: skip


@pytest.mark.slow
class TestPacks:
    def test_papers_issued_builds_a_pack_per_invited_agency(self, setup):
        setup["meeting"].refresh_from_db()
        assert setup["meeting"].status == MeetingStatus.PAPERS_ISSUED
        organisations = set(
            MeetingPack.objects.values_list("organisation__name", flat=True)
        )
        assert organisations == {"Police", "Housing", "Fire"}

    def test_a_pack_holds_only_that_agencys_cases_redacted_and_watermarked(self, setup):
        reader = UserFactory(organisation=setup["police"], first_name="Petra",
                             last_name="Constable")  # fmt: skip
        pdf = _bytes(
            pack_download(
                meeting=setup["meeting"],
                organisation=setup["police"],
                user=confirmed(setup["meeting"], reader),
            )
        )
        text = _text(pdf)
        assert setup["first"].reference in text
        assert "Vera Victim" in text
        assert setup["second"].reference not in text
        assert "Other Case" not in text
        assert "07700 900 982" not in text
        assert "Withheld" in text
        assert "Downloaded by Petra Constable, Police" in text
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        assert f"Page 1 of {pages}" in text
        assert AuditEvent.objects.filter(action="meeting.pack_downloaded").exists()

    def test_the_referring_agency_sees_its_details(self, setup):
        pdf = _bytes(
            pack_download(
                meeting=setup["meeting"],
                organisation=setup["housing"],
                user=confirmed(
                    setup["meeting"], UserFactory(organisation=setup["housing"])
                ),
            )
        )
        assert "07700 900 982" in _text(pdf)


@pytest.mark.slow
class TestContentsAndRebuilds:
    def test_contents_page_numbers_match_the_pdf(self, setup):
        pack = MeetingPack.objects.get(organisation=setup["police"])
        reader = PdfReader(pack.file.open("rb"))
        texts = [page.extract_text() for page in reader.pages]
        contents = next(t for t in texts if "Contents" in t).split("Contents", 1)[1]
        line = next(
            line for line in contents.splitlines() if setup["first"].reference in line
        )
        page_number = int(line.rstrip(". ").split()[-1].strip("."))
        case_page = texts[page_number - 1]
        assert setup["first"].reference in case_page
        assert "Case 1" in case_page

    def test_an_unchanged_pack_is_kept_and_a_changed_case_rebuilds_it(
        self, setup, django_capture_on_commit_callbacks
    ):
        pack = MeetingPack.objects.get(organisation=setup["police"])
        with django_capture_on_commit_callbacks(execute=True):
            packs_build(setup["meeting"])
        assert MeetingPack.objects.get(pk=pack.pk).file.name == pack.file.name
        referral = setup["first"]
        with django_capture_on_commit_callbacks(execute=True):
            referral_transition(
                referral=referral,
                to_status=Status.CLOSED,
                expected_status=referral.status,
                reason="Risk reduced.",
                feedback="Thank you.",
                user=coordinator(),
            )
        rebuilt = MeetingPack.objects.get(pk=pack.pk)
        assert rebuilt.source_hash != pack.source_hash
        assert "Closed" in _text(rebuilt.file.open("rb").read())


class TestSharing:
    def test_invitations_share_the_referral_and_removing_them_unshares(self):
        boss = coordinator()
        police = OrganisationFactory()
        referral = accepted(submitted_referral(), boss)
        upcoming = meeting(boss)
        item = on_agenda(upcoming, referral, [police], boss)
        assert set(referral.shares.values_list("organisation", flat=True)) == {
            police.pk
        }
        assert set(item.invited.all()) == {police, referral.organisation}
        agenda_item_invite(item=item, invited=[], user=boss)
        assert not referral.shares.in_force().exists()

    def test_only_accepted_referrals_go_on_an_agenda(self):
        boss = coordinator()
        with pytest.raises(MeetingRefused, match="only accepted referrals"):
            on_agenda(meeting(boss), submitted_referral(), [], boss)

    def test_referral_deadline_defaults_to_ten_working_days_before(self):
        upcoming = meeting(coordinator())
        assert upcoming.referral_deadline == working_days_before(upcoming.day, 10)
        assert working_days_before(date(2026, 12, 14), 10) == date(2026, 11, 30)
