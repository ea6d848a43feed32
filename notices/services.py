"""Recording notices and the emails that go with them, marking them read,
and each person's email choices.

Every app that tells people something calls ``notices_record`` (this app sits
below the domain apps: docs/architecture.md). One event is one notice per
person and at most one email per person, however many files or cases it
covers: a share of twenty files is one share, so one email ("Batching" in
docs/features.md, "Notifications").
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from jobs.mail import Attachment, QueuedEmail, emails_queue
from portal.addresses import absolute_url

from .audit_actions import NoticeAction
from .models import ALWAYS_EMAILED, CHOOSABLE, EmailChoice, Notice, NoticeKind
from .selectors import notice_for, unread_count_changed


def _default_body(title: str, link: str) -> str:
    return (
        f"{title}.\n\n"
        f"Sign in to the portal to see it:\n{absolute_url(link)}\n\n"
        'You can choose which emails you get under "What\'s new", '
        '"Email choices".\n'
    )


@dataclass(frozen=True)
class NoticeDraft:
    """One person's notice for ``notices_record_each``, with its email."""

    recipient: User
    title: str
    link: str
    event: str
    email_subject: str = ""
    email_body: str = ""
    attachment: Attachment | None = None


def notices_record(
    *, kind: str, recipients: Iterable[User], title: str, link: str, event: str,
    email_subject: str = "", email_body: str = "",
    attachment: Attachment | None = None,
) -> int:  # fmt: skip
    """Tell each active person in ``recipients`` about ``event``: a notice in
    their "What's new" list and, unless they chose otherwise (or ``kind``
    is always emailed), an email through the outbox. Returns notices made;
    a person already told about ``event`` is skipped, notice and email."""
    return notices_record_each(
        kind=kind,
        drafts=[
            NoticeDraft(
                recipient=person, title=title, link=link, event=event,
                email_subject=email_subject, email_body=email_body,
                attachment=attachment,
            )
            for person in recipients
        ],
    )  # fmt: skip


@transaction.atomic
def notices_record_each(*, kind: str, drafts: Iterable[NoticeDraft]) -> int:
    """``notices_record`` where each person's notice differs (a calendar
    invitation carries its own SEQUENCE and attachment). The same few
    queries however many people: their email choices, the notices they
    have already, one insert of the rest, and the emails queued together
    (``jobs.mail.emails_queue``). The unique constraints on (recipient,
    event), for notices and for emails, decide between two concurrent
    calls, so nobody is told twice."""
    kind = NoticeKind(kind)
    wanted: dict[tuple[int, str], tuple[NoticeDraft, Notice]] = {}
    for draft in drafts:
        if not draft.recipient.is_active:
            continue
        notice = Notice(
            recipient=draft.recipient, kind=kind, title=draft.title[:200],
            link=draft.link, event=draft.event[:200],
        )  # fmt: skip
        wanted.setdefault((draft.recipient.pk, notice.event), (draft, notice))
    if not wanted:
        return 0
    checked_links = set()
    for _, notice in wanted.values():
        # The recipient is a saved user: checking it would cost a query each.
        # The link's constraint is checked once per link (a query each): on
        # SQLite the insert below would drop a breaking row, not refuse it.
        notice.full_clean(
            exclude=["recipient"], validate_constraints=notice.link not in checked_links
        )
        checked_links.add(notice.link)
    people = {person_id for person_id, _ in wanted}
    told = set(
        Notice.objects.filter(
            recipient_id__in=people, event__in={event for _, event in wanted}
        ).values_list("recipient_id", "event")
    )
    new = [pair for key, pair in wanted.items() if key not in told]
    if not new:
        return 0
    Notice.objects.bulk_create([notice for _, notice in new], ignore_conflicts=True)
    declined = set()
    if kind not in ALWAYS_EMAILED:
        declined = set(
            EmailChoice.objects.filter(
                user_id__in=people, kind=kind, email=False
            ).values_list("user_id", flat=True)
        )
    emails_queue(
        QueuedEmail(
            event=f"notice-{notice.event}",
            to=draft.recipient.email,
            subject=draft.email_subject or notice.title,
            body=draft.email_body or _default_body(notice.title, notice.link),
            attachment=draft.attachment,
        )
        for draft, notice in new
        if draft.recipient.email and draft.recipient.pk not in declined
    )
    return len(new)


def notice_open(
    *, user: User, notice_id: int, request: HttpRequest | None = None
) -> Notice:
    """The person's own notice, marked read the first time it is opened."""
    notice = notice_for(user, notice_id)
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
        unread_count_changed(user)
        audit_record(
            action=NoticeAction.OPENED,
            request=request,
            actor=user,
            obj=notice,
            detail={"kind": notice.kind},
        )
    return notice


def notices_mark_all_read(*, user: User, request: HttpRequest | None = None) -> int:
    marked = Notice.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    unread_count_changed(user)
    if marked:
        audit_record(
            action=NoticeAction.ALL_READ,
            request=request,
            actor=user,
            obj=user,
            detail={"count": marked},
        )
    return marked


@transaction.atomic
def email_choices_save(
    *, user: User, choices: dict[str, bool], request: HttpRequest | None = None
) -> list[str]:
    """Store the person's email choice for each choosable kind in
    ``choices``; the always-emailed kinds are not theirs to change. Returns
    the kinds that changed."""
    choosable = {kind.value for kind in CHOOSABLE}
    refused = set(choices) - choosable
    if refused:
        raise ValueError(f"Email for these cannot be changed: {sorted(refused)}")
    current = dict(EmailChoice.objects.filter(user=user).values_list("kind", "email"))
    changed = []
    for kind, wanted in choices.items():
        if current.get(kind, True) == wanted:
            continue
        choice, _ = EmailChoice.objects.get_or_create(user=user, kind=kind)
        choice.email = wanted
        choice.full_clean(validate_constraints=False)
        choice.save(update_fields=["email"])
        changed.append(kind)
    if changed:
        audit_record(
            action=NoticeAction.EMAIL_CHOICES_CHANGED,
            request=request,
            actor=user,
            obj=user,
            detail={"fields": sorted(changed)},
        )
    return sorted(changed)


def notices_delete_old(*, now=None) -> int:
    """Delete every notice older than ``NOTICE_RETENTION_DAYS``, read or not,
    with one audit event giving the count; returns it. A notice only points
    into the portal, where the record itself is kept or disposed of by its
    own rule, so it has no reason to outlive its use."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.NOTICE_RETENTION_DAYS)
    with transaction.atomic():
        deleted, _ = Notice.objects.filter(created_at__lt=cutoff).delete()
        audit_record(
            action=NoticeAction.DELETED_OLD,
            detail={"count": deleted, "days": settings.NOTICE_RETENTION_DAYS},
        )
    return deleted
