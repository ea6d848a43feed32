"""What each kind of record holds, as the data protection officer reads it:
the record view shows these rows, and a disclosure bundle is built from the
same rows, so what the officer reviewed is what the requester is given."""

from dataclasses import dataclass

from django.urls import reverse

from portal.dates import long_date, long_datetime
from referrals.selectors import answers_shown_in_full

# What each kind of record shows ---------------------------------------------------


def _link(kind: str, record_id) -> str:
    return reverse("rights:record", args=[kind, record_id])


def record_title(kind: str, record) -> str:
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


@dataclass(frozen=True)
class Field:
    """One labelled value of a record, as a bundle lists it."""

    label: str
    value: str


def record_fields(kind: str, record) -> list[Field]:
    """Every value the record holds, labelled: the record view's rows and,
    for a referral, every answer (section and group in the label)."""
    fields = [Field(label, str(value)) for label, value, _link in SHOWN[kind](record)]
    if kind == "referral":
        for section in answers_shown_in_full(record):
            for group in section.groups:
                heading = group.heading
                if heading != section.section.title:
                    heading = f"{section.section.title}: {heading}"
                for row in group.rows:
                    fields.append(Field(f"{heading}: {row.label}", str(row.value)))
    return _labels_unique(fields)


def _labels_unique(fields: list[Field]) -> list[Field]:
    """A label is how the officer marks a field as third party: make each
    one unique within its record."""
    seen: dict[str, int] = {}
    unique = []
    for item in fields:
        count = seen.get(item.label, 0) + 1
        seen[item.label] = count
        label = item.label if count == 1 else f"{item.label} ({count})"
        unique.append(Field(label, item.value))
    return unique
