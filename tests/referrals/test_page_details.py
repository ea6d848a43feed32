"""Details of the referral pages a person relies on: browsers filling in their
own details, where the error summary takes them, which section they are on,
and dates and sentences that read properly."""

import re
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from accounts.models import Role
from referrals.forms import SECTIONS, SECTIONS_BY_SLUG
from referrals.models import Referral, ReferralEvent
from tests.conftest import verified_client_for
from tests.factories import UserFactory
from tests.factories.referrals import complete_answers, complete_draft, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def referrer():
    return UserFactory(roles=[Role.REFERRER], job_title="ASB officer")


@pytest.fixture
def client(referrer):
    return verified_client_for(referrer)


def _page(response, status=200) -> BeautifulSoup:
    assert response.status_code == status
    return BeautifulSoup(response.content.decode(), "html.parser")


def _section_url(draft, slug):
    return reverse("referrals:section", args=[draft.public_id, slug])


class TestInputPurposes:
    def test_about_you_says_what_each_box_is_for(self, client, referrer):
        """WCAG 2.2 SC 1.3.5: the referrer's own details carry their purpose."""
        draft = complete_draft(referrer)
        page = _page(client.get(_section_url(draft, "referrer")))
        tokens = {
            name: page.find(attrs={"name": name}).get("autocomplete")
            for name in ("name", "job_title", "email", "phone")
        }
        assert tokens == {
            "name": "name",
            "job_title": "organization-title",
            "email": "email",
            "phone": "tel",
        }

    def test_details_of_people_in_the_case_are_never_filled_in(self, client, referrer):
        draft = complete_draft(referrer)
        page = _page(client.get(_section_url(draft, "people")))
        for name in ("people-0-full_name", "people-0-phone", "people-0-postcode"):
            assert page.find(attrs={"name": name}).get("autocomplete") == "off"


class TestSectionNavigation:
    @pytest.mark.parametrize("slug", [section.slug for section in SECTIONS])
    def test_the_section_shown_is_the_current_page(self, client, referrer, slug):
        draft = complete_draft(referrer)
        page = _page(client.get(_section_url(draft, slug)))
        nav = page.find("nav", attrs={"aria-labelledby": "sections-heading"})
        current = nav.find_all(attrs={"aria-current": True})
        assert [(link["aria-current"], link.text) for link in current] == [
            ("page", SECTIONS_BY_SLUG[slug].title)
        ]
        assert len(nav.find_all("a")) == len(SECTIONS)


class TestProblemsWithAWholeList:
    """ "Add at least 1 person" is linked to a control focus can move to."""

    def _summary_target(self, page):
        links = page.select(".govuk-error-summary a")
        return links, [page.find(id=link["href"].lstrip("#")) for link in links]

    def test_an_empty_list_links_to_its_add_button(self, client, referrer):
        draft = complete_draft(referrer)
        response = client.post(
            _section_url(draft, "people"),
            {"people-TOTAL_FORMS": "0", "people-INITIAL_FORMS": "0", "action": "save"},
        )
        page = _page(response, status=400)  # the page again, refused
        links, targets = self._summary_target(page)
        assert [link.text for link in links] == ["Add at least 1 person"]
        button = targets[0]
        assert button.name == "button" and button.text == "Add a person"
        # Inside a fieldset with a legend, so GOV.UK Frontend's error summary
        # moves focus to it, and the fieldset is described by the message.
        fieldset = button.find_parent("fieldset")
        assert fieldset.legend.text == "People in the case"
        message = page.find(id=fieldset["aria-describedby"].split()[0])
        assert "Add at least 1 person" in message.text

    def test_a_full_list_links_to_its_first_question(self, client, referrer):
        """With 20 people there is no "Add" button: the link goes to person 1."""
        draft = complete_draft(referrer)
        raw = {"people-TOTAL_FORMS": ["20"], "people-INITIAL_FORMS": ["0"]}
        for index in range(20):
            raw.update(person(index, role="at_risk", name=f"Person {index}"))
        post = {name: values[0] for name, values in raw.items()}
        page = _page(client.post(_section_url(draft, "people"), post), status=400)
        links, targets = self._summary_target(page)
        assert [link.text for link in links] == [
            "Add the victim, a witness or the person causing harm: the referral "
            "must be about at least one of them"
        ]
        assert targets[0] is not None
        assert targets[0]["id"] == "id_people-0-role_0"
        assert targets[0].name == "input"


def _submitted(referrer) -> Referral:
    from referrals.services import referral_submit

    draft = complete_draft(referrer, complete_answers())
    referral, _ = referral_submit(draft=draft, user=referrer)
    moment = datetime(2026, 12, 6, 14, 5, tzinfo=UTC)
    Referral.objects.filter(pk=referral.pk).update(
        submitted_at=moment, status_changed_at=moment
    )
    ReferralEvent.objects.filter(referral=referral).update(at=moment)
    return Referral.objects.get(pk=referral.pk)


class TestOneDateFormat:
    """ "6 December 2026" on every referral page, as GOV.UK writes dates."""

    SHORT = re.compile(r"\b\d{1,2} (Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}")

    def test_the_list_and_the_case_page(self, client, referrer):
        referral = _submitted(referrer)
        for url in (reverse("referrals:index"), referral.get_absolute_url()):
            html = client.get(url).content.decode()
            assert "6 December 2026" in html, url
            assert not self.SHORT.search(html), (url, self.SHORT.search(html))

    def test_answers_show_dates_the_same_way(self, client, referrer):
        referral = _submitted(referrer)
        html = client.get(referral.get_absolute_url()).content.decode()
        assert "14 October 2026" in html  # the incident, typed as 14 10 2026
        assert "4 July 1970" in html  # a date of birth
