"""Signing in with an agency's own OpenID Connect provider.

Authorization code flow with state, nonce and PKCE (S256), through Authlib;
the ID token's signature, issuer, audience, expiry and nonce are checked
against the provider's published keys. The person is matched by a verified
email address within the provider's organisation only, never created. The
session counts as verified only when the ID token shows a second factor as
the provider is configured to prove it; otherwise the portal's own security
code follows (docs/security.md, "Signing in with an agency's account").

Tokens, codes and email addresses are never logged or audited.
"""

import enum
import logging
import os
import secrets
from dataclasses import dataclass

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.http import HttpRequest
from joserfc import jwt
from joserfc.errors import InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from audit.models import Outcome
from audit.services import audit_record

from ..audit_actions import ProviderSignIn
from ..models import IdentityProvider, IdentityProviderDevice, MfaClaim, User
from .authentication import _verify_session

logger = logging.getLogger(__name__)

# Sign-ins in progress, by state; each is used once (a replayed state fails).
PENDING_SESSION_KEY = "oidc_pending"
# Sign-ins a person may have open at once (several tabs); older ones drop.
PENDING_LIMIT = 3
SCOPE = "openid email"
# Signatures we accept on ID tokens: never "none", never a shared secret.
ID_TOKEN_ALGORITHMS = ["RS256", "PS256", "ES256"]


class Refusal(enum.StrEnum):
    """Why a sign-in through a provider was refused: the audited reason code."""

    UNKNOWN_STATE = "unknown_state"
    PROVIDER_ERROR = "provider_error"
    PROVIDER_UNREACHABLE = "provider_unreachable"
    TOKEN_INVALID = "token_invalid"  # noqa: S105 (a reason code)
    WRONG_AUDIENCE = "wrong_audience"
    WRONG_ISSUER = "wrong_issuer"
    EMAIL_NOT_VERIFIED = "email_not_verified"
    EMAIL_OUTSIDE_DOMAINS = "email_outside_domains"
    NO_ACCOUNT = "no_account"
    ACCOUNT_INACTIVE = "account_inactive"


class SignInRefused(Exception):
    def __init__(self, reason: Refusal, provider: IdentityProvider | None = None):
        super().__init__(reason.value)
        self.reason = reason
        self.provider = provider


@dataclass(frozen=True)
class SignedIn:
    user: User
    mfa: bool


def providers_offered():
    """Providers shown on the sign-in page: enabled, for active organisations."""
    return IdentityProvider.objects.filter(
        enabled=True, organisation__active=True
    ).select_related("organisation")


def provider_metadata(provider: IdentityProvider) -> dict:
    """The provider's discovery document, checked to name the configured issuer."""
    url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
    metadata = _get_json(url)
    if metadata.get("issuer") != provider.issuer:
        raise SignInRefused(Refusal.WRONG_ISSUER, provider)
    return metadata


def _get_json(url: str) -> dict:
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as error:
        # The URL is the provider's public configuration, never a token.
        logger.warning("Identity provider unreachable at %s: %s", url, type(error))
        raise SignInRefused(Refusal.PROVIDER_UNREACHABLE) from None


def client_secret(provider: IdentityProvider) -> str:
    return os.environ.get(provider.client_secret_variable, "")


def _session(provider: IdentityProvider, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=client_secret(provider),
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106
    )


def sign_in_start(
    *,
    request: HttpRequest,
    provider: IdentityProvider,
    redirect_uri: str,
    next_url: str,
) -> str:
    """Where to send the browser: the provider's authorization endpoint.

    The state, nonce and PKCE verifier stay in this browser's session only.
    """
    metadata = provider_metadata(provider)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    url, _ = _session(provider, redirect_uri).create_authorization_url(
        metadata["authorization_endpoint"],
        state=state,
        nonce=nonce,
        code_verifier=verifier,
    )
    pending = dict(request.session.get(PENDING_SESSION_KEY, {}))
    pending[state] = {
        "provider": provider.pk,
        "nonce": nonce,
        "verifier": verifier,
        "next": next_url,
    }
    request.session[PENDING_SESSION_KEY] = dict(list(pending.items())[-PENDING_LIMIT:])
    return url


def pending_next_url(request: HttpRequest, state: str) -> str:
    return request.session.get(PENDING_SESSION_KEY, {}).get(state, {}).get("next", "/")


def sign_in_finish(
    *, request: HttpRequest, params: dict, redirect_uri: str
) -> SignedIn:
    """Finish a sign-in from the provider's answer; raises SignInRefused.

    Audited either way: the organisation and whether the provider showed a
    second factor, or the reason code. No token, code or email is recorded.
    """
    provider = None
    try:
        pending, provider = _claim_state(request, params.get("state", ""))
        if params.get("error") or not params.get("code"):
            raise SignInRefused(Refusal.PROVIDER_ERROR, provider)
        claims = _id_token_claims(
            provider, pending, code=params["code"], redirect_uri=redirect_uri
        )
        user = account_for_claims(provider, claims)
    except SignInRefused as refused:
        refused.provider = refused.provider or provider
        _audit_refusal(request, refused)
        raise
    mfa = claims_show_mfa(provider, claims)
    auth_login(request, user, backend="accounts.backends.PartnerBackend")
    if mfa:
        device, _ = IdentityProviderDevice.objects.get_or_create(
            user=user,
            defaults={"name": "Agency sign-in with a second factor", "confirmed": True},
        )
        _verify_session(request, device)
    audit_record(
        action=ProviderSignIn.SIGNED_IN,
        request=request,
        actor=user,
        obj=user,
        detail={"organisation": provider.organisation_id, "mfa": mfa},
    )
    return SignedIn(user=user, mfa=mfa)


def _claim_state(request: HttpRequest, state: str):
    """The pending sign-in for ``state``, removed so it works only once."""
    pending_all = dict(request.session.get(PENDING_SESSION_KEY, {}))
    pending = pending_all.pop(state, None) if state else None
    request.session[PENDING_SESSION_KEY] = pending_all
    if pending is None:
        raise SignInRefused(Refusal.UNKNOWN_STATE)
    provider = providers_offered().filter(pk=pending["provider"]).first()
    if provider is None:
        raise SignInRefused(Refusal.UNKNOWN_STATE)
    return pending, provider


def _id_token_claims(
    provider: IdentityProvider, pending: dict, *, code: str, redirect_uri: str
) -> dict:
    metadata = provider_metadata(provider)
    session = _session(provider, redirect_uri)
    try:
        token = session.fetch_token(
            metadata["token_endpoint"],
            grant_type="authorization_code",
            code=code,
            code_verifier=pending["verifier"],
            timeout=settings.OIDC_TIMEOUT,
        )
    except Exception as error:  # Authlib and requests raise many kinds
        # Only the kind of failure: the response may carry the code or tokens.
        logger.warning("Identity provider token request failed: %s", type(error))
        raise SignInRefused(Refusal.PROVIDER_ERROR, provider) from None
    id_token = token.get("id_token")
    if not id_token:
        raise SignInRefused(Refusal.TOKEN_INVALID, provider)
    keys = _get_json(metadata["jwks_uri"])
    return id_token_check(
        provider,
        id_token,
        nonce=pending["nonce"],
        keys=keys,
        access_token=token.get("access_token"),
    )


def id_token_check(
    provider: IdentityProvider,
    id_token: str,
    *,
    nonce: str,
    keys: dict,
    access_token: str | None = None,
) -> dict:
    """The ID token's claims, once its signature, issuer, audience, expiry
    and nonce are right (OpenID Connect Core 3.1.3.7); raises SignInRefused."""
    try:
        decoded = jwt.decode(
            id_token,
            KeySet.import_key_set(keys),
            registry=JWSRegistry(algorithms=ID_TOKEN_ALGORITHMS),
        )
        params = {"nonce": nonce, "client_id": provider.client_id}
        if access_token:
            params["access_token"] = access_token
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": provider.issuer},
                "aud": {"essential": True, "value": provider.client_id},
                "nonce": {"essential": True},
            },
            params,
        )
        claims.validate(leeway=settings.OIDC_CLOCK_LEEWAY)
    except (InvalidClaimError, MissingClaimError) as error:
        reason = {
            "aud": Refusal.WRONG_AUDIENCE,
            "azp": Refusal.WRONG_AUDIENCE,
            "iss": Refusal.WRONG_ISSUER,
        }.get(getattr(error, "claim", ""), Refusal.TOKEN_INVALID)
        raise SignInRefused(reason, provider) from None
    except (JoseError, ValueError, TypeError):
        raise SignInRefused(Refusal.TOKEN_INVALID, provider) from None
    return dict(claims)


def account_for_claims(provider: IdentityProvider, claims: dict) -> User:
    """The one account the claims name: a verified email address, in one of
    the organisation's domains, held by a person of that organisation."""
    if claims.get("email_verified") is not True:
        raise SignInRefused(Refusal.EMAIL_NOT_VERIFIED, provider)
    email = str(claims.get("email") or "").strip()
    domain = email.rpartition("@")[2].lower()
    if not email or "@" not in email or domain not in provider.domains:
        raise SignInRefused(Refusal.EMAIL_OUTSIDE_DOMAINS, provider)
    people = list(
        User.objects.select_related("organisation").filter(
            organisation=provider.organisation, email__iexact=email
        )[:2]
    )
    if len(people) != 1:
        # None, or two accounts sharing an address: never guess which.
        raise SignInRefused(Refusal.NO_ACCOUNT, provider)
    person = people[0]
    if not person.is_active:
        refused = SignInRefused(Refusal.ACCOUNT_INACTIVE, provider)
        refused.user = person
        raise refused
    return person


def claims_show_mfa(provider: IdentityProvider, claims: dict) -> bool:
    """Whether the ID token shows the agency asked for a second factor."""
    wanted = set(provider.mfa_value_list)
    if provider.mfa_claim == MfaClaim.AMR:
        amr = claims.get("amr")
        return isinstance(amr, list) and any(
            isinstance(v, str) and v.lower() in wanted for v in amr
        )
    acr = claims.get("acr")
    return isinstance(acr, str) and acr.lower() in wanted


def _audit_refusal(request: HttpRequest, refused: SignInRefused) -> None:
    detail = {"reason": refused.reason.value}
    if refused.provider is not None:
        detail["organisation"] = refused.provider.organisation_id
    audit_record(
        action=ProviderSignIn.REFUSED,
        request=request,
        actor=getattr(refused, "user", None),
        outcome=Outcome.FAILURE,
        detail=detail,
    )
