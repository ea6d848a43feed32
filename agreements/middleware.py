"""The structural gate in front of every case route (docs/security.md, "Case
material and the agreement"), and the one place refusals there are audited.

Every route in a case-material namespace (``settings.CASE_MATERIAL_NAMESPACES``:
referrals, meetings, shared files) passes through here once, after the
second-factor gate, so a new view is covered without anyone remembering a
decorator. Every refusal on a route in ``settings.DENIAL_AUDITED_NAMESPACES``
(the case namespaces and the incident register) is audited with the "denied"
outcome, once per request: the agreement's refusal here, and any 403 or 404
a view answers (another agency's referral, file or pack), so probing for
references leaves a trail. The event names the route, the ids in its
address and the status, never anything else the address held
(``denial_detail``).
"""

import re
import uuid

from django.conf import settings
from django.shortcuts import render

from audit.models import Outcome
from audit.privacy import search_term_digest
from audit.services import DENIAL_RECORDED, audit_record

from .audit_actions import AgreementAction
from .selectors import case_material_access

# What an address part must look like to be kept as typed: a number, a uuid,
# or a case reference such as CM-2026-0001 (letters, digits and dashes, with
# a digit). Anything else (a name typed into the address) is kept only as a
# keyed hash, like a search term (audit.privacy).
_ID_SHAPED = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

# The response codes that are refusals: forbidden, and not found (a case view
# answers 404 for something that exists but is not theirs: never 403, which
# would confirm it exists).
DENIAL_ACTIONS = {
    403: AgreementAction.CASE_ROUTE_FORBIDDEN,
    404: AgreementAction.CASE_MATERIAL_NOT_FOUND,
}


def is_case_route(resolver_match) -> bool:
    if resolver_match is None or not resolver_match.namespaces:
        return False
    return resolver_match.namespaces[0] in settings.CASE_MATERIAL_NAMESPACES


def is_denial_audited(resolver_match) -> bool:
    if resolver_match is None or not resolver_match.namespaces:
        return False
    return resolver_match.namespaces[0] in settings.DENIAL_AUDITED_NAMESPACES


def _id_kept(value) -> str:
    text = str(value)
    if isinstance(value, int | uuid.UUID) or _ID_SHAPED.match(text):
        return text
    return f"hmac:{search_term_digest(text)}"


def denial_detail(resolver_match, status: int) -> tuple[dict, str]:
    """The audit detail of a refused request (route, the ids in its address,
    status) and the object id to file it under: the address's last id."""
    ids = {name: _id_kept(value) for name, value in resolver_match.kwargs.items()}
    last = next(reversed(ids.values()), "") if ids else ""
    object_id = "" if last.startswith("hmac:") else last[:64]
    detail = {"route": resolver_match.view_name, "status": status}
    if ids:
        detail["object_ids"] = ids
    return detail, object_id


def _record_denial(request, action: str, status: int, extra: dict) -> None:
    if getattr(request, DENIAL_RECORDED, False):
        return
    detail, object_id = denial_detail(request.resolver_match, status)
    audit_record(
        action=action,
        request=request,
        object_id=object_id,
        outcome=Outcome.DENIED,
        detail={**detail, **extra},
    )


def refusal_response(request, decision):
    """The page that says why case material is closed, and whom to ask."""
    return render(
        request,
        "agreements/access_suspended.html",
        {"decision": decision},
        status=403,
    )


class CaseMaterialGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        action = DENIAL_ACTIONS.get(response.status_code)
        if (
            action is not None
            and request.user.is_authenticated
            and is_denial_audited(getattr(request, "resolver_match", None))
        ):
            _record_denial(request, action, response.status_code, {})
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # The second-factor gate runs first: only verified people reach here.
        if not is_case_route(request.resolver_match):
            return None
        if not request.user.is_authenticated:
            return None
        decision = case_material_access(request.user)
        if decision.allowed:
            return None
        _record_denial(
            request,
            AgreementAction.CASE_MATERIAL_REFUSED,
            403,
            {"reason": decision.code},
        )
        return refusal_response(request, decision)
