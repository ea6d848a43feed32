"""Who sees what of a referral: the one redaction policy (docs/features.md,
"Who sees what").

The case page, its PDF and the meeting pack all ask here, so a rule changed
here changes every one of them:

- coordinators and the referring organisation see everything;
- for anyone else, a referral marked "do not disclose" hides the contact
  details of the people at risk, and "anonymous source" hides the witnesses;
- an attached file marked "the referring agency and coordinators only" is
  neither listed nor downloadable by anyone else, whatever the flags;
- when a coordinator wrote a summary for partner agencies, it replaces every
  free-text answer for anyone else;
- case notes are read by everyone with access to the case, except a note
  marked "coordinators only", which only coordinators read (not even the
  referring organisation: it is for what the agencies must not see).
"""

from dataclasses import dataclass

from django import forms
from django.db.models import QuerySet

from .models import (
    AttachmentVisibility,
    CaseNote,
    PersonRole,
    Referral,
    ReferralAttachment,
)

WITHHELD_NOT_DISCLOSED = "Withheld: not to be disclosed to the person causing harm"
WITHHELD_ANONYMOUS = "Withheld: the source wishes to remain anonymous"
WITHHELD_SUMMARISED = "Withheld: see the coordinator's summary for partner agencies"

FLAGS = ("do_not_disclose", "anonymous_source")

# Details hidden from other agencies when "do not disclose" is ticked, for
# everyone at risk (not the person causing harm).
_CONTACT_DETAILS = {
    "address", "postcode", "landlord", "phone", "contact_times", "leave_message",
    "safe_contacts", "gp",
}  # fmt: skip
_AT_RISK_ROLES = {PersonRole.VICTIM, PersonRole.WITNESS, PersonRole.AT_RISK}

# The key a redaction carries when the partner summary replaces free text.
SUMMARISED = "summarised"


@dataclass(frozen=True)
class Audience:
    """Who is looking: a person, or an organisation (a meeting pack)."""

    organisation_id: int | None
    coordinator: bool = False

    @classmethod
    def of_user(cls, user) -> "Audience":
        from accounts.models import Role

        return cls(user.organisation_id, user.has_role(Role.COORDINATOR))

    @classmethod
    def of_organisation(cls, organisation) -> "Audience":
        return cls(organisation.pk)


def sees_everything(audience: Audience, referral: Referral) -> bool:
    return audience.coordinator or audience.organisation_id == referral.organisation_id


def is_flagged(referral: Referral) -> bool:
    return any(getattr(referral, flag) for flag in FLAGS)


def redaction_flags(audience: Audience, referral: Referral) -> dict | None:
    """The flags that hide details from ``audience``, or None."""
    if sees_everything(audience, referral) or not is_flagged(referral):
        return None
    return {flag: getattr(referral, flag) for flag in FLAGS}


def attachments_for(audience: Audience, referral: Referral) -> QuerySet:
    """The attachments ``audience`` may see (and so list and download)."""
    attachments = ReferralAttachment.objects.filter(referral=referral)
    if sees_everything(audience, referral):
        return attachments
    return attachments.filter(visibility=AttachmentVisibility.SHARED)


def notes_for(audience: Audience, referral: Referral) -> QuerySet:
    """The case notes ``audience`` may read, oldest first."""
    notes = CaseNote.objects.filter(referral=referral)
    if audience.coordinator:
        return notes
    return notes.filter(coordinators_only=False)


def default_visibility(*, do_not_disclose: bool, anonymous_source: bool) -> str:
    """A new attachment is restricted when the referral protects someone."""
    if do_not_disclose or anonymous_source:
        return AttachmentVisibility.RESTRICTED
    return AttachmentVisibility.SHARED


def is_free_text(form_field: forms.Field) -> bool:
    """A long answer typed in the referrer's own words (the form's textareas)."""
    return isinstance(form_field.widget, forms.Textarea)


def needs_free_text_review(referral: Referral) -> bool:
    """Whether a coordinator must still check the free text before accepting."""
    if not is_flagged(referral):
        return False
    return not hasattr(referral, "free_text_review")


def partner_summary(audience: Audience, referral: Referral) -> str:
    """The coordinator's summary that ``audience`` sees instead of the free
    text, or "" (nothing written, or the audience sees the original)."""
    if sees_everything(audience, referral) or not is_flagged(referral):
        return ""
    review = getattr(referral, "free_text_review", None)
    return review.summary if review is not None else ""


def withheld(
    prefix: str, item: dict, name: str, form_field: forms.Field, redact: dict
) -> str | None:
    """What to show instead of one answer for a redacted viewer, or None to
    show the answer itself."""
    if prefix == "people":
        role = item.get("role")
        if redact.get("anonymous_source") and role == PersonRole.WITNESS:
            return None if name == "role" else WITHHELD_ANONYMOUS
        if (
            redact.get("do_not_disclose")
            and role in _AT_RISK_ROLES
            and name in _CONTACT_DETAILS
        ):
            return WITHHELD_NOT_DISCLOSED
    if prefix == "children" and redact.get("do_not_disclose") and name == "school":
        return WITHHELD_NOT_DISCLOSED
    if redact.get(SUMMARISED) and is_free_text(form_field) and item.get(name):
        return WITHHELD_SUMMARISED
    return None


@dataclass(frozen=True)
class CaseView:
    """A referral as one audience may see it."""

    sections: list
    redacted: bool
    sees_all: bool
    attachments: list
    partner_summary: str


def case_view(audience: Audience, referral: Referral) -> CaseView:
    """The answers, files and summary ``audience`` may see of ``referral``."""
    from .answers import all_answers

    redact = redaction_flags(audience, referral)
    summary = partner_summary(audience, referral)
    if redact is not None and summary:
        redact = {**redact, SUMMARISED: True}
    return CaseView(
        sections=all_answers(referral.answers, redact=redact, brief=True),
        redacted=redact is not None,
        sees_all=sees_everything(audience, referral),
        attachments=list(attachments_for(audience, referral)),
        partner_summary=summary,
    )
