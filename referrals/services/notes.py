"""Case notes: what the coordinator and the agencies with access to an
accepted case record about it between meetings. Notes are only added,
never edited or deleted (a correction is a further note), so the case
keeps an honest record; ``referrals.redaction`` says who reads which."""

from django.db import transaction
from django.http import HttpRequest

from accounts.models import Role, User
from audit.services import audit_record
from portal.forms import NULL_CHARACTER_MESSAGE, contains_null_character

from ..audit_actions import ReferralAction
from ..models import CaseNote, Referral, Status
from ..selectors import referrals_visible_to
from ._common import ReferralRefused
from .restriction import restriction_refuse

NOTE_MAX_LENGTH = 5000
NOTE_BLANK = "Enter the case note"
NOTE_TOO_LONG = f"The case note must be {NOTE_MAX_LENGTH:,} characters or fewer"
NOTE_NOT_ACCEPTED = (
    "Notes can be added only while the case is accepted for CMARAC meetings."
)


def may_add_note(user: User, referral: Referral) -> bool:
    """Anyone with access to the case, while it is accepted."""
    return (
        referral.status == Status.ACCEPTED
        and referrals_visible_to(user).filter(pk=referral.pk).exists()
    )


def case_note_add(
    *, referral: Referral, user: User, text: str, coordinators_only: bool = False,
    request: HttpRequest | None = None,
) -> CaseNote:  # fmt: skip
    """Add a note to an accepted case, as a coordinator or someone at an
    organisation that can see the case; ``coordinators_only`` (coordinators
    may set it) keeps it from the agencies."""
    text = text.strip()
    if not text:
        raise ReferralRefused(NOTE_BLANK)
    if contains_null_character(text):
        raise ReferralRefused(NULL_CHARACTER_MESSAGE)  # PostgreSQL cannot keep it
    if len(text) > NOTE_MAX_LENGTH:
        raise ReferralRefused(NOTE_TOO_LONG)
    coordinator = user.has_role(Role.COORDINATOR)
    if coordinators_only and not coordinator:
        raise ReferralRefused("Only coordinators can keep a note to coordinators.")
    if not referrals_visible_to(user).filter(pk=referral.pk).exists():
        raise ReferralRefused("You do not have access to this case.")
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.status != Status.ACCEPTED:
            raise ReferralRefused(NOTE_NOT_ACCEPTED)
        restriction_refuse(locked, "given new notes")
        note = CaseNote(
            referral=locked,
            text=text,
            coordinators_only=coordinators_only,
            author=user,
            author_label=user.get_full_name() or user.get_username(),
            organisation_label=str(user.organisation or ""),
        )
        note.full_clean()
        note.save()
        audit_record(
            action=ReferralAction.NOTE_ADDED,
            request=request,
            actor=user,
            obj=note,
            detail={
                "visibility": "coordinators" if coordinators_only else "case_access"
            },
        )
    return note
