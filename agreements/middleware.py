"""The structural gate in front of every case route (docs/security.md, "Case
material and the agreement").

Every route in a case-material namespace (``settings.CASE_MATERIAL_NAMESPACES``:
referrals, meetings, shared files) passes through here once, after the
second-factor gate, so a new view is covered without anyone remembering a
decorator. Refusals are audited with the "denied" outcome once per request:
the agreement's refusal here, and any 404 a case view answers (another
agency's referral, file or pack), so probing for references leaves a trail.
"""

from django.conf import settings
from django.shortcuts import render

from audit.models import Outcome
from audit.services import DENIAL_RECORDED, audit_record

from .audit_actions import AgreementAction
from .selectors import case_material_access


def is_case_route(resolver_match) -> bool:
    if resolver_match is None or not resolver_match.namespaces:
        return False
    return resolver_match.namespaces[0] in settings.CASE_MATERIAL_NAMESPACES


def _record_denial(request, action: str, detail: dict) -> None:
    if getattr(request, DENIAL_RECORDED, False):
        return
    audit_record(
        action=action,
        request=request,
        outcome=Outcome.DENIED,
        detail={"route": request.resolver_match.view_name, **detail},
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
        if (
            response.status_code == 404
            and request.user.is_authenticated
            and is_case_route(getattr(request, "resolver_match", None))
        ):
            _record_denial(request, AgreementAction.CASE_MATERIAL_NOT_FOUND, {})
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
            request, AgreementAction.CASE_MATERIAL_REFUSED, {"reason": decision.code}
        )
        return refusal_response(request, decision)
