"""The data protection officer's screens: a home page, the person search and
a read-only view of each record it finds.

Signed in, second factor verified (the gate in front of every view) and the
data protection officer's role: anyone else gets a 403 page, audited as a
refusal. Every page is audited, and the search's event holds the records
found and their count; the words searched for are kept only as a keyed hash
(``audit.privacy``), as for the coordinators' search.
"""

import functools

from django.shortcuts import render
from django.urls import reverse

from audit.models import Outcome
from audit.services import audit_record
from portal.dates import long_date, long_datetime
from portal.forms import refusal_status
from referrals.selectors import answers_shown_in_full

from .audit_actions import RightsAction
from .forms import PersonSearchForm
from .selectors import index_summary, may_handle_data_rights, person_search, record_for


def data_protection_officer_only(view):
    """Deny by default: the role, or a refusal page and a "denied" event."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_handle_data_rights(request.user):
            audit_record(
                action=RightsAction.REFUSED,
                request=request,
                outcome=Outcome.DENIED,
                detail={"route": request.resolver_match.view_name},
            )
            return render(request, "rights/refused.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


@data_protection_officer_only
def home(request):
    audit_record(action=RightsAction.HOME_VIEWED, request=request)
    return render(request, "rights/home.html", {"index": index_summary()})


@data_protection_officer_only
def people(request):
    form = PersonSearchForm(request.GET if "q" in request.GET else None)
    found = None
    if form.is_bound and form.is_valid():
        found = person_search(request.user, form.cleaned_data["q"])
        audit_record(
            action=RightsAction.PEOPLE_SEARCHED,
            request=request,
            detail={
                # Hashed by audit.privacy: the log never holds the words.
                "query": form.data["q"],
                "count": found.hits,
                "records": found.record_ids,
            },
        )
    elif form.is_bound:
        audit_record(
            action=RightsAction.PEOPLE_SEARCHED,
            request=request,
            outcome=Outcome.FAILURE,
            detail={"count": 0},
        )
    return render(
        request,
        "rights/people.html",
        {"form": form, "found": found},
        status=refusal_status(form),
    )


@data_protection_officer_only
def record(request, kind: str, record_id: int):
    view = record_for(request.user, kind, record_id)
    audit_record(
        action=RightsAction.RECORD_VIEWED,
        request=request,
        obj=view.record,
        detail={"count": len(view.mentions)},
    )
    return render(
        request,
        "rights/record.html",
        {
            "view": view,
            "title": _title(kind, view.record),
            "rows": SHOWN[kind](view.record),
            "sections": (
                answers_shown_in_full(view.record) if kind == "referral" else []
            ),
            "matched_fields": sorted({m.field_label for m in view.mentions}),
        },
    )


# What each kind of record shows ---------------------------------------------------


def _link(kind: str, record_id) -> str:
    return reverse("rights:record", args=[kind, record_id])


def _title(kind: str, record) -> str:
    titles = {
        "referral": lambda r: f"Case {r.reference}",
        "agenda-item": lambda i: f"Agenda item: case {i.referral.reference}",
        "case-note": lambda n: f"Case note on case {n.referral.reference}",
        "action": lambda a: f"Action on case {a.referral.reference}",
        "meeting": str,
        "share": str,
        "shared-file": lambda f: "Shared file",
    }
    return titles[kind](record)


def _referral_rows(referral) -> list:
    rows = [
        ("Reference", referral.reference, ""),
        ("Referring agency", str(referral.organisation), ""),
        ("Status", referral.get_status_display(), ""),
        ("Submitted", long_datetime(referral.submitted_at), ""),
    ]
    for label, value in (
        ("Outcome: reason", referral.outcome_reason),
        ("Outcome: what the referrer was told", referral.feedback),
        ("Outcome: redirected to", referral.redirected_to),
        ("Sharing without consent: reason", referral.sharing_without_consent_reason),
    ):
        if value:
            rows.append((label, value, ""))
    review = getattr(referral, "free_text_review", None)
    if review is not None and review.summary:
        rows.append(("Summary for partner agencies", review.summary, ""))
    for event in referral.events.all():
        if event.message:
            rows.append(
                (
                    f"History: {event.get_kind_display()} on {long_date(event.at)}",
                    event.message,
                    "",
                )
            )
    return rows


def _case_note_rows(note) -> list:
    return [
        ("Case", note.referral.reference, _link("referral", note.referral_id)),
        ("Written by", note.author_label, ""),
        ("Organisation", note.organisation_label or "None", ""),
        ("Added", long_datetime(note.created_at), ""),
        ("Coordinators only", "Yes" if note.coordinators_only else "No", ""),
        ("Note", note.text, ""),
    ]


def _agenda_item_rows(item) -> list:
    return [
        ("Meeting", str(item.meeting), _link("meeting", item.meeting_id)),
        ("Case", item.referral.reference, _link("referral", item.referral_id)),
        ("Discussion summary", item.discussion or "None recorded", ""),
        ("Decisions", item.decisions or "None recorded", ""),
        ("Risk level after discussion", item.get_risk_after_display() or "Not set", ""),
        ("Next review", long_date(item.next_review) if item.next_review else "", ""),
    ]


def _action_rows(action) -> list:
    meeting = action.agenda_item.meeting
    return [
        ("Case", action.referral.reference, _link("referral", action.referral_id)),
        ("Meeting", str(meeting), _link("meeting", meeting.pk)),
        ("Owner", str(action.owner), ""),
        ("Named officer", action.officer, ""),
        ("What is to be done", action.description, ""),
        ("Due", long_date(action.due), ""),
        ("Status", action.get_status_display(), ""),
        ("Latest progress note", action.update or "None", ""),
    ]


def _meeting_rows(meeting) -> list:
    return [
        ("Meeting", str(meeting), ""),
        ("Status", meeting.get_status_display(), ""),
        ("General minutes", meeting.general_minutes or "None recorded", ""),
    ]


def _share_rows(share) -> list:
    rows = [
        ("From", str(share.sender_organisation), ""),
        ("Sent", long_datetime(share.created_at), ""),
        ("Expires", long_datetime(share.expires_at), ""),
        ("State", share.state, ""),
        ("Note", share.note or "None", ""),
    ]
    if share.referral_id:
        rows.append(
            ("Case", share.referral.reference, _link("referral", share.referral_id))
        )
    if share.meeting_id:
        rows.append(("Meeting", str(share.meeting), _link("meeting", share.meeting_id)))
    if share.recall_reason:
        rows.append(("Recall reason", share.recall_reason, ""))
    for item in share.files.all():
        rows.append(("File", item.display_name, _link("shared-file", item.pk)))
    return rows


def _shared_file_rows(item) -> list:
    return [
        ("File name", item.display_name, ""),
        ("Share", str(item.share), _link("share", item.share_id)),
        ("Type", item.content_type, ""),
        ("Size", item.size_display, ""),
        ("Stored file", "Deleted" if item.purged_at else "Held", ""),
    ]


SHOWN = {
    "referral": _referral_rows,
    "agenda-item": _agenda_item_rows,
    "case-note": _case_note_rows,
    "action": _action_rows,
    "meeting": _meeting_rows,
    "share": _share_rows,
    "shared-file": _shared_file_rows,
}
