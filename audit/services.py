"""Writing to and checking the audit log. Every app records through here."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from .chain import ChainProblem, chain_append, chain_verify
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
    )
    event = chain_append(event, lock_key=_CHAIN_LOCK_KEY, before_hash=_stamp_time)
    if request is not None and outcome == Outcome.DENIED:
        setattr(request, DENIAL_RECORDED, True)
    return event


def _stamp_time(event: AuditEvent) -> None:
    # Taken under the chain's lock so the log reads in time order.
    event.at = timezone.now()


def audit_read(request: HttpRequest, obj, *, detail: dict | None = None) -> AuditEvent:
    """Record that the request's user viewed personal data held in ``obj``."""
    return audit_record(action="read", request=request, obj=obj, detail=detail)


def audit_chain_verify() -> ChainProblem | None:
    """The first audit event whose hash or link is wrong, if any."""
    return chain_verify(AuditEvent)
