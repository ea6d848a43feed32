"""Signing in with an organisation's own identity provider (OpenID Connect).

Both steps are public to the gate: the person has no session yet. What
they prove is checked in accounts.services.oidc; these views only redirect
and explain refusals.
"""

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from portal.access import public

from .services import suspension_explained, user_has_device
from .services.oidc import (
    Refusal,
    SignInRefused,
    pending_next_url,
    providers_offered,
    sign_in_finish,
    sign_in_start,
)
from .views import _next_url, _with_next


def _callback_uri(request) -> str:
    return request.build_absolute_uri(reverse("accounts:provider_callback"))


@public
def provider_start(request, slug):
    provider = providers_offered().filter(organisation__slug=slug).first()
    if provider is None:
        raise Http404("No identity provider for that organisation")
    try:
        url = sign_in_start(
            request=request,
            provider=provider,
            redirect_uri=_callback_uri(request),
            next_url=_next_url(request),
        )
    except SignInRefused as refused:
        refused.provider = provider
        return _refused(request, refused)
    return HttpResponseRedirect(url)


@public
def provider_callback(request):
    params = request.GET.dict()
    next_url = pending_next_url(request, params.get("state", ""))
    try:
        signed_in = sign_in_finish(
            request=request, params=params, redirect_uri=_callback_uri(request)
        )
    except SignInRefused as refused:
        return _refused(request, refused)
    if signed_in.mfa:
        return HttpResponseRedirect(next_url)
    target = "accounts:verify" if user_has_device(signed_in.user) else "accounts:enrol"
    return HttpResponseRedirect(_with_next(target, next_url))


def _refused(request, refused: SignInRefused):
    organisation = refused.provider.organisation if refused.provider else None
    name = str(organisation) if organisation else "your organisation"
    person = getattr(refused, "user", None)
    if refused.reason is Refusal.ACCOUNT_INACTIVE:
        if person is not None and person.is_suspended:
            message = (
                "Your account has been suspended. "
                f"{suspension_explained(person.suspension_reason)} Ask your "
                "organisation's single point of contact or the CMARAC "
                "coordinator if you still need access."
            )
        else:
            message = "This account has been closed. Ask your administrator."
    elif refused.reason is Refusal.EMAIL_OUTSIDE_DOMAINS:
        message = (
            f"The email address on your {name} account is not one the portal "
            f"accepts for {name}. Ask your organisation's single point of contact."
        )
    elif refused.reason in (Refusal.NO_ACCOUNT, Refusal.EMAIL_NOT_VERIFIED):
        message = (
            f"There is no portal account for your {name} email address. Ask "
            "your organisation's single point of contact for an account."
        )
    elif refused.reason is Refusal.UNKNOWN_STATE:
        message = (
            "This sign-in link has already been used or has expired. "
            "Start again from the sign-in page."
        )
    else:
        message = (
            f"We could not sign you in with your {name} account. Try again, "
            "or sign in with your username and password."
        )
    return render(
        request,
        "accounts/provider_refused.html",
        {"message": message},
        status=400,
    )
