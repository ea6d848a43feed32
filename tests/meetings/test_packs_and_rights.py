"""Meeting packs and data subject rights: a restricted case is left out of
every pack with a plain line, and comes back once lifted; a corrected answer
reaches the packs that showed the old one."""

import io

import pytest
from django.template.loader import render_to_string
from pypdf import PdfReader

from meetings.models import MeetingPack
from meetings.services import pack_context, papers_issue
from referrals.services import (
    referral_amend,
    referral_restrict,
    referral_restriction_lift,
)
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import person, submitted_referral

pytestmark = pytest.mark.django_db


def _text(pack: MeetingPack) -> str:
    reader = PdfReader(io.BytesIO(pack.file.open("rb").read()))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def agenda():
    boss = coordinator()
    police, housing = OrganisationFactory(name="Police"), OrganisationFactory()
    first = accepted(
        submitted_referral(
            UserFactory(organisation=housing), people=[person(0, name="Vera Victim")]
        ),
        boss,
    )
    second = accepted(
        submitted_referral(
            UserFactory(organisation=housing), people=[person(0, name="Other Case")]
        ),
        boss,
    )
    upcoming = meeting(boss)
    on_agenda(upcoming, first, [police], boss)
    on_agenda(upcoming, second, [police], boss)
    return {"boss": boss, "police": police, "meeting": upcoming, "first": first,
            "second": second}  # fmt: skip


class TestRestrictedCaseLeftOut:
    def test_the_pack_leaves_it_out_with_a_plain_line_until_lifted(self, agenda):
        boss, first = agenda["boss"], agenda["first"]
        referral_restrict(referral=first, user=boss, reason="Accuracy disputed")
        context = pack_context(agenda["meeting"], agenda["police"])
        assert [case["referral"] for case in context["cases"]] == [agenda["second"]]
        html = render_to_string("meetings/pdf/pack.html", context)
        assert f"Case 1: {first.reference} is restricted and left out." in html
        assert "Vera Victim" not in html
        assert "Other Case" in html
        referral_restriction_lift(referral=first, user=boss, reason="Checked")
        context = pack_context(agenda["meeting"], agenda["police"])
        assert len(context["cases"]) == 2
        html = render_to_string("meetings/pdf/pack.html", context)
        assert "restricted and left out" not in html

    @pytest.mark.slow
    def test_restricting_rebuilds_the_issued_pack_without_the_case(
        self, agenda, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            papers_issue(meeting=agenda["meeting"], user=agenda["boss"])
        pack = MeetingPack.objects.get(organisation=agenda["police"])
        assert "Vera Victim" in _text(pack)
        with django_capture_on_commit_callbacks(execute=True):
            referral_restrict(
                referral=agenda["first"], user=agenda["boss"], reason="Disputed"
            )
        rebuilt = MeetingPack.objects.get(pk=pack.pk)
        assert rebuilt.source_hash != pack.source_hash
        text = _text(rebuilt)
        assert "Vera Victim" not in text
        assert "is restricted and left out" in text


class TestCorrectionReachesThePack:
    @pytest.mark.slow
    def test_the_issued_pack_is_rebuilt_with_the_corrected_answer(
        self, agenda, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            papers_issue(meeting=agenda["meeting"], user=agenda["boss"])
        pack = MeetingPack.objects.get(organisation=agenda["police"])
        with django_capture_on_commit_callbacks(execute=True):
            referral_amend(
                referral=agenda["first"],
                answer="people.people.0.full_name",
                value="Verity Victor",
                reason="Misspelt",
                user=agenda["boss"],
            )
        rebuilt = MeetingPack.objects.get(pk=pack.pk)
        assert rebuilt.source_hash != pack.source_hash
        text = _text(rebuilt)
        assert "Verity Victor" in text
        assert "Vera Victim" not in text
