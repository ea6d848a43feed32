"""One way to show a refusal (issue 19 item 7): a form post the portal
refuses comes back as the page again, with status 400, a GOV.UK error
summary, the message by its field and what was typed (passwords and codes
aside).

Every route in the URL resolver whose view handles a form (a Django form
view, or a function view that binds one) is walked here as someone allowed
to use it: the page that shows the form is opened, and an empty or invalid
post is sent with the page's CSRF token. The only routes left out are
Wagtail's own, each with its reason in ``EXEMPT``; a form view added later
fails ``test_every_form_route_is_walked_or_exempt_with_a_reason`` until it
is walked.
"""

import inspect
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.generic.edit import FormMixin
from wagtail.admin.views.generic.models import CreateView as WagtailCreateView
from wagtail.admin.views.generic.models import EditView as WagtailEditView

from accounts.invitations import invitation_tokens
from accounts.models import Role
from accounts.services import account_request_make, recertification_open
from incidents.models import Severity
from incidents.services import incident_report
from meetings.services import action_add, papers_issue
from referrals.models import FreeTextReviewKind, ShareReason, Status
from referrals.retention import legal_hold_place
from referrals.services import (
    draft_start,
    referral_restrict,
    referral_submit,
    referral_transition,
)
from tests.conftest import sign_in_with_password, verified_client_for
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.agreements import agreement_tree, signatory_for
from tests.factories.documents import shared
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import (
    complete_answers,
    complete_draft,
    share,
    submitted_referral,
)
from tests.forms import form_on, forms_on
from tests.shared_setup import rolled_back_after_module

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


TYPED = "Typed by the walk"
# An answer every submitted referral of the factories has (referrals.corrections).
PHONE = "people.people.0.phone"


@dataclass
class Walk:
    """How to reach one form as someone allowed to use it, and what to send.

    ``page`` shows the form (found by its field ``with_field``); the post
    goes to the form's action, or to ``action`` for a button the page shows
    only when the step is allowed. ``post`` is sent with the CSRF token, and
    ``kept`` (name: value, a subset of it) must be in the form shown again.
    """

    client: Client
    page: str
    with_field: str | None = None
    post: dict = field(default_factory=dict)
    kept: dict = field(default_factory=dict)
    action: str | None = None


def _csrf_client(person=None, *, verified=True) -> Client:
    client = Client(enforce_csrf_checks=True)
    if person is not None and verified:
        client.cookies = verified_client_for(person).cookies
    elif person is not None:
        sign_in_with_password(client, person)
    return client


# Sign-in, the second factor and passwords ------------------------------------


def _sign_in(world):
    return Walk(_csrf_client(), "/sign-in/", "username")


def _verify(world):
    person = UserFactory()
    TOTPDeviceFactory(user=person)
    return Walk(_csrf_client(person, verified=False), "/sign-in/security-code/")


def _enrol(world):
    client = _csrf_client(UserFactory(), verified=False)
    return Walk(client, "/sign-in/set-up-authenticator/")


def _password_change(world):
    return Walk(_csrf_client(UserFactory()), "/account/password/")


def _password_reset(world):
    return Walk(_csrf_client(), "/password-reset/")


def _password_reset_confirm(world):
    person = UserFactory()
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    token = default_token_generator.make_token(person)
    client = _csrf_client()
    # Django swaps the token for a session marker and redirects to this.
    assert client.get(f"/password-reset/{uid}/{token}/").status_code == 302
    return Walk(client, f"/password-reset/{uid}/set-password/")


# Agreements -------------------------------------------------------------------


def _acknowledge(world):
    # Its own ISA, which retires the stand-in one: made inside this test's
    # transaction so the module's other cases keep theirs.
    _, isa, organisations, _ = agreement_tree()
    signer = signatory_for(organisations[0])
    url = reverse("agreements:acknowledge", args=[isa.latest_version.pk])
    return Walk(
        _csrf_client(signer),
        url,
        "signatory_name",
        post={"signatory_name": TYPED, "signatory_role": ""},
        kept={"signatory_name": TYPED},
    )


# Referrals --------------------------------------------------------------------


def _check(world):
    draft = draft_start(user=world["referrer"])
    return Walk(
        _csrf_client(world["referrer"]),
        f"/referrals/drafts/{draft.public_id}/check/",
        "confirm",
    )


def _section(world):
    draft = draft_start(user=world["referrer"])
    typed = {"name": TYPED, "email": "not an address"}
    return Walk(
        _csrf_client(world["referrer"]),
        f"/referrals/drafts/{draft.public_id}/referrer/",
        "email",
        post={**typed, "action": "save"},
        kept=typed,
    )


def _case(world, key="case", who="boss"):
    referral = world[key]
    return _csrf_client(world[who]), referral.get_absolute_url(), referral


def _change_status(world):
    client, page, referral = _case(world)
    typed = {"reason": TYPED}
    return Walk(
        client,
        page,
        "to_status",
        post={"expected_status": referral.status, **typed},
        kept=typed,
    )


def _answer(world):
    client, page, _ = _case(world, "asked", "asked_referrer")
    return Walk(client, page, "message", post={"message": ""})


def _referral_withdraw(world):
    client, page, _ = _case(world, "case", "referrer")
    return Walk(client, page, "reason", post={"reason": "  "})


def _add_note(world):
    # An accepted case the police were invited to: its agenda item's.
    client, page, _ = _case(world, "noted", "owner_referrer")
    return Walk(client, page, "text", post={"text": " "})


def _free_text_review(world):
    client, page, _ = _case(world, "restricted")
    typed = {"kind": FreeTextReviewKind.SUMMARY.value}
    return Walk(client, page, "summary", post={**typed, "summary": ""}, kept=typed)


def _access_grant(world):
    client, page, referral = _case(world)
    typed = {"reason": ShareReason.SAFEGUARDING.value}
    return Walk(client, f"{page}access/new/", "organisation", post=typed, kept=typed)


def _access_change(world):
    client, page, _ = _case(world)
    typed = {"why": TYPED}
    page = f"{page}access/{world['share'].pk}/"
    return Walk(client, page, "why", post=typed, kept=typed)


def _sharing_without_consent(world):
    client, page, _ = _case(world, "restricted")
    return Walk(client, f"{page}sharing-without-consent/", "why")


def _hold_place(world):
    client, page, _ = _case(world)
    return Walk(client, f"{page}legal-hold/")


def _hold_remove(world):
    hold = legal_hold_place(
        referral=world["case"],
        user=world["boss"],
        reason="Inquest pending",
        review_date=timezone.localdate() + timedelta(days=60),
    )
    client = _csrf_client(world["boss"])
    return Walk(client, f"/referrals/retention/holds/{hold.pk}/remove/")


def _restrict(world):
    client, page, referral = _case(world)
    typed = {"until_0": "31", "until_1": "2"}  # no year, and no reason
    url = reverse("referrals:restrict", args=[referral.reference])
    return Walk(client, url, "reason", post=typed, kept=typed)


def _restriction_lift(world):
    # Its own restricted case, inside this test's transaction.
    referral = submitted_referral()
    referral_restrict(referral=referral, user=world["boss"], reason="Disputed")
    url = reverse("referrals:restriction_lift", args=[referral.reference])
    return Walk(_csrf_client(world["boss"]), url, "reason", post={"reason": ""})


def _amend(world):
    client, page, referral = _case(world)
    typed = {"value": "07700 900 111"}  # and no reason why
    url = reverse("referrals:amend", args=[referral.reference, PHONE])
    return Walk(client, url, "why", post={**typed, "why": ""}, kept=typed)


# Meetings ---------------------------------------------------------------------


def _schedule(world):
    return Walk(_csrf_client(world["boss"]), "/meetings/new/")


def _agenda_add(world):
    typed = {"slot_minutes": "4"}  # too short
    return Walk(
        _csrf_client(world["boss"]),
        world["planned"].get_absolute_url(),
        "slot_minutes",
        post=typed,
        kept=typed,
    )


def _agenda_invite(world):
    planned, item = world["planned"], world["planned_item"]
    page = f"/meetings/{planned.pk}/agenda/{item.pk}/invited/"
    typed = {"share_reason": ShareReason.SAFEGUARDING.value}
    return Walk(
        _csrf_client(world["boss"]),
        page,
        "share_reason",
        post={"invited": "0", **typed},
        kept=typed,
    )


def _update_action(world):
    typed = {"update": TYPED}
    page = f"/meetings/actions/{world['action'].pk}/"
    return Walk(
        _csrf_client(world["owner_referrer"]), page, "update", post=typed, kept=typed
    )


def _reply(world):
    # Attending with a deputy is refused; the reply chosen is kept.
    page = f"/meetings/{world['issued'].pk}/reply/"
    typed = {"reply": "attending"}
    deputy = world["police_deputy"].pk
    return Walk(
        _csrf_client(world["owner_referrer"]),
        page,
        "reply",
        post={**typed, "deputy": str(deputy)},
        kept=typed,
    )


def _confidentiality(world):
    page = f"/meetings/{world['issued'].pk}/confidentiality/"
    return Walk(_csrf_client(world["owner_referrer"]), page, "confirm")


def _record(world):
    typed = {"name": TYPED}
    page = f"/meetings/{world['issued'].pk}/record/"
    return Walk(_csrf_client(world["boss"]), page, "name", post=typed, kept=typed)


def _record_held(world):
    # Papers are out but the meeting has not started: marking it held is
    # refused, and the page says so by the button, keeping the register form.
    meeting = world["issued"]
    return Walk(
        _csrf_client(world["boss"]),
        f"/meetings/{meeting.pk}/record/",
        "name",
        action=f"/meetings/{meeting.pk}/record/held/",
    )


def _record_case(world):
    meeting, item = world["issued"], world["issued_item"]
    typed = {"action-officer": TYPED}
    return Walk(
        _csrf_client(world["boss"]),
        f"/meetings/{meeting.pk}/cases/{item.pk}/",
        "action-officer",
        post={"form": "action", **typed},
        kept=typed,
    )


def _minutes(world):
    # Saving works while papers are out; issuing needs the meeting held.
    typed = {"general_minutes": TYPED}
    page = f"/meetings/{world['issued'].pk}/minutes/"
    return Walk(
        _csrf_client(world["boss"]),
        page,
        "general_minutes",
        post={**typed, "issue": ""},
        kept=typed,
    )


# Files ------------------------------------------------------------------------


def _share_new(world):
    return Walk(_csrf_client(world["referrer"]), "/files/share/")


def _recall(world):
    share = shared(world["referrer"], [world["police"]])
    return Walk(_csrf_client(world["referrer"]), f"/files/{share.public_id}/recall/")


def _shorten(world):
    share = shared(world["referrer"], [world["police"]])
    typed = {"shorten-expires_0": "31", "shorten-expires_1": "2"}  # no year
    return Walk(
        _csrf_client(world["referrer"]),
        f"/files/{share.public_id}/",
        "shorten-expires_0",
        post=typed,
        kept=typed,
    )


# Partner withdrawal -------------------------------------------------------------


def _withdraw(world):
    typed = {"reason": TYPED}  # and no organisation or date
    return Walk(
        _csrf_client(world["boss"]), "/partners/withdraw/", "reason", typed, typed
    )


def _certificate(world):
    from partners.services import certificate_link, withdrawal_record, withdrawal_run

    leaving = OrganisationFactory(name="Leaving agency")
    contact = UserFactory(organisation=leaving)
    leaving.single_point_of_contact = contact
    leaving.save()
    withdrawal = withdrawal_record(
        organisation=leaving,
        withdrawn_on=timezone.localdate(),
        reason="Closed",
        user=world["boss"],
    )
    withdrawal = withdrawal_run(withdrawal=withdrawal)
    typed = {"name": TYPED}  # and nothing confirmed
    page = "/partners/" + certificate_link(withdrawal).split("/partners/", 1)[1]
    return Walk(_csrf_client(), page, "name", typed, typed)


# Data protection -----------------------------------------------------------------


def _officer_sar(world):
    from rights.sar import sar_items_add, sar_open

    officer = UserFactory(roles=[Role.DPO])
    sar = sar_open(user=officer, requester_name="Typed Person",
                   received_on=timezone.localdate())  # fmt: skip
    items = sar_items_add(sar=sar, user=officer,
                          records=[("referral", world["case"].pk)])  # fmt: skip
    return _csrf_client(officer), sar, items[0]


def _sar_new(world):
    client, _, _ = _officer_sar(world)
    typed = {"requester_name": TYPED, "received_on_0": "31"}  # no month or year
    return Walk(client, "/rights/access-requests/new/", "requester_name",
                post=typed, kept={"requester_name": TYPED})  # fmt: skip


def _sar_step(step, field, post, kept=None):
    def walk(world):
        client, sar, _ = _officer_sar(world)
        page = f"/rights/access-requests/{sar.pk}/{step}/"
        return Walk(client, page, field, post=post, kept=kept or {})

    return walk


def _sar_item(world):
    client, sar, item = _officer_sar(world)
    typed = {"decision": "withhold", "third_party_names": TYPED}  # no exemption
    page = f"/rights/access-requests/{sar.pk}/items/{item.pk}/"
    return Walk(client, page, "decision", post=typed, kept=typed)


def _sar_search(world):
    client, sar, _ = _officer_sar(world)
    page = f"/rights/access-requests/{sar.pk}/search/?q=Alex+Example"
    return Walk(client, page, "records", post={"q": "Alex Example"})


def _request_new(world):
    client, _, _ = _officer_sar(world)
    typed = {"requester_name": TYPED, "kind": "erasure"}
    return Walk(client, "/rights/objections-and-erasure/new/", "requester_name",
                post=typed, kept=typed)  # fmt: skip


def _request_decide(world):
    from rights.objections import rights_request_record

    client, sar, _ = _officer_sar(world)
    record = rights_request_record(
        user=sar.opened_by, kind="objection", requester_name="Typed Person",
        case_references=[world["case"].reference],
        received_on=timezone.localdate(), grounds="Typed grounds",
    )  # fmt: skip
    typed = {"decision": "upheld"}  # no reasons
    page = f"/rights/objections-and-erasure/{record.pk}/"
    return Walk(client, page, "reasons", post=typed, kept=typed)


# Incidents --------------------------------------------------------------------


def _incident_report(world):
    typed = {"what_happened": TYPED}  # and no date it was discovered
    return Walk(
        _csrf_client(world["referrer"]),
        reverse("incidents:report"),
        "what_happened",
        post=typed,
        kept=typed,
    )


def _incident_page(world, name, *args):
    return reverse(name, args=[world["incident"].reference, *args])


def _triage(world):
    typed = {"severity": Severity.HIGH.value}  # and no status
    page = _incident_page(world, "incidents:triage")
    return Walk(_csrf_client(world["boss"]), page, "severity", typed, typed)


def _decision(world):
    typed = {"reasons": TYPED, "ico_reference": TYPED[:20]}  # and no decision
    page = _incident_page(world, "incidents:decision", "ico")
    return Walk(_csrf_client(world["boss"]), page, "reasons", typed, typed)


def _contain(world):
    typed = {"reason": TYPED}  # and nobody chosen
    page = _incident_page(world, "incidents:contain", "deactivate-user")
    post = {"target": "", **typed}
    return Walk(_csrf_client(world["boss"]), page, "reason", post, typed)


# A single point of contact's screens, and accepting an invitation -------------


def _account_request(world):
    typed = {"first_name": TYPED, "email": "not an address"}
    return Walk(
        _csrf_client(world["contact"]),
        reverse("accounts:account_request"),
        "first_name",
        post=typed,
        kept=typed,
    )


def _person_suspend(world):
    typed = {"reason": TYPED}  # and not confirmed
    url = reverse("accounts:person_suspend", args=[world["colleague"].pk])
    return Walk(_csrf_client(world["contact"]), url, "reason", typed, typed)


def _recertification(world):
    # Kept, but with every role unticked: refused by the roles' boxes.
    typed = {f"decision_{world['colleague'].pk}": "keep"}
    url = reverse("accounts:recertification")
    return Walk(_csrf_client(world["contact"]), url, next(iter(typed)), typed, typed)


def _invitation(world):
    person = UserFactory()
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    token = invitation_tokens.make_token(person)
    client = _csrf_client()
    # As for a reset link: the token is swapped for a session marker.
    assert client.get(f"/invitation/{uid}/{token}/").status_code == 302
    post = {"new_password1": "one password", "new_password2": "another one"}
    return Walk(client, f"/invitation/{uid}/set-password/", "new_password1", post)


# Route name: how to reach its form as someone allowed to use it.
WALKED = {
    "accounts:login": _sign_in,
    "accounts:verify": _verify,
    "accounts:enrol": _enrol,
    "accounts:password_change": _password_change,
    "accounts:password_reset": _password_reset,
    "accounts:password_reset_confirm": _password_reset_confirm,
    "agreements:acknowledge": _acknowledge,
    "referrals:check": _check,
    "referrals:section": _section,
    "referrals:change_status": _change_status,
    "referrals:answer": _answer,
    "referrals:withdraw": _referral_withdraw,
    "referrals:add_note": _add_note,
    "referrals:free_text_review": _free_text_review,
    "referrals:access_grant": _access_grant,
    "referrals:access_change": _access_change,
    "referrals:sharing_without_consent": _sharing_without_consent,
    "referrals:hold_place": _hold_place,
    "referrals:hold_remove": _hold_remove,
    "meetings:schedule": _schedule,
    "meetings:agenda_add": _agenda_add,
    "meetings:agenda_invite": _agenda_invite,
    "meetings:update_action": _update_action,
    "meetings:reply": _reply,
    "meetings:confidentiality": _confidentiality,
    "meetings:record": _record,
    "meetings:record_held": _record_held,
    "meetings:record_case": _record_case,
    "meetings:minutes": _minutes,
    "documents:new": _share_new,
    "documents:recall": _recall,
    "documents:shorten": _shorten,
    "partners:new": _withdraw,
    "partners:certificate": _certificate,
    "rights:sar_new": _sar_new,
    "rights:sar_identity": _sar_step(
        "identity", "method", {"note": TYPED}, {"note": TYPED}
    ),
    "rights:sar_extend": _sar_step(
        "extend", "months", {"reason": TYPED}, {"reason": TYPED}
    ),
    "rights:sar_status": _sar_step(
        "status", "status", {"status": "refused", "reason": ""}, {"status": "refused"}
    ),
    "rights:sar_search": _sar_search,
    "rights:sar_item": _sar_item,
    "rights:request_new": _request_new,
    "rights:request": _request_decide,
    "referrals:restrict": _restrict,
    "referrals:restriction_lift": _restriction_lift,
    "referrals:amend": _amend,
    "incidents:report": _incident_report,
    "incidents:triage": _triage,
    "incidents:decision": _decision,
    "incidents:contain": _contain,
    "accounts:account_request": _account_request,
    "accounts:person_suspend": _person_suspend,
    "accounts:recertification": _recertification,
    "accounts:invitation": _invitation,
}

# Walked by their own tests below: look-ups and choices sent by GET.
WALKED_BY_GET = {
    "agreements:verify_receipt",
    "referrals:amend_choose",
    "rights:people",
    "board:index",
}

# Route name: why it is not walked. Nothing belongs here for want of time: a
# form route of ours is walked, or Wagtail's, or it fails the test below.
EXEMPT = {
    # Wagtail's own views for page and document passwords and its login
    # for private pages; the portal sets no page passwords and signs people
    # in through accounts:login.
    "wagtaildocs_authenticate_with_password": "Wagtail's view",
    "wagtailcore_authenticate_with_password": "Wagtail's view",
    "wagtailcore_login": "Wagtail's view",
    # Tick boxes only: every set of ticks is a valid answer, so nothing is
    # typed that a refusal could lose. Its one refusal, a NUL character in
    # a forged post, answers 400 with the summary in
    # tests/notices/test_notices.py::TestEmailChoices.
    "notices:email_choices": "tick boxes only; NUL refusal tested in notices",
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The cases, meetings and people the walks need, made once for the module
    in a transaction rolled back after it (each test nests its own in it)."""
    with rolled_back_after_module(django_db_blocker):
        yield _build_world()


def _build_world() -> dict:
    boss = coordinator()
    police = OrganisationFactory(name="Police")
    referrer = UserFactory(roles=[Role.REFERRER])
    case = submitted_referral(referrer)
    asked = submitted_referral()
    for to, reason in ((Status.SCREENING, ""), (Status.INFORMATION_REQUESTED, "Why?")):
        asked = referral_transition(
            referral=asked,
            to_status=to,
            reason=reason,
            user=boss,
            expected_status=asked.status,
        )
    answers = complete_answers(do_not_disclose=True)
    answers["consent"].update({"consent": ["unsafe"], "justification": ["Risky."]})
    restricted, _ = referral_submit(
        draft=complete_draft(referrer, answers), user=referrer
    )
    planned = meeting(boss)
    planned_item = on_agenda(planned, accepted(submitted_referral(), boss), [], boss)
    issued = meeting(boss, days_ahead=2)
    issued_item = on_agenda(
        issued, accepted(submitted_referral(), boss), [police], boss
    )
    papers_issue(meeting=issued, user=boss)
    action = action_add(
        item=issued_item,
        owner=police,
        officer="PC Example",
        description="Visit the address",
        due=timezone.localdate() + timedelta(days=14),
        user=boss,
    )
    reported = incident_report(
        user=referrer,
        what_happened="Sent to the wrong agency.",
        discovered_at=timezone.now(),
        referrals=[case],
    )
    agency = OrganisationFactory(name="Agency with a contact")
    contact = UserFactory(organisation=agency, roles=[Role.SIGNATORY])
    agency.single_point_of_contact = contact
    agency.save()
    colleague = UserFactory(organisation=agency, roles=[Role.REFERRER])
    recertification_open(organisation=agency)
    return {
        "admin": UserFactory(organisation=None, is_superuser=True, is_staff=True),
        "boss": boss,
        "police": police,
        "referrer": referrer,
        "case": case,
        "share": share(case, police),
        "asked": asked,
        "asked_referrer": UserFactory(
            organisation=asked.organisation, roles=[Role.REFERRER]
        ),
        "restricted": restricted,
        "planned": planned,
        "planned_item": planned_item,
        "issued": issued,
        "issued_item": issued_item,
        "noted": issued_item.referral,
        "action": action,
        "owner_referrer": UserFactory(organisation=police, roles=[Role.REFERRER]),
        "incident": reported,
        "contact": contact,
        "colleague": colleague,
        "police_deputy": UserFactory(organisation=police, roles=[Role.REFERRER]),
    }


def test_every_form_route_is_walked_or_exempt_with_a_reason():
    listed = set(WALKED) | WALKED_BY_GET | set(EXEMPT)
    assert set(FORM_ROUTES) == listed
    assert all(EXEMPT.values())


def test_the_discovery_finds_form_views_of_both_kinds():
    assert {"accounts:login", "accounts:verify", "documents:new"} <= set(FORM_ROUTES)
    assert "accounts:session" not in FORM_ROUTES  # JSON, no form


def _shown_again(body: str, walk: Walk, url: str):
    if walk.with_field is None:
        assert forms_on(body, url), "the form is shown again"
        return
    form = form_on(body, with_field=walk.with_field, page_url=walk.page)
    for name, value in walk.kept.items():
        assert (name, value) in form.data, f"{name}={value!r} was not kept"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(WALKED))
def test_a_refused_post_answers_400_with_the_form_again(world, name):
    walk = WALKED[name](world)
    page = walk.client.get(walk.page)
    assert page.status_code == 200, (walk.page, page.status_code)
    body = page.content.decode()
    token = CSRF.search(body)
    assert token, f"{walk.page} shows no CSRF token"
    if walk.action is not None:
        url = walk.action
    elif walk.with_field is not None:
        url = form_on(body, with_field=walk.with_field, page_url=walk.page).action
        url = url.split("#")[0]
    else:
        url = walk.page
    assert resolve(url).view_name == name, (url, resolve(url).view_name)
    response = walk.client.post(
        url, {"csrfmiddlewaretoken": token.group(1), **walk.post}
    )
    assert response.status_code == 400, (url, response.status_code)
    body = response.content.decode()
    assert "govuk-error-summary" in body
    assert "govuk-error-message" in body  # and the message by its field
    _shown_again(body, walk, url)


@pytest.mark.django_db
def test_a_wrong_password_keeps_the_username_and_drops_the_password(user):
    client, url = _csrf_client(), "/sign-in/"
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


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("receipt", "status", "error"),
    [
        ("", 400, "Enter the receipt number"),
        ("abc123", 400, "A receipt number is 64 characters"),
        ("0" * 64, 200, "This receipt is not genuine"),  # looked up, not found
    ],
)
def test_a_receipt_look_up_that_cannot_be_made_answers_400(receipt, status, error):
    """agreements:verify_receipt is a GET look-up, and still answers 400 when
    what was sent is not a receipt number: the request is the asker's error
    (RFC 9110, 15.5.1), which a 200 would hide from assistive technology,
    tests and monitoring alike; 400 is not stored by shared caches either.
    A well-formed number is a look-up made, and its answer is 200 whether or
    not a receipt has it, like a search with no results."""
    client = verified_client_for(UserFactory())
    assert client.get(reverse("agreements:verify_receipt")).status_code == 200
    response = client.get(reverse("agreements:verify_receipt"), {"receipt": receipt})
    assert response.status_code == status
    body = response.content.decode()
    assert "govuk-error-summary" in body and error in body
    form = form_on(body, with_field="receipt")
    assert ("receipt", receipt) in form.data
    if status == 400:
        assert 'class="govuk-error-message"' in body or "govuk-error-message" in body


def _refused_look_up(client, url, params, field, error):
    """A GET form refused: 400, the summary, the message by the field and
    what was sent shown again in the field."""
    response = client.get(url, params)
    assert response.status_code == 400, (url, params, response.status_code)
    body = response.content.decode()
    assert "govuk-error-summary" in body and error in body
    assert "govuk-error-message" in body
    form = form_on(body, with_field=field)
    for name, value in params.items():
        assert (name, value) in form.data, f"{name}={value!r} was not kept"


@pytest.mark.django_db
def test_choosing_no_answer_to_correct_answers_400(world):
    """referrals:amend_choose asks by GET which answer to correct (it changes
    nothing); an answer the case does not have is the asker's error, as a
    malformed receipt number is."""
    client = verified_client_for(world["boss"])
    url = reverse("referrals:amend_choose", args=[world["case"].reference])
    assert client.get(url).status_code == 200
    response = client.get(url, {"answer": PHONE})
    assert response.status_code == 302  # a real answer goes on to its page
    response = client.get(url, {"answer": ""})
    assert response.status_code == 400
    assert "Select the answer that needs correcting" in response.content.decode()
    # A name the list does not hold cannot be shown selected: the message says
    # so by the list, which still offers every answer.
    response = client.get(url, {"answer": "people.people.9.phone"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "govuk-error-summary" in body and "govuk-error-message" in body
    assert "Select an answer from the list" in body
    assert f'value="{PHONE}"' in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("q", "error"),
    [
        ("   ", "Enter"),
        ("J", "Enter at least 2 letters of a name"),
        ("x" * 201, "Enter 200 characters or fewer"),
    ],
)
def test_a_person_search_that_cannot_be_made_answers_400(q, error):
    """rights:people is a search sent by GET: a query that cannot be searched
    is refused as the receipt look-up is (400, the message by the box, the
    words kept); a search made is 200 whether or not it finds anyone."""
    client = verified_client_for(UserFactory(roles=[Role.DPO]))
    url = reverse("rights:people")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "Nobody Anywhere"}).status_code == 200
    _refused_look_up(client, url, {"q": q}, "q", error)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ({"start_0": "", "start_1": "", "end_0": "6", "end_1": "2020"}, "Enter"),
        (
            {"start_0": "7", "start_1": "2020", "end_0": "6", "end_1": "2020"},
            "End month must be the same as or after the start month",
        ),
        (
            {"start_0": "13", "start_1": "2020", "end_0": "6", "end_1": "2021"},
            "Start month must be a real month, from 1 to 12",
        ),
    ],
)
def test_a_board_period_that_cannot_be_shown_answers_400(world, typed, error):
    """board:index takes the months by GET: months that make no period are
    refused as the receipt look-up is, with the months typed kept; a preset
    or a valid period is 200."""
    client = verified_client_for(UserFactory(roles=[Role.BOARD]))
    url = reverse("board:index")
    assert client.get(url).status_code == 200
    assert client.get(url, {"preset": "last-quarter"}).status_code == 200
    _refused_look_up(client, url, typed, "start_0", error)


# The Wagtail admin's create and edit screens of our own models -----------------
#
# Wagtail's admin has its own design (not GOV.UK's): a refused form is the
# screen again with its "could not be saved" banner, each message by its
# field (``error-message``), and, as everywhere, status 400 with what was
# typed kept. Wagtail's own JavaScript posts these forms as ordinary
# navigations; its autosave asks for JSON and already gets 400 on refusal
# (docs/architecture.md, "Refusals").

OUR_APPS = {
    config.label
    for config in apps.get_app_configs()
    if Path(config.path).parent == Path(settings.BASE_DIR)
}


def _admin_form_screen(route) -> bool:
    if not route.pattern.startswith("admin/"):
        return False
    view = inspect.unwrap(route.callback)
    if route.model_admin is not None:
        return view.__name__ in ("create_view", "edit_view")
    view_class = getattr(view, "view_class", None)
    model = getattr(view, "view_initkwargs", {}).get("model")
    return bool(
        view_class
        and issubclass(view_class, WagtailCreateView | WagtailEditView)
        and isinstance(model, type)
        and model._meta.app_label in OUR_APPS
    )


ADMIN_SCREENS = {
    route.name: route for route in all_routes()[0] if _admin_form_screen(route)
}


def _superuser(world):
    return _csrf_client(world["admin"])


def _modeladmin_url(name, *args):
    return reverse(name, args=args)


def _organisation_create(world):
    typed = {"name": TYPED}
    url = _modeladmin_url("accounts_organisation_modeladmin_create")
    return Walk(_superuser(world), url, "name", post=typed, kept=typed)


def _organisation_edit(world):
    typed = {"name": TYPED}  # and no type
    url = _modeladmin_url("accounts_organisation_modeladmin_edit", world["police"].pk)
    return Walk(_superuser(world), url, "name", post=typed, kept=typed)


def _identity_provider_create(world):
    typed = {"client_id": TYPED}  # and no organisation, issuer or domains
    url = _modeladmin_url("accounts_identityprovider_modeladmin_create")
    return Walk(_superuser(world), url, "client_id", post=typed, kept=typed)


def _identity_provider_edit(world):
    from accounts.models import IdentityProvider

    provider, _ = IdentityProvider.objects.get_or_create(
        organisation=world["police"],
        defaults={
            "issuer": "https://login.police.example/",
            "client_id": "portal",
            "client_secret_variable": "DJANGO_OIDC_SECRET_POLICE",
            "email_domains": "police.example",
        },
    )
    typed = {"client_id": TYPED}  # and no issuer or domains
    url = _modeladmin_url("accounts_identityprovider_modeladmin_edit", provider.pk)
    return Walk(_superuser(world), url, "client_id", post=typed, kept=typed)


def _meeting_create(world):
    typed = {"location": TYPED}  # and no date, chair or kind
    url = _modeladmin_url("meetings_meeting_modeladmin_create")
    return Walk(_csrf_client(world["boss"]), url, "location", post=typed, kept=typed)


def _meeting_edit(world):
    typed = {"location": TYPED}
    url = _modeladmin_url("meetings_meeting_modeladmin_edit", world["planned"].pk)
    return Walk(_csrf_client(world["boss"]), url, "location", post=typed, kept=typed)


def _action_edit(world):
    typed = {"update": TYPED}  # and no status
    url = _modeladmin_url("meetings_action_modeladmin_edit", world["action"].pk)
    return Walk(_csrf_client(world["boss"]), url, "update", post=typed, kept=typed)


def _user_screen(name, *args):
    def walk(world):
        typed = {"first_name": TYPED}  # and no username or email
        url = reverse(name, args=[world["referrer"].pk] if args else [])
        # The copy screen's form is sent to the new-user screen (walked too);
        # a post to the copy screen itself is refused the same way.
        action = url if name.endswith(":copy") else None
        return Walk(_superuser(world), url, "first_name", typed, typed, action)

    return walk


ADMIN_WALKED = {
    "accounts_organisation_modeladmin_create": _organisation_create,
    "accounts_organisation_modeladmin_edit": _organisation_edit,
    "accounts_identityprovider_modeladmin_create": _identity_provider_create,
    "accounts_identityprovider_modeladmin_edit": _identity_provider_edit,
    "meetings_meeting_modeladmin_create": _meeting_create,
    "meetings_meeting_modeladmin_edit": _meeting_edit,
    "meetings_action_modeladmin_edit": _action_edit,
    "wagtailusers_users:add": _user_screen("wagtailusers_users:add"),
    "wagtailusers_users:edit": _user_screen("wagtailusers_users:edit", "pk"),
    "wagtailusers_users:copy": _user_screen("wagtailusers_users:copy", "pk"),
}


def _account_request_decide(world):
    # A request of its own, inside this test's transaction.
    asked = account_request_make(
        contact=world["contact"],
        first_name="Sam",
        last_name="Example",
        email="sam.example@example.org",
        job_title="",
        role=Role.REFERRER.value,
        reason="Works the cases.",
    )
    typed = {"decision": "approve"}  # and no username
    url = reverse("accounts_account_request_decide", args=[asked.pk])
    post = {**typed, "username": ""}
    return Walk(_superuser(world), url, "username", post=post, kept=typed)


# Admin form screens of our own that are not modeladmin's create or edit: not
# found by the discovery above, so listed here by hand.
ADMIN_OTHER_WALKED = {"accounts_account_request_decide": _account_request_decide}

READ_ONLY = "read only: the screen refuses everyone, so no form is ever shown"
ADMIN_EXEMPT = {
    "audit_auditevent_modeladmin_create": READ_ONLY,
    "audit_auditevent_modeladmin_edit": READ_ONLY,
    "agreements_agreementversion_modeladmin_create": READ_ONLY,
    "agreements_agreementversion_modeladmin_edit": READ_ONLY,
    "jobs_outgoingemail_modeladmin_create": READ_ONLY,
    "jobs_outgoingemail_modeladmin_edit": READ_ONLY,
    "django_tasks_database_dbtaskresult_modeladmin_create": READ_ONLY,
    "django_tasks_database_dbtaskresult_modeladmin_edit": READ_ONLY,
    # Requests are born on a contact's screen and decided on their own page
    # (accounts_account_request_decide, walked below).
    "accounts_accountrequest_modeladmin_create": READ_ONLY,
    "accounts_accountrequest_modeladmin_edit": READ_ONLY,
    # A guidance page is a Wagtail page: modeladmin sends both to Wagtail's
    # page editor, which is Wagtail's own screen.
    "home_guidancepage_modeladmin_create": "Wagtail's page editor",
    "home_guidancepage_modeladmin_edit": "Wagtail's page editor",
}


def test_every_admin_form_screen_of_ours_is_walked_or_exempt_with_a_reason():
    assert set(ADMIN_SCREENS) == set(ADMIN_WALKED) | set(ADMIN_EXEMPT)
    assert all(ADMIN_EXEMPT.values())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", sorted(n for n, why in ADMIN_EXEMPT.items() if why == READ_ONLY)
)
def test_a_read_only_screen_shows_nobody_a_form(world, name):
    route = ADMIN_SCREENS[name]
    for person in (world["admin"], world["boss"]):
        response = verified_client_for(person).get(route.url)
        assert response.status_code in (302, 403, 404), (route.url, person)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted({**ADMIN_WALKED, **ADMIN_OTHER_WALKED}))
def test_a_refused_admin_form_answers_400_with_the_form_again(world, name):
    walk = {**ADMIN_WALKED, **ADMIN_OTHER_WALKED}[name](world)
    page = walk.client.get(walk.page)
    assert page.status_code == 200, (walk.page, page.status_code)
    body = page.content.decode()
    token = CSRF.search(body).group(1)
    form = form_on(body, with_field=walk.with_field, page_url=walk.page)
    url = walk.action or form.action.split("#")[0] or walk.page
    assert resolve(url).view_name == name, (url, resolve(url).view_name)
    response = walk.client.post(url, {"csrfmiddlewaretoken": token, **walk.post})
    assert response.status_code == 400, (url, response.status_code)
    body = response.content.decode()
    assert "could not be" in body  # Wagtail's banner: "... could not be saved"
    assert "error-message" in body  # and the message by its field
    _shown_again(body, walk, url)
