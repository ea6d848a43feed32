"""The demo partnership command that `make run` loads."""

import base64
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client, override_settings
from django_otp.oath import TOTP

from accounts.demo import demo_people_seed
from accounts.models import User

pytestmark = pytest.mark.django_db


def _seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


class TestRefusal:
    # The demo's own figures and logins: tests/accounts/test_demo_logins.py.
    @override_settings(DEMO_DATA_ALLOWED=False)
    def test_refuses_to_run_with_production_settings(self):
        with pytest.raises(CommandError, match="not allowed"):
            _seed()
        assert not User.objects.exists()


class TestDemoSecretsPerInstall:
    """Demo authenticator secrets and backup codes come from a random value made
    once per install (a file under var/), not from anything shared by installs."""

    def _logins(self, settings, secret_file, *, keep=True):
        settings.DEMO_SECRET_FILE = secret_file
        with transaction.atomic():
            logins = {x["username"]: x for x in demo_people_seed()}
            # Not kept: the next install starts with an empty database.
            transaction.set_rollback(not keep)
        return logins

    def test_two_installs_have_different_secrets_and_codes(self, settings, tmp_path):
        first = self._logins(settings, tmp_path / "one" / "demo-secret", keep=False)
        second = self._logins(settings, tmp_path / "two" / "demo-secret", keep=False)
        assert first.keys() == second.keys()
        for username in first:
            assert first[username]["totp_secret"] != second[username]["totp_secret"]
            assert not set(first[username]["backup_codes"]) & set(
                second[username]["backup_codes"]
            )

    def test_the_value_is_made_once_and_kept_private(self, settings, tmp_path):
        secret_file = tmp_path / "var" / "demo-secret"
        first = self._logins(settings, secret_file, keep=False)
        assert secret_file.stat().st_mode & 0o777 == 0o600
        assert len(bytes.fromhex(secret_file.read_text())) == 32
        # A rebuilt database on the same install gets the same secrets, so an
        # authenticator app set up once keeps working.
        assert self._logins(settings, secret_file, keep=False) == first

    def test_demo_code_works_with_the_install_secret(self, settings, tmp_path):
        logins = self._logins(settings, tmp_path / "demo-secret")
        out = StringIO()
        call_command("demo_code", "editor", stdout=out, stderr=StringIO())
        code = out.getvalue().strip()
        secret = logins["editor"]["totp_secret"]
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        assert code == f"{TOTP(key).token():06d}"
        client = Client()
        client.post(
            "/sign-in/",
            {"username": "editor", "password": logins["editor"]["password"]},
        )
        assert client.post("/sign-in/security-code/", {"code": code})["Location"] == "/"

    def test_a_new_install_value_puts_the_printed_factors_back(
        self, settings, tmp_path
    ):
        old = self._logins(settings, tmp_path / "old")
        logins = self._logins(settings, tmp_path / "new")
        assert logins["editor"]["totp_secret"] != old["editor"]["totp_secret"]
        # Idempotent again from here on.
        assert self._logins(settings, tmp_path / "new") == logins
        referrer = logins["police.referrer"]
        client = Client()
        client.post(
            "/sign-in/",
            {"username": "police.referrer", "password": referrer["password"]},
        )
        response = client.post(
            "/sign-in/security-code/", {"code": referrer["backup_codes"][0]}
        )
        assert response["Location"] == "/"
