"""The demo's withdrawn partner: every step done, its certificate waiting."""

import pytest

from accounts.models import SuspensionReason
from partners.demo import NAME
from partners.models import Step, Withdrawal
from tests.conftest import verified_client_for

pytestmark = pytest.mark.django_db


def test_one_withdrawn_partner_with_its_certificate_waiting(demo_seeded):
    withdrawal = Withdrawal.objects.select_related("organisation").get()
    assert withdrawal.organisation.name == NAME
    assert withdrawal.is_complete and set(withdrawal.steps) == set(Step.values)
    assert withdrawal.certificate_state == "Waiting for confirmation"
    assert withdrawal.downloads == []  # it never had case material
    for person in withdrawal.organisation.users.all():
        assert person.suspension_reason == SuspensionReason.PARTNER_WITHDRAWN
    assert "Riverside Community Trust has withdrawn" in demo_seeded


def test_the_coordinator_sees_the_report(demo_seeded):
    withdrawal = Withdrawal.objects.get()
    client = verified_client_for(withdrawal.authorised_by)
    page = client.get(withdrawal.get_absolute_url()).content.decode()
    assert "Waiting for confirmation" in page
    assert "Not done" not in page
