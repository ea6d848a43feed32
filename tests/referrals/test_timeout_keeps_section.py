"""A section saved just after the session ended for inactivity is kept in the
person's own draft, and the sign-in page says so; signing in again brings
them back to the section with their answers there."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent
from portal.session_keys import SESSION_SEEN_KEY
from referrals.forms import SECTIONS_BY_SLUG
from referrals.models import ReferralDraft
from referrals.services import draft_save, draft_start
from tests.conftest import sign_in_with_password, verified_client_for, verify_session
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ELIGIBILITY = SECTIONS_BY_SLUG["eligibility"]
REASON = "Police warnings and a housing visit have not stopped it."


@pytest.fixture
def referrer():
    return UserFactory(roles=[Role.REFERRER])


def _client(person, *, verified=True) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    sign_in_with_password(client, person)
    if verified:
        verify_session(client, person)
    return client


def _section_url(draft) -> str:
    return reverse("referrals:section", args=[draft.public_id, ELIGIBILITY.slug])


def _form(client, draft) -> dict:
    """The section as the person filled it in, with the page's CSRF token and
    revision, ready to post."""
    page = client.get(_section_url(draft))
    assert page.status_code == 200
    return {
        "csrfmiddlewaretoken": page.context["csrf_token"],
        "revision": str(draft.revision(ELIGIBILITY.slug)),
        "vulnerable": ["victim", "witness"],
        "multi_agency_reason": REASON,
        "action": "save",
    }


def _time_out(client) -> None:
    session = client.session
    session[SESSION_SEEN_KEY] = int(time.time()) - 31 * 60
    session.save()


def _kept(draft) -> dict | None:
    return ReferralDraft.objects.get(pk=draft.pk).answers.get(ELIGIBILITY.slug)


class TestSavingAfterTheTimeout:
    def test_the_section_is_kept_and_the_sign_in_page_says_so(self, referrer):
        draft = draft_start(user=referrer)
        client = _client(referrer)
        form = _form(client, draft)
        _time_out(client)

        response = client.post(_section_url(draft), form)

        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.path == reverse("accounts:login")
        assert parse_qs(location.query)["next"] == [_section_url(draft)]
        kept = _kept(draft)
        assert kept["vulnerable"] == ["victim", "witness"]
        assert kept["multi_agency_reason"] == [REASON]
        # The session is over: the same browser is not signed in any more.
        assert client.get(_section_url(draft)).status_code == 302

        page = client.get(response["Location"]).content.decode()
        assert (
            "You were signed out because you had not done anything for 30 minutes."
            in page
        )
        assert f"We saved what you were typing in ‘{ELIGIBILITY.title}’." in page

        expired = AuditEvent.objects.get(action="auth.session_expired")
        assert expired.detail == {"reason": "idle", "kept": ELIGIBILITY.title}
        saved = AuditEvent.objects.get(action="referral.draft_autosaved")
        assert saved.actor == referrer

        # Signed in again, the section shows what they typed.
        again = verified_client_for(referrer).get(_section_url(draft))
        html = again.content.decode()
        assert REASON in html
        assert 'value="witness" checked' in html.replace('checked=""', "checked")

    def test_the_pages_own_autosave_at_the_time_up_is_kept(self, referrer):
        # What static/js/session-timeout.js sends when the countdown ends.
        draft = draft_start(user=referrer)
        client = _client(referrer)
        form = {**_form(client, draft), "action": "autosave"}
        _time_out(client)
        response = client.post(
            _section_url(draft), form, HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 302
        assert "signed-out=" in response["Location"]
        assert _kept(draft)["multi_agency_reason"] == [REASON]

    def test_without_the_pages_csrf_token_nothing_is_kept(self, referrer):
        draft = draft_start(user=referrer)
        client = _client(referrer)
        form = {**_form(client, draft), "csrfmiddlewaretoken": "x" * 64}
        _time_out(client)
        response = client.post(_section_url(draft), form)
        assert response.status_code == 403
        assert _kept(draft) is None
        assert (
            "kept" not in AuditEvent.objects.get(action="auth.session_expired").detail
        )

    def test_nothing_goes_into_another_persons_draft(self, referrer):
        colleague = UserFactory(
            organisation=referrer.organisation, roles=[Role.REFERRER]
        )
        theirs = draft_start(user=colleague)
        client = _client(referrer)
        mine = draft_start(user=referrer)
        form = _form(client, mine)
        _time_out(client)
        response = client.post(_section_url(theirs), form)
        assert response.status_code == 302
        assert "We saved" not in client.get(response["Location"]).content.decode()
        assert _kept(theirs) is None
        assert _kept(mine) is None

    def test_a_session_without_the_second_factor_keeps_nothing(self, referrer):
        draft = draft_start(user=referrer)
        form = _form(_client(referrer), draft)
        client = _client(referrer, verified=False)
        # The same browser's CSRF cookie, so only the second factor differs.
        client.cookies["csrftoken"] = form["csrfmiddlewaretoken"]
        _time_out(client)
        client.post(_section_url(draft), form)
        assert _kept(draft) is None

    def test_a_section_saved_elsewhere_since_is_not_overwritten(self, referrer):
        draft = draft_start(user=referrer)
        client = _client(referrer)
        form = _form(client, draft)
        elsewhere = {"multi_agency_reason": ["Typed in another window."]}
        draft_save(draft=draft, section=ELIGIBILITY, raw=elsewhere, user=referrer)
        _time_out(client)
        response = client.post(_section_url(draft), form)
        assert response.status_code == 302
        assert _kept(draft)["multi_agency_reason"] == ["Typed in another window."]

    def test_other_forms_are_not_touched(self, referrer):
        client = _client(referrer)
        token = client.get(reverse("accounts:account")).context["csrf_token"]
        _time_out(client)
        response = client.post(
            reverse("referrals:start"), {"csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302
        assert not ReferralDraft.objects.exists()
        assert "We saved" not in client.get(response["Location"]).content.decode()
