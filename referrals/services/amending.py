"""Correcting a submitted referral (UK GDPR Articles 16 and 19): one answer
at a time, as a numbered amendment keeping who, when, why, and the value
before and after.

Only coordinators correct a referral: they are accountable for the case
record and for telling every agency that received the old value, and a
referring agency changing free text itself could undo a coordinator's check
of what other agencies may read (``referrals.redaction``). The referring
agency asks the coordinators, who correct it (docs/features.md,
"Rectification").

After a correction, apps holding the case's content elsewhere answer
``referrals.signals.case_amended`` (meetings rebuilds the packs that showed
the old value and names the agencies invited to the case), and every agency
that received the case is emailed the reference and a link, nothing more.
"""

import uuid
from datetime import date

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Role, User
from audit.services import audit_record
from portal.forms import NULL_CHARACTER_MESSAGE, contains_null_character

from ..answers import bind
from ..audit_actions import ReferralAction
from ..corrections import AnswerRef, answer_ref, section_with
from ..models import Referral, ReferralAmendment, ReferralPerson, name_key
from ..repeats import repeat_flags_correct
from ..signals import case_amended
from ._common import ReferralRefused


class AmendmentRefused(ReferralRefused):
    """The correction is not valid; ``problems`` lists what the section's own
    checks said, as (anchor, message)."""

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.problems = problems or []


def _derived(referral: Referral) -> None:
    """The referral's columns that copy answers (lists, searches, redaction),
    set again from the answers."""
    answers = referral.answers
    eligibility = answers.get("eligibility", {}).get("fields", {})
    risk = answers.get("risk", {}).get("fields", {})
    consent = answers.get("consent", {}).get("fields", {})
    referral.urgent = eligibility.get("urgent") == "yes"
    referral.risk_level = risk.get("risk_level", referral.risk_level)
    referral.asb_types = risk.get("asb_types", [])
    referral.do_not_disclose = bool(consent.get("do_not_disclose"))
    referral.anonymous_source = bool(consent.get("anonymous_source"))


def _person_row(referral: Referral, ref: AnswerRef) -> None:
    """Keep the searchable row of a corrected person in step, and with it
    whether this and later referrals are repeats (``referrals.repeats``)."""
    if ref.prefix != "people":
        return
    person = referral.answers["people"]["people"][ref.index]
    born = person.get("date_of_birth")
    rows = ReferralPerson.objects.filter(referral=referral, position=ref.index + 1)
    before = list(rows.values_list("name_key", "date_of_birth"))
    after = (name_key(person["full_name"]), date.fromisoformat(born) if born else None)
    rows.update(
        role=person["role"],
        full_name=person["full_name"],
        name_key=after[0],
        date_of_birth=after[1],
        age=person.get("age"),
    )
    if after not in before:
        repeat_flags_correct(referral=referral, identities=[*before, after])


def referral_amend(
    *, referral: Referral, answer: str, value, reason: str, user: User,
    request: HttpRequest | None = None,
) -> ReferralAmendment:  # fmt: skip
    """Correct one answer of a submitted referral.

    ``answer`` names it (``referrals.corrections``); ``value`` is the new
    answer as the question's form field cleans it. The whole section is
    bound and checked again with it, as its page would be, so a correction
    cannot leave the referral in a state its form would refuse.
    """
    if not user.has_role(Role.COORDINATOR):
        raise ReferralRefused("Only coordinators can correct a referral.")
    reason = reason.strip()
    if not reason:
        raise AmendmentRefused("Enter why the answer is corrected", [("why", "")])
    value = value.isoformat() if isinstance(value, date) else value
    if contains_null_character([reason, value]):
        raise AmendmentRefused(NULL_CHARACTER_MESSAGE)  # PostgreSQL cannot keep it
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        ref = answer_ref(locked, answer)
        if ref is None:
            raise ReferralRefused("Choose an answer from the list")
        before = ref.value(locked.answers)
        if value == before or (value in ("", None, []) and before in ("", None, [])):
            raise AmendmentRefused(
                "The corrected answer is the same as the current one",
                [("value", "The corrected answer is the same as the current one")],
            )
        bound = bind(ref.section, section_with(locked.answers, ref, value))
        if not bound.is_valid():
            problems = bound.errors()
            raise AmendmentRefused(
                "The corrected answer does not fit the rest of the "
                f"'{ref.section.title}' section: "
                + "; ".join(message for _anchor, message in problems),
                problems,
            )
        locked.answers = {**locked.answers, ref.section.slug: bound.cleaned()}
        _derived(locked)
        version = locked.amendments.count() + 1
        amendment = ReferralAmendment(
            referral=locked,
            version=version,
            section=ref.section.slug,
            item_prefix=ref.prefix,
            item_index=ref.index,
            field_name=ref.name,
            before=before,
            after=ref.value(locked.answers),
            reason=reason,
            amended_by=user,
            amended_by_label=user.get_full_name() or user.get_username(),
            organisation_label=str(user.organisation or ""),
            amended_at=timezone.now(),
        )
        amendment.full_clean()
        locked.full_clean()
        locked.save()
        amendment.save()
        _person_row(locked, ref)
        audit_record(
            action=ReferralAction.AMENDED,
            request=request,
            actor=user,
            obj=locked,
            detail={
                "reference": locked.reference,
                "version": version,
                "answer": ref.key,
                "why": reason,
            },
        )
        recipients = set()
        for _receiver, organisations in case_amended.send(
            sender=Referral, referral=locked, amendment=amendment
        ):
            recipients |= set(organisations or ())
        # Every organisation the case was ever shared with (ended shares too:
        # they received the old value), and the referring one, which may
        # keep the same record in its own systems.
        recipients |= set(locked.shares.values_list("organisation_id", flat=True))
        recipients.add(locked.organisation_id)
        recipients.discard(None)
        recipients = sorted(recipients)
        amendment_id = amendment.pk
        transaction.on_commit(lambda: _notify_recipients(amendment_id, recipients))
    return amendment


def _notify_recipients(amendment_id: int, organisation_ids: list[int]) -> None:
    from ..tasks import send_amendment_notifications

    # Names this correction in the outbox, so a rerun emails nobody twice.
    send_amendment_notifications.enqueue(
        amendment_id, organisation_ids, uuid.uuid4().hex
    )
