"""Writing to and checking the audit log. Every app records through here."""

import ipaddress
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.http import HttpRequest
from django.utils import timezone

from .audit_actions import AuditAction
from .chain import (
    GENESIS_HASH,
    ChainProblem,
    chain_lock,
    chain_try_lock,
    chain_try_session_lock,
    chain_unlock,
    chain_verify,
)
from .checkpoints import Checkpoint, Unreadable, checkpoint_stores, utc_text
from .keys import signing_key
from .models import AuditEvent, AuditPendingEvent, AuditSegment, Outcome
from .privacy import detail_cleaned

logger = logging.getLogger(__name__)

_CHAIN_LOCK_KEY = 7_306_210_001
# Pending events chained per transaction, so that one chainer's transaction,
# and the lock it holds, stays short; the next round takes the rest.
_CHAIN_BATCH = 500
# Rounds a reader, the sequencer or the sweep (manage.py audit_chain) makes
# before leaving the rest to the next; a writer makes one, so no request
# chains for long (one writer chaining 4,000 events took 7 s under load).
_CHAIN_ROUNDS = 8
_WRITER_ROUNDS = 1

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
    """Record one event, committed with the caller's change, and chain it into
    the log at once when it is this writer's turn (at most once per
    AUDIT_CHAIN_INTERVAL_MS in each process) and no one else is chaining;
    otherwise it waits for the next writer whose turn it is, a reader or the
    worker's sequencer, each of which chains every waiting event in one batch
    (docs/audit.md).

    Returns the chained event, or, while it waits, the event as it will be
    chained, without an id or hash yet.

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

    key = signing_key()
    pending = AuditPendingEvent(
        at=timezone.now(),
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
        key_id=key.id,
    )
    due = _chain_due()
    event = _chained_at_once(pending, key) if due else None
    if event is None:
        event = _recorded_pending(pending, key, due=due)
    if request is not None and outcome == Outcome.DENIED:
        setattr(request, DENIAL_RECORDED, True)
    # Not yet chained (another writer holds the lock): the event as it will
    # be, without an id or hash until the chainer gives it them.
    return event or pending.chained_event(previous_hash="", key_id=key.id)


def _recorded_pending(pending: AuditPendingEvent, key, *, due: bool):
    """Insert ``pending`` and, when ``due``, chain what is waiting if the
    chain's lock is free; returns the chained event, or None while it waits."""
    event = None
    pending.signature = key.sign(pending.payload())
    if connection.in_atomic_block:
        # In the caller's transaction, so the event commits exactly when the
        # change it records does. Chained at once if no one else is chaining;
        # otherwise it waits, committed, for the chainer after this commit.
        pending.save(force_insert=True)
        if due:
            event = _chain_pending().get(pending.id) if _chain_try_lock() else None
            _chain_after_commit()
    else:
        # No transaction: the insert commits by itself, then this writer
        # chains if the lock is free. Two round trips when it is not.
        pending.save(force_insert=True)
        if due:
            try:
                rounds = _chain_rounds(known_pending=True, rounds=_WRITER_ROUNDS)
                event = rounds.get(pending.id)
            except DatabaseError:
                # The event is committed; the next writer, the sequencer or
                # the sweep chains it.
                logger.exception("Chaining audit events failed")
    return event


def _chained_at_once(pending: AuditPendingEvent, key) -> AuditEvent | None:
    """The event linked straight onto the chain, when the chain's lock is free
    and no event is waiting to be chained before it; otherwise None, and the
    caller records it as pending.

    The same event the pending row would have become (its content, its time,
    the chain's newest hash), written in one insert instead of a pending row
    inserted, read back, chained and deleted: two statements, not six, for a
    writer that finds the chain free. ``pending_id`` stays empty, as no
    pending row ever existed to be chained twice. In the caller's
    transaction the lock lasts until it ends, and what others recorded
    meanwhile is chained after its commit, as for a pending event.
    """
    if connection.in_atomic_block:
        if not _chain_try_lock():
            return None
        event = _linked(pending, key)
        if event is not None:
            _chain_after_commit()
        return event
    try:
        with transaction.atomic():
            return _linked(pending, key) if _chain_try_lock() else None
    except DatabaseError:
        # Recorded as pending instead, which the next writer, a reader, the
        # sequencer or the sweep chains.
        logger.exception("Chaining an audit event at once failed")
        return None


# The SQL of _linked's question, once per database vendor (as _PENDING_ROWS_SQL).
_HEAD_SQL: dict[str, str] = {}


def _linked(pending: AuditPendingEvent, key) -> AuditEvent | None:
    """Under the chain's lock: the event written onto the newest one, or None
    when events are waiting (they go first, in the order they were recorded)."""
    sql = _HEAD_SQL.get(connection.vendor)
    if sql is None:
        quote = connection.ops.quote_name
        events = quote(AuditEvent._meta.db_table)
        waiting = quote(AuditPendingEvent._meta.db_table)
        sql = _HEAD_SQL[connection.vendor] = (
            f"SELECT (SELECT {quote('hash')} FROM {events} "  # noqa: S608
            f"ORDER BY {quote('id')} DESC LIMIT 1), "
            f"EXISTS (SELECT 1 FROM {waiting})"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        head, anything_waiting = cursor.fetchone()
    if anything_waiting:
        return None
    event = pending.chained_event(previous_hash=head or GENESIS_HASH, key_id=key.id)
    event.pending_id = None
    event.hash = event.compute_hash()
    event.save(force_insert=True)
    return event


# When this process last set out to chain (time.monotonic()); see _chain_due.
_last_chain_attempt = -float("inf")


def _chain_due() -> bool:
    """Whether this writer should chain after recording its event: at most once
    per AUDIT_CHAIN_INTERVAL_MS in each process (docs/audit.md).

    Under load a writer that skips leaves its event to the next writer whose
    turn it is, to readers (who chain before reading) and to the worker's
    sequencer, which chains every AUDIT_SEQUENCER_SECONDS; so many events share
    one chaining round instead of each writer paying for its own. A process
    that has not chained for that long is due, so an occasional event is
    chained at once, as before.
    """
    global _last_chain_attempt
    interval = settings.AUDIT_CHAIN_INTERVAL_MS / 1000
    now = time.monotonic()
    if interval > 0 and now - _last_chain_attempt < interval:
        return False
    _last_chain_attempt = now
    return True


def audit_chain_lock() -> None:
    """Hold the chain's lock until the current transaction ends, for a bulk
    writer that chains many events at once (and for the health check)."""
    chain_lock(_CHAIN_LOCK_KEY)


def _chain_try_lock(wait: float = 0.0, *, session: bool = False) -> bool:
    """Take the chain's lock for this transaction (or, ``session``, until
    chain_unlock) if it is free, trying for up to ``wait`` seconds; a held
    lock never blocks a writer."""
    take = chain_try_session_lock if session else chain_try_lock
    deadline = time.monotonic() + wait
    while not take(_CHAIN_LOCK_KEY):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


# The SQL of _pending_rows' query, as the ORM compiles it, once per database
# vendor: it runs in every chaining round (each write that chains, each reader),
# and compiling it every time took about three times as long as running it.
_PENDING_ROWS_SQL: dict[str, tuple[str, tuple]] = {}

# Pending rows this process found it must never chain (altered, a copy, or
# signed with a key not configured here), left for verify_audit to report.
# Later rounds read past them: otherwise a full batch of such rows at the
# head of the table would hold back every newer event for good. Bounded, as
# it lives as long as the process; beyond the bound the rounds read them
# again (verify_audit and the health check are reporting them by then).
_unchainable: set = set()
_UNCHAINABLE_LIMIT = 10_000


def _pending_rows() -> list[AuditPendingEvent]:
    """The oldest pending events, each marked ``copied`` when an event chained
    from it already exists (a copy put back: never chained twice)."""
    if _unchainable:
        # Rare: built afresh, as the ids to read past change.
        query = _pending_query().exclude(id__in=_unchainable)[:_CHAIN_BATCH]
        return list(query)
    compiled = _PENDING_ROWS_SQL.get(connection.vendor)
    if compiled is None:
        query = _pending_query()[:_CHAIN_BATCH]
        compiled = _PENDING_ROWS_SQL[connection.vendor] = query.query.sql_with_params()
    sql, params = compiled
    # Every field is selected, so the rows are whole; ``copied`` is 0 or 1 on
    # SQLite rather than a bool, and only ever tested for truth.
    return list(AuditPendingEvent.objects.raw(sql, params))


def _pending_query():
    chained = AuditEvent.objects.filter(pending_id=OuterRef("id"))
    # The chain's newest hash comes in the same query (one round trip less);
    # sound because only the lock's holder, the caller, appends.
    head = AuditEvent.objects.order_by("-id").values("hash")[:1]
    return AuditPendingEvent.objects.annotate(
        copied=Exists(chained), chain_head=Subquery(head)
    ).order_by("at", "id")


def _chain_pending(rows: list[AuditPendingEvent] | None = None) -> dict:
    """Link the oldest pending events (``rows``, or read here) onto the chain,
    in order, and delete them from the pending table; the caller holds the
    chain's lock. Returns the chained events by their pending row's id.

    A pending row whose HMAC does not match (altered before chaining), or that
    copies one already chained, is left where it is, for verify_audit to
    report: it must never gain a valid HMAC in the chain.
    """
    rows = _pending_rows() if rows is None else rows
    if not rows:
        return {}
    key = signing_key()
    previous = rows[0].chain_head or GENESIS_HASH
    with transaction.atomic():
        events = []
        for row in rows:
            problem = (
                "it copies an event already chained"
                if row.copied
                else row.signature_problem()
            )
            if problem:
                logger.error("Pending audit event %s not chained: %s", row.id, problem)
                if len(_unchainable) < _UNCHAINABLE_LIMIT:
                    _unchainable.add(row.id)
                continue
            event = row.chained_event(previous_hash=previous, key_id=key.id)
            event.hash = previous = event.compute_hash()
            events.append(event)
        if events:
            # One insert in chain order: the ids follow it (only the lock's
            # holder inserts events).
            AuditEvent.objects.bulk_create(events)
            _pending_delete([event.pending_id for event in events])
    return {event.pending_id: event for event in events}


def _pending_delete(ids: list) -> None:
    # Allowed by the trigger only because the events now exist (migration
    # 0005). One statement: a queryset's delete() reads the rows first.
    field = AuditPendingEvent._meta.pk
    values = [field.get_db_prep_value(value, connection) for value in ids]
    marks = ", ".join(["%s"] * len(values))
    table = connection.ops.quote_name(AuditPendingEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id IN ({marks})", values)  # noqa: S608


def audit_chain_pending(*, wait: float = 0.0) -> int:
    """Chain every pending event, if the chain's lock is free (or frees within
    ``wait`` seconds); returns how many were chained.

    Run after each commit that recorded an event, by readers of the log before
    they read, and by the sweep (manage.py audit_chain). A writer that found
    the lock taken relies on its holder coming back here after its own commit:
    so this loops while it finds events, and a holder inside a larger
    transaction comes back once that commits.
    """
    return len(_chain_rounds(wait))


def _chain_rounds(
    wait: float = 0.0, *, known_pending: bool = False, rounds: int = _CHAIN_ROUNDS
) -> dict:
    if connection.in_atomic_block:
        # The lock then lasts until the caller's transaction ends; one round,
        # and another after that commit.
        with transaction.atomic():
            if not _chain_try_lock(wait):
                return {}
            _chain_after_commit()
            return _chain_pending()
    chained = {}
    for _ in range(rounds):
        # Looked at after the last round's unlock, so it sees every event of a
        # writer that found the lock taken meanwhile; one cheap query when
        # nothing is pending, as for most readers.
        if not known_pending and not AuditPendingEvent.objects.exists():
            break
        known_pending = False
        if not _chain_try_lock(wait, session=True):
            break
        try:
            rows = _pending_rows()
            # Committed before the lock is released, so the next holder
            # links onto the newest event.
            chained |= _chain_pending(rows)
        finally:
            chain_unlock(_CHAIN_LOCK_KEY)
        if not rows:
            break
    return chained


def _chain_after_commit() -> None:
    """Chain what is pending once the current transaction commits (at once
    outside one); registered once per transaction."""
    waiting = getattr(connection, "run_on_commit", [])
    if any(func is _writer_chain_round for _sids, func, _robust in waiting):
        return
    # robust: the change has committed; if chaining fails now, the event waits
    # committed for the next writer, the sequencer or the sweep, and the
    # request goes on.
    transaction.on_commit(_writer_chain_round, robust=True)


def _writer_chain_round() -> None:
    _chain_rounds(rounds=_WRITER_ROUNDS)


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
    # Events recorded but not yet chained when the check ran.
    pending: int = 0
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
    checkpoint outside the database (docs/audit.md); and that events waiting
    to be chained are unaltered and not waiting too long."""
    # Events that merely await the next writer or the sweep are chained first:
    # what is left is what cannot be (a held lock, an altered row).
    audit_chain_pending()
    result = AuditVerification()
    result.problems.extend(_pending_problems(result))
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


def _pending_problems(result: AuditVerification) -> list[str]:
    problems = []
    chained = AuditEvent.objects.filter(pending_id=OuterRef("id"))
    rows = list(
        AuditPendingEvent.objects.annotate(copied=Exists(chained)).order_by("at", "id")
    )
    result.pending = len(rows)
    for row in rows:
        reason = (
            "it copies an event already chained"
            if row.copied
            else row.signature_problem()
        )
        if reason:
            problems.append(
                f"The pending audit event {row.id}, recorded {utc_text(row.at)}, "
                f"cannot be chained: {reason}."
            )
    grace = settings.AUDIT_PENDING_GRACE_SECONDS
    since = timezone.now() - timedelta(seconds=grace)
    overdue = [row for row in rows if row.at < since]
    if overdue:
        problems.append(
            f"{len(overdue)} audit event{'s' if len(overdue) != 1 else ''} "
            f"recorded since {utc_text(overdue[0].at)} "
            f"{'have' if len(overdue) != 1 else 'has'} waited more than {grace} "
            "seconds to be chained: something holds the chain's lock (see the "
            "audit_lock health check), or the rows above were altered."
        )
    return problems


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
