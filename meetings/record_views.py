"""Coordinators record a meeting: who attended, what was made of each case,
the actions agreed, and the minutes. Agencies download their own minutes.

Recording is for coordinators only; anyone else gets 404, as for a meeting
they cannot see. Every view is behind the 2FA gate and the case-material gate.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from accounts.models import Role
from audit.services import audit_read
from portal.forms import error_list, refusal_status

from . import selectors
from .models import MeetingStatus
from .record_forms import ActionForm, AttendanceForm, DiscussionForm, MinutesForm
from .services import (
    ConfidentialityNotConfirmed,
    MeetingRefused,
    MinutesDestroyed,
    action_add,
    attendance_record,
    case_discussion_record,
    invited_organisations,
    meeting_mark_held,
    minutes_issue,
    minutes_pdf,
    minutes_save,
)
from .views import confidentiality_refusal


def _coordinator_meeting(request, meeting_id):
    if not request.user.has_role(Role.COORDINATOR):
        raise Http404("Only coordinators record meetings")
    return selectors.meeting_for(request.user, meeting_id)


def _attendance_form(meeting, data=None, initial=None) -> AttendanceForm:
    return AttendanceForm(
        data,
        initial=initial,
        organisations=selectors.organisations_to_invite(
            also=invited_organisations(meeting)
        ),
    )


def _record_page(request, meeting, form, held_errors=()):
    register = list(meeting.attendance.select_related("organisation"))
    items = list(
        meeting.agenda_items.select_related("referral__organisation")
        .prefetch_related("actions")
        .order_by("position")
    )
    return render(
        request,
        "meetings/record/meeting.html",
        {
            "meeting": meeting,
            "form": form,
            "errors": [*error_list(form), *held_errors],
            "held_errors": held_errors,
            "register": register,
            "items": items,
            "may_record": meeting.allows["record"],
            "record_refusal": meeting.refusal("record"),
            "may_mark_held": meeting.allows["mark_held"],
            # Papers are out but the meeting has not started: say when it can.
            "held_refusal": meeting.status == MeetingStatus.PAPERS_ISSUED
            and meeting.refusal("mark_held"),
        },
        status=refusal_status(form, errors=held_errors),
    )


def record(request, meeting_id):
    """The attendance register and the cases to record."""
    meeting = _coordinator_meeting(request, meeting_id)
    initial = None
    change = request.GET.get("change", "")
    if request.method != "POST" and change.isdigit():
        row = meeting.attendance.filter(pk=int(change)).first()
        if row is not None:
            initial = {
                "organisation": row.organisation_id,
                "name": row.name,
                "status": row.status,
                "confidentiality_confirmed": bool(row.confidentiality_confirmed_at),
            }
    form = _attendance_form(
        meeting, request.POST if request.method == "POST" else None, initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            row = attendance_record(
                meeting=meeting,
                organisation=data["organisation"],
                name=data["name"],
                status=data["status"],
                confidentiality_confirmed=data["confidentiality_confirmed"],
                user=request.user,
                request=request,
            )
        except MeetingRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{row.name} is on the register.")
            return redirect(reverse("meetings:record", args=[meeting.pk]) + "#register")
    audit_read(request, meeting)
    return _record_page(request, meeting, form)


@require_POST
def record_held(request, meeting_id):
    meeting = _coordinator_meeting(request, meeting_id)
    try:
        meeting_mark_held(meeting=meeting, user=request.user, request=request)
    except MeetingRefused as exc:
        return _record_page(
            request, meeting, _attendance_form(meeting), [("mark-held", str(exc))]
        )
    messages.success(request, "The meeting is marked as held. Write the minutes next.")
    return redirect("meetings:minutes", meeting.pk)


def record_case(request, meeting_id, item_id):
    """One case: the discussion, risk after it and decisions; and its actions.

    The page has two forms; ``form`` in the post says which was sent, so the
    other keeps what is saved.
    """
    meeting = _coordinator_meeting(request, meeting_id)
    item = selectors.agenda_item_for(request.user, meeting, item_id)
    sent = request.POST.get("form") if request.method == "POST" else None
    discussion_form = DiscussionForm(
        request.POST if sent == "discussion" else None,
        prefix="discussion",
        initial={
            "discussion": item.discussion,
            "risk_after": item.risk_after,
            "decisions": item.decisions,
        },
    )
    # A withdrawn organisation cannot be given work on the case.
    invited = item.invited.taking_part().order_by("name")
    action_form = ActionForm(
        request.POST if sent == "action" else None,
        prefix="action",
        organisations=invited,
    )
    here = reverse("meetings:record_case", args=[meeting.pk, item.pk])
    if sent == "discussion" and discussion_form.is_valid():
        data = discussion_form.cleaned_data
        try:
            item = case_discussion_record(
                item=item,
                discussion=data["discussion"],
                risk_after=data["risk_after"],
                decisions=data["decisions"],
                user=request.user,
                request=request,
            )
        except MeetingRefused as exc:
            discussion_form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"The discussion of {item.referral.reference} is saved. Next "
                f"review: {item.next_review.day} {item.next_review:%B %Y}.",
            )
            return redirect(here)
    elif sent == "action" and action_form.is_valid():
        data = action_form.cleaned_data
        try:
            action_add(
                item=item,
                owner=data["owner"],
                officer=data["officer"],
                description=data["description"],
                due=data["due"],
                user=request.user,
                request=request,
            )
        except MeetingRefused as exc:
            action_form.add_error(None, str(exc))
        else:
            messages.success(request, f"The action for {data['owner']} is added.")
            return redirect(here + "#actions")
    audit_read(request, item)
    return render(
        request,
        "meetings/record/case.html",
        {
            "meeting": meeting,
            "item": item,
            "discussion_form": discussion_form,
            "action_form": action_form,
            "errors": error_list(discussion_form, action_form),
            "actions": list(item.actions.select_related("owner")),
            "outstanding": list(
                item.referral.actions.filter(
                    agenda_item__meeting__starts_at__lt=meeting.starts_at
                ).select_related("owner", "agenda_item__meeting")
            ),
            "may_record": meeting.allows["record"],
            "record_refusal": meeting.refusal("record"),
        },
        status=refusal_status(discussion_form, action_form),
    )


def minutes(request, meeting_id):
    """Write the general minutes, then issue them."""
    meeting = _coordinator_meeting(request, meeting_id)
    form = MinutesForm(
        request.POST if request.method == "POST" else None,
        initial={"general_minutes": meeting.general_minutes},
    )
    issue_errors = []
    if request.method == "POST" and form.is_valid():
        issuing = "issue" in request.POST
        try:
            meeting = minutes_save(
                meeting=meeting,
                general_minutes=form.cleaned_data["general_minutes"],
                user=request.user,
                request=request,
            )
        except MeetingRefused as exc:
            form.add_error(None, str(exc))
        else:
            if not issuing:
                messages.success(request, "The general minutes are saved.")
                return redirect("meetings:minutes", meeting.pk)
            try:
                minutes_issue(meeting=meeting, user=request.user, request=request)
            except MeetingRefused as exc:
                issue_errors = [("issue-minutes", f"Your minutes are saved. {exc}")]
            else:
                messages.success(
                    request,
                    "The minutes are issued. Invited organisations' staff are "
                    "emailed that they can download them.",
                )
                return redirect("meetings:minutes", meeting.pk)
    late = selectors.minutes_late().filter(pk=meeting.pk).exists()
    return render(
        request,
        "meetings/record/minutes.html",
        {
            "meeting": meeting,
            "form": form,
            "errors": [*error_list(form), *issue_errors],
            "issue_errors": issue_errors,
            "may_write": meeting.allows["record"],
            "may_issue": meeting.allows["issue_minutes"],
            "issued": meeting.status == MeetingStatus.MINUTES_ISSUED,
            "late": late,
            "organisations": invited_organisations(meeting),
        },
        status=refusal_status(form, errors=issue_errors),
    )


def minutes_download(request, meeting_id):
    """An organisation's minutes, watermarked for the person downloading."""
    user = request.user
    meeting = selectors.meeting_for(user, meeting_id)
    organisation = selectors.minutes_organisation_for(
        user, meeting, request.GET.get("organisation")
    )
    try:
        pdf = minutes_pdf(
            meeting=meeting, organisation=organisation, user=user, request=request
        )
    except MinutesDestroyed as exc:
        # 410 Gone: the minutes existed and will not again (audited).
        return render(
            request,
            "meetings/gone.html",
            {"meeting": meeting, "heading": "These minutes are no longer available",
             "reason": str(exc)},
            status=410,
        )  # fmt: skip
    except ConfidentialityNotConfirmed as refused:
        return confidentiality_refusal(request, meeting, refused)
    except MeetingRefused as exc:
        raise Http404(str(exc)) from None
    response = HttpResponse(pdf, content_type="application/pdf")
    name = slugify(f"cmarac-minutes-{meeting.day:%Y-%m-%d}-{organisation.slug}")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response
