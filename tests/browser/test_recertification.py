"""A single point of contact answers an access review in Chromium: confirms one
person, takes a role away from another, submits, reloads and sees what was
stored, with axe-core on each page."""

import pytest
from playwright.sync_api import expect

from accounts.models import EntryStatus, RecertificationRound, Role, User
from accounts.services import recertification_open
from tests.conftest import current_code
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory

from .conftest import assert_accessible, screenshot
from .test_sign_in import enter_password, enter_security_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_contact_confirms_one_person_and_removes_a_role_from_another(page, live_server):
    organisation = OrganisationFactory(name="Agency A")
    contact = UserFactory(
        organisation=organisation, roles=[Role.SIGNATORY], first_name="Cara"
    )
    organisation.single_point_of_contact = contact
    organisation.save()
    kept = UserFactory(
        organisation=organisation,
        roles=[Role.REFERRER],
        first_name="Kim",
        last_name="Keeper",
    )
    trimmed = UserFactory(
        organisation=organisation,
        roles=[Role.REFERRER, Role.SIGNATORY],
        first_name="Tam",
        last_name="Trimmed",
    )
    waiting = UserFactory(
        organisation=organisation,
        roles=[Role.REFERRER],
        first_name="Wyn",
        last_name="Waiting",
    )
    round_ = recertification_open(organisation=organisation)
    device = TOTPDeviceFactory(user=contact)

    enter_password(page, live_server.url, contact.username)
    enter_security_code(page, current_code(device))
    page.goto(f"{live_server.url}/accounts/organisation/")
    expect(page.get_by_role("heading", name="People with access to the portal"))
    assert_accessible(page)
    page.get_by_role("link", name="Confirm who still needs access").click()
    expect(page.get_by_role("heading", name="Access review", level=1)).to_be_visible()
    assert_accessible(page)

    # Keeping someone without any role is explained, and the answers stay.
    page.get_by_role("group", name="Does Tam Trimmed still need access?").get_by_label(
        "Yes, keep their access"
    ).check()
    roles = page.get_by_role("group", name="Roles Tam Trimmed keeps")
    roles.get_by_label("Referrer").uncheck()
    roles.get_by_label("Signatory").uncheck()
    page.get_by_role("button", name="Save answers").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    expect(
        page.get_by_role("link", name="Keep at least one role for Tam Trimmed")
    ).to_be_visible()
    assert_accessible(page)

    page.get_by_role("group", name="Does Kim Keeper still need access?").get_by_label(
        "Yes, keep their access"
    ).check()
    roles = page.get_by_role("group", name="Roles Tam Trimmed keeps")
    roles.get_by_label("Referrer").check()
    roles.get_by_label("Signatory").uncheck()
    page.get_by_role("button", name="Save answers").click()
    expect(page.get_by_text("Saved: 2 confirmed, 0 removed.")).to_be_visible()

    page.reload()
    answered = page.get_by_role("table", name="Already answered")
    expect(answered.get_by_role("row", name="Kim Keeper Confirmed")).to_be_visible()
    expect(answered.get_by_role("row", name="Tam Trimmed Confirmed")).to_contain_text(
        "Signatories"
    )
    expect(
        page.get_by_role("group", name="Does Wyn Waiting still need access?")
    ).to_be_visible()
    expect(
        page.get_by_role("group", name="Does Kim Keeper still need access?")
    ).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "access-review")

    entries = {
        e.user_id: e
        for e in RecertificationRound.objects.get(pk=round_.pk).entries.all()
    }
    assert entries[kept.pk].status == EntryStatus.CONFIRMED
    assert entries[trimmed.pk].status == EntryStatus.CONFIRMED
    assert entries[trimmed.pk].roles_removed == ["Signatories"]
    assert entries[waiting.pk].status == EntryStatus.PENDING
    assert User.objects.get(pk=trimmed.pk).role_names == {"Referrers"}
    assert User.objects.get(pk=kept.pk).role_names == {"Referrers"}
