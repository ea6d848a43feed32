"""Writing to and checking the audit log. Every app records through here."""

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import GENESIS_HASH, AuditEvent, Outcome

# One lock for the whole chain, so two writers never hash onto the same row.
_PG_CHAIN_LOCK_KEY = 7_306_210_001


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
    )
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True)
        event.previous_hash = last.first() or GENESIS_HASH
        # The time is taken inside the lock so the log reads in time order.
        event.at = timezone.now()
        event.hash = event.compute_hash()
        event.save(force_insert=True)
    return event


def audit_read(request: HttpRequest, obj, *, detail: dict | None = None) -> AuditEvent:
    """Record that the request's user viewed personal data held in ``obj``."""
    return audit_record(action="read", request=request, obj=obj, detail=detail)


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_CHAIN_LOCK_KEY])
    # SQLite: write transactions are IMMEDIATE (settings), which serialises them.


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    reason: str


def audit_chain_verify(*, batch_size: int = 2000) -> ChainProblem | None:
    """Recompute the chain in id order; return the first broken row, if any."""
    expected_previous = GENESIS_HASH
    for event in _events_in_order(batch_size):
        if event.previous_hash != expected_previous:
            return ChainProblem(
                event.id, "its link to the row before it does not match"
            )
        if event.compute_hash() != event.hash:
            return ChainProblem(event.id, "its content does not match its hash")
        expected_previous = event.hash
    return None


def _events_in_order(batch_size: int) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        batch = list(
            AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size]
        )
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id
