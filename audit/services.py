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
from .models import AuditEvent, Outcome

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
    codes, tokens or personal details: only ids and labels.
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
        detail=detail or {},
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
    problem = chain_verify(AuditEvent, check_row=walk.check)
    if problem is not None:
        result.problems.append(_describe(problem))
    else:
        ending = walk.finish()
        if ending:
            result.problems.append(ending)
    return result


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
