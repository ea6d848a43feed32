"""Withdrawing a partner organisation from the partnership.

``withdrawal_record`` writes who authorised it, when and why;
``withdrawal_run`` then takes each step in ``Step`` order, each in its own
transaction, writing what it did to the record's step log. A run that stops
halfway (a crash, a lost database) leaves the steps done so far logged, and
running it again does only the rest; each step also acts only on what is
left, so repeating one changes nothing. Every step is audited with its
counts. The single point of contact confirms the destruction certificate
through a one-time signed link (``certificate_link``), because their
account is suspended with everyone else's (docs/features.md, "Partner
withdrawal"; docs/security.md).
"""

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.changes import changes_made_by
from accounts.models import (
    AccountRequest,
    Organisation,
    RequestStatus,
    Role,
    SuspensionReason,
    User,
)
from accounts.services import account_request_reject, user_suspend
from audit.services import audit_record
from documents.models import Share
from documents.services import shares_withdraw_from
from jobs.mail import email_queue
from meetings.models import AgendaItem, MeetingPack
from meetings.services import invitations_withdraw, packs_delete_for_organisations
from meetings.services.agenda import NOT_YET_HELD
from portal.addresses import absolute_url
from referrals.models import ReferralShare
from referrals.services import referral_shares_end

from .audit_actions import WithdrawalAction
from .downloads import downloads_of
from .models import Step, Withdrawal

logger = logging.getLogger(__name__)

# The certificate link works once, and for this long after it is sent.
CERTIFICATE_LINK_DAYS = 30
_LINK_SALT = "partners.withdrawal.certificate"
ENDS_WHY = "The organisation withdrew from the partnership"


class WithdrawalRefused(Exception):
    """A withdrawal that cannot be recorded, with the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def may_withdraw(user) -> bool:
    """Coordinators and administrators authorise withdrawals."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_superuser or user.has_role(Role.COORDINATOR))
    )


# What a withdrawal will do -------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """The counts the confirmation page lists, before anything changes."""

    accounts: int
    case_shares: int
    invitations: int
    packs: int
    shares_recalled: int
    shares_left: int
    downloads: int
    contact: User | None


def _live_shares(organisation: Organisation):
    return Share.objects.filter(
        recipients__organisation=organisation,
        recalled_at__isnull=True,
        expires_at__gt=timezone.now(),
    )


def withdrawal_preview(organisation: Organisation) -> Preview:
    live = list(_live_shares(organisation).prefetch_related("recipients"))
    alone = sum(1 for share in live if len(share.recipients.all()) == 1)
    contact = organisation.single_point_of_contact
    return Preview(
        accounts=organisation.users.filter(is_active=True).count(),
        case_shares=ReferralShare.objects.filter(
            organisation=organisation, ended_at__isnull=True
        ).count(),
        invitations=AgendaItem.invited.through.objects.filter(
            organisation=organisation, agendaitem__meeting__status__in=NOT_YET_HELD
        ).count(),
        packs=MeetingPack.objects.filter(organisation=organisation).count(),
        shares_recalled=alone,
        shares_left=len(live) - alone,
        downloads=len(downloads_of(organisation)),
        contact=contact if contact is not None and contact.email else None,
    )


# Recording and running --------------------------------------------------------


def _refuse_unless_allowed(user: User) -> None:
    if not may_withdraw(user):
        raise WithdrawalRefused("Only coordinators and administrators can do this")


def withdrawal_check(
    *, organisation: Organisation, withdrawn_on: date, reason: str, user: User
) -> None:
    """Refuse what ``withdrawal_record`` would refuse, without recording it:
    the confirmation page is shown only for a withdrawal that can be made."""
    _refuse_unless_allowed(user)
    if Withdrawal.objects.filter(organisation=organisation).exists():
        raise WithdrawalRefused(
            f"{organisation} has already withdrawn", field="organisation"
        )
    if not organisation.active:
        raise WithdrawalRefused(
            f"{organisation} no longer takes part in the partnership",
            field="organisation",
        )
    if organisation.pk == user.organisation_id:
        raise WithdrawalRefused(
            "You cannot withdraw your own organisation: ask an administrator",
            field="organisation",
        )
    if withdrawn_on > timezone.localdate():
        raise WithdrawalRefused(
            "Date of withdrawal must be today or in the past", field="withdrawn_on"
        )
    if not reason.strip():
        raise WithdrawalRefused("Enter why the organisation is withdrawing", "reason")


@transaction.atomic
def withdrawal_record(
    *, organisation: Organisation, withdrawn_on: date, reason: str, user: User,
    request: HttpRequest | None = None,
) -> Withdrawal:  # fmt: skip
    """Record that ``organisation`` withdraws, authorised by ``user``; then
    call ``withdrawal_run``."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    withdrawal_check(
        organisation=organisation, withdrawn_on=withdrawn_on, reason=reason, user=user
    )
    contact = organisation.single_point_of_contact
    withdrawal = Withdrawal(
        organisation=organisation,
        withdrawn_on=withdrawn_on,
        reason=reason.strip(),
        authorised_by=user,
        contact=contact if contact is not None and contact.is_active else None,
    )
    withdrawal.full_clean()
    withdrawal.save()
    audit_record(
        action=WithdrawalAction.RECORDED,
        request=request,
        actor=user,
        obj=withdrawal,
        detail={"organisation": organisation.pk, "why": withdrawal.reason},
    )
    return withdrawal


def _taken_out(w: Withdrawal, request) -> dict:
    organisation = Organisation.objects.select_for_update().get(pk=w.organisation_id)
    if not organisation.active:
        return {"count": 0}
    organisation.active = False
    # No full_clean: data from before the contact rule may break it, and a
    # withdrawal must not wait for someone to mend it first.
    organisation.save(update_fields=["active"])
    return {"count": 1}


def _accounts_closed(w: Withdrawal, request) -> dict:
    closed = 0
    people = User.objects.filter(organisation_id=w.organisation_id, is_active=True)
    for person in people:
        closed += user_suspend(user=person, reason=SuspensionReason.PARTNER_WITHDRAWN)
    # Nobody may be given an account there any more: each request still
    # waiting is rejected, audited by accounts as any rejection is.
    for waiting in AccountRequest.objects.filter(
        organisation_id=w.organisation_id, status=RequestStatus.PENDING
    ):
        account_request_reject(
            account_request=waiting,
            administrator=w.authorised_by,
            note="The organisation has withdrawn from the partnership.",
        )
    return {"count": closed}


def _case_shares_ended(w: Withdrawal, request) -> dict:
    ended = referral_shares_end(
        shares=ReferralShare.objects.filter(organisation_id=w.organisation_id),
        reason=ENDS_WHY,
        request=request,
    )
    return {"count": ended}


def _invitations_removed(w: Withdrawal, request) -> dict:
    return {"count": invitations_withdraw(organisation=w.organisation, request=request)}


def _packs_deleted(w: Withdrawal, request) -> dict:
    deleted = packs_delete_for_organisations(
        organisation_ids=[w.organisation_id], reason="partner_withdrawn"
    )
    return {"count": deleted}


def _files_recalled(w: Withdrawal, request) -> dict:
    done = shares_withdraw_from(
        organisation=w.organisation, user=w.authorised_by, reason=ENDS_WHY,
        request=request,
    )  # fmt: skip
    return {
        "count": done.recalled + done.removed,
        "recalled": done.recalled,
        "removed": done.removed,
    }


def _downloads_listed(w: Withdrawal, request) -> dict:
    w.downloads = downloads_of(w.organisation)
    w.save(update_fields=["downloads"])
    return {"count": len(w.downloads)}


def _certificate_sent(w: Withdrawal, request) -> dict:
    return {"count": int(certificate_send(withdrawal=w, request=request))}


STEPS: dict[Step, Callable[[Withdrawal, HttpRequest | None], dict]] = {
    Step.TAKEN_OUT: _taken_out,
    Step.ACCOUNTS_CLOSED: _accounts_closed,
    Step.CASE_SHARES_ENDED: _case_shares_ended,
    Step.INVITATIONS_REMOVED: _invitations_removed,
    Step.PACKS_DELETED: _packs_deleted,
    Step.FILES_RECALLED: _files_recalled,
    Step.DOWNLOADS_LISTED: _downloads_listed,
    Step.CERTIFICATE_SENT: _certificate_sent,
}


def withdrawal_run(
    *, withdrawal: Withdrawal, request: HttpRequest | None = None
) -> Withdrawal:
    """Take every step not yet in the log, in order, one transaction each;
    returns the record as it stands. An exception leaves the steps before
    it done and logged: calling this again finishes the withdrawal."""
    actor = withdrawal.authorised_by
    for step, action in STEPS.items():
        with transaction.atomic(), changes_made_by(via="portal", actor=actor):
            locked = Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)
            if step.value in locked.steps:
                continue
            done = action(locked, request)
            done["at"] = timezone.now().isoformat()
            locked.steps = {**locked.steps, step.value: done}
            locked.save(update_fields=["steps"])
            counts = {k: v for k, v in done.items() if k != "at"}
            audit_record(
                action=WithdrawalAction.STEP_DONE,
                request=request,
                actor=actor,
                obj=locked,
                detail={"step": step.value, **counts},
            )
    with transaction.atomic():
        locked = Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)
        if locked.completed_at is None:
            locked.completed_at = timezone.now()
            locked.save(update_fields=["completed_at"])
            audit_record(
                action=WithdrawalAction.COMPLETED,
                request=request,
                actor=actor,
                obj=locked,
                detail={"organisation": locked.organisation_id},
            )
    return locked


# The destruction certificate --------------------------------------------------


def certificate_link(withdrawal: Withdrawal) -> str:
    token = signing.dumps(
        {"w": withdrawal.pk, "n": withdrawal.certificate_nonce}, salt=_LINK_SALT
    )
    return absolute_url(reverse("partners:certificate", args=[token]))


def withdrawal_for_link(token: str) -> Withdrawal | None:
    """The withdrawal a certificate link is for, while the link still works:
    signed by us, not older than ``CERTIFICATE_LINK_DAYS``, not replaced by a
    newer link and not used to confirm already."""
    try:
        data = signing.loads(
            token, salt=_LINK_SALT, max_age=timedelta(days=CERTIFICATE_LINK_DAYS)
        )
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not data.get("n"):
        return None
    return (
        Withdrawal.objects.select_related("organisation")
        .filter(
            pk=data.get("w"),
            certificate_nonce=data["n"],
            certificate_confirmed_at__isnull=True,
        )
        .first()
    )


def certificate_send(*, withdrawal: Withdrawal, request=None) -> bool:
    """Email the single point of contact a new link to the certificate (older
    links stop working); False when there is nobody to send it to."""
    contact = withdrawal.contact
    if withdrawal.certificate_confirmed_at or contact is None or not contact.email:
        return False
    with transaction.atomic():
        withdrawal.certificate_nonce = secrets.token_urlsafe(24)
        withdrawal.certificate_sent_at = timezone.now()
        withdrawal.save(update_fields=["certificate_nonce", "certificate_sent_at"])
        body = render_to_string(
            "partners/email/certificate.txt",
            {
                "organisation": withdrawal.organisation,
                "link": certificate_link(withdrawal),
                "days": CERTIFICATE_LINK_DAYS,
            },
        )
        email_queue(
            event=f"withdrawal-{withdrawal.pk}-certificate-{withdrawal.certificate_nonce}",
            to=contact.email,
            subject="Confirm that your organisation destroyed CMARAC material",
            body=body,
        )
        audit_record(
            action=WithdrawalAction.CERTIFICATE_SENT,
            request=request,
            obj=withdrawal,
            detail={"organisation": withdrawal.organisation_id},
        )
    return True


@transaction.atomic
def certificate_confirm(
    *, withdrawal: Withdrawal, name: str, role: str,
    request: HttpRequest | None = None,
) -> Withdrawal:  # fmt: skip
    """The single point of contact confirms that everything listed was
    destroyed; the link stops working."""
    locked = Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)
    if locked.certificate_confirmed_at is not None:
        raise WithdrawalRefused("The certificate is already confirmed")
    if not name.strip():
        raise WithdrawalRefused("Enter your full name", field="name")
    locked.certificate_confirmed_at = timezone.now()
    locked.confirmed_by_name = name.strip()
    locked.confirmed_by_role = role.strip()
    locked.certificate_nonce = ""
    locked.full_clean()
    locked.save()
    audit_record(
        action=WithdrawalAction.CERTIFICATE_CONFIRMED,
        request=request,
        actor=locked.contact,
        obj=locked,
        detail={"organisation": locked.organisation_id, "count": len(locked.downloads)},
    )
    return locked
