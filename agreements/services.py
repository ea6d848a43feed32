"""Business rules for agreements: freezing versions, acknowledgements, reminders."""

import calendar
import hashlib
import logging
from datetime import date

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import normalize_newlines
from wagtail.models import Page
from wagtail.rich_text import expand_db_html

from accounts.models import Organisation, Role, User
from audit.chain import chain_append
from audit.services import audit_record, client_ip
from jobs.mail import email_queue
from notices.models import NoticeKind
from notices.services import notices_record
from portal.addresses import absolute_url
from portal.dates import long_date

from .audit_actions import AgreementAction
from .models import (
    Acknowledgement,
    AgreementPage,
    AgreementVersion,
    ClauseKind,
    ReminderSent,
    SharingAgreementPage,
    parse_version,
    retention_lines,
)
from .signals import organisations_dropped

logger = logging.getLogger(__name__)

_ACKNOWLEDGEMENT_CHAIN_LOCK = 7_306_210_002
REMINDER_DAYS = (90, 60, 30, 7, 1)
# Where a signatory reads and acknowledges agreements: the one link every
# agreements email and notice gives.
ACKNOWLEDGE_LINK = "/agreements/"


class AcknowledgementRefused(Exception):
    """A signatory may not acknowledge this version; the message says why."""


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day if it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last_day))


def clauses_snapshot(page: AgreementPage) -> list[dict]:
    """The page's clauses as plain data, keyed by their stable block ids."""
    snapshot = []
    for child in page.clauses:
        value = child.value
        html = expand_db_html(value["body"].source)
        snapshot.append(
            {
                "id": child.id,
                "kind": value["kind"],
                "heading": value["heading"],
                "html": html,
                "text": _plain_text(html),
            }
        )
    return snapshot


def _plain_text(html: str) -> str:
    # Block-level tags become line breaks so the canonical text keeps its shape.
    for tag in ("</p>", "</li>", "</h3>", "</h4>", "<br>", "<br/>"):
        html = html.replace(tag, f"{tag}\n")
    lines = [line.strip() for line in normalize_newlines(strip_tags(html)).split("\n")]
    return "\n".join(line for line in lines if line)


def canonical_text(
    *, kind: str, title: str, reference: str, number: str, effective_date: date,
    signatories: list[dict], clauses: list[dict], retention: dict | None = None,
) -> str:  # fmt: skip
    """The text a version's hash covers: everything a signatory agrees to."""
    kinds = dict(ClauseKind.choices)
    lines = [
        f"{kind.capitalize()}: {title}",
        f"Reference: {reference}",
        f"Version: {number}",
        f"Effective from: {effective_date.isoformat()}",
        "Signatory organisations: " + "; ".join(s["name"] for s in signatories),
    ]
    lines += [f"Retention: {line}" for line in retention_lines(retention)]
    lines.append("")
    for index, clause in enumerate(clauses, start=1):
        lines += [
            f"{index}. {clause['heading']} ({kinds.get(clause['kind'], 'Other')})",
            clause["text"],
            "",
        ]
    return "\n".join(lines)


@transaction.atomic
def version_publish(
    *, page: AgreementPage, revision_id: int | None, user: User | None,
    request: HttpRequest | None = None,
) -> AgreementVersion:  # fmt: skip
    """Freeze what was just published as a new, immutable version."""
    major, minor = parse_version(page.next_version)
    previous = page.latest_version
    if previous is None:
        next_review = page.first_review_date
    elif page.completes_review:
        # Counted from the intended review date, not from when it was done.
        next_review = add_months(previous.next_review_date, page.review_cycle_months)
    else:
        next_review = previous.next_review_date
    # The page's effective date is when the agreement first came into force; a
    # later version comes into force when it is published, or on that date if
    # an editor has moved it later.
    effective_date = page.effective_date
    if previous is not None:
        effective_date = max(effective_date, timezone.localdate())
    signatories = [
        {"id": org.pk, "name": org.name}
        for org in page.signatory_organisations.order_by("name")
    ]
    clauses = clauses_snapshot(page)
    kind = page._meta.verbose_name
    retention = (
        page.retention_periods() if isinstance(page, SharingAgreementPage) else None
    )
    text = canonical_text(
        kind=kind,
        title=page.title,
        reference=page.reference,
        number=f"{major}.{minor}",
        effective_date=effective_date,
        signatories=signatories,
        clauses=clauses,
        retention=retention,
    )
    version = AgreementVersion(
        page_id=page.pk,
        kind=kind,
        title=page.title,
        reference=page.reference,
        major=major,
        minor=minor,
        change_type=page.change_type,
        change_summary=page.change_summary if previous else "First version.",
        published_at=timezone.now(),
        published_by=user,
        published_by_label=str(user) if user else "",
        revision_id=revision_id,
        effective_date=effective_date,
        next_review_date=next_review,
        review_cycle_months=page.review_cycle_months,
        responsible_officer_label=str(page.responsible_officer),
        signatories=signatories,
        clauses=clauses,
        retention=retention,
        canonical_text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
    )
    version.full_clean()
    version.save(force_insert=True)
    audit_record(
        action=AgreementAction.VERSION_PUBLISHED,
        request=request,
        actor=user,
        obj=version,
        detail={"number": version.number, "change_type": version.change_type},
    )
    if previous is not None and kind == SharingAgreementPage._meta.verbose_name:
        dropped = {s["id"] for s in previous.signatories} - {
            s["id"] for s in signatories
        }
        if dropped:
            audit_record(
                action=AgreementAction.ORGANISATIONS_DROPPED,
                request=request,
                actor=user,
                obj=version,
                detail={"organisations": sorted(dropped)},
            )
            organisations_dropped.send(
                sender=AgreementVersion, version=version, organisation_ids=dropped
            )
    if version.is_material:
        acknowledgement_requested(version)
    return version


def acknowledgement_due(version: AgreementVersion) -> date:
    """The day by which each signatory organisation must acknowledge a
    material version: after it, the grace period is over (docs/features.md,
    "Who sees case material")."""
    from .selectors import grace_period, requirement_version

    required = requirement_version(version)
    return timezone.localtime(required.published_at).date() + grace_period()


def acknowledgement_requested(version: AgreementVersion) -> int:
    """Tell the signatories of each signatory organisation that a material
    version waits for their acknowledgement, with the deadline: a notice and
    an email each, always (they cannot turn these off). The email names the
    agreement and the date, never its text. Review reminders
    (``reminders_send``) use the same link and wording. Returns notices made."""
    due = acknowledgement_due(version)
    signatories = (
        User.objects.filter(
            organisation_id__in=version.signatory_ids,
            organisation__active=True,
            is_active=True,
            groups__name=Role.SIGNATORY.value,
        )
        .distinct()
        .order_by("pk")
    )
    link = ACKNOWLEDGE_LINK
    body = (
        f"Version {version.number} of the agreement {version.reference} "
        f"({version.title}) was published on "
        f"{long_date(timezone.localtime(version.published_at).date())}. It is a "
        "material change, so each signatory organisation must acknowledge it.\n\n"
        f"Please acknowledge it for your organisation by {long_date(due)}. After "
        "that date, case material is closed to organisations that have not.\n\n"
        f"Sign in to read and acknowledge it:\n{absolute_url(link)}\n\n"
        "This email holds none of the agreement's text.\n"
    )
    return notices_record(
        kind=NoticeKind.VERSION_TO_ACKNOWLEDGE,
        recipients=signatories,
        title=f"Acknowledge version {version.number} of {version.reference} by "
        f"{long_date(due)}",
        link=link,
        event=f"agreement-version-{version.pk}-published",
        email_subject=f"Agreement to acknowledge by {long_date(due)}: "
        f"{version.reference}",
        email_body=body,
    )


def acknowledgement_record(
    *, request: HttpRequest, version: AgreementVersion, organisation: Organisation,
    signatory_name: str, signatory_role: str,
) -> tuple[Acknowledgement, bool]:  # fmt: skip
    """Record that ``organisation`` acknowledges ``version``.

    Returns the acknowledgement and whether this call created it: a double
    click, or two signatories at once, give one acknowledgement, and the
    second caller gets the first one back.
    """
    user = request.user
    acknowledgement_check(user, version, organisation)
    existing = Acknowledgement.objects.filter(
        version=version, organisation=organisation
    ).first()
    if existing is not None:
        return existing, False
    acknowledgement = Acknowledgement(
        version=version,
        organisation=organisation,
        organisation_name=organisation.name,
        user=user,
        username=user.get_username(),
        signatory_name=signatory_name.strip(),
        signatory_role=signatory_role.strip(),
        ip_address=client_ip(request),
        content_hash=version.content_hash,
    )
    try:
        with transaction.atomic():
            chain_append(
                acknowledgement,
                lock_key=_ACKNOWLEDGEMENT_CHAIN_LOCK,
                before_hash=_stamp_acknowledged_at,
            )
            audit_record(
                action=AgreementAction.ACKNOWLEDGED,
                request=request,
                obj=acknowledgement,
                detail={"version": version.pk, "organisation": organisation.pk},
            )
    except IntegrityError:
        # Someone else at the organisation got there first.
        return (
            Acknowledgement.objects.get(version=version, organisation=organisation),
            False,
        )
    return acknowledgement, True


def _stamp_acknowledged_at(acknowledgement: Acknowledgement) -> None:
    acknowledgement.acknowledged_at = timezone.now()


def acknowledgement_check(user, version, organisation) -> None:
    if not user.has_role(Role.SIGNATORY):
        raise AcknowledgementRefused(
            "Only a named signatory can acknowledge an agreement for an organisation."
        )
    if user.organisation_id != organisation.pk:
        raise AcknowledgementRefused(
            "You can only acknowledge agreements for your own organisation."
        )
    if organisation.pk not in version.signatory_ids:
        raise AcknowledgementRefused(
            f"{organisation} is not a signatory to this agreement."
        )
    if not version.is_current:
        raise AcknowledgementRefused(
            f"Version {version.number} has been replaced by version "
            f"{version.current.number}. Read and acknowledge the current version."
        )


def reminders_send(*, today: date | None = None) -> int:
    """Queue review reminders at 90, 60, 30, 7 and 1 days before each review.

    Each threshold goes out once per review date. If several have passed
    since the last run, one email goes out and all of them are marked sent.
    Emails carry no agreement text. Returns how many emails were queued; the
    outbox (jobs.mail) delivers them, retrying a refusing or hung mail server
    with backoff rather than waiting for tomorrow's run.
    """
    from .selectors import current_versions

    today = today or timezone.localdate()
    queued = 0
    for version in current_versions():
        days_left = (version.next_review_date - today).days
        due = [d for d in REMINDER_DAYS if days_left <= d]
        if not due or days_left < 0:
            continue
        try:
            queued += _reminder_queue(version, due=due, days_left=days_left)
        except IntegrityError:
            # An overlapping run (cron and a worker, say) claimed the threshold
            # first; the unique constraint stopped this one, and that run queues.
            logger.info("Review reminder for %s already claimed", version.reference)
    return queued


def _reminder_queue(version, *, due: list[int], days_left: int) -> int:
    with transaction.atomic():
        already = set(
            ReminderSent.objects.filter(
                page_id=version.page_id, review_date=version.next_review_date
            ).values_list("days_before", flat=True)
        )
        fresh = [d for d in due if d not in already]
        if not fresh:
            return 0
        recipients = _reminder_recipients(version)
        for days in fresh:
            claim = ReminderSent(
                page_id=version.page_id,
                review_date=version.next_review_date,
                days_before=days,
                recipients=len(recipients),
            )
            # The database's unique constraint, not a query beforehand, decides
            # between overlapping runs: the second insert fails and rolls back.
            claim.full_clean(validate_constraints=False)
            claim.save(force_insert=True)
        # Queued in the claims' transaction: both commit or neither. The event
        # names the milestone, so each person gets it once even if a claim is
        # ever lost; delivery failures are the outbox's to retry.
        subject = _reminder_subject(version, days_left)
        milestone = f"{version.next_review_date:%Y%m%d}-{min(fresh)}"
        event = f"agreement-reminder-{version.pk}-{milestone}"
        return sum(
            email_queue(event=event, to=email, subject=subject, body=body)
            for email, body in recipients.items()
        )


def _reminder_subject(version, days_left) -> str:
    if days_left == 0:
        when = "today"
    elif days_left == 1:
        when = "tomorrow"
    else:
        when = f"in {days_left} days"
    return f"Agreement review due {when}: {version.reference}"


def _reminder_recipients(version) -> dict[str, str]:
    """Email address -> body: the responsible officer, then the active
    signatories of active organisations that have not acknowledged ``version``."""
    from .selectors import AcknowledgementState, coverage

    link = absolute_url(ACKNOWLEDGE_LINK)
    base = (
        f"The agreement {version.reference} ({version.title}) is due for review "
        f"on {long_date(version.next_review_date)}.\n\n"
    )
    recipients: dict[str, str] = {}
    officer = Page.objects.get(pk=version.page_id).specific.responsible_officer
    if officer.is_active and officer.email:
        recipients[officer.email] = (
            base + "You are its responsible officer: please arrange the review.\n\n"
            f"{link}\n"
        )
    else:
        logger.warning(
            "%s has no active responsible officer with an email address",
            version.reference,
        )
    # One pass over the acknowledgements, not a query per organisation.
    rows, _ = coverage(version)
    outstanding = [
        row.organisation_id
        for row in rows
        if row.state != AcknowledgementState.ACKNOWLEDGED
    ]
    signatories = (
        User.objects.filter(
            organisation_id__in=outstanding,
            organisation__in=Organisation.objects.taking_part(),
            is_active=True,
            groups__name=Role.SIGNATORY.value,
        )
        .exclude(email="")
        .order_by("pk")
    )
    for person in signatories:
        recipients.setdefault(
            person.email,
            base
            + f"Your organisation has not yet acknowledged version {version.number}. "
            "Please sign in to read and acknowledge it.\n\n"
            f"{link}\n",
        )
    return recipients
