"""Signing in with an agency's identity provider: the rules that need no
provider (matching, the MFA rule, the admin's checks, the sign-in page).
The journeys against a real provider are in test_oidc_provider.py."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import IdentityProvider, MfaClaim, SuspensionReason
from accounts.services.oidc import (
    Refusal,
    SignInRefused,
    account_for_claims,
    claims_show_mfa,
)
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _provider(**kwargs) -> IdentityProvider:
    organisation = kwargs.pop("organisation", None) or OrganisationFactory()
    values = {
        "issuer": "https://login.agency.example/",
        "client_id": "portal",
        "client_secret_variable": "DJANGO_OIDC_SECRET_AGENCY",
        "email_domains": "agency.example, housing.agency.example",
        **kwargs,
    }
    return IdentityProvider.objects.create(organisation=organisation, **values)


def _claims(email, verified=True, **more):
    return {"email": email, "email_verified": verified, **more}


class TestAccountMatching:
    def test_a_verified_email_of_the_organisation_finds_the_person(self):
        provider = _provider()
        person = UserFactory(
            organisation=provider.organisation, email="Sam.Patel@agency.example"
        )
        assert account_for_claims(provider, _claims("sam.patel@agency.example")) == (
            person
        )

    def test_a_second_listed_domain_is_accepted(self):
        provider = _provider()
        person = UserFactory(
            organisation=provider.organisation, email="sam@housing.agency.example"
        )
        assert account_for_claims(provider, _claims("sam@housing.agency.example"))

        assert person.pk

    @pytest.mark.parametrize(
        ("claims", "reason"),
        [
            (_claims("sam@agency.example", False), Refusal.EMAIL_NOT_VERIFIED),
            (_claims("sam@agency.example", verified="yes"), Refusal.EMAIL_NOT_VERIFIED),
            (_claims("sam@elsewhere.example"), Refusal.EMAIL_OUTSIDE_DOMAINS),
            (_claims("sam@evil-agency.example"), Refusal.EMAIL_OUTSIDE_DOMAINS),
            (_claims("agency.example"), Refusal.EMAIL_OUTSIDE_DOMAINS),
            (_claims("nobody@agency.example"), Refusal.NO_ACCOUNT),
        ],
    )
    def test_refusals(self, claims, reason):
        provider = _provider()
        UserFactory(organisation=provider.organisation, email="sam@agency.example")
        with pytest.raises(SignInRefused) as refused:
            account_for_claims(provider, claims)
        assert refused.value.reason is reason

    def test_never_matched_in_another_organisation(self):
        provider = _provider()
        UserFactory(organisation=OrganisationFactory(), email="sam@agency.example")
        with pytest.raises(SignInRefused) as refused:
            account_for_claims(provider, _claims("sam@agency.example"))
        assert refused.value.reason is Refusal.NO_ACCOUNT

    def test_two_accounts_with_one_address_are_not_guessed_between(self):
        provider = _provider()
        UserFactory(organisation=provider.organisation, email="sam@agency.example")
        UserFactory(organisation=provider.organisation, email="SAM@agency.example")
        with pytest.raises(SignInRefused) as refused:
            account_for_claims(provider, _claims("sam@agency.example"))
        assert refused.value.reason is Refusal.NO_ACCOUNT

    def test_a_suspended_person_is_refused(self):
        provider = _provider()
        UserFactory(
            organisation=provider.organisation,
            email="sam@agency.example",
            is_active=False,
            suspension_reason=SuspensionReason.BY_CONTACT,
        )
        with pytest.raises(SignInRefused) as refused:
            account_for_claims(provider, _claims("sam@agency.example"))
        assert refused.value.reason is Refusal.ACCOUNT_INACTIVE


class TestMfaRule:
    @pytest.mark.parametrize(
        ("amr", "shown"),
        [
            (["pwd", "mfa"], True),
            (["OTP"], True),
            (["hwk"], True),
            (["pwd"], False),
            ("mfa", False),  # a string, not the list the standard says
            (None, False),
        ],
    )
    def test_amr(self, amr, shown):
        provider = _provider()
        claims = {} if amr is None else {"amr": amr}
        assert claims_show_mfa(provider, claims) is shown

    def test_acr_must_equal_a_configured_value(self):
        provider = _provider(mfa_claim=MfaClaim.ACR, mfa_values="urn:agency:mfa")
        assert claims_show_mfa(provider, {"acr": "urn:agency:mfa"})
        assert not claims_show_mfa(provider, {"acr": "urn:agency:pwd"})
        assert not claims_show_mfa(provider, {"amr": ["mfa"]})


class TestSetUp:
    def test_the_secret_is_named_by_a_prefixed_variable_only(self):
        provider = _provider()
        provider.client_secret_variable = "DJANGO_SECRET_KEY"
        with pytest.raises(ValidationError) as error:
            provider.full_clean()
        assert "client_secret_variable" in error.value.message_dict

    def test_domains_are_checked(self):
        provider = _provider()
        provider.email_domains = "@agency.example"
        with pytest.raises(ValidationError) as error:
            provider.full_clean()
        assert "email_domains" in error.value.message_dict

    def test_the_sign_in_page_offers_enabled_providers_of_active_organisations(
        self, client
    ):
        shown = _provider(organisation=OrganisationFactory(name="City Council"))
        _provider(organisation=OrganisationFactory(name="Gone Agency", active=False))
        _provider(organisation=OrganisationFactory(name="Off Agency"), enabled=False)
        page = client.get("/sign-in/").content.decode()
        assert "Sign in with City Council's account" in page
        assert f"/sign-in/agency/{shown.organisation.slug}/" in page
        assert "Gone Agency" not in page
        assert "Off Agency" not in page

    def test_an_unknown_organisation_has_no_start(self, client):
        assert client.get("/sign-in/agency/nobody/").status_code == 404

    def test_a_callback_without_a_started_sign_in_is_refused_and_audited(self, client):
        from audit.models import AuditEvent

        response = client.get("/sign-in/agency-callback/?state=x&code=y")
        assert response.status_code == 400
        assert "already been used or has expired" in response.content.decode()
        event = AuditEvent.objects.get(action="auth.provider_refused")
        assert event.detail == {"reason": "unknown_state"}
