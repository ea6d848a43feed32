"""The single point of contact's screens for their own organisation, the
coordinators' recertification progress page, and accepting an invitation.

A contact acts only on their own organisation: it is never named in the
address, so there is no other organisation to ask for, and a person's id
that is not of that organisation finds nothing (404). Anyone who is not
their organisation's contact gets a plain refusal (403), audited.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy

from audit.models import Outcome
from audit.services import audit_record
from portal.access import public
from portal.forms import RefusedWithBadRequest, refusal_status

from .audit_actions import GovernanceAction
from .forms import AccountRequestForm, RecertificationForm, SuspendForm
from .invitations import invitation_tokens
from .models import (
    AccountRequest,
    EntryStatus,
    Organisation,
    RecertificationRound,
    RequestStatus,
    User,
)
from .services import (
    GovernanceRefused,
    account_request_make,
    contact_suspends,
    recertification_answer,
    recertification_current,
)
from .views import _style_password_fields


def _refused(request, template: str):
    audit_record(
        action=GovernanceAction.CONTACT_PAGE_REFUSED,
        request=request,
        obj=request.user,
        outcome=Outcome.DENIED,
        detail={"path": request.path_info},
    )
    return render(request, template, status=403)


def contact_only(view):
    """Only the single point of contact of the person's own organisation."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_contact:
            return _refused(request, "accounts/organisation/not_contact.html")
        return view(request, request.user.organisation, *args, **kwargs)

    return wrapped


@contact_only
def organisation_people(request, organisation):
    people = list(
        organisation.users.order_by(
            "-is_active", "last_name", "first_name"
        ).prefetch_related("groups")
    )
    audit_record(
        action=GovernanceAction.PEOPLE_VIEWED,
        request=request,
        obj=organisation,
        detail={"organisation": organisation.pk, "count": len(people)},
    )
    requests_ = organisation.account_requests.select_related("user")[:20]
    return render(
        request,
        "accounts/organisation/people.html",
        {
            "organisation": organisation,
            "people": people,
            "account_requests": requests_,
            "round": recertification_current(organisation),
        },
    )


@contact_only
def account_request(request, organisation):
    form = AccountRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            account_request_make(contact=request.user, **form.cleaned_data)
        except GovernanceRefused as refusal:
            form.add_error(refusal.field, str(refusal))
        else:
            messages.success(
                request,
                "Your request has been sent to the portal's administrators. "
                "The person will get an email when their account is ready.",
            )
            return redirect("accounts:organisation")
    return render(
        request,
        "accounts/organisation/request.html",
        {"form": form, "organisation": organisation},
        status=refusal_status(form),
    )


@contact_only
def person_suspend(request, organisation, user_id):
    person = get_object_or_404(User, pk=user_id, organisation=organisation)
    form = SuspendForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            contact_suspends(
                contact=request.user, person=person, note=form.cleaned_data["reason"]
            )
        except GovernanceRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                f"{person}'s account is suspended and they have been told. "
                "Ask the CMARAC coordinator if it needs restoring.",
            )
            return redirect("accounts:organisation")
    return render(
        request,
        "accounts/organisation/suspend.html",
        {"form": form, "person": person, "organisation": organisation},
        status=refusal_status(form),
    )


@contact_only
def recertification(request, organisation):
    round_ = recertification_current(organisation)
    if round_ is None:
        last = organisation.recertifications.first()
        return render(
            request,
            "accounts/organisation/recertification.html",
            {"organisation": organisation, "round": None, "last": last},
        )
    entries = list(
        round_.entries.select_related("user", "decided_by").prefetch_related(
            "user__groups"
        )
    )
    pending = [e for e in entries if e.status == EntryStatus.PENDING]
    form = RecertificationForm(
        request.POST if request.method == "POST" else None, entries=pending
    )
    if request.method == "POST" and form.is_valid():
        try:
            counts = recertification_answer(
                round_=round_, contact=request.user, answers=form.answers()
            )
        except GovernanceRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                f"Saved: {counts['confirmed']} confirmed, {counts['removed']} removed.",
            )
            return redirect("accounts:recertification")
    audit_record(
        action=GovernanceAction.PEOPLE_VIEWED,
        request=request,
        obj=round_,
        detail={"organisation": organisation.pk, "count": len(entries)},
    )
    return render(
        request,
        "accounts/organisation/recertification.html",
        {
            "organisation": organisation,
            "round": round_,
            "form": form,
            "answered": [e for e in entries if e.status != EntryStatus.PENDING],
        },
        status=refusal_status(form),
    )


def recertification_progress(request):
    """Coordinators: each active organisation's latest round and its counts."""
    # Coordinators (and administrators) hold this; accounts.roles.
    if not request.user.has_perm("accounts.view_organisation"):
        return _refused(request, "accounts/organisation/not_coordinator.html")
    counts = {
        f"{status}_count": Count("entries", filter=Q(entries__status=status))
        for status in EntryStatus.values
    }
    latest = RecertificationRound.objects.annotate(**counts).order_by("-opened_on")
    organisations = (
        Organisation.objects.taking_part()
        .select_related("single_point_of_contact")
        .prefetch_related(Prefetch("recertifications", queryset=latest))
    )
    rows = []
    for organisation in organisations:
        rounds = list(organisation.recertifications.all())
        rows.append(
            {"organisation": organisation, "round": rounds[0] if rounds else None}
        )
    audit_record(
        action=GovernanceAction.RECERTIFICATION_PROGRESS_VIEWED,
        request=request,
        detail={"count": len(rows)},
    )
    return render(
        request,
        "accounts/organisation/progress.html",
        {
            "rows": rows,
            "waiting_requests": AccountRequest.objects.filter(
                status=RequestStatus.PENDING
            ).count(),
        },
    )


class InvitationView(RefusedWithBadRequest, auth_views.PasswordResetConfirmView):
    """A new account's holder chooses a password from their invitation link;
    the gate then has them set up an authenticator (accounts.views.enrol)."""

    template_name = "accounts/invitation.html"
    token_generator = invitation_tokens
    post_reset_login = True
    post_reset_login_backend = "accounts.backends.PartnerBackend"
    success_url = reverse_lazy("accounts:verify")

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        _style_password_fields(form)
        return form

    def form_valid(self, form):
        user = form.user
        response = super().form_valid(form)
        audit_record(
            action=GovernanceAction.INVITATION_ACCEPTED,
            request=self.request,
            obj=user,
            actor=user,
        )
        return response


invitation = public(InvitationView.as_view())
