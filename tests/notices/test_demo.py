"""The demo's What's new: notices made by the real services, some read."""

import pytest

from notices.models import Notice

pytestmark = pytest.mark.django_db


def test_the_demo_has_read_and_unread_notices(demo_seeded):
    assert "notices in What's new" in demo_seeded
    people = {n.recipient_id for n in Notice.objects.filter(read_at__isnull=True)}
    both = people & {n.recipient_id for n in Notice.objects.exclude(read_at=None)}
    assert both, "someone in the demo has both read and unread notices"
