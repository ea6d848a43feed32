"""The demo incident: under investigation, with one containment action."""

import pytest

from accounts.models import User
from incidents.demo import TEMPORARY_OFFICER
from incidents.models import EventKind, Incident, Status

pytestmark = pytest.mark.django_db


def test_one_incident_under_investigation_with_a_containment(demo_seeded):
    incident = Incident.objects.get()
    assert incident.status == Status.INVESTIGATING
    assert incident.clock_running() and not incident.is_overdue()
    contained = incident.timeline.get(kind=EventKind.CONTAINMENT)
    assert contained.person == User.objects.get(username=TEMPORARY_OFFICER)
    assert not contained.person.is_active
    assert f"Created incident {incident.reference}" in demo_seeded
