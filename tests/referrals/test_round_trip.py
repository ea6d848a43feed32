"""Opening a referral section and saving it unchanged changes nothing.

Each page is read the way a browser reads it: every input, checked box,
selected option and text area in the form is posted back exactly as the page
drew it. A page that draws an answer wrongly (a radio where a checkbox belongs,
a date the boxes cannot show, a choice the list leaves out) loses or changes
it here.
"""

import pytest
from bs4 import BeautifulSoup
from django.forms.models import model_to_dict
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent
from referrals.answers import bind
from referrals.forms import SECTIONS, SECTIONS_BY_SLUG
from referrals.models import ReferralDraft, ReferralShare, SectionState
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import (
    answers_in,
    complete_draft,
    full_answers,
    multi_choice_fields,
    submitted_referral,
)
from tests.forms import post_back_unchanged

pytestmark = pytest.mark.django_db


def posted_back(html: str) -> dict[str, list[str]]:
    """What submitting the section's form with "Save and continue" sends."""
    form = BeautifulSoup(html, "html.parser").find(
        "form", attrs={"data-autosave": True}
    )
    data = []
    for control in form.find_all(["input", "textarea", "select"]):
        name = control.get("name")
        if not name or control.has_attr("disabled"):
            continue
        if control.name == "textarea":
            # A browser drops the one newline that follows <textarea>.
            data.append((name, control.text.removeprefix("\n")))
        elif control.name == "select":
            chosen = control.find("option", selected=True) or control.find("option")
            data.append((name, chosen.get("value", chosen.text) if chosen else ""))
        elif control.get("type") == "radio":
            # One radio of a group is checked: a browser reading the page
            # unchecks the others as each later one is checked.
            if control.has_attr("checked"):
                data = [(n, v) for n, v in data if n != name]
                data.append((name, control.get("value", "on")))
        elif control.get("type") == "checkbox":
            if control.has_attr("checked"):
                data.append((name, control.get("value", "on")))
        elif control.get("type") not in ("submit", "button", "file", "reset"):
            data.append((name, control.get("value", "")))
    data.append(("action", "save"))
    posted: dict[str, list[str]] = {}
    for name, value in data:
        posted.setdefault(name, []).append(value)
    return posted


@pytest.fixture
def referrer():
    return UserFactory(roles=[Role.REFERRER], job_title="ASB officer")


@pytest.mark.parametrize("slug", [section.slug for section in SECTIONS])
class TestSavingAnUnchangedSection:
    def _round_trip(self, client, draft, slug):
        url = reverse("referrals:section", args=[draft.public_id, slug])
        page = client.get(url)
        assert page.status_code == 200
        before = ReferralDraft.objects.get(pk=draft.pk)
        response = client.post(url, posted_back(page.content.decode()))
        assert response.status_code == 302, response.content.decode()[:2000]
        return before, ReferralDraft.objects.get(pk=draft.pk)

    def test_a_complete_section_keeps_every_answer(self, slug, referrer):
        """Every question answered, two options of every multi-choice one."""
        draft = complete_draft(referrer, full_answers())
        client = verified_client_for(referrer)
        before, after = self._round_trip(client, draft, slug)
        section = SECTIONS_BY_SLUG[slug]
        assert answers_in(after.answers[slug]) == answers_in(before.answers[slug])
        assert (
            bind(section, after.answers[slug]).cleaned()
            == bind(section, before.answers[slug]).cleaned()
        )
        assert after.state(slug) == SectionState.COMPLETED

    def test_an_unfinished_section_comes_back_as_it_was_left(self, slug, referrer):
        """Half-filled, with mistakes: saved again, still the same mistakes."""
        draft = complete_draft(referrer, full_answers())
        raw = dict(draft.answers[slug])
        # Drop the first answer the page needs: the section is now unfinished.
        section = SECTIONS_BY_SLUG[slug]
        forms_and_prefixes = [(section.form_class, "")] + [
            (repeat.form_class, f"{repeat.prefix}-0-") for repeat in section.repeats
        ]
        required = [
            f"{prefix}{name}"
            for form_class, prefix in forms_and_prefixes
            for name, form_field in form_class.base_fields.items()
            if form_field.required
        ]
        raw.pop(required[0])
        draft.answers[slug] = raw
        draft.states[slug] = SectionState.IN_PROGRESS
        draft.save()
        client = verified_client_for(referrer)
        url = reverse("referrals:section", args=[draft.public_id, slug])
        page = client.get(url)
        before = ReferralDraft.objects.get(pk=draft.pk)
        response = client.post(url, posted_back(page.content.decode()))
        assert response.status_code == 400  # the page again, with its errors
        after = ReferralDraft.objects.get(pk=draft.pk)
        assert answers_in(after.answers[slug]) == answers_in(before.answers[slug])
        assert after.state(slug) == SectionState.IN_PROGRESS


class TestTheFullAnswers:
    def test_answer_every_question_of_every_section(self):
        """So the round trip above covers every question, new ones too."""
        answers = full_answers()
        for section in SECTIONS:
            bound = bind(section, answers[section.slug])
            assert bound.is_valid(), (section.slug, bound.errors())
            cleaned = bound.cleaned()
            unanswered = [n for n, v in cleaned["fields"].items() if v in ("", None)]
            for repeat in section.repeats:
                items = cleaned[repeat.prefix]
                assert len(items) == 2, (section.slug, repeat.prefix)
                unanswered += [
                    f"{repeat.prefix}-{n}"
                    for item in items
                    for n, v in item.items()
                    if v in ("", None)
                ]
            assert unanswered == [], section.slug
            for name in multi_choice_fields(section.form_class):
                assert len(cleaned["fields"][name]) >= 2, (section.slug, name)


class TestChangingAShareUnchanged:
    """The "change access" form asks what to do and why, and shows no current values
    to keep: saved as it opens, it is refused with its errors and the share,
    its end and the audit trail are as they were."""

    def test_an_untouched_form_is_refused_and_changes_nothing(self):
        boss = coordinator()
        housing, police = (
            OrganisationFactory(name="Housing"),
            OrganisationFactory(name="Police"),
        )
        referrer = UserFactory(organisation=housing, roles=[Role.REFERRER])
        referral = accepted(submitted_referral(referrer), boss)
        on_agenda(meeting(boss), referral, [police])
        share = referral.shares.get()
        before = model_to_dict(ReferralShare.objects.get(pk=share.pk))
        url = reverse("referrals:access_change", args=[referral.reference, share.pk])
        client = verified_client_for(boss)
        since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
        response = post_back_unchanged(client, url, with_field="why")
        assert response.status_code == 400  # refused, the page drawn again
        page = response.content.decode()
        assert "There is a problem" in page
        assert "Select whether to change the end date or end access" in page
        assert model_to_dict(ReferralShare.objects.get(pk=share.pk)) == before
        assert ReferralShare.objects.get(pk=share.pk).ends_at == share.ends_at
        changes = AuditEvent.objects.filter(pk__gt=since).exclude(action="read")
        assert list(changes.values_list("action", flat=True)) == []
