"""Access governance: single points of contact, account requests,
suspension, recertification rounds and dormant accounts.

Every change to an account goes through a model save or a group change, so
its audit event is written by accounts.receivers; the events here record what
those cannot know (a request made, a round answered, a reminder sent). Emails
go through the outbox (jobs.mail), named by event so that a rerun sends
nobody anything twice, and name nobody but their recipient.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from audit.services import audit_record
from jobs.mail import email_queue
from portal.addresses import absolute_url
from portal.dates import long_date

from ..audit_actions import GovernanceAction
from ..changes import changes_made_by
from ..invitations import invitation_tokens
from ..models import (
    AccountRequest,
    EntryStatus,
    Organisation,
    RecertificationEntry,
    RecertificationRound,
    RequestStatus,
    Role,
    SuspensionReason,
    User,
    role_group,
)

logger = logging.getLogger(__name__)

# Reminders go this many days before a round's deadline, each once.
REMINDER_DAYS = (7, 3, 1)


class GovernanceRefused(Exception):
    """A change the rules do not allow; the message says why, for the form."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- Suspension ---------------------------------------------------------------


def user_suspend(
    *,
    user: User,
    reason: SuspensionReason,
    note: str = "",
    now: datetime | None = None,
) -> bool:
    """Suspend an active account and tell its holder why; False if it was not
    active. Its sessions end (accounts.receivers). A person who was their
    organisation's single point of contact stops being it, so the
    organisation shows as having none until an administrator names another."""
    now = now or timezone.now()
    with transaction.atomic():
        person = User.objects.select_for_update().filter(pk=user.pk).first()
        if person is None or not person.is_active:
            return False
        for organisation in Organisation.objects.filter(single_point_of_contact=person):
            organisation.single_point_of_contact = None
            organisation.save(update_fields=["single_point_of_contact"])
        person.is_active = False
        person.suspended_at = now
        person.suspension_reason = reason
        person.suspension_note = note
        person.save(
            update_fields=[
                "is_active",
                "suspended_at",
                "suspension_reason",
                "suspension_note",
                "session_epoch",
            ]
        )
        _suspension_email(person)
    user.is_active = False
    return True


SUSPENSION_EXPLAINED = {
    SuspensionReason.BY_CONTACT: (
        "Your organisation's single point of contact for the CMARAC partnership "
        "has suspended your account."
    ),
    SuspensionReason.REMOVED_AT_RECERTIFICATION: (
        "At your organisation's regular review of who needs access to the "
        "CMARAC portal, your organisation's single point of contact said you "
        "no longer need it."
    ),
    SuspensionReason.NOT_RECERTIFIED: (
        "Every quarter, your organisation's single point of contact confirms "
        "who still needs access to the CMARAC portal. Your access was not "
        "confirmed by the review's deadline, so it has been suspended."
    ),
    SuspensionReason.INCIDENT: (
        "Your account has been suspended while the partnership looks into a "
        "possible data incident. Your organisation's single point of contact "
        "or the coordinators can tell you more."
    ),
    SuspensionReason.PARTNER_WITHDRAWN: (
        "Your organisation has withdrawn from the CMARAC partnership, so its "
        "accounts on the portal have been closed. The coordinators can tell "
        "you more."
    ),
    SuspensionReason.DORMANT: (
        "Your account has not been used for {days} days. Accounts nobody uses "
        "are suspended so that they cannot be misused."
    ),
}


def suspension_explained(reason: str) -> str:
    text = SUSPENSION_EXPLAINED.get(reason, "Your account has been suspended.")
    return text.format(days=settings.DORMANT_ACCOUNT_DAYS)


def _suspension_email(person: User) -> None:
    if not person.email:
        return
    body = (
        f"Dear {person.first_name or person.username},\n\n"
        f"{suspension_explained(person.suspension_reason)}\n\n"
        "You cannot sign in to the CMARAC portal while your account is "
        "suspended. If you still need access, ask your organisation's single "
        "point of contact or the CMARAC coordinator to have it restored.\n"
    )
    stamp = int(person.suspended_at.timestamp())
    email_queue(
        event=f"account-suspended-{person.pk}-{stamp}",
        to=person.email,
        subject="Your CMARAC portal account has been suspended",
        body=body,
    )


def contact_suspends(*, contact: User, person: User, note: str) -> None:
    """A single point of contact suspends someone at their own organisation."""
    if not contact.is_contact or person.organisation_id != contact.organisation_id:
        raise GovernanceRefused("You can suspend only people at your organisation")
    if person.pk == contact.pk:
        raise GovernanceRefused(
            "You cannot suspend your own account. Ask the CMARAC coordinator "
            "to name another single point of contact first"
        )
    if not person.is_active:
        raise GovernanceRefused(f"{person}'s account is already suspended")
    with changes_made_by(via="portal", actor=contact):
        user_suspend(user=person, reason=SuspensionReason.BY_CONTACT, note=note)


# --- Account requests ----------------------------------------------------------


def account_request_make(*, contact: User, **answers) -> AccountRequest:
    """A single point of contact asks for an account at their organisation;
    administrators are told one is waiting (the email names nobody)."""
    if not contact.is_contact:
        raise GovernanceRefused(
            "Only your organisation's single point of contact can ask"
        )
    email = answers["email"].strip()
    if User.objects.filter(email__iexact=email).exists() or (
        AccountRequest.objects.filter(
            email__iexact=email, status=RequestStatus.PENDING
        ).exists()
    ):
        raise GovernanceRefused(
            "Someone with this email address already has an account or a "
            "request waiting: ask the CMARAC coordinator",
            field="email",
        )
    with transaction.atomic():
        account_request = AccountRequest(
            organisation=contact.organisation, requested_by=contact, **answers
        )
        account_request.full_clean()
        account_request.save()
        audit_record(
            action=GovernanceAction.ACCOUNT_REQUESTED,
            actor=contact,
            obj=account_request,
            detail={
                "organisation": contact.organisation_id,
                "roles": [account_request.role],
            },
        )
        link = absolute_url(
            reverse("accounts_account_request_decide", args=[account_request.pk])
        )
        for administrator in User.objects.filter(
            is_superuser=True, is_active=True
        ).exclude(email=""):
            email_queue(
                event=f"account-request-{account_request.pk}",
                to=administrator.email,
                subject="An account request is waiting for your decision",
                body=(
                    f"Dear {administrator.first_name or administrator.username},"
                    "\n\nA partner organisation's single point of contact has "
                    "asked for a new account on the CMARAC portal. Approve or "
                    f"reject it here:\n\n{link}\n"
                ),
            )
    return account_request


def username_suggested(account_request: AccountRequest) -> str:
    """The email's local part, made unique with a number if need be."""
    base = account_request.email.split("@")[0].lower()[:140] or "partner"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}{n}"
    return candidate


def account_request_approve(
    *, account_request: AccountRequest, administrator: User, username: str
) -> User:
    """Make the account, with the role asked for, and invite its holder to set
    a password; their authenticator is set up at the first sign-in."""
    with transaction.atomic():
        locked = AccountRequest.objects.select_for_update().get(pk=account_request.pk)
        if locked.status != RequestStatus.PENDING:
            raise GovernanceRefused("This request has already been decided")
        if not locked.organisation.active:
            raise GovernanceRefused(
                "This organisation no longer takes part in the partnership: "
                "reject the request"
            )
        if User.objects.filter(username__iexact=username).exists():
            raise GovernanceRefused(
                "That username is taken: choose another", "username"
            )
        if not locked.organisation.active:
            raise GovernanceRefused("The organisation is no longer active")
        with changes_made_by(via="admin", actor=administrator):
            person = User(
                username=username,
                first_name=locked.first_name,
                last_name=locked.last_name,
                email=locked.email,
                job_title=locked.job_title,
                organisation=locked.organisation,
            )
            person.set_unusable_password()
            try:
                person.full_clean()
            except ValidationError as error:
                raise GovernanceRefused(" ".join(error.messages), "username") from None
            person.save()
            person.groups.add(role_group(Role(locked.role)))
        locked.status = RequestStatus.APPROVED
        locked.decided_by = administrator
        locked.decided_at = timezone.now()
        locked.user = person
        locked.save()
        audit_record(
            action=GovernanceAction.ACCOUNT_REQUEST_APPROVED,
            actor=administrator,
            obj=locked,
            detail={"organisation": locked.organisation_id, "to": person.pk},
        )
        invitation_send(user=person)
    account_request.refresh_from_db()
    return person


def account_request_reject(
    *, account_request: AccountRequest, administrator: User, note: str
) -> None:
    with transaction.atomic():
        locked = AccountRequest.objects.select_for_update().get(pk=account_request.pk)
        if locked.status != RequestStatus.PENDING:
            raise GovernanceRefused("This request has already been decided")
        locked.status = RequestStatus.REJECTED
        locked.decided_by = administrator
        locked.decided_at = timezone.now()
        locked.decision_note = note
        locked.save()
        audit_record(
            action=GovernanceAction.ACCOUNT_REQUEST_REJECTED,
            actor=administrator,
            obj=locked,
            detail={"organisation": locked.organisation_id, "why": note},
        )
        contact = locked.requested_by
        if contact.is_active and contact.email:
            email_queue(
                event=f"account-request-{locked.pk}-rejected",
                to=contact.email,
                subject="An account request was not approved",
                body=(
                    f"Dear {contact.first_name or contact.username},\n\n"
                    f"The account you asked for on {long_date(locked.requested_at)} "
                    "was not approved. The reason is on your organisation's "
                    "page in the portal:\n\n"
                    f"{absolute_url(reverse('accounts:organisation'))}\n"
                ),
            )
    account_request.refresh_from_db()


def invitation_send(*, user: User) -> None:
    """Email the person a link to choose a password (valid for
    INVITATION_DAYS); the gate then has them set up an authenticator."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_tokens.make_token(user)
    link = absolute_url(reverse("accounts:invitation", args=[uid, token]))
    email_queue(
        event=f"invitation-{user.pk}",
        to=user.email,
        subject="Your CMARAC portal account",
        body=(
            f"Dear {user.first_name or user.username},\n\n"
            "An account has been made for you on the CMARAC partner portal. "
            f"Your username is {user.username}.\n\n"
            "Choose your password here (the link works once, for "
            f"{settings.INVITATION_DAYS} days):\n\n{link}\n\n"
            "You will then set up an authenticator app on your phone, which "
            "gives you a code each time you sign in.\n"
        ),
    )


# --- Recertification -------------------------------------------------------------


@dataclass
class RecertificationRun:
    """What one run of the recertification job did."""

    opened: int = 0
    reminded: int = 0
    closed: int = 0
    lapsed: int = 0
    dormant: int = 0
    skipped: list[str] = field(default_factory=list)


def recertification_run(*, today: date | None = None) -> RecertificationRun:
    """The daily job: open due rounds, send due reminders, close rounds past
    their deadline (suspending whoever was not confirmed), and suspend
    dormant accounts. Safe to run again: nothing is done or sent twice."""
    today = today or timezone.localdate()
    run = RecertificationRun()
    with changes_made_by(via="job:recertify_accounts"):
        for round_ in RecertificationRound.objects.filter(
            closed_at__isnull=True, deadline__lt=today
        ).select_related("organisation"):
            run.lapsed += recertification_close(round_=round_)
            run.closed += 1
        for organisation in Organisation.objects.taking_part().select_related(
            "single_point_of_contact"
        ):
            opened = _round_open_if_due(organisation, today, run)
            run.opened += opened is not None
        for round_ in RecertificationRound.objects.filter(
            closed_at__isnull=True
        ).select_related("organisation__single_point_of_contact"):
            run.reminded += _reminder_if_due(round_, today)
        run.dormant = dormant_accounts_suspend(today=today)
    return run


def _round_open_if_due(organisation, today, run) -> RecertificationRound | None:
    latest = organisation.recertifications.order_by("-opened_on").first()
    interval = timedelta(days=settings.RECERTIFICATION_INTERVAL_DAYS)
    if latest is not None and (latest.is_open or latest.opened_on + interval > today):
        return None
    if not organisation.contact_is_valid:
        # Nobody can answer: coordinators see it on the progress page.
        run.skipped.append(organisation.slug)
        return None
    try:
        return recertification_open(organisation=organisation, today=today)
    except IntegrityError:  # an overlapping run opened it first
        return None


def recertification_open(
    *, organisation: Organisation, today: date | None = None
) -> RecertificationRound:
    """Open a round for everyone active at the organisation but its contact,
    with the roles each holds now, and tell the contact."""
    today = today or timezone.localdate()
    contact = organisation.single_point_of_contact
    with transaction.atomic():
        round_ = RecertificationRound(
            organisation=organisation,
            opened_on=today,
            deadline=today + timedelta(days=settings.RECERTIFICATION_WINDOW_DAYS),
        )
        round_.full_clean(validate_constraints=False)
        round_.save(force_insert=True)
        people = (
            organisation.users.filter(is_active=True)
            .exclude(pk=organisation.single_point_of_contact_id)
            .prefetch_related("groups")
        )
        RecertificationEntry.objects.bulk_create(
            RecertificationEntry(
                round=round_,
                user=person,
                roles_at_opening=sorted(g.name for g in person.groups.all()),
            )
            for person in people
        )
        entries = round_.entries.count()
        if not entries:
            round_.closed_at = timezone.now()
            round_.save(update_fields=["closed_at"])
        audit_record(
            action=GovernanceAction.RECERTIFICATION_OPENED,
            obj=round_,
            detail={
                "organisation": organisation.pk,
                "deadline": round_.deadline.isoformat(),
                "pending": entries,
                "via": "job:recertify_accounts",
            },
        )
        if entries and contact is not None and contact.email:
            email_queue(
                event=f"recertification-{round_.pk}-opened",
                to=contact.email,
                subject="Confirm who at your organisation still needs the portal",
                body=_contact_letter(
                    contact,
                    "It is time for your organisation's regular review of who "
                    "can use the CMARAC portal. Please confirm or remove each "
                    "person, and each of their roles, by "
                    f"{long_date(round_.deadline)}. Anyone not confirmed by "
                    "then will be suspended.",
                ),
            )
    return round_


def _contact_letter(contact: User, text: str) -> str:
    link = absolute_url(reverse("accounts:recertification"))
    return (
        f"Dear {contact.first_name or contact.username},\n\n{text}\n\n"
        f"Review your organisation's people here:\n\n{link}\n"
    )


def _reminder_if_due(round_: RecertificationRound, today: date) -> int:
    days_left = (round_.deadline - today).days
    due = [d for d in REMINDER_DAYS if days_left <= d]
    sent = round_.reminded_days_before
    due = [d for d in due if sent is None or d < sent]
    if not due or days_left < 0:
        return 0
    pending = round_.entries.filter(status=EntryStatus.PENDING).count()
    threshold = min(due)
    with transaction.atomic():
        # The conditional update decides between overlapping runs.
        claimed = RecertificationRound.objects.filter(
            pk=round_.pk, reminded_days_before=sent
        ).update(reminded_days_before=threshold)
        if not claimed or not pending:
            return 0
        contact = round_.organisation.single_point_of_contact
        queued = False
        if contact is not None and contact.is_contact and contact.email:
            when = "tomorrow" if days_left == 1 else f"in {days_left} days"
            noun = "person is" if pending == 1 else "people are"
            queued = email_queue(
                event=f"recertification-{round_.pk}-reminder-{threshold}",
                to=contact.email,
                subject=f"Access review closes {when}",
                body=_contact_letter(
                    contact,
                    f"Your organisation's access review closes on "
                    f"{long_date(round_.deadline)}. {pending} {noun} still to be "
                    "confirmed or removed. Anyone not confirmed by then will be "
                    "suspended, and told why.",
                ),
            )
        audit_record(
            action=GovernanceAction.RECERTIFICATION_REMINDED,
            obj=round_,
            detail={
                "organisation": round_.organisation_id,
                "days_left": days_left,
                "pending": pending,
                "reminded": queued,
                "via": "job:recertify_accounts",
            },
        )
    return int(queued)


@dataclass
class Answer:
    """A contact's answer for one person: keep (with the roles to keep) or remove."""

    keep: bool
    roles_kept: list[str] = field(default_factory=list)


def recertification_answer(
    *, round_: RecertificationRound, contact: User, answers: dict[int, Answer]
) -> dict[str, int]:
    """Record the contact's answers and apply them at once: removed people are
    suspended, roles not kept are taken away. People left unanswered stay
    pending. Returns counts."""
    if not contact.is_contact or contact.organisation_id != round_.organisation_id:
        raise GovernanceRefused(
            "Only your organisation's single point of contact can answer"
        )
    now = timezone.now()
    counts = {"confirmed": 0, "removed": 0}
    with transaction.atomic(), changes_made_by(via="portal", actor=contact):
        round_ = RecertificationRound.objects.select_for_update().get(pk=round_.pk)
        if not round_.is_open:
            raise GovernanceRefused("This review has closed")
        entries = {
            e.user_id: e
            for e in round_.entries.select_related("user").filter(
                status=EntryStatus.PENDING, user_id__in=list(answers)
            )
        }
        groups = {
            g.name: g for g in Group.objects.filter(name__in=[r.value for r in Role])
        }
        for user_id, answer in answers.items():
            entry = entries.get(user_id)
            if entry is None:
                continue
            person = entry.user
            entry.decided_at, entry.decided_by = now, contact
            if not answer.keep:
                entry.status = EntryStatus.REMOVED
                entry.save()
                user_suspend(
                    user=person, reason=SuspensionReason.REMOVED_AT_RECERTIFICATION
                )
                counts["removed"] += 1
                continue
            held = {g.name for g in person.groups.all()}
            dropped = sorted(held - set(answer.roles_kept))
            if dropped:
                person.groups.remove(*[groups[n] for n in dropped if n in groups])
            entry.status = EntryStatus.CONFIRMED
            entry.roles_removed = dropped
            entry.save()
            counts["confirmed"] += 1
        pending = round_.entries.filter(status=EntryStatus.PENDING).count()
        audit_record(
            action=GovernanceAction.RECERTIFICATION_ANSWERED,
            actor=contact,
            obj=round_,
            detail={
                **counts,
                "pending": pending,
                "organisation": round_.organisation_id,
            },
        )
        if not pending:
            round_.closed_at = now
            round_.save(update_fields=["closed_at"])
            audit_record(
                action=GovernanceAction.RECERTIFICATION_CLOSED,
                actor=contact,
                obj=round_,
                detail={"organisation": round_.organisation_id, "lapsed": 0},
            )
    return counts


def recertification_close(*, round_: RecertificationRound) -> int:
    """Close a round past its deadline: everyone still pending is suspended
    and told why. Returns how many were suspended."""
    suspended = 0
    with transaction.atomic():
        round_ = RecertificationRound.objects.select_for_update().get(pk=round_.pk)
        if not round_.is_open:
            return 0
        pending = list(
            round_.entries.select_related("user").filter(status=EntryStatus.PENDING)
        )
        for entry in pending:
            entry.status = EntryStatus.LAPSED
            entry.save(update_fields=["status"])
            suspended += user_suspend(
                user=entry.user, reason=SuspensionReason.NOT_RECERTIFIED
            )
        round_.closed_at = timezone.now()
        round_.save(update_fields=["closed_at"])
        audit_record(
            action=GovernanceAction.RECERTIFICATION_CLOSED,
            obj=round_,
            detail={
                "organisation": round_.organisation_id,
                "lapsed": len(pending),
                "suspended": suspended,
                "via": "job:recertify_accounts",
            },
        )
    return suspended


def recertification_current(organisation: Organisation) -> RecertificationRound | None:
    return organisation.recertifications.filter(closed_at__isnull=True).first()


# --- Dormant accounts -------------------------------------------------------------


def dormant_accounts_suspend(*, today: date | None = None) -> int:
    """Suspend partner accounts with no sign-in for DORMANT_ACCOUNT_DAYS (since
    they were made, for those never used), and tell each holder. Returns how
    many. Administrators (no organisation) are left: suspending the last one
    would leave nobody to restore anyone."""
    today = today or timezone.localdate()
    days = settings.DORMANT_ACCOUNT_DAYS
    # Suspended on the 90th day after the last sign-in (its local date), not
    # on the 89th: last used before the start of the day 89 days ago.
    cutoff = timezone.make_aware(
        datetime.combine(today - timedelta(days=days - 1), datetime.min.time())
    )
    dormant = (
        User.objects.filter(is_active=True, organisation__isnull=False)
        .annotate(last_used=Coalesce("last_login", "date_joined"))
        .filter(last_used__lt=cutoff)
    )
    count = 0
    with changes_made_by(via="job:recertify_accounts"):
        for person in dormant:
            count += user_suspend(user=person, reason=SuspensionReason.DORMANT)
    audit_record(
        action=GovernanceAction.DORMANT_CHECKED,
        detail={"suspended": count, "via": "job:recertify_accounts"},
    )
    return count
