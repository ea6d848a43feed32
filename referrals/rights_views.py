"""Data subject rights on a case, for coordinators: restricting processing
(UK GDPR Article 18) and correcting an answer (Articles 16 and 19).

Coordinators only: anyone else gets 404, as for the other coordinator pages
of a case. The rules are the services' (``referrals.services.restriction``
and ``referrals.services.amending``); a refusal comes back as 400 with the
error by its field and everything typed kept.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from audit.services import audit_read
from portal.forms import refusal_status

from . import selectors
from .corrections import answer_ref, answer_refs
from .forms import AmendmentForm, AnswerChoiceForm, RestrictForm, RestrictionLiftForm
from .services import (
    AmendmentRefused,
    ReferralRefused,
    referral_amend,
    referral_restrict,
    referral_restriction_lift,
    restriction_in_force,
)


def _coordinator_case(request, reference):
    referral = selectors.referral_for(request.user, reference)
    if not selectors.may_screen(request.user):
        raise Http404("Only coordinators restrict or correct a case")
    return referral


def _restriction_url(referral) -> str:
    return f"{referral.get_absolute_url()}#restriction"


def restrict(request, reference):
    """Restrict processing of the case, saying why and, if known, until when."""
    referral = _coordinator_case(request, reference)
    if restriction_in_force(referral) is not None:
        messages.info(request, f"{referral.reference} is already restricted.")
        return redirect(_restriction_url(referral))
    form = RestrictForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            referral_restrict(
                referral=referral,
                user=request.user,
                reason=form.cleaned_data["reason"],
                until=form.cleaned_data["until"],
                request=request,
            )
        except ReferralRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Processing of {referral.reference} is restricted: it cannot be "
                "put on an agenda, shared or put in a meeting pack.",
            )
            return redirect(_restriction_url(referral))
    audit_read(request, referral, detail={"page": "restrict"})
    return render(
        request,
        "referrals/restrict.html",
        {"referral": referral, "form": form},
        status=refusal_status(form),
    )


def restriction_lift(request, reference):
    """Lift the restriction standing on the case, saying why."""
    referral = _coordinator_case(request, reference)
    restriction = restriction_in_force(referral)
    if restriction is None:
        messages.info(request, f"{referral.reference} is not restricted.")
        return redirect(referral)
    form = RestrictionLiftForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            referral_restriction_lift(
                referral=referral,
                user=request.user,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ReferralRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"The restriction on {referral.reference} is lifted."
            )
            return redirect(_restriction_url(referral))
    audit_read(request, referral, detail={"page": "restriction_lift"})
    return render(
        request,
        "referrals/restriction_lift.html",
        {"referral": referral, "restriction": restriction, "form": form},
        status=refusal_status(form),
    )


def amend_choose(request, reference):
    """Choose the answer to correct (a plain GET form: it changes nothing)."""
    referral = _coordinator_case(request, reference)
    choices = [(ref.key, ref.label) for ref in answer_refs(referral)]
    form = AnswerChoiceForm(
        request.GET if "answer" in request.GET else None, choices=choices
    )
    if form.is_bound and form.is_valid():
        return redirect(
            "referrals:amend", referral.reference, form.cleaned_data["answer"]
        )
    audit_read(request, referral, detail={"page": "amend"})
    return render(
        request,
        "referrals/amend_choose.html",
        {"referral": referral, "form": form},
        status=refusal_status(form),
    )


def amend(request, reference, answer):
    """Correct one answer: its current value, the corrected one and why."""
    referral = _coordinator_case(request, reference)
    ref = answer_ref(referral, answer)
    if ref is None:
        raise Http404("No such answer")
    current = ref.value(referral.answers)
    initial = {"value": current}
    form = AmendmentForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        question=ref.question(),
    )
    if request.method == "POST" and form.is_valid():
        try:
            referral_amend(
                referral=referral,
                answer=ref.key,
                value=form.cleaned_data["value"],
                reason=form.cleaned_data["why"],
                user=request.user,
                request=request,
            )
        except AmendmentRefused as exc:
            problems = [message for _anchor, message in exc.problems if message]
            field = "why" if exc.problems and exc.problems[0][0] == "why" else "value"
            for message in problems or [str(exc)]:
                form.add_error(field, message)
        except ReferralRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"The answer is corrected. Every organisation that received "
                f"{referral.reference} is told, and its meeting packs are rebuilt.",
            )
            return redirect(f"{referral.get_absolute_url()}#corrections")
    audit_read(request, referral, detail={"page": "amend"})
    return render(
        request,
        "referrals/amend.html",
        {
            "referral": referral,
            "ref": ref,
            "current": ref.display(current),
            "form": form,
            "back": reverse("referrals:amend_choose", args=[referral.reference]),
        },
        status=refusal_status(form),
    )
