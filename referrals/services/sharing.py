"""Sharing a case with other organisations: the one place shares are granted,
changed and ended (the meetings app, the case page, the daily job and the
agreements hook all come here), every change audited. docs/features.md
("Who sees what") explains the rules."""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Organisation, Role, User
from audit.services import audit_record
from notices.models import NoticeKind
from notices.selectors import organisation_people
from notices.services import notices_record

from ..audit_actions import ReferralAction
from ..models import (
    Referral,
    ReferralShare,
    ShareReason,
    Status,
)
from ..signals import shares_kept_on_close
from ._common import ReferralRefused
from .restriction import restriction_refuse
from .transitions import ARRIVALS, CLOSING


def share_default_end(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(days=settings.REFERRAL_SHARE_DAYS)


def share_end_of_day(day: date) -> datetime:
    """The end of ``day`` on the local calendar: a share "until 5 March"
    gives access through that day."""
    start = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    return start - timedelta(microseconds=1)


def _coordinator_only(user: User, what: str) -> None:
    if not user.has_role(Role.COORDINATOR):
        raise ReferralRefused(f"Only coordinators can {what}.")


def _share_detail(share: ReferralShare, **extra) -> dict:
    return {
        "reference": share.referral.reference,
        "organisation": share.organisation_id,
        "reason": share.reason,
        "ends_at": share.ends_at.isoformat(),
        **extra,
    }


def _open_share(referral: Referral, organisation_id: int) -> ReferralShare | None:
    return (
        ReferralShare.objects.select_for_update()
        .filter(
            referral=referral, organisation_id=organisation_id, ended_at__isnull=True
        )
        .first()
    )


@transaction.atomic
def referral_share_grant(
    *, referral: Referral, organisation: Organisation, reason: str, user: User,
    ends_at: datetime | None = None, via_meeting: bool = False,
    request: HttpRequest | None = None,
) -> ReferralShare:  # fmt: skip
    """Let ``organisation`` see the case, for ``reason``, until ``ends_at``.

    A coordinator naming an organisation on the case (``via_meeting`` False)
    records its reason even where consent was not given; an invitation to a
    meeting shares a case only if consent was given or sharing without it was
    approved at screening, or a coordinator named the organisation already.
    An organisation that already has access keeps its share: a coordinator's
    grant records the new reason and any later end on it.
    """
    _coordinator_only(user, "share a case with another organisation")
    # Locked, so a restriction placed meanwhile is seen (Article 18).
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    restriction_refuse(referral, "shared with another organisation")
    if organisation.pk == referral.organisation_id:
        raise ReferralRefused(f"{organisation} referred this case: it always sees it.")
    if reason not in ShareReason.values:
        raise ReferralRefused("Select why the organisation needs to see the case")
    now = timezone.now()
    ends_at = ends_at or share_default_end(now)
    if ends_at <= now:
        raise ReferralRefused("The end date must be in the future")
    share = _open_share(referral, organisation.pk)
    if share is not None and share.ends_at <= now:
        # Past its end but not yet ended by the daily job: end it first, so
        # the history shows the gap and the new grant stands on its own.
        _share_end(share, None, "The end date passed", now, request)
        share = None
    if share is not None:
        if via_meeting:
            return share
        share.reason, share.via_meeting = reason, False
        share.ends_at = max(share.ends_at, ends_at)
        share.full_clean()
        share.save(update_fields=["reason", "via_meeting", "ends_at"])
        audit_record(
            action=ReferralAction.SHARE_CHANGED, request=request, actor=user, obj=share,
            detail=_share_detail(share),
        )  # fmt: skip
        return share
    if via_meeting and referral.sharing_restricted:
        raise ReferralRefused(
            f"{referral.reference} cannot be shared with {organisation} by "
            "inviting it: the person did not consent to sharing and sharing "
            "without consent was not approved at screening. Record why "
            f"{organisation} needs to see the case under 'Who can see this "
            "case and why' on the case page first."
        )
    share = ReferralShare(
        referral=referral,
        organisation=organisation,
        reason=reason,
        via_meeting=via_meeting,
        granted_by=user,
        created_at=now,
        ends_at=ends_at,
    )
    share.full_clean(exclude=_HELD_LINKS)
    share.save()
    audit_record(
        action=ReferralAction.SHARE_GRANTED, request=request, actor=user, obj=share,
        detail=_share_detail(share, via_meeting=via_meeting),
    )  # fmt: skip
    notices_record(
        kind=NoticeKind.CASE_SHARED,
        recipients=organisation_people(organisation),
        title=f"Case {referral.reference} is shared with your organisation",
        link=referral.get_absolute_url(),
        event=f"referral-share-{share.pk}",
    )
    return share


# Rows a share links to that the caller holds, saved: checking that each
# exists costs a query. The one open share per organisation is checked under
# the case's lock (``_open_share``) and by the database constraint.
_HELD_LINKS = ["referral", "organisation", "granted_by", "ended_by"]


def _share_end(share, user, reason, now, request) -> None:
    share.ended_at, share.ended_by, share.end_reason = now, user, reason
    share.full_clean(exclude=_HELD_LINKS)
    share.save(update_fields=["ended_at", "ended_by", "end_reason"])
    audit_record(
        action=ReferralAction.SHARE_ENDED, request=request, actor=user, obj=share,
        detail=_share_detail(share, end_reason=reason),
    )  # fmt: skip


@transaction.atomic
def referral_share_end(
    *, share: ReferralShare, reason: str, user: User | None = None,
    request: HttpRequest | None = None,
) -> ReferralShare:  # fmt: skip
    """End a share now. ``user`` None is the system (the daily job, closing
    a case, an organisation leaving the ISA); people must be coordinators."""
    if user is not None:
        _coordinator_only(user, "end another organisation's access")
    reason = reason.strip()
    if not reason:
        raise ReferralRefused("Enter why the organisation's access ends")
    locked = ReferralShare.objects.select_for_update().get(pk=share.pk)
    if locked.ended_at is None:
        _share_end(locked, user, reason, timezone.now(), request)
    return locked


@transaction.atomic
def referral_share_extend(
    *, share: ReferralShare, ends_at: datetime, reason: str, user: User,
    request: HttpRequest | None = None,
) -> ReferralShare:  # fmt: skip
    """Move a share's end (earlier or later), as a coordinator, saying why."""
    _coordinator_only(user, "change how long another organisation has access")
    reason = reason.strip()
    if not reason:
        raise ReferralRefused("Enter why the end date changes")
    if ends_at <= timezone.now():
        raise ReferralRefused("The end date must be in the future")
    # The case first, then the share, in the order every service locks them.
    referral = Referral.objects.select_for_update().get(pk=share.referral_id)
    locked = ReferralShare.objects.select_for_update().get(pk=share.pk)
    if not locked.in_force:
        raise ReferralRefused(
            f"{locked.organisation}'s access has already ended: share the case "
            "with it again instead."
        )
    if ends_at > locked.ends_at:
        # Shortening access is always allowed; lengthening it shares the case.
        restriction_refuse(referral, "shared for longer")
    before = locked.ends_at
    locked.ends_at = ends_at
    locked.full_clean()
    locked.save(update_fields=["ends_at"])
    audit_record(
        action=ReferralAction.SHARE_EXTENDED, request=request, actor=user, obj=locked,
        detail=_share_detail(locked, before=before.isoformat(), why=reason),
    )  # fmt: skip
    return locked


def referral_shares_end(
    *, shares, reason: str, user: User | None = None,
    request: HttpRequest | None = None,
) -> int:  # fmt: skip
    """End each share in ``shares`` (a queryset) still open; returns how many."""
    ended = 0
    for share in shares.filter(ended_at__isnull=True).select_related("referral"):
        referral_share_end(share=share, reason=reason, user=user, request=request)
        ended += 1
    return ended


def _shares_end_on_close(referral, user, target, request) -> None:
    """End every share when a case closes, except those of organisations
    that still have work on it (they end when it is done)."""
    kept = set()
    for _receiver, organisations in shares_kept_on_close.send(
        sender=Referral, referral=referral
    ):
        kept |= set(organisations or ())
    referral_shares_end(
        shares=referral.shares.exclude(organisation_id__in=kept),
        reason=ARRIVALS[target].ends_shares,
        request=request,
    )


def referral_shares_end_expired(*, now: datetime | None = None) -> int:
    """The daily job: end the shares past their end date, and those of closed
    cases whose holders have no open work left (shares made before closing
    ended them, and those kept for actions since finished); returns how many."""
    now = now or timezone.now()
    ended = referral_shares_end(
        shares=ReferralShare.objects.filter(ends_at__lte=now),
        reason="The end date passed",
    )
    closed = Referral.objects.filter(
        status__in=CLOSING, shares__ended_at__isnull=True
    ).distinct()
    for referral in closed:
        with transaction.atomic():
            locked = Referral.objects.select_for_update().get(pk=referral.pk)
            before = locked.shares.filter(ended_at__isnull=True).count()
            _shares_end_on_close(locked, None, Status(locked.status), None)
            ended += before - locked.shares.filter(ended_at__isnull=True).count()
    return ended


@transaction.atomic
def sharing_without_consent_approve(
    *, referral: Referral, reason: str, user: User,
    request: HttpRequest | None = None,
) -> Referral:  # fmt: skip
    """At screening, a coordinator records that sharing without consent is
    justified, and why: invitations to meetings then share the case."""
    _coordinator_only(user, "approve sharing without consent")
    reason = reason.strip()
    if not reason:
        raise ReferralRefused("Enter why sharing without consent is justified")
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if locked.consent_given:
        raise ReferralRefused("The person consented: there is nothing to approve.")
    if not locked.is_open:
        raise ReferralRefused("This case is no longer open.")
    if locked.sharing_without_consent_approved_at is not None:
        raise ReferralRefused("Sharing without consent is already approved.")
    locked.sharing_without_consent_approved_at = timezone.now()
    locked.sharing_without_consent_approved_by = user
    locked.sharing_without_consent_reason = reason
    locked.full_clean()
    locked.save(
        update_fields=[
            "sharing_without_consent_approved_at",
            "sharing_without_consent_approved_by",
            "sharing_without_consent_reason",
        ]
    )
    audit_record(
        action=ReferralAction.SHARING_WITHOUT_CONSENT_APPROVED,
        request=request,
        actor=user,
        obj=locked,
    )
    return locked
