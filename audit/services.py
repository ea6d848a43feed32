"""Writing to and checking the audit log. Every app records through here."""

import ipaddress
from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from .audit_actions import AuditAction
from .chain import GENESIS_HASH, ChainProblem, chain_append, chain_lock, chain_verify
from .checkpoints import Checkpoint, Unreadable, checkpoint_stores, utc_text
from .keys import signing_key
from .models import AuditEvent, AuditSegment, Outcome
from .privacy import detail_cleaned

_CHAIN_LOCK_KEY = 7_306_210_001

# Set on a request once a "denied" event is written for it, so a gate that
# audits every refusal (agreements.middleware) writes one event, not two.
DENIAL_RECORDED = "_audit_denial_recorded"


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, trusting only as many proxies as configured."""
    if request is None:
        return None
    candidates = []
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            candidates.append(hops[-proxies])
    candidates.append(request.META.get("REMOTE_ADDR", ""))
    for candidate in candidates:
        try:
            return ipaddress.ip_address(candidate).compressed
        except ValueError:
            continue
    return None


def audit_record(
    *,
    action: str,
    request: HttpRequest | None = None,
    actor=None,
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    outcome: str = Outcome.SUCCESS,
    detail: dict | None = None,
) -> AuditEvent:
    """Append one event to the log.

    ``actor`` defaults to the request's user. ``obj`` (any model instance)
    fills in the object type and id. ``detail`` must never hold passwords,
    codes, tokens or personal details: only ids, counts, states and dates;
    audit.privacy enforces it (search terms are hashed, free text dropped).
    """
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    organisation = getattr(actor, "organisation", None) if actor else None
    user_agent = ""
    if request is not None:
        user_agent = request.META.get("HTTP_USER_AGENT", "")[:400]

    event = AuditEvent(
        actor=actor,
        actor_label=actor.get_username() if actor else "",
        organisation=organisation,
        organisation_label=str(organisation) if organisation else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id not in (None, "") else "",
        outcome=outcome,
        ip_address=client_ip(request),
        user_agent=user_agent,
        detail=detail_cleaned(detail or {}),
        key_id=signing_key().id,
    )
    event = chain_append(event, lock_key=_CHAIN_LOCK_KEY, before_hash=_stamp_time)
    if request is not None and outcome == Outcome.DENIED:
        setattr(request, DENIAL_RECORDED, True)
    return event


def audit_chain_lock() -> None:
    """Hold the lock ``audit_record`` appends under until the current
    transaction ends, for a bulk writer that chains many events at once."""
    chain_lock(_CHAIN_LOCK_KEY)


def _stamp_time(event: AuditEvent) -> None:
    # Taken under the chain's lock so the log reads in time order.
    event.at = timezone.now()


def audit_read(request: HttpRequest, obj, *, detail: dict | None = None) -> AuditEvent:
    """Record that the request's user viewed personal data held in ``obj``."""
    return audit_record(
        action=AuditAction.READ, request=request, obj=obj, detail=detail
    )


@dataclass
class AuditVerification:
    """What checking the log found: problems, and the head it vouches for."""

    problems: list[str] = field(default_factory=list)
    events: int = 0
    last: AuditEvent | None = None
    first_keyed_id: int | None = None
    unkeyed: int = 0
    checkpoints: list[Checkpoint] = field(default_factory=list)
    # Of ``events``, those sealed into segments, and segments whose file was
    # destroyed after its retention (their records vouch for them).
    sealed: int = 0
    segments: int = 0
    destroyed_segments: int = 0

    @property
    def intact(self) -> bool:
        return not self.problems


def audit_chain_verify() -> AuditVerification:
    """Check every event's link and HMAC, and the table against every signed
    checkpoint outside the database (docs/audit.md)."""
    result = AuditVerification()
    seen = set()
    for store in checkpoint_stores():
        try:
            entries = store.read()
        except Exception as exc:  # a bucket that cannot be read is a finding
            result.problems.append(
                f"The checkpoints in {store.label} could not be read: {exc}."
            )
            continue
        for entry in entries:
            if isinstance(entry, Unreadable):
                result.problems.append(f"{entry.source}: {entry.reason}.")
                continue
            reason = entry.signature_problem()
            if reason:
                result.problems.append(f"{entry.source}: {reason}.")
            elif entry.signature not in seen:  # the same one, in two stores
                seen.add(entry.signature)
                result.checkpoints.append(entry)
    walk = _CheckpointWalk(result)
    sealed_problem, previous, position, after_id = _verify_sealed(walk)
    if sealed_problem:
        result.problems.append(sealed_problem)
        return result
    if after_id and AuditEvent.objects.filter(id__lte=after_id).exists():
        stray = AuditEvent.objects.filter(id__lte=after_id).order_by("id").first()
        result.problems.append(
            f"Event {stray.id}, written {utc_text(stray.at)}, is in the table "
            "although a sealed segment covers it: it was put back or forged."
        )
        return result
    problem = chain_verify(
        AuditEvent,
        check_row=walk.check,
        previous=previous,
        start=position,
        after_id=after_id,
    )
    if problem is not None:
        result.problems.append(_describe(problem))
    else:
        ending = walk.finish()
        if ending:
            result.problems.append(ending)
    return result


def _verify_sealed(walk: "_CheckpointWalk") -> tuple[str | None, str, int, int]:
    """Walk the sealed segments, oldest first, as the chain's first part.

    Returns a problem, or where the table's chain continues: the hash its
    first event must link to, that event's position, and the last sealed id.
    """
    from .segments import (
        SegmentUnreadable,
        segment_events,
        segment_label,
        segment_signature_problem,
    )

    previous, position, after_id = GENESIS_HASH, 1, 0
    for segment in walk.segments.values():
        label = segment_label(segment)
        reason = segment_signature_problem(segment)
        if reason:
            return f"{label}: {reason}.", previous, position, after_id
        if segment.first_previous_hash != previous or segment.first_id <= after_id:
            return (
                f"{label} does not continue the chain from what comes before "
                "it: a segment record, or events before it, were removed or "
                "altered.",
                previous, position, after_id,
            )  # fmt: skip
        if segment.file_destroyed_at is None:
            try:
                events = segment_events(segment)
            except SegmentUnreadable as exc:
                return str(exc), previous, position, after_id
            problem = chain_verify(
                AuditEvent,
                rows=events,
                check_row=walk.check,
                previous=previous,
                start=position,
            )
            if problem is not None:
                return (
                    f"{_describe(problem)} It is in {segment.file_name}.",
                    previous, position, after_id,
                )  # fmt: skip
            if events[-1].hash != segment.last_hash:
                return (
                    f"{label} ends with a hash other than the one its record "
                    "holds.",
                    previous, position, after_id,
                )  # fmt: skip
        else:
            reason = walk.skip(segment, position)
            if reason:
                return f"{label}: {reason}.", previous, position, after_id
        previous = segment.last_hash
        position += segment.events
        after_id = segment.last_id
        result = walk.result
        result.sealed += segment.events
        result.segments += 1
        result.destroyed_segments += segment.file_destroyed_at is not None
    return None, previous, position, after_id


class AuditChainBroken(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def audit_checkpoint_record() -> tuple[Checkpoint, list[str], list[str]]:
    """Check the log, then sign its head and write it to every checkpoint store.

    Refuses (AuditChainBroken) when the check finds anything: a checkpoint must
    never vouch for a log already tampered with. Returns the checkpoint, the
    stores written and the stores that failed, with why.
    """
    verification = audit_chain_verify()
    if not verification.intact:
        raise AuditChainBroken(verification.problems)
    last = verification.last
    checkpoint = Checkpoint.signed(
        taken_at=timezone.now(),
        events=verification.events,
        last_id=last.id if last else 0,
        last_hash=last.hash if last else GENESIS_HASH,
        first_keyed_id=verification.first_keyed_id,
    )
    written, failed = [], []
    for store in checkpoint_stores():
        try:
            store.write(checkpoint)
        except Exception as exc:  # one store down must not stop the others
            failed.append(f"{store.label}: {exc}")
        else:
            written.append(store.label)
    return checkpoint, written, failed


def _describe(problem: ChainProblem) -> str:
    event = problem.row
    reason = problem.reason
    if problem.kind == "hash" and event.key_id:
        reason = (
            "its content does not match its HMAC: it was altered, or rehashed "
            "by someone without the audit key"
        )
    elif problem.kind == "link":
        reason = (
            "its link to the event before it does not match: an event before "
            "it was removed or altered"
        )
    return (
        f"The audit chain is broken at event {event.id}, written "
        f"{utc_text(event.at)}: {reason}."
    )


class _CheckpointWalk:
    """Rules checked on each event as the chain is walked in id order."""

    def __init__(self, result: AuditVerification):
        self.result = result
        self.segments = {
            s.first_id: s for s in AuditSegment.objects.order_by("first_id")
        }
        # A checkpoint of an empty log vouches for nothing.
        self.pending = sorted(
            (c for c in result.checkpoints if c.events),
            key=lambda c: (c.last_id, c.events),
        )
        pinned = [c for c in result.checkpoints if c.first_keyed_id is not None]
        self.keyed_from = min(pinned, key=lambda c: c.first_keyed_id, default=None)

    def check(self, event: AuditEvent, position: int) -> str | None:
        result = self.result
        if event.key_id:
            if result.first_keyed_id is None:
                result.first_keyed_id = event.id
        else:
            # Unkeyed events are those written before keyed hashing: they may
            # only come first, or anyone could append or rewrite events in the
            # old, keyless form.
            if result.first_keyed_id is not None:
                return (
                    f"its hash is unkeyed, yet event {result.first_keyed_id} "
                    "before it is keyed: it was written or rewritten without "
                    "the audit key"
                )
            pin = self.keyed_from
            if pin is not None and event.id >= pin.first_keyed_id:
                return (
                    f"its hash is unkeyed, yet {pin} records keyed hashing from "
                    f"event {pin.first_keyed_id}: it was rewritten without the "
                    "audit key"
                )
            result.unkeyed += 1
        if event.action == AuditAction.SEGMENT_SEALED:
            reason = self._sealed_as_recorded(event)
            if reason:
                return reason
        while self.pending and self.pending[0].last_id <= event.id:
            checkpoint = self.pending.pop(0)
            if checkpoint.last_id < event.id:
                return (
                    f"{checkpoint} records event {checkpoint.last_id} as the "
                    "newest then, and it is missing"
                )
            if position != checkpoint.events or event.hash != checkpoint.last_hash:
                return (
                    f"it does not match {checkpoint}, which records it as "
                    f"event number {checkpoint.events} with hash "
                    f"{checkpoint.last_hash}"
                )
        result.events = position
        result.last = event
        return None

    def _sealed_as_recorded(self, event: AuditEvent) -> str | None:
        """The seal event puts the segment's hash in the chain: its record
        must still say the same."""
        detail = event.detail
        segment = self.segments.get(detail.get("first_id"))
        if segment is None or (
            segment.last_id,
            segment.events,
            segment.sha256,
            segment.last_hash,
        ) != (
            detail.get("last_id"),
            detail.get("events"),
            detail.get("sha256"),
            detail.get("last_hash"),
        ):
            return (
                f"it records sealing events {detail.get('first_id')} to "
                f"{detail.get('last_id')}, and no segment record matches it"
            )
        return None

    def skip(self, segment: AuditSegment, position: int) -> str | None:
        """A segment whose file was destroyed: its signed record stands for
        its events. Checkpoints inside it can no longer be checked."""
        result = self.result
        starts_unkeyed = segment.first_keyed_id != segment.first_id
        if starts_unkeyed and result.first_keyed_id is not None:
            return (
                f"it holds unkeyed events, yet event {result.first_keyed_id} "
                "before it is keyed"
            )
        if result.first_keyed_id is None and segment.first_keyed_id is not None:
            result.first_keyed_id = segment.first_keyed_id
        last_position = position + segment.events - 1
        while self.pending and self.pending[0].last_id <= segment.last_id:
            checkpoint = self.pending.pop(0)
            if checkpoint.last_id < segment.first_id:
                return (
                    f"{checkpoint} records event {checkpoint.last_id} as the "
                    "newest then, and it is missing"
                )
            if checkpoint.last_id == segment.last_id and (
                checkpoint.events != last_position
                or checkpoint.last_hash != segment.last_hash
            ):
                return f"it does not match {checkpoint}"
        result.events = last_position
        return None

    def finish(self) -> str | None:
        """After the last event: a checkpoint further on means the newest
        events were removed."""
        if not self.pending:
            return None
        checkpoint = self.pending[0]
        last = self.result.last
        now = (
            f"the log ends at event {last.id}, written {utc_text(last.at)}, "
            f"after {self.result.events} events"
            if last
            else "the log is empty"
        )
        return (
            f"The audit log no longer matches {checkpoint}: it records "
            f"{checkpoint.events} events up to event {checkpoint.last_id}, but "
            f"{now}. The newest events were removed."
        )
