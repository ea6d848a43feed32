"""One way to show a refusal (issue 19 item 7): a form post the portal
refuses comes back as the page again, with status 400, a GOV.UK error
summary and what was typed (passwords and codes aside).

Every route in the URL resolver whose view handles a form (a Django form
view, or a function view that binds one) must be listed here: walked, with
an empty post carrying a valid CSRF token, or exempt with the reason. A form
view added later fails ``test_every_form_route_is_listed`` until it is.
"""

import inspect
import re
from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.generic.edit import FormMixin

from accounts.models import Role
from tests.conftest import sign_in_with_password, verified_client_for
from tests.factories import TOTPDeviceFactory, UserFactory
from tests.factories.documents import shared
from tests.factories.referrals import submitted_referral
from tests.forms import forms_on

from .routes import all_routes

ROUTES = [
    route
    for route in all_routes()[0]
    # The Wagtail admin's screens are Wagtail's, with its own conventions.
    if not route.pattern.startswith(("admin/", "django-admin/"))
]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def binds_a_form(route) -> bool:
    view_class = getattr(route.callback, "view_class", None)
    if view_class is not None:
        return issubclass(view_class, FormMixin)
    try:
        source = inspect.getsource(inspect.unwrap(route.callback))
    except (OSError, TypeError):
        return False
    return bool(re.search(r"[Ff]orm\b|Form\(", source))


FORM_ROUTES = {route.name: route for route in ROUTES if binds_a_form(route)}


def _csrf_client(person=None, *, verified=True) -> Client:
    client = Client(enforce_csrf_checks=True)
    if person is not None and verified:
        client.cookies = verified_client_for(person).cookies
    elif person is not None:
        sign_in_with_password(client, person)
    return client


def _sign_in():
    return _csrf_client(), "/sign-in/"


def _verify():
    person = UserFactory()
    TOTPDeviceFactory(user=person)
    return _csrf_client(person, verified=False), "/sign-in/security-code/"


def _enrol():
    return _csrf_client(UserFactory(), verified=False), "/sign-in/set-up-authenticator/"


def _password_change():
    return _csrf_client(UserFactory()), "/account/password/"


def _password_reset():
    return _csrf_client(), "/password-reset/"


def _password_reset_confirm():
    person = UserFactory()
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    token = default_token_generator.make_token(person)
    client = _csrf_client()
    # Django swaps the token for a session marker and redirects to this.
    assert client.get(f"/password-reset/{uid}/{token}/").status_code == 302
    return client, f"/password-reset/{uid}/set-password/"


def _coordinator_and_case():
    coordinator = UserFactory(roles=[Role.COORDINATOR])
    return coordinator, submitted_referral()


def _hold_place():
    coordinator, referral = _coordinator_and_case()
    return _csrf_client(coordinator), f"/referrals/{referral.reference}/legal-hold/"


def _hold_remove():
    from referrals.retention import legal_hold_place

    coordinator, referral = _coordinator_and_case()
    hold = legal_hold_place(
        referral=referral,
        user=coordinator,
        reason="Inquest pending",
        review_date=timezone.localdate() + timedelta(days=60),
    )
    return _csrf_client(coordinator), f"/referrals/retention/holds/{hold.pk}/remove/"


def _share_new():
    return _csrf_client(UserFactory(roles=[Role.REFERRER])), "/files/share/"


def _share_owned():
    sender = UserFactory(roles=[Role.REFERRER])
    share = shared(sender, [UserFactory().organisation])
    return sender, share


def _recall():
    sender, share = _share_owned()
    return _csrf_client(sender), f"/files/{share.public_id}/recall/"


def _schedule():
    return _csrf_client(UserFactory(roles=[Role.COORDINATOR])), "/meetings/new/"


# Route name: how to reach its form as someone allowed to use it.
WALKED = {
    "accounts:login": _sign_in,
    "accounts:verify": _verify,
    "accounts:enrol": _enrol,
    "accounts:password_change": _password_change,
    "accounts:password_reset": _password_reset,
    "accounts:password_reset_confirm": _password_reset_confirm,
    "referrals:hold_place": _hold_place,
    "referrals:hold_remove": _hold_remove,
    "documents:new": _share_new,
    "documents:recall": _recall,
    "meetings:schedule": _schedule,
}

# Not yet walked from here: each needs a case or meeting in a particular
# state. Their views answer a refusal with 400 (refusal_status, or status=400
# by hand); the app tests named exercise their refusals.
NOT_YET_WALKED = {
    "agreements:acknowledge": "tests/agreements/test_views.py",
    "referrals:check": "tests/referrals/test_views.py",
    "referrals:section": "tests/referrals/test_views.py",
    "referrals:change_status": "tests/referrals/test_views.py",
    "referrals:answer": "tests/referrals/test_views.py",
    "referrals:access_grant": "tests/referrals/test_views.py",
    "referrals:access_change": "tests/referrals/test_views.py",
    "referrals:sharing_without_consent": "tests/referrals/test_views.py",
    "referrals:free_text_review": "tests/referrals/test_redaction.py",
    "meetings:agenda_add": "tests/meetings/test_agenda.py",
    "meetings:agenda_invite": "tests/meetings/test_agenda.py",
    "meetings:update_action": "tests/meetings/test_rules.py",
    "meetings:record": "tests/meetings/test_record.py",
    "meetings:record_held": "tests/meetings/test_record.py",
    "meetings:record_case": "tests/meetings/test_record.py",
    "meetings:minutes": "tests/meetings/test_record.py",
    "documents:shorten": "tests/documents/test_views.py",
}

EXEMPT = {
    # A look-up by GET: nothing is sent to be saved.
    "agreements:verify_receipt": "a GET look-up form, not a post",
    # Wagtail's own views for page and document passwords and its login
    # for private pages; the portal sets no page passwords and signs people
    # in through accounts:login.
    "wagtaildocs_authenticate_with_password": "Wagtail's view",
    "wagtailcore_authenticate_with_password": "Wagtail's view",
    "wagtailcore_login": "Wagtail's view",
}


def test_every_form_route_is_listed():
    listed = set(WALKED) | set(NOT_YET_WALKED) | set(EXEMPT)
    assert set(FORM_ROUTES) == listed


def test_the_discovery_finds_form_views_of_both_kinds():
    assert {"accounts:login", "accounts:verify", "documents:new"} <= set(FORM_ROUTES)
    assert "accounts:session" not in FORM_ROUTES  # JSON, no form


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(WALKED))
def test_an_empty_post_is_refused_with_400_and_an_error_summary(name):
    client, url = WALKED[name]()
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    token = CSRF.search(page.content.decode())
    assert token, f"{url} shows no CSRF token"
    response = client.post(url, {"csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 400, (url, response.status_code)
    body = response.content.decode()
    assert "govuk-error-summary" in body
    assert "govuk-error-message" in body  # and the message by its field
    assert forms_on(body, url), "the form is shown again"


@pytest.mark.django_db
def test_a_wrong_password_keeps_the_username_and_drops_the_password(user):
    client, url = _sign_in()
    token = CSRF.search(client.get(url).content.decode()).group(1)
    response = client.post(
        url,
        {
            "csrfmiddlewaretoken": token,
            "username": user.username,
            "password": "not-the-password",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a correct username and password" in body
    assert f'value="{user.username}"' in body
    assert "not-the-password" not in body
