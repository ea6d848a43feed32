"""Setting up an authenticator app, and the backup codes that come with it."""

import re
from base64 import b32decode

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import BackupCode
from tests.conftest import current_code, sign_in_with_password
from tests.factories import UserFactory

ENROL = reverse("accounts:enrol")
VERIFY = reverse("accounts:verify")

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer():
    return UserFactory()


@pytest.fixture
def newcomer_client(newcomer):
    client = Client()
    sign_in_with_password(client, newcomer)
    return client


def _enrol(client):
    page = client.get(ENROL).content.decode()
    key = re.search(r'id="setup-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    device = TOTPDevice.objects.get(confirmed=False)
    assert b32decode(key + "=" * (-len(key) % 8)) == device.bin_key
    return client.post(ENROL, {"code": current_code(device)}), device


def _codes(response):
    return re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", response.content.decode())


class TestEnrolment:
    def test_page_shows_a_qr_code_and_the_key_to_type(self, newcomer_client):
        page = newcomer_client.get(ENROL).content.decode()
        assert "<svg" in page
        assert 'aria-label="QR code for your authenticator app"' in page
        assert 'id="setup-key"' in page
        assert 'autocomplete="one-time-code"' in page

    def test_qr_code_is_drawn_on_the_server_without_scripts(self, newcomer_client):
        page = newcomer_client.get(ENROL).content.decode()
        svg = page[page.index("<svg") : page.index("</svg>")]
        assert "<script" not in svg
        assert "http" not in svg.split(">", 1)[1]

    def test_reloading_the_page_keeps_the_same_key(self, newcomer_client):
        newcomer_client.get(ENROL)
        newcomer_client.get(ENROL)
        assert TOTPDevice.objects.count() == 1

    def test_confirming_shows_ten_backup_codes_once(self, newcomer_client, newcomer):
        response, device = _enrol(newcomer_client)
        codes = _codes(response)
        assert len(codes) == 10
        assert len(set(codes)) == 10
        device.refresh_from_db()
        assert device.confirmed
        # Verified now, so the portal opens.
        assert newcomer_client.get("/").status_code == 200
        # Nowhere to see them again.
        account = newcomer_client.get(reverse("accounts:account")).content.decode()
        assert not any(code in account for code in codes)

    def test_backup_codes_are_stored_hashed(self, newcomer_client):
        response, _ = _enrol(newcomer_client)
        codes = _codes(response)
        stored = list(BackupCode.objects.values_list("code_hash", flat=True))
        assert len(stored) == 10
        for code_hash in stored:
            identify_hasher(code_hash)  # a Django password hash, or it raises
            for code in codes:
                assert code not in code_hash
                assert code.replace("-", "") not in code_hash

    def test_wrong_confirmation_code_keeps_the_key_and_explains(self, newcomer_client):
        newcomer_client.get(ENROL)
        key_before = TOTPDevice.objects.get().key
        response = newcomer_client.post(ENROL, {"code": "12ab"})
        page = response.content.decode()
        assert "There is a problem" in page
        assert "The code must be 6 digits" in page
        assert TOTPDevice.objects.get().key == key_before
        assert not TOTPDevice.objects.get().confirmed

    def test_moving_to_a_new_phone_replaces_the_old_authenticator(
        self, newcomer_client, newcomer
    ):
        _enrol(newcomer_client)
        old = TOTPDevice.objects.get(user=newcomer)
        # Verified session: start again with a new phone.
        response, new = _enrol(newcomer_client)
        assert len(_codes(response)) == 10
        assert list(TOTPDevice.objects.filter(user=newcomer)) == [new]
        assert new.pk != old.pk


class TestBackupCodes:
    @pytest.fixture
    def enrolled(self, newcomer):
        client = Client()
        sign_in_with_password(client, newcomer)
        response, _ = _enrol(client)
        return newcomer, _codes(response)

    def test_a_backup_code_signs_in_once(self, enrolled):
        person, codes = enrolled
        first = Client()
        sign_in_with_password(first, person)
        assert first.post(VERIFY, {"code": codes[0]})["Location"] == "/"
        again = Client()
        sign_in_with_password(again, person)
        response = again.post(VERIFY, {"code": codes[0]})
        assert response.status_code == 400
        assert "That code has already been used" in response.content.decode()

    def test_backup_code_works_in_capitals_and_without_the_hyphen(self, enrolled):
        person, codes = enrolled
        client = Client()
        sign_in_with_password(client, person)
        typed = codes[1].replace("-", "").upper()
        assert client.post(VERIFY, {"code": typed})["Location"] == "/"

    def test_account_page_counts_the_codes_left(self, enrolled):
        person, codes = enrolled
        client = Client()
        sign_in_with_password(client, person)
        client.post(VERIFY, {"code": codes[2]})
        page = client.get(reverse("accounts:account")).content.decode()
        assert re.search(r"Backup codes left</dt>\s*<dd[^>]*>9</dd>", page)

    @override_settings(BACKUP_CODE_THROTTLE_FACTOR=0)
    def test_new_backup_codes_replace_the_old_ones(self, enrolled):
        person, old_codes = enrolled
        client = Client()
        sign_in_with_password(client, person)
        client.post(VERIFY, {"code": old_codes[3]})
        response = client.post(reverse("accounts:backup_codes_new"))
        new_codes = _codes(response)
        assert len(new_codes) == 10
        other = Client()
        sign_in_with_password(other, person)
        assert other.post(VERIFY, {"code": old_codes[4]}).status_code == 400
        assert other.post(VERIFY, {"code": new_codes[0]})["Location"] == "/"
