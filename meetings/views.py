"""Meetings for partner staff: the meetings their agency is invited to, its
pack (watermarked per download), and its actions.

Every view is for verified users (the gate), is closed to anyone the agreement
does not let see case material (``agreements.middleware``) and reads through
the selectors.
"""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponseBadRequest
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from accounts.models import Organisation, Role
from audit.services import audit_read, audit_record
from files.downloads import private_stream_response
from portal import freshness, page_cache
from portal.forms import error_list, refusal_status
from referrals.selectors import referrals_visible_to

from . import selectors
from .audit_actions import MeetingAction
from .forms import (
    ANOTHER_CASE,
    ActionUpdateForm,
    AgendaItemAddForm,
    ConfidentialityForm,
    InvitationsForm,
    MeetingScheduleForm,
    ReplyForm,
)
from .models import ActionStatus, MeetingStatus
from .services import (
    CONFIDENTIALITY_STATEMENT,
    ConfidentialityNotConfirmed,
    MeetingRefused,
    PackClosed,
    action_update,
    agenda_item_add,
    agenda_item_invite,
    agenda_item_move,
    agenda_item_remove,
    attendance_of,
    attendance_reply,
    confidentiality_confirm,
    deputies_available,
    invited_as_person,
    invited_organisations,
    meeting_cancel,
    meeting_schedule,
    pack_closed_for,
    pack_download,
    pack_preparing,
    papers_issue,
    replies_of,
)

# Meetings a page of the list shows, newest first; older ones are on later
# pages (until December 2026 the list stopped at the newest 100, and older
# meetings could be reached only from their notices).
MEETINGS_PER_PAGE = 25


# A person's page of the list is rendered once and shared by every server for
# a minute, or until anything in the portal changes (an invitation, a reply,
# a status). It holds meetings' times, places and stages, no case material.
LISTING_SECONDS = 60


def index(request):
    user = request.user
    may_manage = user.has_role(Role.COORDINATOR)
    number = request.GET.get("page")

    def build() -> str:
        # Invited meetings before papers are issued too: the invitation asks
        # people to reply from the meeting page.
        meetings = (
            selectors.meetings_invited_to(user)
            .select_related(None)
            .only("kind", "starts_at", "location", "status")
            .order_by("-starts_at", "-pk")
        )
        page = Paginator(meetings, MEETINGS_PER_PAGE).get_page(number)
        return render_to_string(
            "meetings/includes/list.html", {"page": page, "may_manage": may_manage}
        )

    listing = freshness.remember(
        ("meetings:list", user.pk, *freshness.audience(user), str(number)[:12]),
        build,
        LISTING_SECONDS,
    )
    return render(
        request,
        "meetings/index.html",
        {"listing": mark_safe(listing), "may_manage": may_manage},  # noqa: S308
    )


def detail(request, meeting_id):
    user = request.user
    try:
        meeting = selectors.invited_meeting_for(user, meeting_id, cancelled=True)
    except Http404:
        # The "No longer invited" notice links here too.
        return _place_gone(request, selectors.uninvited_meeting_for(user, meeting_id))
    if meeting.status == MeetingStatus.CANCELLED and not user.has_role(
        Role.COORDINATOR
    ):
        return _place_gone(request, meeting)
    return _meeting_page(request, meeting)


def _place_gone(request, meeting):
    """The page a cancellation's or a "No longer invited" notice leads to:
    says so plainly, rather than 404, and nothing else about the meeting."""
    audit_read(request, meeting)
    template = (
        "meetings/cancelled.html"
        if meeting.status == MeetingStatus.CANCELLED
        else "meetings/uninvited.html"
    )
    return render(request, template, {"meeting": meeting})


def _meeting_page(request, meeting, refused: dict | None = None):
    """The meeting page; with ``refused`` (an agenda change the service or
    the form refused: the message, what was typed, where it links), the page
    again with the error by its field, as 400 Bad Request."""
    user = request.user
    may_manage = user.has_role(Role.COORDINATOR)
    papers = selectors.papers_open_to(user, meeting)
    # A refusal shown by one case on the agenda (not one of the add form).
    item_error = refused if refused and refused.get("data") is None else {}
    agenda = _agenda(request, meeting, may_manage=may_manage, papers=papers,
                     item_error=item_error)  # fmt: skip
    # A deputy whose organisation is invited to no case has no pack or
    # minutes of their own (selectors.pack_organisation_for).
    has_pack = meeting.status in selectors.VISIBLE_TO_AGENCIES and (
        may_manage or agenda["agenda_shown"] > 0
    )
    own_pack = (
        selectors.pack_of(meeting, user.organisation_id)
        if has_pack and user.organisation_id and not may_manage
        else None
    )
    audit_read(request, meeting)
    return render(
        request,
        "meetings/detail.html",
        {
            "meeting": meeting,
            **agenda,
            "papers": papers,
            "may_manage": may_manage,
            "has_pack": has_pack,
            # Never offer a pack built before the latest change as current.
            "pack_preparing": has_pack and pack_preparing(meeting, own_pack),
            "packs_failed": has_pack and meeting.packs_failed,
            "pack_closed": pack_closed_for(meeting, user),
            "cases_held": meeting.tombstones.values_list("cases_held", flat=True)
            .order_by("-pk")
            .first()
            if meeting.disposed_at and may_manage
            else 0,
            "invited_as_person": invited_as_person(meeting, user),
            "my_attendance": attendance_of(meeting, user),
            "replies": replies_of(meeting) if may_manage else [],
            **(_agenda_builder(request, meeting, refused or {}) if may_manage else {}),
        },
        status=400 if refused else 200,
    )


# The meeting page's agenda and add-a-case form are rendered once for each
# audience (organisation and roles decide which cases show) and shared for at
# most a minute: case references and who referred them are personal data
# (docs/caching.md). Any saved change or disposal replaces the "portal" token;
# the key also holds a digest of the meeting's row, which changes with its
# stage, and the date (who may be invited). Each view of the page is audited.
AGENDA_SECONDS = 60


def _kept(request, meeting, name, build, *, shared=True, parts=()) -> dict:
    """``build()`` (a dict whose "html" may hold forms), shared as above
    unless not ``shared``, with this reader's CSRF token in each form."""
    if not shared:
        built = build()
        return {**built, "html": mark_safe(built["html"])}  # noqa: S308

    def cut():
        built = build()
        return {**built, "html": page_cache.csrf_cut(built["html"])}

    kept = freshness.remember(
        (name, *freshness.audience(request.user), meeting.pk,
         freshness.row_digest(meeting), *parts),
        cut,
        AGENDA_SECONDS,
    )  # fmt: skip
    html = page_cache.csrf_filled(request, kept["html"])
    return {**kept, "html": mark_safe(html)}  # noqa: S308  (our template's)


def _agenda(request, meeting, *, may_manage, papers, item_error) -> dict:
    """The agenda as the reader may see it (only the cases their organisation
    is invited to, unless they coordinate), and how many cases it shows."""
    user = request.user

    def build():
        items = (
            meeting.agenda_items.select_related("referral__organisation")
            .only("meeting_id", "position", "slot_minutes", "referral__reference",
                  "referral__organisation__name")
            .order_by("position")
        )  # fmt: skip
        if not may_manage:
            items = items.filter(invited=user.organisation_id)
        # Before papers are issued, which cases are on the agenda is not
        # theirs to see yet: only how many involve their organisation.
        own_cases = 0 if papers else items.count()
        if papers and may_manage:
            items = items.prefetch_related(
                Prefetch("invited", Organisation.objects.only("name"))
            )
        items = list(items) if papers else []
        context = {
            "meeting": meeting,
            "allows": meeting.allows,
            "items": items,
            "papers": papers,
            "own_cases": own_cases,
            "other_cases": meeting.agenda_items.count() - len(items) if papers else 0,
            "may_manage": may_manage,
            "item_error": item_error,
            "csrf_token": get_token(request),
        }
        html = render_to_string("meetings/includes/agenda.html", context)
        return {"html": html, "shown": len(items)}

    # A refusal by a case is drawn for this request alone.
    agenda = _kept(request, meeting, "meetings:agenda", build, shared=not item_error)
    return {"agenda": agenda["html"], "agenda_shown": agenda["shown"]}


def pack(request, meeting_id):
    user = request.user
    meeting = selectors.meeting_for(user, meeting_id)
    organisation = selectors.pack_organisation_for(
        user, meeting, request.GET.get("organisation")
    )
    try:
        download = pack_download(
            meeting=meeting, organisation=organisation, user=user, request=request
        )
    except PackClosed as closed:
        # 410 Gone: the link worked once and will not again; the refusal is
        # audited by the service.
        return render(
            request,
            "meetings/gone.html",
            {"meeting": meeting, "heading": "This meeting pack is closed",
             "reason": str(closed)},
            status=410,
        )  # fmt: skip
    except ConfidentialityNotConfirmed as refused:
        return confidentiality_refusal(request, meeting, refused)
    # The stored pack streams from storage in chunks, the reader's stamp (a PDF
    # incremental update) after it: one response, so no file wrapper.
    name = slugify(f"cmarac-{meeting.day:%Y-%m-%d}-{organisation.slug}")
    return private_stream_response(
        download.chunks,
        name=f"{name}.pdf",
        content_type="application/pdf",
        size=download.size,
    )


def our_actions(request):
    user = request.user
    if user.organisation_id is None or not user.has_role(Role.REFERRER):
        raise Http404("Actions belong to partner agencies")
    actions = list(selectors.actions_of(user.organisation))
    audit_record(
        action=MeetingAction.ACTIONS_VIEWED,
        request=request,
        detail={"count": len(actions)},
    )
    return render(
        request,
        "meetings/our_actions.html",
        {"actions": actions, "statuses": ActionStatus.choices},
    )


def update_action(request, action_id):
    user = request.user
    if user.organisation_id is None or not user.has_role(Role.REFERRER):
        raise Http404("Actions belong to partner agencies")
    action = get_object_or_404(selectors.actions_of(user.organisation), pk=action_id)
    form = ActionUpdateForm(
        request.POST if request.method == "POST" else None,
        initial={"status": action.status, "update": action.update},
    )
    if request.method == "POST" and form.is_valid():
        try:
            action_update(
                action=action,
                user=user,
                status=form.cleaned_data["status"],
                update=form.cleaned_data["update"],
                request=request,
            )
        except MeetingRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "The action is updated.")
            return redirect("meetings:our_actions")
    audit_read(request, action)
    return render(
        request,
        "meetings/update_action.html",
        {"action": action, "form": form},
        status=refusal_status(form),
    )


# Building a meeting (coordinators) ---------------------------------------------


def _coordinators_only(user) -> None:
    if not user.has_role(Role.COORDINATOR):
        raise Http404("Only coordinators build meetings")


def schedule(request):
    user = request.user
    _coordinators_only(user)
    form = MeetingScheduleForm(
        request.POST if request.method == "POST" else None,
        initial={"chair": user.pk},
        chairs=selectors.chairs_available(),
        full_meetings=selectors.full_meetings_ahead(user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = meeting_schedule(
                user=user,
                starts_at=form.starts_at(),
                chair=data["chair"],
                location=data["location"],
                online_link=data["online_link"],
                kind=data["kind"],
                referral_deadline=data["referral_deadline"],
                reported_to=data["reported_to"],
                request=request,
            )
        except MeetingRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{meeting} is scheduled.")
            return redirect(meeting)
    return render(
        request, "meetings/schedule.html", {"form": form}, status=refusal_status(form)
    )


# How many waiting cases the agenda builder lists, longest waiting first; any
# other is added by its reference. A list of every one (3,700 on a busy
# portal) took most of a second to draw and was too long to use (issue 23).
AGENDA_CASES_LISTED = 20


def _add_form(user, data=None, *, listed=None) -> AgendaItemAddForm:
    """The add-a-case form; ``listed``, the cases the page lists (only the
    page needs them: a post checks the one case chosen)."""
    return AgendaItemAddForm(
        data,
        referrals=referrals_visible_to(user),
        listed=None if listed is None else {r.reference for r in listed},
        organisations=selectors.organisations_to_invite(),
    )


def _agenda_builder(request, meeting, kept: dict) -> dict:
    """The coordinator's part of the meeting page: the form to add a case (with
    what was typed, if it was refused), the issue button and the packs."""
    typed = kept.get("data")
    errors = []

    def build():
        nonlocal errors
        refusal = meeting.refusal("change_agenda")
        listed, waiting = [], 0
        if not refusal:
            cases = selectors.referrals_for_agenda(request.user, meeting)
            listed = list(cases[:AGENDA_CASES_LISTED])
            waiting = cases.count()
        form = _add_form(request.user, typed, listed=listed)
        if typed is not None:
            form.is_valid()
            if kept.get("message"):
                form.add_error(form.refusal_field(), kept["message"])
            errors = error_list(form)
        html = render_to_string(
            "meetings/includes/agenda_add.html",
            {
                "meeting": meeting,
                "add_form": form,
                "agenda_refusal": refusal,
                "listed": listed,
                "waiting": waiting,
                "another_case": ANOTHER_CASE,
                "csrf_token": get_token(request),
            },
        )
        return {"html": html}

    # The form as the page first offers it is shared; what was typed and
    # refused is drawn for this request alone. The date is in the key: the
    # organisations in good standing are worked out per day.
    add = _kept(request, meeting, "meetings:agenda-add", build,
                shared=typed is None, parts=(timezone.localdate(),))  # fmt: skip
    if typed is None and kept.get("message"):
        errors = [(kept["anchor"], kept["message"])]
    return {
        "agenda_add": add["html"],
        "agenda_errors": errors,
        "packs": list(selectors.packs_of(meeting)),
        "pack_days": settings.PACK_DOWNLOAD_DAYS_AFTER_MINUTES,
    }


def _agenda_refused(request, meeting, message, *, data=None, anchor=""):
    """The meeting page again, showing a refusal by the form or case it is
    about, with what was typed (``data``, the posted add form)."""
    return _meeting_page(request, meeting, {
        "message": message,
        "data": data,
        "anchor": anchor,
        "item": int(anchor.split("-")[1]) if anchor.startswith("item-") else None,
    })  # fmt: skip


@require_POST
def agenda_add(request, meeting_id):
    user = request.user
    _coordinators_only(user)
    meeting = selectors.meeting_for(user, meeting_id)
    if refusal := meeting.refusal("change_agenda"):
        # The page no longer offers the form, so the message goes by the agenda.
        return _agenda_refused(request, meeting, refusal, anchor="agenda")
    form = _add_form(user, request.POST)
    if not form.is_valid():
        return _agenda_refused(request, meeting, "", data=request.POST)
    referral = form.cleaned_data["referral"]
    try:
        agenda_item_add(
            meeting=meeting,
            referral=referral,
            invited=list(form.cleaned_data["invited"]),
            share_reason=form.cleaned_data["share_reason"],
            slot_minutes=form.cleaned_data["slot_minutes"],
            user=user,
            request=request,
        )
    except MeetingRefused as exc:
        return _agenda_refused(request, meeting, str(exc), data=request.POST)
    messages.success(request, f"{referral.reference} is on the agenda.")
    return redirect(f"{meeting.get_absolute_url()}#agenda")


@require_POST
def agenda_move(request, meeting_id, item_id):
    user = request.user
    meeting = selectors.meeting_for(user, meeting_id)
    item = selectors.agenda_item_for(user, meeting, item_id)
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if offset is None:
        return HttpResponseBadRequest("Move a case up or down")
    try:
        agenda_item_move(item=item, offset=offset, user=user, request=request)
    except MeetingRefused as exc:
        return _agenda_refused(request, meeting, str(exc), anchor=f"item-{item.pk}")
    return redirect(f"{meeting.get_absolute_url()}#agenda")


@require_POST
def agenda_remove(request, meeting_id, item_id):
    user = request.user
    meeting = selectors.meeting_for(user, meeting_id)
    item = selectors.agenda_item_for(user, meeting, item_id)
    reference = item.referral.reference
    try:
        agenda_item_remove(item=item, user=user, request=request)
    except MeetingRefused as exc:
        return _agenda_refused(request, meeting, str(exc), anchor=f"item-{item.pk}")
    messages.success(request, f"{reference} is off the agenda.")
    return redirect(f"{meeting.get_absolute_url()}#agenda")


def agenda_invite(request, meeting_id, item_id):
    """Change which organisations are invited to one case on the agenda, until
    the minutes are issued (then the page only lists them)."""
    user = request.user
    meeting = selectors.meeting_for(user, meeting_id)
    item = selectors.agenda_item_for(user, meeting, item_id)
    current = list(item.invited.order_by("name"))
    referring = item.referral.organisation
    refusal = meeting.refusal("change_invitations")
    if refusal and request.method == "POST":
        # The page offers no form then; a direct post gets the same words.
        return _agenda_refused(request, meeting, refusal, anchor=f"item-{item.pk}")
    form = None
    if not refusal:
        form = InvitationsForm(
            request.POST if request.method == "POST" else None,
            initial={"invited": [o for o in current if o.pk != referring.pk]},
            organisations=selectors.organisations_to_invite(also=current).exclude(
                pk=referring.pk
            ),
        )
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            agenda_item_invite(
                item=item,
                invited=list(form.cleaned_data["invited"]),
                share_reason=form.cleaned_data["share_reason"],
                user=user,
                request=request,
            )
        except MeetingRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"Invitations to {item.referral.reference} are saved."
            )
            return redirect(f"{meeting.get_absolute_url()}#agenda")
    audit_read(request, item)
    return render(
        request,
        "meetings/agenda_invite.html",
        {
            "meeting": meeting,
            "item": item,
            "referring": referring,
            "form": form,
            "invited": current,
            "refusal": refusal,
        },
        status=refusal_status(form),
    )


def issue(request, meeting_id):
    """Confirm, then issue the papers: packs are built and agencies emailed."""
    user = request.user
    _coordinators_only(user)
    meeting = selectors.meeting_for(user, meeting_id)
    errors = []
    if request.method == "POST":
        try:
            papers_issue(meeting=meeting, user=user, request=request)
        except MeetingRefused as exc:
            errors = [("issue-papers", str(exc))]
        else:
            messages.success(
                request,
                "Papers are issued. Each invited organisation's pack is being "
                "built and its staff are emailed.",
            )
            return redirect(meeting)
    return render(
        request,
        "meetings/issue.html",
        {
            "meeting": meeting,
            "cases": meeting.agenda_items.count(),
            "organisations": invited_organisations(meeting),
            "errors": errors,
            "refusal": meeting.refusal("issue_papers"),
        },
        status=refusal_status(errors=errors),
    )


def cancel(request, meeting_id):
    """Confirm, then cancel a meeting: calendars get a cancellation."""
    user = request.user
    _coordinators_only(user)
    meeting = selectors.meeting_for(user, meeting_id)
    errors = []
    if request.method == "POST":
        try:
            meeting_cancel(meeting=meeting, user=user, request=request)
        except MeetingRefused as exc:
            errors = [("cancel-meeting", str(exc))]
        else:
            messages.success(
                request,
                "The meeting is cancelled. Everyone invited is sent a calendar "
                "cancellation.",
            )
            return redirect(meeting)
    return render(
        request,
        "meetings/cancel.html",
        {"meeting": meeting, "errors": errors, "refusal": meeting.refusal("cancel")},
        status=refusal_status(errors=errors),
    )


# Invited people reply for themselves ------------------------------------------


def confidentiality_refusal(request, meeting, refused):
    """The plain refusal of a pack or minutes download by someone who has not
    confirmed the confidentiality statement (the service audited it)."""
    return render(
        request,
        "meetings/confidentiality_required.html",
        {"meeting": meeting, "reason": str(refused)},
        status=403,
    )


def _invited_meeting(request, meeting_id):
    # Before papers are issued too: the invitation asks for a reply.
    meeting = selectors.invited_meeting_for(request.user, meeting_id)
    if not invited_as_person(meeting, request.user):
        raise Http404("You are not invited to this meeting")
    return meeting


def reply(request, meeting_id):
    """The person says whether they will attend, or sends apologies and
    perhaps names a deputy."""
    user = request.user
    meeting = _invited_meeting(request, meeting_id)
    row = attendance_of(meeting, user)
    deputy = row.deputies.filter(user__isnull=False).first() if row else None
    refusal = meeting.refusal("reply")
    form = ReplyForm(
        request.POST if request.method == "POST" else None,
        initial={"reply": row.reply if row else None,
                 "deputy": deputy.user_id if deputy else None},
        deputies=deputies_available(meeting, user),
    )  # fmt: skip
    if request.method == "POST" and refusal:
        form.is_valid()
        form.add_error(None, refusal)
    elif request.method == "POST" and form.is_valid():
        try:
            attendance_reply(
                meeting=meeting,
                user=user,
                reply=form.cleaned_data["reply"],
                deputy=form.cleaned_data["deputy"],
                request=request,
            )
        except MeetingRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Your reply is saved.")
            return redirect(meeting)
    return render(
        request,
        "meetings/reply.html",
        {"meeting": meeting, "form": form, "refusal": refusal},
        status=refusal_status(form),
    )


def confidentiality(request, meeting_id):
    """The person confirms the confidentiality statement for the meeting,
    once, before downloading its pack or minutes."""
    user = request.user
    meeting = _invited_meeting(request, meeting_id)
    row = attendance_of(meeting, user)
    form = ConfidentialityForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            confidentiality_confirm(meeting=meeting, user=user, request=request)
        except MeetingRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                "You confirmed the confidentiality statement. You can download "
                "this meeting's papers"
                + ("." if selectors.papers_open_to(user, meeting) else
                   " once they are issued."),
            )  # fmt: skip
            return redirect(meeting)
    return render(
        request,
        "meetings/confidentiality.html",
        {
            "meeting": meeting,
            "form": form,
            "statement": CONFIDENTIALITY_STATEMENT,
            "confirmed_at": row.confidentiality_confirmed_at if row else None,
            "refusal": meeting.refusal("confirm_confidentiality"),
            "papers": selectors.papers_open_to(user, meeting),
        },
        status=refusal_status(form),
    )
