"""The demo partnership that `make run` loads, and the logins it prints."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import TOTP

from accounts.models import Organisation, OrganisationType, Role, User
from tests.accounts.test_seed_demo import _seed

pytestmark = pytest.mark.django_db


class TestSeedDemo:
    """The demo (demo_seeded) is loaded once for the module, as seed_demo
    loads it into an empty database; a test that reads what the command
    prints with --json runs it again on top, which must change nothing."""

    @pytest.mark.slow
    def test_creates_every_partner_agency_with_a_contact(self, demo_seeded):
        types = set(Organisation.objects.values_list("type", flat=True))
        assert types == set(OrganisationType.values)
        # A withdrawn partner's contact is suspended with its other people.
        taking_part = Organisation.objects.taking_part()
        assert not taking_part.filter(single_point_of_contact=None).exists()

    @pytest.mark.slow
    def test_each_organisation_has_a_referrer_and_a_signatory(self, demo_seeded):
        for organisation in Organisation.objects.all():
            roles = {
                role
                for person in organisation.users.all()
                for role in person.role_names
            }
            assert {Role.REFERRER.value, Role.SIGNATORY.value} <= roles

    @pytest.mark.slow
    def test_running_twice_changes_nothing_and_prints_the_same(self, demo_seeded):
        counts = (User.objects.count(), Organisation.objects.count())
        first = _seed("--json")
        assert (User.objects.count(), Organisation.objects.count()) == counts
        assert _seed("--json") == first
        assert (User.objects.count(), Organisation.objects.count()) == counts

    @pytest.mark.slow
    def test_json_logins_work_with_password_and_code(self, demo_seeded):
        logins = json.loads(_seed("--json"))
        coordinator = next(x for x in logins if x["username"] == "coordinator")
        assert set(coordinator) >= {
            "username",
            "password",
            "organisation",
            "roles",
            "otpauth_uri",
            "backup_codes",
        }
        assert coordinator["otpauth_uri"].startswith("otpauth://totp/")
        assert len(coordinator["backup_codes"]) == 10

        client = Client()
        response = client.post(
            "/sign-in/",
            {"username": "coordinator", "password": coordinator["password"]},
        )
        assert response["Location"] == "/sign-in/security-code/"
        device = User.objects.get(username="coordinator").totpdevice_set.get()
        code = f"{TOTP(device.bin_key).token():06d}"
        response = client.post("/sign-in/security-code/", {"code": code})
        assert response["Location"] == "/"
        assert "Welcome, " in client.get("/").content.decode()

    @pytest.mark.slow
    def test_printed_backup_codes_work(self, demo_seeded):
        logins = json.loads(_seed("--json"))
        referrer = next(x for x in logins if x["username"] == "police.referrer")
        client = Client()
        client.post(
            "/sign-in/",
            {"username": "police.referrer", "password": referrer["password"]},
        )
        response = client.post(
            "/sign-in/security-code/", {"code": referrer["backup_codes"][0]}
        )
        assert response["Location"] == "/"

    @pytest.mark.slow
    def test_table_lists_every_login(self, demo_seeded):
        out = demo_seeded
        for username in ("coordinator", "editor", "admin", "fire.signatory"):
            assert username in out
        assert "otpauth://totp/" in out

    @pytest.mark.slow
    def test_demo_code_prints_the_current_code(self, demo_seeded):
        out = StringIO()
        call_command("demo_code", "editor", stdout=out, stderr=StringIO())
        device = User.objects.get(username="editor").totpdevice_set.get()
        assert out.getvalue().strip() == f"{TOTP(device.bin_key).token():06d}"
