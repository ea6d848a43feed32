"""The coordinator's home page with nothing in the portal. Apart from
tests/home/test_dashboard.py, whose tests share one world made for the module
(it is in the database for every test there)."""

import pytest

from accounts.models import Role
from tests.factories import UserFactory
from tests.home.test_dashboard import _home

pytestmark = pytest.mark.django_db


def test_the_meeting_cycle_says_when_a_list_is_empty():
    html = _home(UserFactory(roles=[Role.COORDINATOR]))
    assert "No meetings are scheduled." in html
    assert "No referral is waiting for more information." in html
    assert "No action is overdue." in html
    assert "No referral is waiting for screening." in html
    assert "No minutes are late." in html
