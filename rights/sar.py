"""Subject access requests (UK GDPR Article 15): opening one, the identity
check, the due date and its extension, the records chosen and the officer's
decision on each, the disclosure bundle and the reminders before it is due.

Only the data protection officer may do any of it (``SarRefused``
otherwise). Every change is audited with ids, statuses and counts; the
requester's details and what the officer types stay on the request itself.
"""

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from audit.services import audit_record
from files.stored import (
    StorageUnavailable,
    kind_for,
    object_write,
    objects_abandon,
    objects_delete,
    objects_kept,
)
from jobs.mail import email_queue
from notices.models import NoticeKind
from notices.services import notices_record
from portal.dates import long_date
from portal.pdf import render_pdf

from .audit_actions import RightsAction
from .deadlines import MAX_EXTENSION_MONTHS
from .models import (
    BundleState,
    DisclosureBundle,
    Exemption,
    ItemDecision,
    SarItem,
    SarStatus,
    SubjectAccessRequest,
)
from .records import record_fields, record_title
from .selectors import may_handle_data_rights
from .sources import SOURCES_BY_KEY

logger = logging.getLogger(__name__)

WITHHELD_THIRD_PARTY = "[withheld: third party]"
# Days before the due date on which the officer is reminded, then once overdue.
REMINDER_DAYS = (7, 1)


class SarRefused(Exception):
    """The step cannot be taken; ``message`` says why, ``field`` names the
    form field it is about (empty for the form as a whole), ``errors`` lists
    several at once (a bundle refused for unreviewed items)."""

    def __init__(self, message: str, field: str = "", errors=()):
        super().__init__(message)
        self.message, self.field = message, field
        self.errors = list(errors) or [(field, message)]


def _officer_only(user: User) -> None:
    if not may_handle_data_rights(user):
        raise SarRefused("Only the data protection officer can do this.")


def _unfinished(sar: SubjectAccessRequest) -> None:
    if sar.is_finished:
        raise SarRefused(
            f"This request is {sar.get_status_display().lower()}: it cannot change."
        )


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise SarRefused(message, field)
    return value


def _audit(action, sar, request, user, **detail):
    audit_record(
        action=action,
        request=request,
        actor=user,
        obj=sar,
        detail={"reference": sar.reference, "status": sar.status, **detail},
    )


# Opening, identity, due date, status -------------------------------------------


def _new_reference(year: int) -> str:
    prefix = f"SAR-{year}-"
    latest = SubjectAccessRequest.objects.filter(
        reference__startswith=prefix
    ).aggregate(Max("reference"))["reference__max"]
    number = int(latest.removeprefix(prefix)) + 1 if latest else 1
    return f"{prefix}{number:04d}"


@transaction.atomic
def sar_open(
    *, user: User, requester_name: str, received_on: date,
    requester_date_of_birth: date | None = None, requester_address: str = "",
    requester_phone: str = "", request: HttpRequest | None = None,
) -> SubjectAccessRequest:  # fmt: skip
    _officer_only(user)
    name = _text(requester_name, "requester_name", "Enter the requester's name")
    if received_on > timezone.localdate():
        raise SarRefused("The date received must be today or in the past",
                         "received_on")  # fmt: skip
    # One at a time: the reference is the year's next number.
    SubjectAccessRequest.objects.select_for_update().filter(
        reference__startswith=f"SAR-{received_on.year}-"
    ).exists()
    sar = SubjectAccessRequest(
        reference=_new_reference(received_on.year),
        requester_name=name,
        requester_date_of_birth=requester_date_of_birth,
        requester_address=(requester_address or "").strip(),
        requester_phone=(requester_phone or "").strip(),
        received_on=received_on,
        opened_by=user,
    )
    sar.full_clean()
    sar.save()
    _audit(RightsAction.SAR_OPENED, sar, request, user, due=sar.due_on.isoformat())
    return sar


@transaction.atomic
def sar_identity_record(
    *, sar: SubjectAccessRequest, user: User, method: str, checked_on: date,
    note: str = "", request: HttpRequest | None = None,
) -> SubjectAccessRequest:  # fmt: skip
    """Record how the requester's identity was checked, by whom and when. The
    clock runs from this day if it is later than the day of receipt."""
    _officer_only(user)
    locked = SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
    _unfinished(locked)
    if not method:
        raise SarRefused("Select how the identity was checked", "method")
    if checked_on > timezone.localdate():
        raise SarRefused("The date checked must be today or in the past",
                         "checked_on")  # fmt: skip
    if checked_on < locked.received_on:
        raise SarRefused("The date checked must be on or after the date received",
                         "checked_on")  # fmt: skip
    locked.identity_method, locked.identity_note = method, (note or "").strip()
    locked.identity_checked_on, locked.identity_checked_by = checked_on, user
    if locked.status == SarStatus.RECEIVED:
        locked.status = SarStatus.IDENTITY_CHECKED
    locked.full_clean()
    locked.save()
    _audit(RightsAction.SAR_IDENTITY_CHECKED, locked, request, user,
           method=method, due=locked.due_on.isoformat())  # fmt: skip
    return locked


@transaction.atomic
def sar_extend(
    *, sar: SubjectAccessRequest, user: User, months: int, reason: str,
    request: HttpRequest | None = None,
) -> SubjectAccessRequest:  # fmt: skip
    """Extend the due date once, by one or two months, with a reason (the
    request is complex, or one of several from the same person)."""
    _officer_only(user)
    locked = SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
    _unfinished(locked)
    if locked.extension_months:
        raise SarRefused("The due date has already been extended: it can be "
                         "extended only once", "months")  # fmt: skip
    if months not in range(1, MAX_EXTENSION_MONTHS + 1):
        raise SarRefused("Select 1 or 2 months", "months")
    reason = _text(reason, "reason", "Enter why more time is needed")
    locked.extension_months, locked.extension_reason = months, reason
    locked.full_clean()
    locked.save()
    _audit(RightsAction.SAR_EXTENDED, locked, request, user,
           due=locked.due_on.isoformat(), count=months)  # fmt: skip
    return locked


# Statuses the officer sets by hand; the others follow from the steps.
STATUSES_SET_BY_HAND = (
    SarStatus.SEARCHING,
    SarStatus.REVIEWING,
    SarStatus.CLOSED,
    SarStatus.REFUSED,
)


@transaction.atomic
def sar_status_set(
    *, sar: SubjectAccessRequest, user: User, status: str, reason: str = "",
    request: HttpRequest | None = None,
) -> SubjectAccessRequest:  # fmt: skip
    _officer_only(user)
    locked = SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
    if status not in STATUSES_SET_BY_HAND:
        raise SarRefused("Select a status", "status")
    if locked.status == SarStatus.CLOSED:
        raise SarRefused("This request is closed: it cannot change.", "status")
    if status != SarStatus.CLOSED:
        _unfinished(locked)
    if status == SarStatus.REFUSED:
        locked.refusal_reason = _text(
            reason, "reason", "Enter why the request is refused"
        )
    locked.status = status
    if status == SarStatus.CLOSED:
        locked.closed_at = timezone.now()
        _older_bundle_files_delete(locked)
    locked.full_clean()
    locked.save()
    _audit(RightsAction.SAR_STATUS_CHANGED, locked, request, user)
    return locked


def _older_bundle_files_delete(sar: SubjectAccessRequest) -> None:
    """At closure keep the files of the latest version only (the one
    disclosed, if any); every version's row keeps its hashes and decisions."""
    bundles = list(sar.bundles.filter(files_deleted_at__isnull=True))
    keep = next((b for b in bundles if b.disclosed_at), None) or (
        bundles[0] if bundles else None
    )
    gone = [b for b in bundles if b is not keep]
    if not gone:
        return
    DisclosureBundle.objects.filter(pk__in=[b.pk for b in gone]).update(
        files_deleted_at=timezone.now()
    )
    objects_delete(kind_for(DisclosureBundle, "pdf"), [b.pdf.name for b in gone])
    objects_delete(kind_for(DisclosureBundle, "json"), [b.json.name for b in gone])


# Items ---------------------------------------------------------------------------


def _record(source_key: str, source_id: int):
    source = SOURCES_BY_KEY.get(source_key)
    if source is None:
        return None, None
    return source, source.records().filter(pk=source_id).first()


def _item_title(source, title: str) -> str:
    # "Agenda item: case CM-…" says its kind already; "Case CM-…" does not.
    if not title.lower().startswith(source.noun.lower()):
        title = f"{source.noun}: {title}"
    return title[:300]


@transaction.atomic
def sar_items_add(
    *, sar: SubjectAccessRequest, user: User, records: list[tuple[str, int]],
    request: HttpRequest | None = None,
) -> list[SarItem]:  # fmt: skip
    """Add the chosen records (kind and id) to the request; a record already
    in it is left as it is, with its decision."""
    _officer_only(user)
    locked = SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
    _unfinished(locked)
    if not records:
        raise SarRefused("Select at least one record to include", "records")
    added = []
    for key, record_id in records:
        if locked.items.filter(source_key=key, source_id=record_id).exists():
            continue
        source, record = _record(key, record_id)
        if record is None:
            raise SarRefused("A record you selected is no longer held", "records")
        item = SarItem(
            sar=locked,
            source_key=key,
            source_id=record.pk,
            referral_id=source.belongs(record).get("referral_id"),
            title=_item_title(source, record_title(key, record)),
        )
        item.full_clean()
        item.save()
        added.append(item)
    if locked.status in (SarStatus.RECEIVED, SarStatus.IDENTITY_CHECKED,
                         SarStatus.SEARCHING, SarStatus.READY):  # fmt: skip
        locked.status = SarStatus.REVIEWING
        locked.save(update_fields=["status"])
    keys = [f"{i.source_key}:{i.source_id}" for i in added]
    _audit(
        RightsAction.SAR_ITEMS_ADDED, locked, request, user, count=len(added),
        records=keys,
    )  # fmt: skip
    return added


@transaction.atomic
def sar_item_review(
    *, item: SarItem, user: User, decision: str, exemption: str = "",
    third_party_fields=(), third_party_names: str = "",
    request: HttpRequest | None = None,
) -> SarItem:  # fmt: skip
    """The officer's decision on one record: disclose it (with the fields and
    names about other people hidden) or withhold it under an exemption."""
    _officer_only(user)
    locked = SarItem.objects.select_for_update().select_related("sar").get(pk=item.pk)
    _unfinished(locked.sar)
    if decision not in ItemDecision.values:
        raise SarRefused("Select whether to disclose or withhold this record",
                         "decision")  # fmt: skip
    if decision == ItemDecision.WITHHOLD and exemption not in Exemption.values:
        raise SarRefused("Select the exemption that applies", "exemption")
    _, record = _record(locked.source_key, locked.source_id)
    labels = (
        {f.label for f in record_fields(locked.source_key, record)} if record else set()
    )
    fields = [label for label in third_party_fields if label in labels]
    locked.decision = decision
    locked.exemption = exemption if decision == ItemDecision.WITHHOLD else ""
    locked.third_party_fields = fields
    locked.third_party_names = (third_party_names or "").strip()
    locked.reviewed_by, locked.reviewed_at = user, timezone.now()
    locked.full_clean()
    locked.save()
    audit_record(
        action=RightsAction.SAR_ITEM_REVIEWED, request=request, actor=user,
        obj=locked.sar,
        detail={"reference": locked.sar.reference, "records": [
            f"{locked.source_key}:{locked.source_id}"], "decision": decision,
            "exemption": locked.exemption, "fields": len(fields),
            "redacted": len(locked.names_to_redact)},
    )  # fmt: skip
    return locked


@transaction.atomic
def sar_item_remove(
    *, item: SarItem, user: User, request: HttpRequest | None = None
) -> None:
    _officer_only(user)
    locked = SarItem.objects.select_for_update().select_related("sar").get(pk=item.pk)
    _unfinished(locked.sar)
    record = f"{locked.source_key}:{locked.source_id}"
    locked.delete()
    _audit(RightsAction.SAR_ITEM_REMOVED, locked.sar, request, user, records=[record])


# The bundle ------------------------------------------------------------------------


def _redacted(value: str, names: list[str]) -> str:
    for name in sorted(names, key=len, reverse=True):
        pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
        value = pattern.sub(WITHHELD_THIRD_PARTY, value)
    return value


def _item_content(number: int, item: SarItem) -> dict:
    """One item as the bundle gives it: where it comes from, its date, and
    its fields with the third-party ones hidden; or a line saying it is
    withheld and under which exemption."""
    source, record = _record(item.source_key, item.source_id)
    recorded = source.recorded_at(record) if record is not None else None
    content = {
        "number": number,
        "item_id": item.pk,
        "source": source.noun if source else item.source_key,
        "record": item.title,
        "record_id": f"{item.source_key}:{item.source_id}",
        "date": timezone.localtime(recorded).date().isoformat() if recorded else None,
        "decision": item.decision,
        "exemption": item.exemption,
        "withheld": "",
        "fields": [],
    }
    if record is None:
        content["withheld"] = "[no longer held: the record was destroyed]"
    elif item.decision == ItemDecision.WITHHOLD:
        label = Exemption(item.exemption).label
        content["withheld"] = f"[withheld: exemption {label}]"
    else:
        hidden, names = set(item.third_party_fields), item.names_to_redact
        for field in record_fields(item.source_key, record):
            value = (
                WITHHELD_THIRD_PARTY
                if field.label in hidden
                else _redacted(field.value, names)
            )
            content["fields"].append({"label": field.label, "value": value})
    return content


def bundle_content(sar: SubjectAccessRequest, version: int) -> dict:
    items = list(sar.items.order_by("pk"))
    return {
        "reference": sar.reference,
        "version": version,
        "requester": sar.requester_name,
        "received_on": sar.received_on.isoformat(),
        "due_on": sar.due_on.isoformat(),
        "built_at": timezone.now().isoformat(timespec="seconds"),
        "items": [_item_content(n, item) for n, item in enumerate(items, start=1)],
    }


def _unreviewed_errors(sar: SubjectAccessRequest) -> list[tuple[str, str]]:
    items = list(sar.items.order_by("pk"))
    if not items:
        return [("", "Add at least one record before producing a bundle")]
    return [
        (f"item-{item.pk}", f"Review {item.title} before producing a bundle")
        for item in items
        if not item.is_reviewed
    ]


@dataclass
class BundleRequest:
    """What ``sar_bundle_request`` did: the version asked for, and whether
    this call queued its build (False: one was already queued or running)."""

    version: int
    queued: bool


def _built_version(sar: SubjectAccessRequest) -> int:
    return sar.bundles.aggregate(Max("version"))["version__max"] or 0


@transaction.atomic
def sar_bundle_request(
    *, sar: SubjectAccessRequest, user: User, request: HttpRequest | None = None
) -> BundleRequest:
    """Ask for the next version of the bundle, built in the background
    (``rights.tasks.build_sar_bundle``): refused at once, as the build would
    be, until every item is reviewed. The request's row is locked, so a
    double click or two officers at once queue one build: while a version
    is queued or being built, asking again queues nothing. After a failed
    build, asking again queues the same version again."""
    _officer_only(user)
    locked = SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
    _ready_for_bundle(locked)
    built = _built_version(locked)
    if locked.bundle_state(built) == BundleState.PREPARING:
        return BundleRequest(version=locked.bundle_requested_version, queued=False)
    version = built + 1
    locked.bundle_requested_version, locked.bundle_requested_by = version, user
    locked.bundle_requested_at, locked.bundle_failure = timezone.now(), ""
    locked.save(update_fields=["bundle_requested_version", "bundle_requested_by",
                               "bundle_requested_at", "bundle_failure"])  # fmt: skip
    _audit(RightsAction.SAR_BUNDLE_REQUESTED, locked, request, user,
           version=version, count=locked.items.count())  # fmt: skip
    transaction.on_commit(lambda: _enqueue_build(locked.pk, version))
    return BundleRequest(version=version, queued=True)


def _enqueue_build(sar_id: int, version: int) -> None:
    from .tasks import build_sar_bundle

    build_sar_bundle.enqueue(sar_id, version)


# Shown on the request's page when a build fails for a reason that is not a
# rule: the details are in the log and the failed task (Background work).
BUILD_FAILED = (
    "Something went wrong while producing it, and nothing was stored. "
    "Try again; if it fails again, ask the portal's operators to check the "
    "background worker"
)


def sar_bundle_build_requested(*, sar_id: int, version: int) -> DisclosureBundle | None:
    """The background build of the version ``sar_bundle_request`` asked for,
    by the officer who asked; they are told in "What's new" when it is
    ready, or that it failed.

    Safe to run again (``jobs.recovery`` requeues a build whose worker was
    killed): a version already built is not built twice, and its notice
    goes once. A build no longer asked for (superseded, or the request
    destroyed) does nothing. A refusal (an item added since, or the request
    closed) or an error leaves ``bundle_failure`` for the page, audited, and
    nothing stored; an error is raised again so the task shows as failed."""
    sar = SubjectAccessRequest.objects.filter(pk=sar_id).first()
    if sar is None:
        return None
    bundle = sar.bundles.filter(version=version).first()
    if bundle is None:
        if sar.bundle_requested_version != version or sar.bundle_failure:
            return None
        user = sar.bundle_requested_by
        try:
            bundle = sar_bundle_build(sar=sar, user=user, version=version)
        except SarRefused as refused:
            _bundle_failed(sar, user, version, refused.message, reason="refused")
            return None
        except Exception as error:
            reason = "storage" if isinstance(error, StorageUnavailable) else "error"
            logger.exception("Could not build SAR bundle %s v%s", sar.pk, version)
            _bundle_failed(sar, user, version, BUILD_FAILED, reason=reason)
            raise
    _bundle_notice(sar, bundle.built_by, version, ready=True)
    return bundle


@transaction.atomic
def _bundle_failed(sar, user, version: int, message: str, *, reason: str) -> None:
    failed = SubjectAccessRequest.objects.filter(
        pk=sar.pk, bundle_requested_version=version
    ).update(bundle_failure=message.rstrip(".")[:300])
    if not failed:
        return
    _audit(RightsAction.SAR_BUNDLE_FAILED, sar, None, user, version=version,
           reason=reason)  # fmt: skip
    _bundle_notice(sar, user, version, ready=False)


def _bundle_notice(sar, user, version: int, *, ready: bool) -> None:
    """Tell the officer who asked: the reference and version, no names."""
    if ready:
        title = f"Disclosure bundle ready: {sar.reference}, version {version}"
        event = f"sar-{sar.pk}-bundle-{version}"
    else:
        title = (
            f"Disclosure bundle could not be produced: {sar.reference}, "
            f"version {version}"
        )
        # Each failed try of the version is its own event.
        stamp = (sar.bundle_requested_at or timezone.now()).timestamp()
        event = f"sar-{sar.pk}-bundle-{version}-failed-{stamp:.0f}"
    notices_record(
        kind=NoticeKind.SAR_BUNDLE, recipients=[user] if user else [],
        title=title, link=reverse("rights:sar", args=[sar.pk]), event=event,
    )  # fmt: skip


def sar_bundle_build(
    *, sar: SubjectAccessRequest, user: User, request: HttpRequest | None = None,
    version: int | None = None,
) -> DisclosureBundle:  # fmt: skip
    """Build the next version of the bundle (or ``version``, the one asked
    for): the PDF (portal.pdf) and the JSON of the same content, stored
    privately with the SHA-256 of each. Refused until every item has been
    reviewed, and for a finished request.

    The items and decisions are read once, with the request's row locked
    (reviews, additions and removals lock it too), so the bundle is the
    request as it stood when the build started: a review saved during the
    build is in the next version, never half in this one. If ``version``
    is already built (a rerun), that one is returned and nothing is stored."""
    _officer_only(user)
    started = time.monotonic()
    with transaction.atomic():
        sar = SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
        _ready_for_bundle(sar)
        version = version or _built_version(sar) + 1
        content = bundle_content(sar, version)
    json_bytes = json.dumps(
        content, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder
    ).encode("utf-8")
    pdf_bytes = render_pdf("rights/pdf/bundle.html", {"bundle": content})
    bundle = DisclosureBundle(sar=sar, version=version, built_by=user)
    names = ["", ""]
    try:
        names[0] = object_write(bundle, "pdf", ContentFile(pdf_bytes))
        names[1] = object_write(bundle, "json", ContentFile(json_bytes))
        with transaction.atomic():
            locked = SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
            # Closed or refused while the PDF was rendered: its status stays.
            _unfinished(locked)
            existing = locked.bundles.filter(version=version).first()
            if existing is not None:
                # Another run of the same build got here first.
                raise _AlreadyBuilt(existing)
            bundle.pdf_sha256 = hashlib.sha256(pdf_bytes).hexdigest()
            bundle.json_sha256 = hashlib.sha256(json_bytes).hexdigest()
            bundle.pdf_size, bundle.json_size = len(pdf_bytes), len(json_bytes)
            bundle.items = [
                {key: item[key] for key in ("item_id", "record_id", "decision",
                                            "exemption")}
                | {"third_party_fields": sum(
                    f["value"] == WITHHELD_THIRD_PARTY for f in item["fields"])}
                for item in content["items"]
            ]  # fmt: skip
            bundle.seconds = round(time.monotonic() - started, 3)
            bundle.full_clean()
            bundle.save()
            objects_kept(names)
            SubjectAccessRequest.objects.filter(pk=sar.pk).update(
                status=SarStatus.READY
            )
            sar.status = SarStatus.READY
            _audit(RightsAction.SAR_BUNDLE_BUILT, sar, request, user,
                   version=version, count=len(content["items"]),
                   sha256=bundle.pdf_sha256)  # fmt: skip
    except _AlreadyBuilt as already:
        _bundle_files_abandon(names)
        return already.bundle
    except Exception:
        _bundle_files_abandon(names)
        raise
    logger.info("Built SAR bundle %s v%s in %.2fs", sar.pk, version, bundle.seconds)
    return bundle


def _ready_for_bundle(sar: SubjectAccessRequest) -> None:
    """Refuse a bundle for a finished request, or one with items unreviewed
    (each named, for the error summary)."""
    _unfinished(sar)
    errors = _unreviewed_errors(sar)
    if errors:
        raise SarRefused(errors[0][1], errors[0][0], errors)


def _bundle_files_abandon(names: list[str]) -> None:
    """The PDF and JSON a failed or repeated build wrote (``names``, in that
    order; empty where not written)."""
    objects_abandon(kind_for(DisclosureBundle, "pdf"), names[:1])
    objects_abandon(kind_for(DisclosureBundle, "json"), names[1:])


class _AlreadyBuilt(Exception):
    def __init__(self, bundle: DisclosureBundle):
        super().__init__(bundle.pk)
        self.bundle = bundle


@transaction.atomic
def sar_disclosed(
    *, bundle: DisclosureBundle, user: User, request: HttpRequest | None = None
) -> DisclosureBundle:
    """Record that this version was sent to the requester."""
    _officer_only(user)
    sar = SubjectAccessRequest.objects.select_for_update().get(pk=bundle.sar_id)
    _unfinished(sar)
    latest = sar.bundles.order_by("-version").first()
    if latest.pk != bundle.pk:
        raise SarRefused("Only the latest version can be disclosed")
    now = timezone.now()
    DisclosureBundle.objects.filter(pk=bundle.pk).update(disclosed_at=now)
    sar.status, sar.disclosed_at = SarStatus.DISCLOSED, now
    sar.save(update_fields=["status", "disclosed_at"])
    bundle.disclosed_at = now
    _audit(RightsAction.SAR_DISCLOSED, sar, request, user, version=bundle.version,
           sha256=bundle.pdf_sha256)  # fmt: skip
    return bundle


# Reminders ---------------------------------------------------------------------------


def officers_to_email():
    return (
        User.objects.filter(is_active=True, groups__name=Role.DPO.value)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def _sar_link(sar: SubjectAccessRequest) -> str:
    path = reverse("rights:sar", args=[sar.pk])
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


@dataclass
class RemindersSent:
    week: int = 0
    day: int = 0
    overdue: int = 0


def sar_reminders_send(*, today: date | None = None) -> RemindersSent:
    """Remind the officers 7 days and 1 day before a request is due, and
    once it is overdue: the reference and a link only. Each reminder is
    claimed with one update (and the outbox keys each email by request, due
    date and kind), so a rerun sends nothing twice; an extension moves the
    due date, and the reminders are sent again for the new one."""
    today = today or timezone.localdate()
    sent = RemindersSent()
    for sar in SubjectAccessRequest.objects.exclude(status__in=SAR_FINISHED_VALUES):
        due = sar.due_on
        left = (due - today).days
        if left < 0:
            kind = "overdue"
        elif left <= REMINDER_DAYS[1]:
            kind = "day"
        elif left <= REMINDER_DAYS[0]:
            kind = "week"
        else:
            continue
        if _remind(sar, kind, due, today):
            setattr(sent, kind, getattr(sent, kind) + 1)
    return sent


SAR_FINISHED_VALUES = [SarStatus.DISCLOSED, SarStatus.CLOSED, SarStatus.REFUSED]
CLAIM_FIELD = {"week": "week_reminder_for", "day": "day_reminder_for",
               "overdue": "overdue_reminder_for"}  # fmt: skip


@transaction.atomic
def _remind(sar: SubjectAccessRequest, kind: str, due: date, today: date) -> bool:
    field = CLAIM_FIELD[kind]
    claimed = (
        SubjectAccessRequest.objects.filter(pk=sar.pk)
        .exclude(**{field: due})
        .update(**{field: due})
    )
    if not claimed:
        return False
    if kind == "overdue":
        subject = f"Overdue: subject access request {sar.reference}"
        line = (
            f"Subject access request {sar.reference} was due on {long_date(due)} "
            "and has not been answered."
        )
    else:
        days = "1 day" if kind == "day" else "7 days"
        subject = f"{days} left: subject access request {sar.reference}"
        line = f"Subject access request {sar.reference} is due on {long_date(due)}."
    body = f"{line}\n\nOpen it in the portal: {_sar_link(sar)}\n"
    emails = 0
    for officer in officers_to_email():
        emails += email_queue(
            event=f"sar:{sar.pk}:{due.isoformat()}:{kind}",
            to=officer.email,
            subject=subject,
            body=body,
        )
    audit_record(
        action=RightsAction.SAR_REMINDED,
        obj=sar,
        detail={"reference": sar.reference, "due": due.isoformat(), "kind": kind,
                "count": emails},
    )  # fmt: skip
    return True
