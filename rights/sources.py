"""The records the person index reads, and what it takes from each.

Each ``Source`` names a model of a lower app (read through that app's
selectors), how to find what the record belongs to, the mentions it holds
(``rights.matching`` normalises them) and how the data protection officer's
record view shows it. A referral is read whole: its answers (the people list,
household members, children and every free-text answer), its people rows,
its history messages and the coordinators' free text, all under the referral.
Case notes are their own records, each belonging to its referral.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Model, QuerySet

from documents.selectors import shared_files_for_person_index, shares_for_person_index
from meetings.selectors import (
    actions_for_person_index,
    agenda_items_for_person_index,
    meetings_for_person_index,
)
from portal.dates import long_date
from referrals.selectors import (
    answered_fields,
    case_notes_for_person_index,
    referrals_for_person_index,
)

from .matching import (
    name_words,
    phone_digits,
    phones_in,
    postcode_normalised,
    postcodes_in,
    text_normalised,
    variants_text,
)
from .models import MentionKind

# The parts a person in a list has in their case, for "described as".
LIST_PARTS = {"members": "Household member", "children": "Child"}
PEOPLE_PARTS = {
    "victim": "Victim",
    "witness": "Witness",
    "causing_harm": "Person causing harm",
    "at_risk": "Other person at risk",
}
# The answers of a person in the people list that go into their own row; the
# rest of what is typed about them is free text.
PERSON_FIELDS = {"full_name", "alias", "date_of_birth", "postcode", "phone"}
CHILD_FIELDS = {"name", "date_of_birth"}


@dataclass
class Mention:
    """One index row before it is saved (``rights.services`` saves them)."""

    kind: str
    field: str
    field_label: str
    described_as: str = ""
    name: str = ""
    name_variants: str = ""
    date_of_birth: date | None = None
    postcode: str = ""
    phone: str = ""
    text: str = ""


def person_mention(
    field: str, label: str, described_as: str, names: Iterable[str], *,
    date_of_birth=None, postcode: str = "", phone: str = "",
) -> Mention | None:  # fmt: skip
    """A person's row: their name (and other names they use), date of birth,
    postcode and phone, each normalised."""
    spelled = [name_words(name) for name in names if name]
    spelled = [words for words in spelled if words]
    dob = _date(date_of_birth)
    mention = Mention(
        kind=MentionKind.PERSON,
        field=field,
        field_label=label[:300],
        described_as=described_as,
        name=" ".join(spelled[0])[:300] if spelled else "",
        name_variants="".join(variants_text(words) for words in spelled),
        date_of_birth=dob,
        postcode=postcode_normalised(postcode or ""),
        phone=phone_digits(phone or ""),
    )
    if not (mention.name or dob or mention.postcode or mention.phone):
        return None
    return mention


def text_mentions(field: str, label: str, text) -> list[Mention]:
    """A free text's row, and one row for each postcode and phone number in it."""
    text = str(text or "")
    normalised = text_normalised(text)
    if not normalised:
        return []
    label = label[:300]
    rows = [Mention(kind=MentionKind.TEXT, field=field, field_label=label,
                    text=normalised)]  # fmt: skip
    rows += [
        Mention(kind=MentionKind.TEXT, field=field, field_label=label, postcode=code)
        for code in postcodes_in(text)
    ]
    rows += [
        Mention(kind=MentionKind.TEXT, field=field, field_label=label, phone=number)
        for number in phones_in(text)
    ]
    return rows


def _date(value) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


# Referrals ------------------------------------------------------------------------


def referral_mentions(referral) -> list[Mention]:
    rows: list[Mention] = []
    items: dict[tuple[str, int], dict] = {}
    for answer in answered_fields(referral):
        if answer.list_name:
            item = items.setdefault((answer.list_name, answer.position), {})
            item[answer.name] = answer
            continue
        if answer.free_text:
            rows += text_mentions(answer.path, answer.label, answer.value)
    people_seen = set()
    for (list_name, position), fields in items.items():
        rows += _list_item_mentions(list_name, position, fields)
        if list_name == "people" and "full_name" in fields:
            born = fields.get("date_of_birth")
            people_seen.add(
                (
                    tuple(name_words(fields["full_name"].value)),
                    _date(born.value if born else None),
                )
            )
    # The people rows are made from the answers; one changed on its own (a
    # correction) is a mention in its own right.
    for person in referral.people.all():
        key = (tuple(name_words(person.full_name)), person.date_of_birth)
        if key in people_seen:
            continue
        mention = person_mention(
            f"people-rows.{person.position}",
            f"People in the case, as recorded: person {person.position}",
            PEOPLE_PARTS.get(person.role, ""),
            [person.full_name],
            date_of_birth=person.date_of_birth,
        )
        if mention:
            rows.append(mention)
    for event in referral.events.all():
        if event.message:
            rows += text_mentions(
                f"history.{event.pk}.message",
                f"History: {event.get_kind_display()} on {long_date(event.at)}",
                event.message,
            )
    for name, label in (
        ("outcome_reason", "Outcome: reason"),
        ("feedback", "Outcome: what the referrer was told"),
        ("redirected_to", "Outcome: redirected to"),
        ("sharing_without_consent_reason", "Sharing without consent: reason"),
    ):
        rows += text_mentions(name, label, getattr(referral, name))
    review = getattr(referral, "free_text_review", None)
    if review is not None and review.summary:
        rows += text_mentions(
            "free_text_review.summary", "Summary for partner agencies", review.summary
        )
    return rows


def _list_item_mentions(list_name: str, position: int, fields: dict) -> list:
    any_field = next(iter(fields.values()))
    place = any_field.label.split(":")[0]
    rows = []
    consumed: set[str] = set()

    def value(name):
        answer = fields.get(name)
        return answer.value if answer else None

    if list_name == "people":
        consumed = PERSON_FIELDS
        mention = person_mention(
            f"people.{position}",
            place,
            PEOPLE_PARTS.get(value("role"), "Person in the case"),
            [value("full_name"), value("alias")],
            date_of_birth=value("date_of_birth"),
            postcode=value("postcode"),
            phone=value("phone"),
        )
        rows += [mention] if mention else []
    elif list_name in LIST_PARTS:
        consumed = CHILD_FIELDS
        mention = person_mention(
            f"{list_name}.{position}",
            place,
            LIST_PARTS[list_name],
            [value("name")],
            date_of_birth=value("date_of_birth"),
        )
        rows += [mention] if mention else []
    for name, answer in fields.items():
        if answer.free_text and name not in consumed:
            rows += text_mentions(answer.path, answer.label, answer.value)
    return rows


# Meetings and shared files --------------------------------------------------------


def agenda_item_mentions(item) -> list[Mention]:
    return [
        *text_mentions(
            "discussion", "Agenda item: discussion summary", item.discussion
        ),
        *text_mentions("decisions", "Agenda item: decisions", item.decisions),
    ]


def action_mentions(action) -> list[Mention]:
    return [
        *text_mentions("description", "Action: what is to be done", action.description),
        *text_mentions("update", "Action: latest progress note", action.update),
    ]


def meeting_mentions(meeting) -> list[Mention]:
    return text_mentions(
        "general_minutes", "Meeting: general minutes", meeting.general_minutes
    )


def share_mentions(share) -> list[Mention]:
    return [
        *text_mentions("note", "File share: note", share.note),
        *text_mentions("recall_reason", "File share: recall reason",
                       share.recall_reason),
    ]  # fmt: skip


def case_note_mentions(note) -> list[Mention]:
    return text_mentions("text", "Case note", note.text)


def shared_file_mentions(item) -> list[Mention]:
    return text_mentions("display_name", "Shared file: file name", item.display_name)


# The registry ----------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    key: str  # in the record view's address
    model: str  # "app_label.ModelName"
    noun: str  # what kind of record, for people
    records: Callable[[], QuerySet]
    mentions: Callable[[Model], list[Mention]]
    belongs: Callable[[Model], dict]  # referral, meeting and share ids
    recorded_at: Callable[[Model], datetime | None]
    # Models whose save or delete changes this source's mentions, and how to
    # get from one of their rows to the source record's id.
    followers: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        return self.model.lower()


SOURCES: tuple[Source, ...] = (
    Source(
        key="referral",
        model="referrals.Referral",
        noun="Referral",
        records=referrals_for_person_index,
        mentions=referral_mentions,
        belongs=lambda r: {"referral_id": r.pk},
        recorded_at=lambda r: r.submitted_at,
        followers=(
            ("referrals.ReferralPerson", "referral_id"),
            ("referrals.ReferralEvent", "referral_id"),
            ("referrals.ReferralFreeTextReview", "referral_id"),
        ),
    ),
    Source(
        key="case-note",
        model="referrals.CaseNote",
        noun="Case note",
        records=case_notes_for_person_index,
        mentions=case_note_mentions,
        belongs=lambda n: {"referral_id": n.referral_id},
        recorded_at=lambda n: n.created_at,
    ),
    Source(
        key="agenda-item",
        model="meetings.AgendaItem",
        noun="Agenda item",
        records=agenda_items_for_person_index,
        mentions=agenda_item_mentions,
        belongs=lambda i: {"referral_id": i.referral_id, "meeting_id": i.meeting_id},
        recorded_at=lambda i: i.meeting.starts_at,
    ),
    Source(
        key="action",
        model="meetings.Action",
        noun="Action",
        records=actions_for_person_index,
        mentions=action_mentions,
        belongs=lambda a: {
            "referral_id": a.referral_id,
            "meeting_id": a.agenda_item.meeting_id,
        },
        recorded_at=lambda a: a.agenda_item.meeting.starts_at,
    ),
    Source(
        key="meeting",
        model="meetings.Meeting",
        noun="Meeting minutes",
        records=meetings_for_person_index,
        mentions=meeting_mentions,
        belongs=lambda m: {"meeting_id": m.pk},
        recorded_at=lambda m: m.starts_at,
    ),
    Source(
        key="share",
        model="documents.Share",
        noun="File share",
        records=shares_for_person_index,
        mentions=share_mentions,
        belongs=lambda s: {
            "share_id": s.pk,
            "referral_id": s.referral_id,
            "meeting_id": s.meeting_id,
        },
        recorded_at=lambda s: s.created_at,
    ),
    Source(
        key="shared-file",
        model="documents.SharedFile",
        noun="Shared file",
        records=shared_files_for_person_index,
        mentions=shared_file_mentions,
        belongs=lambda f: {
            "share_id": f.share_id,
            "referral_id": f.share.referral_id,
            "meeting_id": f.share.meeting_id,
        },
        recorded_at=lambda f: f.share.created_at,
    ),
)

SOURCES_BY_KEY = {source.key: source for source in SOURCES}
SOURCES_BY_LABEL = {source.label: source for source in SOURCES}
